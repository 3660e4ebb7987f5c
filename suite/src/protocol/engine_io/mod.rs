//! Engine.IO: the packet types, the probe, and the encodings of both protocol revisions.
//!
//! A packet is a [`Data`]. Its text form is the type's digit followed by the packet's data
//! (`4hello`, `2probe`, `6`). Binary travels differently in each revision, so each has its own
//! module:
//!
//! - [`v4`], protocol 4: only messages carry binary; a binary message is its bytes
//!   ([`Data::Binary`]), written `b<base64>` in a polling payload; a payload is the packets
//!   joined by the record separator `\x1e`.
//! - [`v3`], protocol 3: any packet may carry binary; a binary packet is its type byte followed
//!   by its data, as a WebSocket binary frame carries it (so [`Data::Binary`] holds the type
//!   byte first), written `b<type><base64>` in a text payload; a payload is `<length>:<packet>`
//!   repeated (a text payload) or a sequence of typed records (a binary payload).

pub mod v3;
pub mod v4;

use base64::Engine as _;

use crate::scenario::Data;

/// The type of an Engine.IO packet, with its value on the wire: a digit in a text packet, a
/// byte at the start of a protocol 3 binary packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`, open: "Used during the handshake." The server's first packet, with the session's
    /// parameters as JSON.
    Open = 0,
    /// `1`, close: "Used to indicate that a transport can be closed."
    Close = 1,
    /// `2`, ping: "Used in the heartbeat mechanism." Sent by the server in protocol 4, by the
    /// client in protocol 3; `2probe` starts a WebSocket upgrade.
    Ping = 2,
    /// `3`, pong: "Used in the heartbeat mechanism." The answer to a ping; `3probe` answers
    /// the probe.
    Pong = 3,
    /// `4`, message: "Used to send a payload to the other side."
    Message = 4,
    /// `5`, upgrade: "Used during the upgrade process." Completes a WebSocket upgrade.
    Upgrade = 5,
    /// `6`, noop: "Used during the upgrade process." Releases a pending polling request.
    Noop = 6,
}

impl PacketType {
    /// Every packet type, in wire order.
    pub const ALL: [PacketType; 7] = [
        PacketType::Open,
        PacketType::Close,
        PacketType::Ping,
        PacketType::Pong,
        PacketType::Message,
        PacketType::Upgrade,
        PacketType::Noop,
    ];

    /// The type whose wire value is `byte` (`0` to `6`).
    pub fn from_byte(byte: u8) -> Option<PacketType> {
        PacketType::ALL.get(usize::from(byte)).copied()
    }

    /// The type whose digit is `digit` (the ASCII digits `'0'` to `'6'` only).
    pub fn from_digit(digit: char) -> Option<PacketType> {
        if !digit.is_ascii_digit() {
            return None;
        }
        u8::try_from(digit)
            .ok()
            .and_then(|byte| PacketType::from_byte(byte - b'0'))
    }

    /// The type of a text packet: its first character's (`None` for binary, empty text, or a
    /// first character that is not a type).
    pub fn of(packet: &Data) -> Option<PacketType> {
        match packet {
            Data::Text(text) => text.chars().next().and_then(PacketType::from_digit),
            Data::Binary(_) => None,
        }
    }

    /// The wire value, `0` to `6`.
    pub fn byte(self) -> u8 {
        self as u8
    }

    /// The digit of a text packet, `'0'` to `'6'`.
    pub fn digit(self) -> char {
        char::from(b'0' + self.byte())
    }

    /// The type's name in the spec: `open`, `close`, `ping`, `pong`, `message`, `upgrade`,
    /// `noop`.
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

