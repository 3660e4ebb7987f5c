//! Target profiles: a YAML file naming the server under test (its URL and paths), the options
//! it declares, the features it has, and the baseline of its expected non-passes.
//!
//! ```yaml
//! name: my server
//! # release: { of: my-server, version: 1.2.0 }   # set beside its other releases in the matrix
//! url: http://127.0.0.1:3000     # or, to have the runner start the server itself:
//! # start:
//! #   command: [node, fixture.mjs]   # prints `listening on http://127.0.0.1:<port>`
//! #   cwd: ../adapters/my-server     # relative to the profile
//! paths: { engine_io: /engine.io/, socket_io: /socket.io/ }    # the defaults
//! # and engine_io_v3: /engine.io-v3/, the endpoint of the EIO=3 cases (the default)
//! options:                       # milliseconds and bytes; the defaults are the fixture contract's
//!   pingInterval: 300
//!   pingTimeout: 200
//!   connectTimeout: 1000
//!   upgradeTimeout: 10000
//!   maxPayload: 1000000
//! features: [polling, websocket, upgrade, binary, heartbeat, close]   # absent: all
//! # eio: 3                       # a server that speaks Engine.IO protocol 3 only (socket.io 2.x)
//! baseline:
//!   file: my-server.baseline.yaml          # relative to the profile; or inline:
//!   # expected: [{ case: …, verdict: NON-STRICT, reason: … }]
//! ```
//!
//! The schema is `runner/profile.schema.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sio_suite::engine::{Backoff, ClientProgram, DeclaredOptions, Target};
use sio_suite::scenario::{Case, Feature, Role};
use sio_suite::yaml::{line_of, parse_yaml, read_text, LoadError};

use crate::baseline::{Baseline, Expectation};
use crate::launch::StartCommand;
use crate::url::BaseUrl;

/// A target profile, as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A name for reports.
    pub name: Option<String>,
    /// The server's base URL: `http://host:port`; absent when `start` gives it.
    pub url: Option<String>,
    /// The program that serves the target, which the runner starts and stops.
    pub start: Option<StartSpec>,
    /// The server's paths.
    #[serde(default)]
    pub paths: Paths,
    /// The options it declares (the fixture contract's by default).
    #[serde(default)]
    pub options: ProfileOptions,
    /// The features it has; absent, all of them.
    pub features: Option<Vec<Feature>>,
    /// The one Engine.IO protocol its server speaks, when it speaks only one: 3 for a
    /// socket.io 2.x server, whose server-role cases of protocol 4 are then UNSUPPORTED;
    /// absent, both (protocol 3 behind the `eio3` feature).
    pub eio: Option<u8>,
    /// Its expected non-passes.
    pub baseline: Option<BaselineRef>,
    /// The client under test, for client-role cases (`docs/client-contract.md`).
    pub client: Option<ClientSpec>,
    /// Which release of an implementation the target is, for the matrix's side-by-side
    /// comparison of the releases of one implementation.
    pub release: Option<Release>,
}

/// A profile's `release`: the target is one version among several of the same
/// implementation, which the compatibility matrix sets side by side (`of` groups them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// The implementation whose releases are compared: `socket.io`.
    pub of: String,
    /// This target's version: `4.0.2`; releases are ordered by its dot-separated numbers.
    pub version: String,
}

impl Release {
    /// The version's numbers, for ordering: `4.10.1` after `4.9.0`; a part that is not a
    /// number counts as 0.
    pub fn sort_key(&self) -> Vec<u64> {
        self.version
            .split('.')
            .map(|part| part.parse().unwrap_or(0))
            .collect()
    }
}

/// A profile's `client`, as written: the program the engine starts for each client-role
/// case.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// The program and its arguments; a program written with a `/` is relative to `cwd`.
    pub command: Vec<String>,
    /// The directory it runs in, relative to the profile; default the profile's.
    pub cwd: Option<PathBuf>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The Engine.IO protocol it speaks: 4 (the default), or 3 (socket.io 2.x).
    #[serde(default = "default_client_eio")]
    pub eio: u8,
    /// The reconnection delay formula it follows: `official` (the default), `additive`,
    /// `exponential-1.5` or `fixed`.
    #[serde(default)]
    pub backoff: Option<String>,
    /// Seconds it may take from its start to its first request; default 10.
    pub start_timeout: Option<u64>,
}

