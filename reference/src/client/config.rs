//! The client's options, in the official client's names and with its defaults.

use std::time::Duration;

use super::backoff::BackoffConfig;
use crate::engine_io::ProtocolVersion;

/// An Engine.IO transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// `polling`: HTTP long-polling, a `GET` loop to receive and one `POST` at a time to send.
    Polling,
    /// `websocket`: one WebSocket connection, a packet per frame.
    WebSocket,
}

impl TransportKind {
    /// The name in the `transport` query parameter and in the handshake's `upgrades`.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        }
    }

    /// The transport of a name, if it is one this client has.
    pub fn from_name(name: &str) -> Option<TransportKind> {
        match name {
            "polling" => Some(TransportKind::Polling),
            "websocket" => Some(TransportKind::WebSocket),
            _ => None,
        }
    }
}

/// Which Socket.IO protocol to speak, and so which Engine.IO protocol under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Socket.IO protocol 5 over Engine.IO protocol 4: socket.io 3.x and later servers.
    V5,
    /// Socket.IO protocol 4 over Engine.IO protocol 3: socket.io 2.x servers. The main
    /// namespace is joined implicitly (no `40` is sent for `/`), the client pings.
    V4,
}

impl Protocol {
    /// The Engine.IO protocol under it.
    pub fn engine_io(self) -> ProtocolVersion {
        match self {
            Protocol::V5 => ProtocolVersion::V4,
            Protocol::V4 => ProtocolVersion::V3,
        }
    }

    /// The Socket.IO protocol version of the codec.
    pub fn socket_io(self) -> crate::socket_io::ProtocolVersion {
        match self {
            Protocol::V5 => crate::socket_io::ProtocolVersion::V5,
            Protocol::V4 => crate::socket_io::ProtocolVersion::V4,
        }
    }
}

/// Everything the client is configured with; built by [`super::ClientBuilder`].
#[derive(Debug, Clone)]
pub struct Config {
    /// `host:port` of the server.
    pub authority: String,
    /// The HTTP path, `/socket.io/` by default.
    pub path: String,
    /// The protocol spoken.
    pub protocol: Protocol,
    /// `transports`, in order: the first opens the session. Default polling then WebSocket.
    pub transports: Vec<TransportKind>,
    /// `upgrade`: whether to upgrade from polling when the server offers it. Default true.
    pub upgrade: bool,
    /// `rememberUpgrade`: after a WebSocket succeeded, later sessions open over WebSocket
    /// directly. Default false.
    pub remember_upgrade: bool,
    /// `tryAllTransports`: when the first transport fails to open, try the next. Default false.
    pub try_all_transports: bool,
    /// `timestampRequests`: the `t` cache-busting parameter. `None` (the official default,
    /// the option left unset): on polling requests only; `Some(true)`: on WebSocket handshakes
    /// too, as the official client adds it there only when the option is set; `Some(false)`:
    /// nowhere.
    pub timestamp_requests: Option<bool>,
    /// `forceBase64`: `b64=1`. Default false.
    pub force_base64: bool,
    /// `query`: extra query parameters on every request.
    pub query: Vec<(String, String)>,
    /// `extraHeaders`: extra HTTP headers on every request.
    pub extra_headers: Vec<(String, String)>,
    /// `reconnection`: whether to reconnect at all. Default true.
    pub reconnection: bool,
    /// `reconnectionAttempts`: attempts before giving up; `None` is no limit (the default).
    pub reconnection_attempts: Option<u32>,
    /// The backoff's delays and jitter.
    pub backoff: BackoffConfig,
    /// `timeout`: how long opening a session may take. Default 20 s.
    pub timeout: Duration,
    /// `ackTimeout`: the ack timeout of emits that give none. Default none.
    pub ack_timeout: Option<Duration>,
    /// `retries`: how many times an unacknowledged emit is sent again. Default none (no queue).
    pub retries: Option<u32>,
    /// The most attachments a packet from the server may announce. Default 10, as the
    /// official parser.
    pub max_attachments: usize,
    /// How long any one HTTP request or WebSocket handshake may take before the transport is
    /// considered broken, when nothing else bounds it. Default 60 s.
    pub request_timeout: Duration,
    /// `withCredentials`: keep the cookies the server sets and send them back on the session's
    /// later requests (the Node.js client's cookie jar). Default false.
    pub with_credentials: bool,
}

impl Config {
    /// The official defaults for a server at `authority`.
    pub fn new(authority: String) -> Config {
        Config {
            authority,
            path: "/socket.io/".to_owned(),
            protocol: Protocol::V5,
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            upgrade: true,
            remember_upgrade: false,
            try_all_transports: false,
            timestamp_requests: None,
            force_base64: false,
            query: Vec::new(),
            extra_headers: Vec::new(),
            reconnection: true,
            reconnection_attempts: None,
            backoff: BackoffConfig::default(),
            timeout: Duration::from_millis(20_000),
            ack_timeout: None,
            retries: None,
            max_attachments: crate::socket_io::DEFAULT_MAX_ATTACHMENTS,
            request_timeout: Duration::from_millis(60_000),
            with_credentials: false,
        }
    }
}