    /// The packet of this type without data, such as `6`.
    pub fn bare(self) -> &'static str {
        match self {
            PacketType::Open => "0",
            PacketType::Close => "1",
            PacketType::Ping => "2",
            PacketType::Pong => "3",
            PacketType::Message => "4",
            PacketType::Upgrade => "5",
            PacketType::Noop => "6",
        }
    }

    /// Whether `packet` is exactly this type without data (`3` is a bare pong; `3probe` is
    /// not).
    pub fn is_bare(self, packet: &Data) -> bool {
        matches!(packet, Data::Text(text) if text == self.bare())
    }

    /// The text packet of this type with `data`: `PacketType::Message.text("hello")` is
    /// `4hello`.
    pub fn text(self, data: &str) -> Data {
        let mut text = String::with_capacity(data.len() + 1);
        text.push(self.digit());
        text.push_str(data);
        Data::Text(text)
    }
}

/// The data of the upgrade's probe: the client sends `2probe`, the server answers `3probe`.
pub const PROBE: &str = "probe";

/// The ping that starts a WebSocket upgrade: ping `2` with the data `probe`.
pub const PING_PROBE: &str = "2probe";

/// The server's answer to [`PING_PROBE`]: pong `3` with the data `probe`.
pub const PONG_PROBE: &str = "3probe";

/// The content type of a polling request whose body is text: what the official client sends.
pub const TEXT_CONTENT_TYPE: &str = "text/plain;charset=UTF-8";

/// Why a packet does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// An empty packet: "An Engine.IO packet consists of: a packet type, an optional packet
    /// payload", and this one has no type.
    #[error("an empty packet: no packet type")]
    Empty,
    /// The first character of a text packet is not a type digit `0` to `6`.
    #[error("{0:?} is not a packet type (0 to 6)")]
    UnknownType(char),
    /// The first byte of a protocol 3 binary packet is not a type `0` to `6`.
    #[error("the type byte {0} is not a packet type (0 to 6)")]
    UnknownTypeByte(u8),
    /// A protocol 3 base64 packet `b` ends before its type.
    #[error("a base64 packet `b` without its packet type")]
    MissingBinaryType,
    /// The data of a base64 packet is not canonical base64 (the standard alphabet, with
    /// padding).
    #[error("the base64 data {data:?} is not valid: {error}")]
    InvalidBase64 {
        /// The data after the prefix.
        data: String,
        /// What the base64 decoder says.
        error: base64::DecodeError,
    },
}

/// Why a polling payload does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// A payload without any packet.
    #[error("an empty payload: no packet")]
    Empty,
    /// One packet of the payload does not decode.
    #[error("packet {}: {error}", index + 1)]
    Packet {
        /// Its 0-based position.
        index: usize,
        /// Why.
        error: PacketError,
    },
    /// Protocol 3 text payload: a length without the `:` after it.
    #[error("no `:` after the length in {rest:?}")]
    MissingColon {
        /// The rest of the payload, from where the length should begin.
        rest: String,
    },
    /// Protocol 3 text payload: a length that is not a decimal number (digits only).
    #[error("the length {digits:?} is not a number")]
    InvalidLength {
        /// What stands before the `:`.
        digits: String,
    },
    /// Protocol 3 text payload: the length announces more UTF-16 code units than remain.
    #[error(
        "the length {length} announces more than the {remaining} UTF-16 code units that remain"
    )]
    Truncated {
        /// The length, as written.
        length: String,
        /// The UTF-16 code units after the `:`.
        remaining: usize,
    },
    /// Protocol 3 text payload: the length ends between the two halves of a surrogate pair
    /// (a character beyond the Basic Multilingual Plane counts 2).
    #[error("the length {length} ends inside a character")]
    SplitsCharacter {
        /// The length.
        length: usize,
    },
    /// Protocol 3 binary payload: a record starts with another byte than `0` (string) or `1`
    /// (binary).
    #[error("the record at byte {offset} starts with {byte}, not 0 (string) or 1 (binary)")]
    RecordKind {
        /// Where the record starts.
        offset: usize,
        /// Its first byte.
        byte: u8,
    },
    /// Protocol 3 binary payload: no byte 255 ends the length.
    #[error("the length of the record at byte {offset} has no 255 after it")]
    NoSeparator {
        /// Where the record starts.
        offset: usize,
    },
    /// Protocol 3 binary payload: the byte 255 comes right after the record's type.
    #[error("the record at byte {offset} has no length")]
    NoLength {
        /// Where the record starts.
        offset: usize,
    },
    /// Protocol 3 binary payload: a length byte that is not a digit 0 to 9.
    #[error("the length of the record at byte {offset} has the byte {byte}, not a digit 0 to 9")]
    LengthDigit {
        /// Where the record starts.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// Protocol 3 binary payload: a record of length 0, without even a packet type.
    #[error("the record at byte {offset} is empty: a packet has at least its type")]
    EmptyRecord {
        /// Where the record starts.
        offset: usize,
    },
    /// Protocol 3 binary payload: the length announces more bytes than remain.
    #[error("the record at byte {offset} announces {length} bytes and {remaining} remain")]
    RecordTruncated {
        /// Where the record starts.
        offset: usize,
        /// The length, as decimal digits.
        length: String,
        /// The bytes after the 255.
        remaining: usize,
    },
    /// Protocol 3 binary payload: a string record that is not UTF-8.
    #[error("the string record at byte {offset} is not UTF-8")]
    NotUtf8 {
        /// Where the record starts.
        offset: usize,
    },
}

