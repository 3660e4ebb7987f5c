//! Socket.IO packets, versions 4 and 5. I/O free.
//!
//! A Socket.IO packet travels as the data of Engine.IO `message` packets: one text message with
//! the encoded packet, then one binary message per binary attachment. The [`Packet`] encoder
//! takes binary values out of the data and leaves numbered placeholders in their place; the
//! stateful [`Decoder`] puts them back once every attachment has arrived.
//!
//! Format of the text (from the spec):
//!
//! ```text
//! <packet type>[<# of binary attachments>-][<namespace>,][<acknowledgment id>][JSON-stringified payload without binary]
//! ```

mod decoder;
mod json;
mod packet;
mod value;

pub use decoder::{Decoder, DEFAULT_MAX_ATTACHMENTS, RESERVED_EVENTS};
pub use packet::{Encoded, Packet, PacketType, ProtocolVersion};
pub use value::Value;
