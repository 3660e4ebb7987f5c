//! Engine.IO packets and polling payloads, versions 3 and 4. I/O free.
//!
//! The [Engine.IO protocol] carries [`Packet`]s over two transports: HTTP long-polling, where
//! several packets travel in one request or response body (a payload, see [`payload`]), and
//! WebSocket, where each packet is its own frame ([`Frame`]).
//!
//! [Engine.IO protocol]: https://github.com/socketio/engine.io-protocol

mod packet;
pub mod payload;

pub use packet::{Data, Frame, Packet, PacketType};

/// The Engine.IO protocol version, the `EIO` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// `EIO=3`, used by socket.io 1.x and 2.x: the client pings, payloads are length-prefixed.
    V3 = 3,
    /// `EIO=4`, used by socket.io 3.x and later: the server pings, payloads are separated by
    /// `\x1e` and binary data in them is always base64.
    V4 = 4,
}