/// Decodes the text packets both revisions share (type digit, then data); binary forms are
/// each revision's.
fn decode_text_packet(text: &str) -> Result<Data, PacketError> {
    match text.chars().next() {
        None => Err(PacketError::Empty),
        Some(first) if PacketType::from_digit(first).is_some() => Ok(Data::Text(text.to_owned())),
        Some(other) => Err(PacketError::UnknownType(other)),
    }
}

/// Decodes canonical standard base64, as both revisions write binary in text.
fn decode_base64(data: &str) -> Result<Vec<u8>, PacketError> {
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|error| PacketError::InvalidBase64 {
            data: data.to_owned(),
            error,
        })
}

fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_types_have_the_spec_digits_bytes_and_names() {
        let names: Vec<_> = PacketType::ALL.iter().map(|kind| kind.name()).collect();
        assert_eq!(
            names,
            ["open", "close", "ping", "pong", "message", "upgrade", "noop"]
        );
        for (value, kind) in PacketType::ALL.into_iter().enumerate() {
            let byte = u8::try_from(value).expect("seven types");
            assert_eq!(kind.byte(), byte);
            assert_eq!(PacketType::from_byte(byte), Some(kind));
            assert_eq!(PacketType::from_digit(kind.digit()), Some(kind));
            assert_eq!(kind.bare(), kind.digit().to_string());
            assert!(kind.is_bare(&Data::Text(kind.bare().to_owned())));
        }
        assert_eq!(PacketType::from_byte(7), None);
        for not_a_type in ['7', '9', 'a', '-', ' ', '４', '€'] {
            assert_eq!(PacketType::from_digit(not_a_type), None, "{not_a_type:?}");
        }
    }

    #[test]
    fn bare_packets_have_no_data_and_text_packets_start_with_their_digit() {
        let pong = Data::Text(PONG_PROBE.to_owned());
        assert!(!PacketType::Pong.is_bare(&pong));
        assert!(!PacketType::Noop.is_bare(&Data::Binary(vec![b'6'])));
        assert_eq!(PacketType::of(&pong), Some(PacketType::Pong));
        assert_eq!(PacketType::of(&Data::Text("9".to_owned())), None);
        assert_eq!(PacketType::of(&Data::Binary(vec![4])), None);
        assert_eq!(
            PacketType::Ping.text(PROBE),
            Data::Text(PING_PROBE.to_owned())
        );
        assert_eq!(
            PacketType::Pong.text(PROBE),
            Data::Text(PONG_PROBE.to_owned())
        );
        assert_eq!(
            PacketType::Message.text("hello"),
            Data::Text("4hello".to_owned())
        );
    }
}
