//! The runner's native load generator: raw Engine.IO 4 / Socket.IO 5 drivers and the two
//! commands built on them, `sio-conformance bench` (throughput, latency, connection rate,
//! fan-out, memory per connection) and `sio-conformance soak` (many connections in cycles,
//! the target's memory and file descriptors before and after).
//!
//! - [`wire`]: the packets the drivers write and recognise, as wire text (no codec).
//! - [`websocket`]: a WebSocket client session (tokio-tungstenite frames).
//! - [`polling`]: an HTTP long-polling client session (a hyper 1 connection).
//! - [`procfs`]: the target's CPU time, resident memory and open descriptors, and the load
//!   generator's own CPU time, from `/proc`; the machine's description.
//! - [`latency`]: latency percentiles from an HDR histogram.
//! - [`command`]: the two commands' arguments, targets and output.
//! - [`bench`]: the benchmark's figures; [`soak`]: the soak test; [`page`]: their reports
//!   (table, JSON, `docs/performance.md`).
//!
//! Every wait has a deadline: a target that refuses, stalls or answers something else gives
//! a [`LoadError`] that says which, never a hang.

pub mod bench;
pub mod command;
pub mod latency;
pub mod page;
pub mod polling;
pub mod procfs;
pub mod soak;
pub mod websocket;
pub mod wire;

use std::net::SocketAddr;
use std::time::Duration;

/// Where the drivers connect: the target's address, the `Host` it is called by, and the
/// Socket.IO path (`/socket.io/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The TCP address.
    pub address: SocketAddr,
    /// The `Host` header: `host:port`.
    pub host: String,
    /// The Socket.IO endpoint's path, ending in `/`.
    pub path: String,
}

impl Endpoint {
    /// The query of an Engine.IO request over `transport`, with the session id once known.
    pub fn query(&self, transport: &str, sid: Option<&str>) -> String {
        let mut query = format!(
            "{}?EIO={}&transport={transport}",
            self.path,
            wire::ENGINE_IO_VERSION
        );
        if let Some(sid) = sid {
            query.push_str("&sid=");
            query.push_str(&percent_encode(sid));
        }
        query
    }
}

/// `text` with every byte but the unreserved ones of RFC 3986 percent-encoded (a session id is
/// the server's choice of characters).
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Why a driver could not do what it was asked: the target refused, stalled, closed, or
/// answered something the protocol does not allow there. Each names the step it was at.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The TCP connection was refused or failed.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// The target's address.
        address: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// No answer within the deadline.
    #[error("{step}: no answer within {} ms", .timeout.as_millis())]
    Timeout {
        /// What the driver was waiting for.
        step: &'static str,
        /// How long it waited.
        timeout: Duration,
    },
    /// The WebSocket handshake or a frame failed (boxed: tungstenite's error is large).
    #[error("{step}: WebSocket error: {source}")]
    WebSocket {
        /// What the driver was doing.
        step: &'static str,
        /// tungstenite's error.
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    /// An HTTP exchange failed.
    #[error("{step}: HTTP error: {source}")]
    Http {
        /// What the driver was doing.
        step: &'static str,
        /// hyper's error.
        source: hyper::Error,
    },
    /// A polling request could not be built (a path the URI syntax refuses).
    #[error("{step}: cannot build the request: {source}")]
    Request {
        /// What the driver was doing.
        step: &'static str,
        /// The builder's error.
        source: hyper::http::Error,
    },
    /// An HTTP answer other than 200.
    #[error("{step}: the target answered HTTP {status}: {body:?}")]
    Status {
        /// What the driver was doing.
        step: &'static str,
        /// The status code.
        status: u16,
        /// The body's start.
        body: String,
    },
    /// A body or frame that is not what the protocol has there.
    #[error("{step}: expected {expected}, got {got:?}")]
    Unexpected {
        /// What the driver was doing.
        step: &'static str,
        /// What the protocol has there.
        expected: &'static str,
        /// What arrived (its start).
        got: String,
    },
    /// The target closed the connection.
    #[error("{step}: the target closed the connection")]
    Closed {
        /// What the driver was doing.
        step: &'static str,
    },
    /// The target refused the namespace CONNECT (`44…`).
    #[error("the target refused the CONNECT to `/`: {answer:?}")]
    Refused {
        /// Its answer.
        answer: String,
    },
    /// A figure needs a handler the target does not declare (from its profile's features).
    #[error("{figure} needs the `{feature}` feature, which the target does not declare")]
    MissingFeature {
        /// The figure.
        figure: &'static str,
        /// The feature.
        feature: &'static str,
    },
    /// Reading `/proc` for the target's figures failed.
    #[error(transparent)]
    Proc(#[from] procfs::ProcError),
}

/// `result`, a timeout in it reported as the whole budget of the connection's setup (each step
/// had what was left of it).
pub(crate) fn within_budget<T>(
    result: Result<T, LoadError>,
    budget: Duration,
) -> Result<T, LoadError> {
    result.map_err(|error| match error {
        LoadError::Timeout { step, .. } => LoadError::Timeout {
            step,
            timeout: budget,
        },
        other => other,
    })
}

/// The start of `text`, at most 200 characters, for an error message.
pub(crate) fn excerpt(text: &str) -> String {
    const MOST: usize = 200;
    match text.char_indices().nth(MOST) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Runs `future` with a deadline of `timeout`, naming `step` when it passes.
pub(crate) async fn bounded<T>(
    step: &'static str,
    timeout: Duration,
    future: impl std::future::Future<Output = Result<T, LoadError>>,
) -> Result<T, LoadError> {
    tokio::time::timeout(timeout, future)
        .await
        .unwrap_or(Err(LoadError::Timeout { step, timeout }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_carry_the_protocol_and_the_sid() {
        let endpoint = Endpoint {
            address: SocketAddr::from(([127, 0, 0, 1], 3000)),
            host: "127.0.0.1:3000".to_owned(),
            path: "/socket.io/".to_owned(),
        };
        assert_eq!(
            endpoint.query("polling", None),
            "/socket.io/?EIO=4&transport=polling"
        );
        assert_eq!(
            endpoint.query("polling", Some("a+b/c=")),
            "/socket.io/?EIO=4&transport=polling&sid=a%2Bb%2Fc%3D"
        );
    }

    #[test]
    fn excerpts_are_cut() {
        assert_eq!(excerpt("short"), "short");
        assert_eq!(excerpt(&"é".repeat(300)).chars().count(), 201);
    }
}