fn default_client_eio() -> u8 {
    4
}

/// The server's paths.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    /// The Engine.IO-only endpoint; default `/engine.io/`.
    #[serde(default = "default_engine_io_path")]
    pub engine_io: String,
    /// The Socket.IO endpoint; default `/socket.io/`.
    #[serde(default = "default_socket_io_path")]
    pub socket_io: String,
    /// The Socket.IO endpoint with connection state recovery on, for the `recovery` cases;
    /// default `/socket.io-recovery/`.
    #[serde(default = "default_socket_io_recovery_path")]
    pub socket_io_recovery: String,
    /// The Engine.IO endpoint that serves protocol 3 (`EIO=3`), for the `eio3` cases; default
    /// `/engine.io-v3/`, the fixture contract's (apart from `engine_io`, so that a server
    /// can refuse EIO=3 there as the official one does without `allowEIO3`). A server that
    /// speaks both versions at one endpoint names it twice.
    #[serde(default = "default_engine_io_v3_path")]
    pub engine_io_v3: String,
}

fn default_engine_io_path() -> String {
    "/engine.io/".to_owned()
}

fn default_engine_io_v3_path() -> String {
    "/engine.io-v3/".to_owned()
}

fn default_socket_io_path() -> String {
    "/socket.io/".to_owned()
}

fn default_socket_io_recovery_path() -> String {
    "/socket.io-recovery/".to_owned()
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            engine_io: default_engine_io_path(),
            socket_io: default_socket_io_path(),
            socket_io_recovery: default_socket_io_recovery_path(),
            engine_io_v3: default_engine_io_v3_path(),
        }
    }
}

/// The options a target declares, in milliseconds (and bytes for `maxPayload`); each one
/// absent is the fixture contract's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileOptions {
    /// `pingInterval`.
    pub ping_interval: Option<u64>,
    /// `pingTimeout`.
    pub ping_timeout: Option<u64>,
    /// `connectTimeout`.
    pub connect_timeout: Option<u64>,
    /// `upgradeTimeout`.
    pub upgrade_timeout: Option<u64>,
    /// `maxPayload`.
    pub max_payload: Option<u64>,
    /// `maxDisconnectionDuration` of the recovery endpoint.
    pub max_disconnection_duration: Option<u64>,
}

impl ProfileOptions {
    /// The declared options.
    pub fn declared(&self) -> DeclaredOptions {
        let contract = DeclaredOptions::fixture_contract();
        let millis = |value: Option<u64>, default: Duration| {
            value.map(Duration::from_millis).unwrap_or(default)
        };
        DeclaredOptions {
            ping_interval: millis(self.ping_interval, contract.ping_interval),
            ping_timeout: millis(self.ping_timeout, contract.ping_timeout),
            connect_timeout: millis(self.connect_timeout, contract.connect_timeout),
            upgrade_timeout: millis(self.upgrade_timeout, contract.upgrade_timeout),
            max_payload: self.max_payload.unwrap_or(contract.max_payload),
            max_disconnection_duration: millis(
                self.max_disconnection_duration,
                contract.max_disconnection_duration,
            ),
        }
    }
}

/// A profile's `start`, as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartSpec {
    /// The program and its arguments; a program written with a `/` is relative to `cwd`.
    pub command: Vec<String>,
    /// The directory it runs in, relative to the profile; default the profile's.
    pub cwd: Option<PathBuf>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Seconds it may take to print its URL; default 60.
    pub ready_timeout: Option<u64>,
}

/// A profile's baseline: a file, or entries inline.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineRef {
    /// A baseline file, relative to the profile.
    pub file: Option<PathBuf>,
    /// Entries inline.
    pub expected: Option<Vec<Expectation>>,
}

