//! The three servers, each a child process on 127.0.0.1 that follows the fixture contract:
//! the reference fixture (`sio-fixture-server`, built with this test), and the two Node.js
//! adapters under `runner/adapters/`. A process is killed when its handle is dropped, and every
//! wait for it has a deadline.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use sio_reference::client::Protocol;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a server may take to print its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// One server starts at a time. Starting Node.js takes a core for a moment; several at once
/// would starve the other tests' clients and servers for longer than the contract's
/// heartbeat allows (a pong is due 200 ms after its ping).
static STARTING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// The environment variable that makes the Node.js servers required (see the crate doc).
pub const REQUIRE_NODE: &str = "SIO_INTEROP_NODE";

/// A server the battery runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// The reference fixture server, `sio-fixture-server --port N`.
    Reference,
    /// The official Node.js server, socket.io 4.8 (protocol 5 over Engine.IO 4).
    NodeSocketIo,
    /// The official Node.js server of protocol 4, socket.io 2.5 (over Engine.IO 3).
    NodeSocketIo2,
}

/// Whether a server can run here.
#[derive(Debug, Clone)]
pub enum Availability {
    /// Its program and dependencies are there.
    Ready,
    /// They are not, and the environment says the Node.js servers are optional: the tests are
    /// ignored, with this reason.
    Skipped(String),
    /// They are not, and the environment requires them: the tests fail with this reason.
    Missing(String),
}

impl ServerKind {
    /// Every server, in the order of the test names.
    pub const ALL: [ServerKind; 3] = [
        ServerKind::Reference,
        ServerKind::NodeSocketIo,
        ServerKind::NodeSocketIo2,
    ];

    /// The name in test names: the adapter's directory for the Node.js servers.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Reference => "reference",
            ServerKind::NodeSocketIo => "node-socket.io",
            ServerKind::NodeSocketIo2 => "node-socket.io-2",
        }
    }

    /// The protocol the client speaks to it.
    pub fn protocol(self) -> Protocol {
        match self {
            ServerKind::Reference | ServerKind::NodeSocketIo => Protocol::V5,
            ServerKind::NodeSocketIo2 => Protocol::V4,
        }
    }

    /// The adapter directory of a Node.js server, found from this crate's manifest.
    fn adapter_dir(self) -> Option<PathBuf> {
        let adapter = match self {
            ServerKind::Reference => return None,
            ServerKind::NodeSocketIo => "node-socket.io",
            ServerKind::NodeSocketIo2 => "node-socket.io-2",
        };
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let workspace = manifest_dir.parent().unwrap_or(manifest_dir);
        Some(workspace.join("runner/adapters").join(adapter))
    }

    /// Whether the server can run: the reference one always can; a Node.js one needs `node`
    /// and its adapter's `node_modules`.
    pub fn availability(self) -> Availability {
        let Some(dir) = self.adapter_dir() else {
            return Availability::Ready;
        };
        let problem = if !dir.join("node_modules").is_dir() {
            format!(
                "{}: node_modules is missing; run `npm ci` in {}",
                self.name(),
                dir.display()
            )
        } else if !node_runs() {
            format!("{}: the `node` program does not run", self.name())
        } else {
            return Availability::Ready;
        };
        if std::env::var_os(REQUIRE_NODE).is_some() {
            Availability::Missing(problem)
        } else {
            Availability::Skipped(format!("{problem} ({REQUIRE_NODE} is unset: skipped)"))
        }
    }

    fn command(self, port: u16) -> Command {
        let mut command = match self.adapter_dir() {
            None => {
                let mut command = Command::new(env!("CARGO_BIN_EXE_sio-fixture-server"));
                command.arg("--port").arg(port.to_string());
                command
            }
            Some(dir) => {
                let mut command = Command::new("node");
                command
                    .arg("fixture.mjs")
                    .current_dir(dir)
                    .env("PORT", port.to_string());
                command
            }
        };
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        command
    }
}

fn node_runs() -> bool {
    std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A running server: killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    kind: ServerKind,
    port: u16,
    child: Child,
}

impl ServerProcess {
    /// Starts the server on `port` (0: one the system picks) and waits for its ready line.
    pub async fn start(kind: ServerKind, port: u16) -> Result<ServerProcess, String> {
        let _one_at_a_time = STARTING
            .acquire()
            .await
            .map_err(|error| error.to_string())?;
        let mut child = kind
            .command(port)
            .spawn()
            .map_err(|error| format!("{}: cannot start: {error}", kind.name()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| format!("{}: no stdout", kind.name()))?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(READY_TIMEOUT, async {
            while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
                if let Some(port) = ready_port(&line) {
                    return Ok(port);
                }
            }
            Err("it ended without a ready line".to_owned())
        })
        .await
        .map_err(|_| format!("no ready line within {READY_TIMEOUT:?}"))
        .and_then(|ready| ready)
        .map_err(|error| format!("{}: {error}", kind.name()))?;
        // Drained to the end, so that a server writing to stdout never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ServerProcess {
            kind,
            port: ready,
            child,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it (SIGKILL: no close packet, as a crash) and waits for it to end.
    pub async fn kill(mut self) -> Result<u16, String> {
        self.child
            .kill()
            .await
            .map_err(|error| format!("{}: cannot kill: {error}", self.kind.name()))?;
        Ok(self.port)
    }
}

/// The port of a ready line, `listening on http://127.0.0.1:<port>` (text before it allowed).
fn ready_port(line: &str) -> Option<u16> {
    let (_, rest) = line.split_once("listening on http://127.0.0.1:")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|port| *port != 0)
}
