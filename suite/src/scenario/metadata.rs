//! What a scenario says about itself: the requirement it checks, its level, the features it
//! needs, the role of the implementation under test, and the axes it expands over.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::term::{self, UnknownTerm, Vocabulary};

/// How binding the checked behaviour is, which decides the verdict when it is not met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
pub enum Level {
    /// A MUST (or MUST NOT) of the spec, or a format the spec defines: broken, the case FAILs.
    #[serde(rename = "MUST")]
    Must,
    /// A SHOULD of the spec: broken, the case is NON-STRICT.
    #[serde(rename = "SHOULD")]
    Should,
    /// A MAY of the spec: a difference is INFORMATIONAL.
    #[serde(rename = "MAY")]
    May,
    /// What the official Node.js server does where the spec is silent: a difference is
    /// INFORMATIONAL.
    #[serde(rename = "implementation")]
    Implementation,
}

impl Level {
    /// Every level, from the most binding.
    pub const ALL: [Level; 4] = [
        Level::Must,
        Level::Should,
        Level::May,
        Level::Implementation,
    ];

    /// The level as written in scenario files: `MUST`, `SHOULD`, `MAY`, `implementation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
            Level::Implementation => "implementation",
        }
    }
}

impl FromStr for Level {
    type Err = UnknownTerm;

    /// Reads a level as [`Level::as_str`] writes it.
    fn from_str(name: &str) -> Result<Level, UnknownTerm> {
        term::parse(Vocabulary::Level, &Level::ALL, Level::as_str, name)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which side of the protocol the implementation under test plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The target is a server; the engine plays the client.
    Server,
    /// The target is a client; the engine plays the server (not replayed yet).
    Client,
}

impl Role {
    /// Both roles.
    pub const ALL: [Role; 2] = [Role::Server, Role::Client];

    /// The role as written in scenario files: `server`, `client`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
        }
    }
}

impl FromStr for Role {
    type Err = UnknownTerm;

