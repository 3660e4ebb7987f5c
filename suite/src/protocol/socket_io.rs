//! Socket.IO: the packet types and the packet's text form, which travels as the data of an
//! Engine.IO message (`4` followed by the packet).
//!
//! The spec's format is `<packet type>[<# of binary attachments>-][<namespace>,][<acknowledgment
//! id>][JSON-stringified payload without binary]`: the attachment count only on BINARY_EVENT and
//! BINARY_ACK, the namespace only when it is not the main namespace `/` (and then followed by
//! `,`), the id and the payload only when there are some. [`decode`] reads that strictly into a
//! [`Packet`]; [`Packet::encode`] writes it from the parts.
//!
//! The decoder checks the format, not the meaning: a payload of the wrong shape for its type (a
//! CONNECT with an array), an event with a reserved name, placeholders without attachments are
//! for the reader of the packet to judge (the engine's matchers do, by a scenario's patterns).

use serde_json::Value;

use super::engine_io::PacketType as EngineIoPacketType;
use crate::scenario::Data;

/// The main namespace, which a packet never writes out.
pub const MAIN_NAMESPACE: &str = "/";

/// The type of a Socket.IO packet, with its digit on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`, CONNECT: "Used during the connection to a namespace." From the client, with the
    /// `auth` payload if any; from the server, with `{"sid": …}`.
    Connect = 0,
    /// `1`, DISCONNECT: "Used when disconnecting from a namespace."
    Disconnect = 1,
    /// `2`, EVENT: "Used to send data to the other side." The payload is an array: the event's
    /// name, then its arguments.
    Event = 2,
    /// `3`, ACK: "Used to acknowledge an event." With the id of the event it answers.
    Ack = 3,
    /// `4`, CONNECT_ERROR: "Used during the connection to a namespace." The server refuses the
    /// connection, with `{"message": …}`.
    ConnectError = 4,
    /// `5`, BINARY_EVENT: "Used to send binary data to the other side." An event whose
    /// attachments follow as binary messages.
    BinaryEvent = 5,
    /// `6`, BINARY_ACK: "Used to acknowledge an event (the response includes binary data)."
    BinaryAck = 6,
}

impl PacketType {
    /// Every packet type, in wire order.
    pub const ALL: [PacketType; 7] = [
        PacketType::Connect,
        PacketType::Disconnect,
        PacketType::Event,
        PacketType::Ack,
        PacketType::ConnectError,
        PacketType::BinaryEvent,
        PacketType::BinaryAck,
    ];

    /// The type whose digit is `digit` (the ASCII digits `'0'` to `'6'` only).
    pub fn from_digit(digit: char) -> Option<PacketType> {
        let value = digit.to_digit(10)?;
        PacketType::ALL.get(usize::try_from(value).ok()?).copied()
    }

    /// The wire value, `0` to `6`.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The digit on the wire, `'0'` to `'6'`.
    pub fn digit(self) -> char {
        char::from(b'0' + self.number())
    }

    /// The type's name in the spec: `CONNECT`, `DISCONNECT`, `EVENT`, `ACK`,
    /// `CONNECT_ERROR`, `BINARY_EVENT`, `BINARY_ACK`.
    pub fn name(self) -> &'static str {
        match self {
            PacketType::Connect => "CONNECT",
            PacketType::Disconnect => "DISCONNECT",
            PacketType::Event => "EVENT",
            PacketType::Ack => "ACK",
            PacketType::ConnectError => "CONNECT_ERROR",
            PacketType::BinaryEvent => "BINARY_EVENT",
            PacketType::BinaryAck => "BINARY_ACK",
        }
    }

    /// Whether the packet announces attachments (`<n>-`): BINARY_EVENT and BINARY_ACK.
    pub fn has_attachments(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

/// A Socket.IO packet, in its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The type.
    pub kind: PacketType,
    /// The number of binary attachments: on BINARY_EVENT and BINARY_ACK, and only there.
    pub attachments: Option<u64>,
    /// The namespace; [`MAIN_NAMESPACE`] when none is written.
    pub nsp: String,
    /// The acknowledgement id.
    pub id: Option<u64>,
    /// The JSON payload.
    pub data: Option<Value>,
}

