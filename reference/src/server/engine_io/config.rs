//! The server's options and their defaults, which are the official server's.

use std::time::Duration;

use super::allow::AllowRequest;
use super::cookie::Cookie;
use super::cors::Cors;

/// The transports a server may enable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling, `transport=polling`.
    Polling,
    /// WebSocket, `transport=websocket`.
    WebSocket,
}

impl TransportKind {
    /// The name used in the `transport` query parameter and in the `upgrades` list.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        }
    }

    /// The transport a `transport` query value names, if it is one this server knows.
    pub fn from_name(name: &str) -> Option<TransportKind> {
        match name {
            "polling" => Some(TransportKind::Polling),
            "websocket" => Some(TransportKind::WebSocket),
            _ => None,
        }
    }
}

/// The options of an Engine.IO server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The path prefix the server answers under; requests whose path starts with it are
    /// Engine.IO requests (HS-01), once normalised by `add_trailing_slash` (see
    /// [`Config::served_path`]). Default `/engine.io/`.
    pub path: String,
    /// Whether the path ends with a `/` whether or not it is written with one, as the official
    /// `addTrailingSlash` (default true): `/engine.io` then serves `/engine.io/?EIO=4…` and not
    /// `/engine.io?EIO=4…`. False serves the path as written, without a trailing slash, so that
    /// `/engine.io?EIO=4…` is served (and, the match being a prefix, `/engine.io/?EIO=4…` too).
    pub add_trailing_slash: bool,
    /// How long after the handshake, or after the last pong, the server sends a ping.
    /// Default 25 000 ms. In protocol 3 the client pings and the server sends none: a v3
    /// session that receives no packet for `ping_interval + ping_timeout` closes.
    pub ping_interval: Duration,
    /// How long the server waits for a pong before it closes the session. Default 20 000 ms.
    pub ping_timeout: Duration,
    /// How long a probing WebSocket may take to complete the upgrade. Default 10 000 ms.
    pub upgrade_timeout: Duration,
    /// The largest POST body or WebSocket message accepted, in bytes; announced as
    /// `maxPayload` in the handshake. Default 1 000 000.
    pub max_http_buffer_size: usize,
    /// The transports enabled. Default polling and WebSocket.
    pub transports: Vec<TransportKind>,
    /// Whether a polling session may upgrade to WebSocket. Default true.
    pub allow_upgrades: bool,
    /// The application's check of each handshake; `None`, the default, allows every one.
    pub allow_request: Option<AllowRequest>,
    /// The cookie that carries the sid on the polling handshake response; `None`, the default,
    /// sends none (HS-23).
    pub cookie: Option<Cookie>,
    /// The CORS policy; `None`, the default, sends no CORS headers (HS-27).
    pub cors: Option<Cors>,
    /// Whether clients of protocol 3 (`EIO=3`: socket.io 1.x and 2.x) are served, as the
    /// official `allowEIO3`. Default false: their handshake gets `400` code 5 "Unsupported
    /// protocol version", as a v4-only server answers (E3-01).
    pub allow_eio3: bool,
    /// How long a polling session closed by the application waits for the client's next `GET`,
    /// which receives the close packet, before it is dropped anyway (CL-05). Default 30 000 ms,
    /// the official server's fixed value.
    pub close_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: "/engine.io/".to_owned(),
            add_trailing_slash: true,
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_http_buffer_size: 1_000_000,
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            allow_upgrades: true,
            allow_request: None,
            cookie: None,
            cors: None,
            allow_eio3: false,
            close_timeout: Duration::from_millis(30_000),
        }
    }
}

impl Config {
    /// The prefix requests are matched against: the path without its trailing `/`, then with
    /// one when `add_trailing_slash` is set (the official `_computePath`).
    pub fn served_path(&self) -> String {
        let path = self.path.trim_end_matches('/');
        if self.add_trailing_slash {
            format!("{path}/")
        } else {
            path.to_owned()
        }
    }

    /// Whether the transport is enabled.
    pub fn allows(&self, transport: TransportKind) -> bool {
        self.transports.contains(&transport)
    }

    /// The `upgrades` announced in the handshake of a session opened over `transport`.
    pub(crate) fn upgrades_from(&self, transport: TransportKind) -> Vec<TransportKind> {
        match transport {
            TransportKind::Polling
                if self.allow_upgrades && self.allows(TransportKind::WebSocket) =>
            {
                vec![TransportKind::WebSocket]
            }
            _ => Vec::new(),
        }
    }
}