    /// Reads a role as [`Role::as_str`] writes it.
    fn from_str(name: &str) -> Result<Role, UnknownTerm> {
        term::parse(Vocabulary::Role, &Role::ALL, Role::as_str, name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The controlled vocabulary of features a scenario may need. A target that declares a
/// feature absent gets UNSUPPORTED for the scenarios that need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    Websocket,
    /// Upgrading a polling session to WebSocket.
    Upgrade,
    /// Binary data.
    Binary,
    /// The heartbeat (ping and pong).
    Heartbeat,
    /// Closing a session.
    Close,
    /// Engine.IO protocol 3 (`allowEIO3`).
    Eio3,
    /// Socket.IO protocol 4 over Engine.IO protocol 3 at the Socket.IO endpoint (socket.io
    /// 2.x clients; the official server's `allowEIO3`).
    Sio4,
    /// Socket.IO namespaces.
    Namespaces,
    /// Socket.IO acknowledgements.
    Acks,
    /// The fixture's server-initiated acknowledgements (`emit-with-ack`).
    ServerAcks,
    /// The fixture's server-initiated disconnects (`disconnect-me`, `close-me`).
    ServerDisconnect,
    /// The fixture's rooms (`join`, `to-room`).
    Rooms,
    /// The fixture's namespace middleware refusing with data (`/refused`).
    Middleware,
    /// The fixture's dynamic namespaces (`/dynamic-*`).
    DynamicNamespaces,
    /// The fixture's `/engine.io-cookie/` echo, which sets the sid as the cookie
    /// `io=<sid>; Path=/; HttpOnly; SameSite=Lax` on the polling handshake.
    SessionCookie,
    /// The fixture's `/engine.io-guarded/` echo, whose `allowRequest` refuses handshakes without
    /// the right `token` query parameter.
    AllowRequest,
    /// The fixture's `/engine.io-cors/` echo, whose CORS policy allows one origin,
    /// `http://allowed.example`, with credentials, exposing `X-Fixture`.
    CorsAllowlist,
    /// The fixture's `/engine.io-no-slash` echo, attached with the official
    /// `addTrailingSlash: false`: served at its path as written, without a trailing slash.
    NoTrailingSlash,
    /// Connection state recovery.
    Recovery,
    /// The msgpack parser.
    Msgpack,
    /// CORS headers.
    Cors,
    /// A client's reconnection after its session ends (the official Manager's backoff).
    Reconnection,
    /// A client's `retries`: an emit sent again until acknowledged.
    Retries,
    /// A client's volatile emits.
    Volatile,
    /// A client's acknowledgement timeouts (`timeout(ms)`, `ackTimeout`).
    AckTimeout,
    /// A client's cookie jar (`withCredentials`): cookies set by the server sent back.
    Cookies,
}

impl Feature {
    /// Every feature, in declaration order.
    pub const ALL: [Feature; 27] = [
        Feature::Polling,
        Feature::Websocket,
        Feature::Upgrade,
        Feature::Binary,
        Feature::Heartbeat,
        Feature::Close,
        Feature::Eio3,
        Feature::Sio4,
        Feature::Namespaces,
        Feature::Acks,
        Feature::ServerAcks,
        Feature::ServerDisconnect,
        Feature::Rooms,
        Feature::Middleware,
        Feature::DynamicNamespaces,
        Feature::SessionCookie,
        Feature::AllowRequest,
        Feature::CorsAllowlist,
        Feature::NoTrailingSlash,
        Feature::Recovery,
        Feature::Msgpack,
        Feature::Cors,
        Feature::Reconnection,
        Feature::Retries,
        Feature::Volatile,
        Feature::AckTimeout,
        Feature::Cookies,
    ];

    /// The feature as scenario files and profiles write it: `polling`, `eio3`, `server-acks`.
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Polling => "polling",
            Feature::Websocket => "websocket",
            Feature::Upgrade => "upgrade",
            Feature::Binary => "binary",
            Feature::Heartbeat => "heartbeat",
            Feature::Close => "close",
            Feature::Eio3 => "eio3",
            Feature::Sio4 => "sio4",
            Feature::Namespaces => "namespaces",
            Feature::Acks => "acks",
            Feature::ServerAcks => "server-acks",
            Feature::ServerDisconnect => "server-disconnect",
            Feature::Rooms => "rooms",
            Feature::Middleware => "middleware",
            Feature::DynamicNamespaces => "dynamic-namespaces",
            Feature::SessionCookie => "session-cookie",
            Feature::AllowRequest => "allow-request",
            Feature::CorsAllowlist => "cors-allowlist",
            Feature::NoTrailingSlash => "no-trailing-slash",
            Feature::Recovery => "recovery",
            Feature::Msgpack => "msgpack",
            Feature::Cors => "cors",
            Feature::Reconnection => "reconnection",
            Feature::Retries => "retries",
            Feature::Volatile => "volatile",
            Feature::AckTimeout => "ack-timeout",
            Feature::Cookies => "cookies",
        }
    }
}

impl FromStr for Feature {
    type Err = UnknownTerm;

    /// Reads a feature as [`Feature::as_str`] writes it.
    fn from_str(name: &str) -> Result<Feature, UnknownTerm> {
        term::parse(Vocabulary::Feature, &Feature::ALL, Feature::as_str, name)
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The written spec a scenario quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub enum SpecDocument {
    /// The README of socketio/engine.io-protocol.
    #[serde(rename = "engine.io-protocol")]
    EngineIoProtocol,
    /// The Readme of socketio/socket.io-protocol.
    #[serde(rename = "socket.io-protocol")]
    SocketIoProtocol,
}

impl SpecDocument {
    /// The document as scenario files name it: `engine.io-protocol`, `socket.io-protocol`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecDocument::EngineIoProtocol => "engine.io-protocol",
            SpecDocument::SocketIoProtocol => "socket.io-protocol",
        }
    }
}

