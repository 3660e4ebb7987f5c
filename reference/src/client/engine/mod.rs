//! The Engine.IO client: the I/O-free session logic ([`handshake`], [`heartbeat`],
//! [`upgrade`], [`batch`], [`query`]) and the connection that runs it over polling and
//! WebSocket.

pub mod batch;
mod connection;
mod cookies;
pub mod handshake;
pub mod heartbeat;
mod http;
mod polling;
pub mod query;
pub mod upgrade;
mod websocket;

pub(crate) use connection::{open, EngineEvent, EngineHandle, EngineOptions};
pub(crate) use cookies::CookieJar;
pub(crate) use polling::Endpoint;

use crate::EngineIoError;

/// Why a transport failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The TCP connection could not be made.
    #[error("could not connect: {0}")]
    Connect(String),
    /// An HTTP exchange broke.
    #[error("HTTP: {0}")]
    Http(String),
    /// The server answered with another status than 200.
    #[error("HTTP status {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The body, as text.
        body: String,
    },
    /// A request or a WebSocket handshake took too long.
    #[error("timed out")]
    Timeout,
    /// The WebSocket failed.
    #[error("WebSocket: {0}")]
    WebSocket(String),
    /// A packet or payload from the server did not decode.
    #[error("bad packet from the server: {0}")]
    Decode(EngineIoError),
    /// The server's first packet was not a valid open packet.
    #[error("bad handshake: {0}")]
    Handshake(#[from] handshake::HandshakeError),
    /// The transport list was empty ("No transports available" in the official client).
    #[error("No transports available")]
    NoTransports,
}

/// Why an Engine.IO session ended, in the official client's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineCloseReason {
    /// `transport close`: the server closed the transport (a close packet `1`, a WebSocket
    /// close frame, the end of the connection).
    TransportClose,
    /// `transport error`: a request failed, the server answered an error status, or sent
    /// something that does not decode as Engine.IO.
    TransportError,
    /// `ping timeout`: no ping within `pingInterval + pingTimeout` (v4), no answer to a ping
    /// (v3).
    PingTimeout,
}

impl EngineCloseReason {
    /// The official client's words.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineCloseReason::TransportClose => "transport close",
            EngineCloseReason::TransportError => "transport error",
            EngineCloseReason::PingTimeout => "ping timeout",
        }
    }
}