/// What a run is pointed at, from a profile, a URL, or neither (the embedded fixture).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSpec {
    /// A name for reports.
    pub name: Option<String>,
    /// The base URL; `None` for the embedded reference fixture or a started target.
    pub url: Option<BaseUrl>,
    /// The program the runner starts to serve the target; it prints the URL.
    pub start: Option<StartCommand>,
    /// The server's paths.
    pub paths: Paths,
    /// The declared options.
    pub options: DeclaredOptions,
    /// The declared features; `None` means all.
    pub features: Option<BTreeSet<Feature>>,
    /// The one Engine.IO protocol the server speaks, when it speaks only one.
    pub server_eio: Option<u8>,
    /// The profile's baseline.
    pub baseline: Option<Baseline>,
    /// The client under test, for client-role cases.
    pub client: Option<ClientProgram>,
    /// Which release of an implementation the target is, when the profile says.
    pub release: Option<Release>,
}

impl TargetSpec {
    /// The embedded reference fixture, with the contract's options and every feature.
    pub fn embedded() -> TargetSpec {
        TargetSpec {
            name: None,
            url: None,
            start: None,
            paths: Paths::default(),
            options: DeclaredOptions::fixture_contract(),
            features: None,
            server_eio: None,
            baseline: None,
            client: None,
            release: None,
        }
    }

    /// A server at `url` that follows the fixture contract.
    pub fn at_url(url: BaseUrl) -> TargetSpec {
        TargetSpec {
            url: Some(url),
            ..TargetSpec::embedded()
        }
    }

    /// Loads a profile file.
    pub fn load(path: &Path) -> Result<TargetSpec, LoadError> {
        let text = read_text(path)?;
        let profile: Profile = parse_yaml(path, &text)?;
        if let Some(eio) = profile.eio.filter(|eio| ![3, 4].contains(eio)) {
            return Err(LoadError::at_line(
                path,
                line_of(&text, "eio:"),
                format!("`eio` is 3 or 4, not {eio}"),
            ));
        }
        let url = match &profile.url {
            Some(url) => Some(BaseUrl::parse(url).map_err(|why| {
                LoadError::at_line(path, line_of(&text, "url:"), why.to_string())
            })?),
            None => None,
        };
        let start = match profile.start {
            Some(start) => Some(start_command(start, path, &text)?),
            None => None,
        };
        let client = match profile.client {
            Some(client) => Some(client_program(client, path, &text)?),
            None => None,
        };
        if (url.is_some() && start.is_some())
            || (url.is_none() && start.is_none() && client.is_none())
        {
            return Err(LoadError::at_line(
                path,
                line_of(&text, "start:").max(line_of(&text, "url:")),
                "a profile has either `url` (a running server) or `start` (a program the runner starts), not both; or neither and a `client`",
            ));
        }
        let paths = &profile.paths;
        let named_paths = [
            ("engine_io:", &paths.engine_io),
            ("socket_io:", &paths.socket_io),
            ("engine_io_v3:", &paths.engine_io_v3),
        ];
        for (key, value) in named_paths {
            if !value.starts_with('/') {
                return Err(LoadError::at_line(
                    path,
                    line_of(&text, key),
                    format!("the path {value:?} must start with `/`"),
                ));
            }
        }
        let baseline = match profile.baseline {
            None => None,
            Some(BaselineRef {
                file: Some(file),
                expected: None,
            }) => {
                let file = relative_to_profile(path, &file);
                Some(Baseline::load(&file)?)
            }
            Some(BaselineRef {
                file: None,
                expected: Some(entries),
            }) => Some(Baseline::checked(entries, path, &text)?),
            Some(_) => {
                return Err(LoadError::at_line(
                    path,
                    line_of(&text, "baseline:"),
                    "`baseline` has either `file` or `expected`, not both nor neither",
                ))
            }
        };
        Ok(TargetSpec {
            name: profile.name,
            url,
            start,
            paths: profile.paths,
            options: profile.options.declared(),
            features: profile
                .features
                .map(|features| features.into_iter().collect()),
            server_eio: profile.eio,
            baseline,
            client,
            release: profile.release,
        })
    }

