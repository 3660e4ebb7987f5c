//! The wire formats of Engine.IO and Socket.IO, written from their specs for the suite's own
//! use: what the engine sends is encoded here and what it receives is decoded here, whichever
//! side of the connection it plays.
//!
//! - [`engine_io`]: the Engine.IO packet types and the probe, the text form of a packet, and
//!   the polling payloads of both protocol revisions: protocol 4's packets joined by the record
//!   separator `\x1e`, protocol 3's `<length>:<packet>` text payload and its binary payload.
//! - [`socket_io`]: the Socket.IO packet types and the packet's text form
//!   `<type>[<attachments>-][<namespace>,][<id>][<JSON payload>]`, carried in an Engine.IO
//!   message.
//!
//! A packet is a [`Data`](crate::scenario::Data), as the scenarios write it: text with its type
//! character first (`4hello`), or binary. Decoders are strict: anything the spec's grammar does
//! not allow is an [`Error`] that says where and why. They read the forms encoders write, and
//! refuse the shortened forms some decoders tolerate (base64 without its padding, which RFC 4648
//! §3.2 makes encoders write; a namespace that ends a Socket.IO packet without its `,`): the
//! suite judges what a peer wrote. Encoders frame what they are given and never check a text
//! packet, since a scenario may send a malformed packet on purpose.
//!
//! The module knows the formats only; what a session does with a packet (answer a ping, drop a
//! noop) is the engine's.

pub mod engine_io;
pub mod socket_io;

/// Why a decoder refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An Engine.IO packet is malformed.
    #[error(transparent)]
    Packet(#[from] engine_io::PacketError),
    /// An Engine.IO polling payload is malformed.
    #[error(transparent)]
    Payload(#[from] engine_io::PayloadError),
    /// A Socket.IO packet is malformed.
    #[error(transparent)]
    SocketIo(#[from] socket_io::DecodeError),
}