impl Packet {
    /// A packet of `kind` in the main namespace, with nothing else.
    pub fn new(kind: PacketType) -> Packet {
        Packet {
            kind,
            attachments: None,
            nsp: MAIN_NAMESPACE.to_owned(),
            id: None,
            data: None,
        }
    }

    /// A CONNECT to `nsp`, with the handshake's `auth` as its payload if there is one: `40`,
    /// `40/admin,`, `40{"token":"abc"}`.
    pub fn connect(nsp: &str, auth: Option<Value>) -> Packet {
        let packet = Packet::new(PacketType::Connect).in_namespace(nsp);
        match auth {
            Some(auth) => packet.with_data(auth),
            None => packet,
        }
    }

    /// The same packet in the namespace `nsp`.
    pub fn in_namespace(mut self, nsp: &str) -> Packet {
        nsp.clone_into(&mut self.nsp);
        self
    }

    /// The same packet with the acknowledgement id `id`.
    pub fn with_id(mut self, id: u64) -> Packet {
        self.id = Some(id);
        self
    }

    /// The same packet with the payload `data`.
    pub fn with_data(mut self, data: Value) -> Packet {
        self.data = Some(data);
        self
    }

    /// The same packet announcing `count` attachments.
    pub fn with_attachments(mut self, count: u64) -> Packet {
        self.attachments = Some(count);
        self
    }

    /// The text form: `<type>[<attachments>-][<namespace>,][<id>][<JSON payload>]`, each part
    /// written when the packet has it (the namespace when it is not `/`), the payload as
    /// compact JSON.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        text.push(self.kind.digit());
        if let Some(count) = self.attachments {
            text.push_str(&count.to_string());
            text.push('-');
        }
        if self.nsp != MAIN_NAMESPACE {
            text.push_str(&self.nsp);
            text.push(',');
        }
        if let Some(id) = self.id {
            text.push_str(&id.to_string());
        }
        if let Some(data) = &self.data {
            text.push_str(&data.to_string());
        }
        text
    }

    /// The Engine.IO message that carries the packet: `4` followed by [`Packet::encode`], such
    /// as `42["hello"]`.
    pub fn to_message(&self) -> Data {
        EngineIoPacketType::Message.text(&self.encode())
    }

    /// The packet as JSON, as the scenarios' `sio` matcher sees it:
    /// `{type, attachments, nsp, id, data}`, where the parts the packet does not have are
    /// absent (`nsp` is always there).
    pub fn to_json(&self) -> Value {
        let mut object = serde_json::Map::new();
        object.insert("type".to_owned(), Value::from(self.kind.number()));
        if let Some(count) = self.attachments {
            object.insert("attachments".to_owned(), Value::from(count));
        }
        object.insert("nsp".to_owned(), Value::from(self.nsp.as_str()));
        if let Some(id) = self.id {
            object.insert("id".to_owned(), Value::from(id));
        }
        if let Some(data) = &self.data {
            object.insert("data".to_owned(), data.clone());
        }
        Value::Object(object)
    }
}