    /// Whether the profile describes a server (client-role cases aside, the embedded
    /// reference serves a profile without one).
    pub fn has_server(&self) -> bool {
        self.url.is_some() || self.start.is_some() || self.client.is_none()
    }

    /// Whether a run against this target includes `case`: server-role cases when it has a
    /// server, client-role cases when it has a client.
    pub fn runs(&self, case: &Case) -> bool {
        match case.scenario.role {
            Role::Server => self.has_server(),
            Role::Client => self.client.is_some(),
        }
    }

    /// The engine's target, at `address`.
    pub fn target(&self, address: SocketAddr) -> Target {
        Target {
            address,
            engine_io_path: self.paths.engine_io.clone(),
            engine_io_v3_path: self.paths.engine_io_v3.clone(),
            socket_io_path: self.paths.socket_io.clone(),
            socket_io_recovery_path: self.paths.socket_io_recovery.clone(),
            options: self.options,
            features: self.features.clone(),
            server_eio: self.server_eio,
            client: self.client.clone(),
        }
    }
}

fn client_program(
    client: ClientSpec,
    profile: &Path,
    text: &str,
) -> Result<ClientProgram, LoadError> {
    let Some(program) = client.command.first().filter(|program| !program.is_empty()) else {
        return Err(LoadError::at_line(
            profile,
            line_of(text, "command:"),
            "`client.command` names no program",
        ));
    };
    if ![3, 4].contains(&client.eio) {
        return Err(LoadError::at_line(
            profile,
            line_of(text, "eio:"),
            format!("`client.eio` is 3 or 4, not {}", client.eio),
        ));
    }
    let backoff = match client.backoff.as_deref() {
        None => Backoff::default(),
        Some(name) => name
            .parse()
            .map_err(|why: String| LoadError::at_line(profile, line_of(text, "backoff:"), why))?,
    };
    let cwd = relative_to_profile(profile, client.cwd.as_deref().unwrap_or(Path::new("")));
    let cwd = std::path::absolute(&cwd).unwrap_or(cwd);
    let mut command = client.command.clone();
    if program.contains('/') {
        command[0] = cwd.join(program).to_string_lossy().into_owned();
    }
    Ok(ClientProgram {
        command,
        cwd: Some(cwd),
        env: client.env.into_iter().collect(),
        eio: client.eio,
        backoff,
        start_timeout: client
            .start_timeout
            .map_or(ClientProgram::DEFAULT_START_TIMEOUT, Duration::from_secs),
    })
}

fn start_command(start: StartSpec, profile: &Path, text: &str) -> Result<StartCommand, LoadError> {
    if start
        .command
        .first()
        .is_none_or(|program| program.is_empty())
    {
        return Err(LoadError::at_line(
            profile,
            line_of(text, "command:"),
            "`start.command` names no program",
        ));
    }
    let cwd = relative_to_profile(profile, start.cwd.as_deref().unwrap_or(Path::new("")));
    Ok(StartCommand {
        command: start.command,
        cwd,
        env: start.env.into_iter().collect(),
        ready_timeout: Duration::from_secs(start.ready_timeout.unwrap_or(60)),
    })
}

/// `path` relative to the directory of `profile`, unless absolute: how a profile names its
/// baseline file and its `start.cwd`.
pub fn relative_to_profile(profile: &Path, path: &Path) -> PathBuf {
    profile.parent().unwrap_or(Path::new(".")).join(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_to_the_contract() {
        let options = ProfileOptions {
            ping_interval: Some(25_000),
            ..ProfileOptions::default()
        };
        let declared = options.declared();
        assert_eq!(declared.ping_interval, Duration::from_millis(25_000));
        assert_eq!(declared.ping_timeout, Duration::from_millis(200));
    }
}
