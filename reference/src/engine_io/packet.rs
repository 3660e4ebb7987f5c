//! One Engine.IO packet and its encodings: the text form (a polling packet or a WebSocket text
//! frame) and the WebSocket binary frame.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use bytes::Bytes;

use super::ProtocolVersion;
use crate::EngineIoError;

/// The type of an Engine.IO packet, sent as one digit (a text packet) or one byte (a v3 binary
/// packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: "Used during the handshake." The server's first packet, with the session's
    /// parameters as JSON.
    Open = 0,
    /// `1`: "Used to indicate that a transport can be closed."
    Close = 1,
    /// `2`: "Used in the heartbeat mechanism." Sent by the server in v4, by the client in v3;
    /// `2probe` starts a WebSocket upgrade.
    Ping = 2,
    /// `3`: "Used in the heartbeat mechanism." The answer to a ping; `3probe` answers the probe.
    Pong = 3,
    /// `4`: "Used to send a payload to the other side."
    Message = 4,
    /// `5`: "Used during the upgrade process." Completes a WebSocket upgrade.
    Upgrade = 5,
    /// `6`: "Used during the upgrade process." Releases a pending polling request.
    Noop = 6,
}

impl PacketType {
    /// All packet types, in wire order.
    pub const ALL: [PacketType; 7] = [
        PacketType::Open,
        PacketType::Close,
        PacketType::Ping,
        PacketType::Pong,
        PacketType::Message,
        PacketType::Upgrade,
        PacketType::Noop,
    ];

    /// The type for a wire number, if it is one.
    pub fn from_number(number: u8) -> Option<PacketType> {
        PacketType::ALL.get(usize::from(number)).copied()
    }

    /// The type's digit on the wire: `'0'` … `'6'`.
    pub fn digit(self) -> char {
        char::from(b'0' + self as u8)
    }

    /// The type's name in the spec: `open`, `close`, …
    pub fn name(self) -> &'static str {
        match self {
            PacketType::Open => "open",
            PacketType::Close => "close",
            PacketType::Ping => "ping",
            PacketType::Pong => "pong",
            PacketType::Message => "message",
            PacketType::Upgrade => "upgrade",
            PacketType::Noop => "noop",
        }
    }

    fn from_digit(digit: char) -> Option<PacketType> {
        let number = digit.to_digit(10)?;
        PacketType::from_number(u8::try_from(number).ok()?)
    }
}

/// The data a packet carries: text (possibly empty, which is the same as no data) or bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Data {
    /// Plain text, UTF-8.
    Text(String),
    /// Binary data.
    Binary(Bytes),
}

impl Default for Data {
    fn default() -> Self {
        Data::Text(String::new())
    }
}

/// One Engine.IO packet: a type and its data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Packet {
    /// The packet type.
    pub packet_type: PacketType,
    /// The data; empty text when the packet carries none.
    pub data: Data,
}

/// A WebSocket frame's content: the Engine.IO WebSocket transport sends each packet in its own
/// frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Bytes),
}

impl Packet {
    /// A packet with text data (empty text means no data).
    pub fn text(packet_type: PacketType, text: impl Into<String>) -> Packet {
        Packet {
            packet_type,
            data: Data::Text(text.into()),
        }
    }

    /// A packet with no data.
    pub fn empty(packet_type: PacketType) -> Packet {
        Packet::text(packet_type, "")
    }

    /// A message packet with binary data.
    pub fn binary(data: impl Into<Bytes>) -> Packet {
        Packet {
            packet_type: PacketType::Message,
            data: Data::Binary(data.into()),
        }
    }

    /// The text form: a packet of a polling payload, or a WebSocket text frame.
    ///
    /// Text data is written `<type digit><text>`. Binary data is written in base64 with a `b`
    /// prefix: `b<base64>` in v4, where only messages carry binary so the type is left out, and
    /// `b<type digit><base64>` in v3.
    pub fn encode_text(&self, version: ProtocolVersion) -> String {
        match (&self.data, version) {
            (Data::Text(text), _) => format!("{}{text}", self.packet_type.digit()),
            (Data::Binary(bytes), ProtocolVersion::V4) => format!("b{}", STANDARD.encode(bytes)),
            (Data::Binary(bytes), ProtocolVersion::V3) => {
                format!("b{}{}", self.packet_type.digit(), STANDARD.encode(bytes))
            }
        }
    }

    /// The WebSocket frame: text data in a text frame (the text form), binary data in a binary
    /// frame, as is in v4 and after a type byte in v3.
    pub fn encode_frame(&self, version: ProtocolVersion) -> Frame {
        match (&self.data, version) {
            (Data::Text(_), _) => Frame::Text(self.encode_text(version)),
            (Data::Binary(bytes), ProtocolVersion::V4) => Frame::Binary(bytes.clone()),
            (Data::Binary(bytes), ProtocolVersion::V3) => {
                let mut frame = Vec::with_capacity(bytes.len() + 1);
                frame.push(self.packet_type as u8);
                frame.extend_from_slice(bytes);
                Frame::Binary(frame.into())
            }
        }
    }

    /// Decodes the text form: a packet of a polling payload or a WebSocket text frame.
    ///
    /// A `b` prefix marks base64 binary data, which decoders accept over either transport and
    /// with or without padding.
    pub fn decode_text(text: &str, version: ProtocolVersion) -> Result<Packet, EngineIoError> {
        let mut chars = text.chars();
        let first = chars.next().ok_or(EngineIoError::EmptyPacket)?;
        if first == 'b' {
            return Self::decode_base64(chars.as_str(), version);
        }
        let packet_type = PacketType::from_digit(first).ok_or_else(|| unknown_type(first))?;
        Ok(Packet::text(packet_type, chars.as_str()))
    }

    /// Decodes a WebSocket binary frame: the message's bytes in v4, a type byte followed by the
    /// data in v3.
    pub fn decode_binary(frame: Bytes, version: ProtocolVersion) -> Result<Packet, EngineIoError> {
        match version {
            ProtocolVersion::V4 => Ok(Packet::binary(frame)),
            ProtocolVersion::V3 => {
                let type_byte = *frame.first().ok_or(EngineIoError::EmptyPacket)?;
                let packet_type =
                    PacketType::from_number(type_byte).ok_or(EngineIoError::UnknownPacketType {
                        found: type_byte.to_string(),
                    })?;
                Ok(Packet {
                    packet_type,
                    data: Data::Binary(frame.slice(1..)),
                })
            }
        }
    }

    fn decode_base64(rest: &str, version: ProtocolVersion) -> Result<Packet, EngineIoError> {
        let (packet_type, base64) = match version {
            ProtocolVersion::V4 => (PacketType::Message, rest),
            ProtocolVersion::V3 => {
                let mut chars = rest.chars();
                let digit = chars.next().ok_or(EngineIoError::UnknownPacketType {
                    found: String::new(),
                })?;
                let packet_type =
                    PacketType::from_digit(digit).ok_or_else(|| unknown_type(digit))?;
                (packet_type, chars.as_str())
            }
        };
        // Decoders accept base64 with its padding or without any, but not half of it.
        let engine = if base64.len() % 4 == 0 {
            &STANDARD
        } else {
            &STANDARD_NO_PAD
        };
        let bytes = engine
            .decode(base64)
            .map_err(|error| EngineIoError::InvalidBase64 {
                reason: error.to_string(),
            })?;
        Ok(Packet {
            packet_type,
            data: Data::Binary(bytes.into()),
        })
    }
}

fn unknown_type(found: char) -> EngineIoError {
    EngineIoError::UnknownPacketType {
        found: found.to_string(),
    }
}