/// Why a Socket.IO packet does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The Engine.IO packet that should carry it is not a message `4…`.
    #[error("it is not an Engine.IO message packet `4…`")]
    NotMessage,
    /// The packet is empty: no type.
    #[error("no packet type")]
    NoType,
    /// The first character is not a type digit `0` to `6`.
    #[error("{0:?} is not a packet type (0 to 6)")]
    UnknownType(char),
    /// A BINARY_EVENT or BINARY_ACK without `<attachments>-`.
    #[error("a binary packet without `<attachments>-`")]
    MissingAttachments,
    /// The attachment count before `-` is not a decimal number.
    #[error("the attachment count {0:?} is not a number")]
    InvalidAttachmentCount(String),
    /// The attachment count does not fit 64 bits.
    #[error("the attachment count {0:?} is too large")]
    AttachmentCountTooLarge(String),
    /// A namespace (a part starting with `/`) without the `,` that ends it.
    #[error("the namespace is not followed by `,`")]
    UnterminatedNamespace,
    /// The main namespace is written out (`/,`), which the format never does.
    #[error("the main namespace `/` is written out")]
    MainNamespaceWritten,
    /// The acknowledgement id does not fit 64 bits.
    #[error("the id {0:?} is too large")]
    IdTooLarge(String),
    /// What follows the id is not JSON.
    #[error("the payload {payload:?} is not JSON: {error}")]
    InvalidJson {
        /// The text after the id.
        payload: String,
        /// What the JSON parser says.
        error: String,
    },
}

/// Decodes an Engine.IO message `4…` carrying a Socket.IO packet.
pub fn decode_message(text: &str) -> Result<Packet, DecodeError> {
    text.strip_prefix(EngineIoPacketType::Message.digit())
        .ok_or(DecodeError::NotMessage)
        .and_then(decode)
}

/// Decodes a Socket.IO packet's text form (the data of an Engine.IO message).
pub fn decode(text: &str) -> Result<Packet, DecodeError> {
    let mut chars = text.chars();
    let first = chars.next().ok_or(DecodeError::NoType)?;
    let kind = PacketType::from_digit(first).ok_or(DecodeError::UnknownType(first))?;
    let mut packet = Packet::new(kind);
    let mut rest = chars.as_str();
    if kind.has_attachments() {
        let (count, after) = attachment_count(rest)?;
        packet.attachments = Some(count);
        rest = after;
    }
    if rest.starts_with('/') {
        let comma = rest.find(',').ok_or(DecodeError::UnterminatedNamespace)?;
        let nsp = &rest[..comma];
        if nsp == MAIN_NAMESPACE {
            return Err(DecodeError::MainNamespaceWritten);
        }
        packet.nsp = nsp.to_owned();
        rest = &rest[comma + 1..];
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        let id = &rest[..digits];
        packet.id = Some(
            id.parse()
                .map_err(|_| DecodeError::IdTooLarge(id.to_owned()))?,
        );
        rest = &rest[digits..];
    }
    if !rest.is_empty() {
        let data = serde_json::from_str(rest).map_err(|error| DecodeError::InvalidJson {
            payload: rest.to_owned(),
            error: error.to_string(),
        })?;
        packet.data = Some(data);
    }
    Ok(packet)
}

