//! The reference client against real servers: one battery of behaviours, run against the
//! reference fixture server (`sio-fixture-server`), the official Node.js server socket.io 4.8
//! (`runner/adapters/node-socket.io`) and the official socket.io 2.5 server
//! (`runner/adapters/node-socket.io-2`, Engine.IO 3, to which the client speaks
//! `Protocol::V4`), each over polling only, WebSocket only, and polling then upgrade.
//!
//! One test per server, mode and item, named `<server>/<mode>/<item>`:
//! `cargo test -p sio-reference --test interop -- node-socket.io-2/websocket/` selects a
//! server and mode, `-- /heartbeat` an item everywhere.
//!
//! Every server is a child process on 127.0.0.1 with the fixture contract's options
//! (pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1 000 000), killed when the test binary
//! is done with it: one shared per server, started before the tests, and one of its own for
//! each server-restart test (killed with SIGKILL, then started again on the same port). Servers
//! start one at a time. Tests run in parallel, 8 at a time unless `--test-threads` says
//! otherwise, each on a tokio runtime of its own: they mostly wait on the network, and a test
//! busy with a large payload must not delay another's heartbeat. The contract's heartbeat is
//! short (a pong is due 200 ms after its ping), so a machine whose cores are taken by other
//! work can make a test lose its session (the official socket.io-client 2.5, run alongside the
//! battery against socket.io 2.5 over polling, lost its session there too).
//!
//! The Node.js servers need `node` and their adapter's `node_modules` (`npm ci` in the
//! adapter's directory). When either is missing:
//!
//! - with `SIO_INTEROP_NODE` set (to anything: CI sets it to 1 after installing the
//!   adapters), their tests fail, naming the `npm ci` command;
//! - with `SIO_INTEROP_NODE` unset, their tests are ignored (counted as ignored), and the
//!   reason is printed once.
//!
//! So a plain `cargo test` on a machine without Node.js passes with the Node.js tests ignored,
//! and CI, which installs them, cannot pass without running them.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../client/support.rs"]
mod support;

mod battery;
mod servers;
mod session_probe;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use tokio::sync::{Mutex, OnceCell};

use battery::{Item, Target};
use servers::{Availability, ServerKind, ServerProcess};

/// The bound on a whole test, on top of the bound on each of its waits.
const TEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// Tests run at once when `--test-threads` is not given.
const DEFAULT_TEST_THREADS: usize = 8;

/// The shared server of each kind, started before the tests (or by the first test that needs
/// it), on the runtime that outlives every test.
struct SharedServers {
    runtime: tokio::runtime::Handle,
    servers: HashMap<ServerKind, OnceCell<Result<SocketAddr, String>>>,
    processes: Mutex<Vec<ServerProcess>>,
}

impl SharedServers {
    fn new(runtime: tokio::runtime::Handle) -> SharedServers {
        SharedServers {
            runtime,
            servers: ServerKind::ALL
                .into_iter()
                .map(|kind| (kind, OnceCell::new()))
                .collect(),
            processes: Mutex::new(Vec::new()),
        }
    }

    /// The address of the shared server of `kind`, started if it is not yet.
    async fn address(&self, kind: ServerKind) -> Result<SocketAddr, String> {
        self.servers[&kind]
            .get_or_init(|| async {
                let process = self
                    .runtime
                    .spawn(ServerProcess::start(kind, 0))
                    .await
                    .map_err(|error| error.to_string())??;
                let address = SocketAddr::from(([127, 0, 0, 1], process.port()));
                self.processes.lock().await.push(process);
                Ok(address)
            })
            .await
            .clone()
    }

    /// Kills every shared server.
    async fn shut_down(&self) {
        for process in self.processes.lock().await.drain(..) {
            let _ = process.kill().await;
        }
    }
}

fn main() {
    let mut arguments = Arguments::from_args();
    if arguments.test_threads.is_none() {
        arguments.test_threads = Some(DEFAULT_TEST_THREADS);
    }
    // The shared servers' processes live on this runtime; each test runs its client on a
    // runtime of its own, on its own thread, so that a test busy encoding a large payload
    // delays no other test's heartbeat.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let shared = Arc::new(SharedServers::new(runtime.handle().clone()));
    let mut trials = vec![Trial::test("session_probe/request_scanner", || {
        session_probe::self_check().map_err(Failed::from)
    })];
    let availabilities: Vec<(ServerKind, Availability)> = ServerKind::ALL
        .into_iter()
        .map(|kind| (kind, kind.availability()))
        .collect();
    for (kind, availability) in availabilities.iter().cloned() {
        if let Availability::Skipped(reason) = &availability {
            eprintln!("interop: {reason}");
        }
        for (mode, transports) in support::modes() {
            for item in Item::ALL {
                let name = format!("{}/{mode}/{}", kind.name(), item.name());
                let shared = Arc::clone(&shared);
                let availability = availability.clone();
                let transports = transports.clone();
                trials.push(Trial::ignorable_test(name, move || {
                    match availability {
                        Availability::Ready => {}
                        Availability::Skipped(reason) => {
                            return Ok(Completion::ignored_with(reason));
                        }
                        Availability::Missing(reason) => return Err(reason.into()),
                    }
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|error| error.to_string())?;
                    runtime.block_on(async {
                        let address = if item.needs_own_server() {
                            SocketAddr::from(([127, 0, 0, 1], 0))
                        } else {
                            shared.address(kind).await?
                        };
                        let target = Target {
                            kind,
                            address,
                            mode,
                            transports,
                        };
                        tokio::time::timeout(TEST_DEADLINE, item.run(target))
                            .await
                            .map_err(|_| format!("not done within {TEST_DEADLINE:?}"))
                    })?;
                    Ok(Completion::Completed)
                }));
            }
        }
    }
    // The shared servers start before the tests, so that their start does not compete with
    // the first tests for the cores.
    runtime.block_on(async {
        for (kind, availability) in &availabilities {
            if matches!(availability, Availability::Ready) && !arguments.list {
                let _ = shared.address(*kind).await;
            }
        }
    });
    let conclusion = libtest_mimic::run(&arguments, trials);
    runtime.block_on(shared.shut_down());
    conclusion.exit();
}
