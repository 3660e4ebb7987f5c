//! Why a socket left its namespace.

use std::fmt;

use crate::server::engine_io::CloseReason;

/// Why a socket was disconnected: the official server's reasons (behaviors DC-09).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// The client sent a DISCONNECT packet for the namespace: `client namespace disconnect`.
    ClientNamespaceDisconnect,
    /// The application called [`Socket::disconnect`](super::Socket::disconnect):
    /// `server namespace disconnect`.
    ServerNamespaceDisconnect,
    /// The client closed the Engine.IO connection, or it was lost: `transport close`.
    TransportClose,
    /// The Engine.IO transport broke its rules: `transport error`.
    TransportError,
    /// No pong came in time: `ping timeout`.
    PingTimeout,
    /// The client sent an Engine.IO packet that does not decode: `parse error`.
    ParseError,
    /// The server closed the connection, because the client broke the Socket.IO protocol or
    /// because the application asked: `forced close`.
    ForcedClose,
    /// The whole server was closed: `server shutting down`.
    ServerShuttingDown,
}

impl DisconnectReason {
    /// The reason as the official server names it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ServerShuttingDown => "server shutting down",
        }
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(reason: CloseReason) -> Self {
        match reason {
            CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::ForcedClose => DisconnectReason::ForcedClose,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}
