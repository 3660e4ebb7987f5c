//! Why a command could not run: one [`Error`], whose variants carry the values at stake (the
//! file and line, the URL, the address, the id), with the narrower errors of each concept
//! ([`UrlError`], [`ResolveError`], [`LaunchError`], [`ConnectError`]) inside.
//!
//! Every `Error` ends the command with exit code 2 (see [`crate::cli::EXIT_CODES`]): the run
//! could not be judged. Verdicts are not errors: a target that breaks the protocol gets its
//! verdicts and exit code 1.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use sio_suite::yaml::LoadError;

use crate::launch::LaunchError;
use crate::url::{BaseUrl, ResolveError, UrlError};

/// Why a command could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario, requirements, profile or baseline file that cannot be loaded, with its
    /// path and, when known, line and column.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// `--target` is not a base URL the runner can test.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The target's host gives no address.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// Nothing accepts connections at the target's address.
    #[error("the target {url} cannot be reached: {source}")]
    Unreachable {
        /// The target's URL.
        url: BaseUrl,
        /// Why.
        source: ConnectError,
    },
    /// The profile's `start` program did not start, or it ended during the run (boxed: it
    /// carries the program's last output lines).
    #[error(transparent)]
    Launch(Box<LaunchError>),
    /// The embedded reference fixture cannot listen on 127.0.0.1.
    #[error("cannot start the reference fixture: {0}")]
    Fixture(std::io::Error),
    /// The tokio runtime cannot be built.
    #[error("cannot start the tokio runtime: {0}")]
    Runtime(std::io::Error),
    /// `diff` was given more than two sides.
    #[error("diff compares two targets; {given} were given (--profile and --target together)")]
    DiffSides {
        /// How many `--profile` and `--target` were given.
        given: usize,
    },
    /// The filters select no case: a run of nothing proves nothing.
    #[error("no case matches the filters")]
    NoCaseSelected,
    /// `explain` was given an id that is no case's and no scenario's.
    #[error("no case or scenario has the id {id:?}{}", near_ids(.near))]
    UnknownId {
        /// The id given.
        id: String,
        /// Scenario ids close to it (sharing its leading path segments).
        near: Vec<String>,
    },
    /// A folder (of profiles) cannot be listed.
    #[error("cannot list {}: {source}", .path.display())]
    ListDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The folder of an output file cannot be created.
    #[error("cannot create {}: {source}", .path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An output file (a report, the matrix) cannot be written.
    #[error("cannot write {}: {source}", .path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `bench` or `soak` could not drive the target (it refused, stalled, or broke the
    /// protocol on the first connection), or could not read its figures from `/proc`.
    #[error("{0}")]
    Driver(#[from] crate::load::LoadError),
    /// `bench` or `soak` was given no target.
    #[error("give the target: --target URL or --profile FILE")]
    NoTarget,
    /// `soak` needs the target's process to measure it.
    #[error(
        "the target's process is unknown: give --pid, or a profile whose `start` the runner runs"
    )]
    NoPid,
    /// `--time-scale` is not a number above 0 and at most 1000.
    #[error("{given:?} is not a number above 0 and at most 1000")]
    TimeScale {
        /// The value given.
        given: String,
    },
}

impl From<LaunchError> for Error {
    fn from(error: LaunchError) -> Error {
        Error::Launch(Box::new(error))
    }
}

/// Why nothing accepts TCP connections at an address.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The connection was refused or failed.
    #[error("cannot connect to {address}: {source}")]
    Failed {
        /// The address.
        address: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// No answer in time.
    #[error("cannot connect to {address}: no answer within {} ms", .timeout.as_millis())]
    NoAnswer {
        /// The address.
        address: SocketAddr,
        /// How long the runner waited.
        timeout: Duration,
    },
}

fn near_ids(near: &[String]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!("; scenarios near it: {}", near.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};

    use super::*;

    #[test]
    fn messages_name_the_values_at_stake() {
        let unknown = Error::UnknownId {
            id: "eio4/x".to_owned(),
            near: vec!["eio4/polling/a".to_owned(), "eio4/polling/b".to_owned()],
        };
        assert_eq!(
            unknown.to_string(),
            "no case or scenario has the id \"eio4/x\"; scenarios near it: eio4/polling/a, eio4/polling/b"
        );
        let alone = Error::UnknownId {
            id: "x".to_owned(),
            near: Vec::new(),
        };
        assert_eq!(alone.to_string(), "no case or scenario has the id \"x\"");
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 9));
        let unreachable = Error::Unreachable {
            url: BaseUrl {
                host: "127.0.0.1".to_owned(),
                port: 9,
            },
            source: ConnectError::NoAnswer {
                address,
                timeout: Duration::from_millis(1500),
            },
        };
        assert_eq!(
            unreachable.to_string(),
            "the target http://127.0.0.1:9 cannot be reached: cannot connect to 127.0.0.1:9: no answer within 1500 ms"
        );
    }
}