/// The `<attachments>-` of a binary packet, and what follows it.
fn attachment_count(text: &str) -> Result<(u64, &str), DecodeError> {
    let dash = text.find('-').ok_or(DecodeError::MissingAttachments)?;
    let count = &text[..dash];
    if count.is_empty() || !count.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(DecodeError::InvalidAttachmentCount(count.to_owned()));
    }
    let value = count
        .parse()
        .map_err(|_| DecodeError::AttachmentCountTooLarge(count.to_owned()))?;
    Ok((value, &text[dash + 1..]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn packet_types_have_the_spec_digits_and_names() {
        for (value, kind) in PacketType::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(kind.number()), value);
            assert_eq!(PacketType::from_digit(kind.digit()), Some(kind));
        }
        assert_eq!(PacketType::ConnectError.name(), "CONNECT_ERROR");
        for not_a_type in ['7', 'a', '４', '٣'] {
            assert_eq!(PacketType::from_digit(not_a_type), None, "{not_a_type:?}");
        }
        let binary: Vec<_> = PacketType::ALL
            .into_iter()
            .filter(|kind| kind.has_attachments())
            .collect();
        assert_eq!(binary, [PacketType::BinaryEvent, PacketType::BinaryAck]);
    }

    #[test]
    fn packets_encode_each_part_they_have() {
        let message = |packet: Packet| match packet.to_message() {
            Data::Text(text) => text,
            Data::Binary(_) => unreachable!("a message is text"),
        };
        assert_eq!(message(Packet::connect("/", None)), "40");
        assert_eq!(message(Packet::connect("/admin", None)), "40/admin,");
        assert_eq!(
            message(Packet::connect("/admin", Some(json!({"token": "abc"})))),
            r#"40/admin,{"token":"abc"}"#
        );
        let sid = json!({"sid": "xyz"});
        assert_eq!(
            message(Packet::new(PacketType::Connect).with_data(sid)),
            r#"40{"sid":"xyz"}"#
        );
        let refusal = json!({"message": "Not authorized"});
        assert_eq!(
            message(Packet::new(PacketType::ConnectError).with_data(refusal)),
            r#"44{"message":"Not authorized"}"#
        );
        assert_eq!(
            message(Packet::new(PacketType::Event).with_data(json!(["hello", 1]))),
            r#"42["hello",1]"#
        );
        assert_eq!(
            message(
                Packet::new(PacketType::Ack)
                    .with_id(12)
                    .with_data(json!([]))
            ),
            "4312[]"
        );
        assert_eq!(message(Packet::new(PacketType::Disconnect)), "41");
        let binary = Packet::new(PacketType::BinaryAck)
            .with_attachments(2)
            .in_namespace("/a")
            .with_id(7)
            .with_data(json!([{"_placeholder": true, "num": 0}]));
        assert_eq!(binary.encode(), r#"62-/a,7[{"_placeholder":true,"num":0}]"#);
    }

    #[test]
    fn packets_decode_by_the_spec_format() {
        assert_eq!(
            decode_message(r#"452-/admin,7["a",{"_placeholder":true,"num":0}]"#)
                .map(|p| p.to_json()),
            Ok(
                json!({"type": 5, "attachments": 2, "nsp": "/admin", "id": 7,
                "data": ["a", {"_placeholder": true, "num": 0}]})
            )
        );
        assert_eq!(
            decode_message("41/custom,").map(|p| p.to_json()),
            Ok(json!({"type": 1, "nsp": "/custom"}))
        );
        assert_eq!(
            decode_message("43456[]"),
            Ok(Packet::new(PacketType::Ack)
                .with_id(456)
                .with_data(json!([])))
        );
        // What the encoder writes, the decoder reads back.
        for packet in [
            Packet::connect("/admin", Some(json!({"n": [1, 2]}))),
            Packet::new(PacketType::Event)
                .in_namespace("/x")
                .with_id(0)
                .with_data(json!("s")),
            Packet::new(PacketType::BinaryEvent)
                .with_attachments(1)
                .with_data(json!([])),
            Packet::new(PacketType::Disconnect),
        ] {
            assert_eq!(decode(&packet.encode()), Ok(packet.clone()), "{packet:?}");
        }
    }

    #[test]
    fn malformed_packets_are_refused_with_their_reason() {
        let refused = [
            ("3[]", DecodeError::NotMessage),
            ("4", DecodeError::NoType),
            ("47", DecodeError::UnknownType('7')),
            ("4a", DecodeError::UnknownType('a')),
            ("45[]", DecodeError::MissingAttachments),
            ("45-[]", DecodeError::InvalidAttachmentCount(String::new())),
            (
                "45a-[]",
                DecodeError::InvalidAttachmentCount("a".to_owned()),
            ),
            (
                "4599999999999999999999-[]",
                DecodeError::AttachmentCountTooLarge("99999999999999999999".to_owned()),
            ),
            ("40/custom", DecodeError::UnterminatedNamespace),
            ("40/,{}", DecodeError::MainNamespaceWritten),
            (
                "4399999999999999999999[]",
                DecodeError::IdTooLarge("99999999999999999999".to_owned()),
            ),
        ];
        for (text, error) in refused {
            assert_eq!(decode_message(text), Err(error), "{text:?}");
        }
        assert!(matches!(
            decode_message(r#"42["a""#),
            Err(DecodeError::InvalidJson { payload, .. }) if payload == r#"["a""#
        ));
    }
}