/// The place in a spec a scenario checks, with the requirement quoted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SpecReference {
    /// The document.
    pub doc: SpecDocument,
    /// The heading of the section (the specs have no section numbers).
    pub section: String,
    /// The sentence checked, verbatim.
    pub quote: String,
}

/// A transport variant of the abstract Engine.IO session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// HTTP long-polling throughout.
    Polling,
    /// A WebSocket-only session.
    Websocket,
    /// Polling first, then upgraded to WebSocket before the scenario's other steps.
    Upgrade,
}

impl Transport {
    /// Every transport variant, in the order scenarios usually list them.
    pub const ALL: [Transport; 3] = [Transport::Polling, Transport::Websocket, Transport::Upgrade];

    /// The name used in scenario files and case ids: `polling`, `websocket`, `upgrade`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Polling => "polling",
            Transport::Websocket => "websocket",
            Transport::Upgrade => "upgrade",
        }
    }

    /// The feature a target needs for this variant.
    pub fn feature(self) -> Feature {
        match self {
            Transport::Polling => Feature::Polling,
            Transport::Websocket => Feature::Websocket,
            Transport::Upgrade => Feature::Upgrade,
        }
    }
}

impl FromStr for Transport {
    type Err = UnknownTerm;

    /// Reads a transport as [`Transport::as_str`] writes it.
    fn from_str(name: &str) -> Result<Transport, UnknownTerm> {
        term::parse(
            Vocabulary::Transport,
            &Transport::ALL,
            Transport::as_str,
            name,
        )
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which of the target's two paths the abstract session and the default requests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize)]
pub enum Endpoint {
    /// The Engine.IO-only endpoint (`/engine.io/` in the fixture contract).
    #[default]
    #[serde(rename = "engine.io")]
    EngineIo,
    /// The Socket.IO endpoint (`/socket.io/`).
    #[serde(rename = "socket.io")]
    SocketIo,
    /// The Socket.IO endpoint with connection state recovery on (`/socket.io-recovery/`).
    #[serde(rename = "socket.io-recovery")]
    SocketIoRecovery,
}

/// Whether the engine keeps the session's heartbeat by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Heartbeat {
    /// The heartbeat never reaches the steps. Protocol 4 (the server pings): every ping `2` is
    /// answered with a pong `3` at once. Protocol 3 (the client pings): a ping `2` goes every
    /// `pingInterval` from the open onward, over the session's current transport, and the
    /// server's pongs `3` are dropped; a ping is never answered.
    #[default]
    Auto,
    /// Pings and pongs reach the steps like any packet, and the scenario sends and answers
    /// them (or not); the engine sends none by itself.
    Manual,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::tests::spelled_alike;

    #[test]
    fn levels_are_spelled_alike_by_as_str_from_str_and_serde() {
        spelled_alike(Vocabulary::Level, &Level::ALL, Level::as_str);
    }

    #[test]
    fn roles_are_spelled_alike_by_as_str_from_str_and_serde() {
        spelled_alike(Vocabulary::Role, &Role::ALL, Role::as_str);
    }

    #[test]
    fn features_are_spelled_alike_by_as_str_from_str_and_serde() {
        spelled_alike(Vocabulary::Feature, &Feature::ALL, Feature::as_str);
    }

    #[test]
    fn transports_are_spelled_alike_by_as_str_from_str_and_serde() {
        spelled_alike(Vocabulary::Transport, &Transport::ALL, Transport::as_str);
    }

    #[test]
    fn spec_documents_are_spelled_as_serde_names_them() {
        for document in [
            SpecDocument::EngineIoProtocol,
            SpecDocument::SocketIoProtocol,
        ] {
            let serialized = serde_json::to_value(document).expect("serialises");
            assert_eq!(serialized, serde_json::Value::from(document.as_str()));
        }
    }
}
