//! The typed model of a vector file.

use serde::{Deserialize, Deserializer};

/// Which protocol a vector file is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Protocol {
    /// The Engine.IO protocol (versions 3 and 4).
    #[serde(rename = "engine.io")]
    EngineIo,
    /// The Socket.IO protocol (versions 4 and 5).
    #[serde(rename = "socket.io")]
    SocketIo,
}

impl Protocol {
    /// The id prefix of its vectors for a version: `eio4`, `sio5`, …
    pub fn id_prefix(self, version: u8) -> String {
        match self {
            Protocol::EngineIo => format!("eio{version}"),
            Protocol::SocketIo => format!("sio{version}"),
        }
    }
}

/// One vector file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorFile {
    /// The protocol of every vector in the file.
    pub protocol: Protocol,
    /// The protocol version of every vector in the file.
    pub version: u8,
    /// What the file is about.
    #[serde(default)]
    pub description: Option<String>,
    /// The vectors.
    pub vectors: Vec<RawVector>,
}

/// A vector as written, before its kind is checked: see [`Vector`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // the fields are documented in vectors/README.md and on `Vector`
pub struct RawVector {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub spec: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub packet: Option<serde_json::Value>,
    #[serde(default)]
    pub packets: Option<Vec<EngineIoPacket>>,
    #[serde(default)]
    pub encodings: Option<serde_json::Value>,
    #[serde(default)]
    pub reject: Option<Reject>,
    #[serde(default)]
    pub official: Option<Official>,
}

/// One vector, of one of the four kinds.
#[derive(Debug, Clone)]
pub struct Vector {
    /// The stable id, such as `eio4/packet/message-text`.
    pub id: String,
    /// A one-line title.
    pub title: String,
    /// The spec section or sentence the vector illustrates.
    pub spec: Option<String>,
    /// A remark for implementers.
    pub note: Option<String>,
    /// The protocol.
    pub protocol: Protocol,
    /// The protocol version.
    pub version: u8,
    /// What the vector checks.
    pub kind: VectorKind,
}

/// What a vector checks.
#[derive(Debug, Clone)]
pub enum VectorKind {
    /// One Engine.IO packet and its encodings.
    EngineIoPacket {
        /// The logical packet.
        packet: EngineIoPacket,
        /// Its encoded forms.
        encodings: Vec<EngineIoEncoding>,
    },
    /// One polling payload: packets and their encoded bodies.
    EngineIoPayload {
        /// The logical packets, in order.
        packets: Vec<EngineIoPacket>,
        /// The encoded bodies.
        encodings: Vec<EngineIoEncoding>,
    },
    /// One Socket.IO packet and its encodings.
    SocketIoPacket {
        /// The logical packet.
        packet: SocketIoPacket,
        /// Its encoded forms.
        encodings: Vec<SocketIoEncoding>,
    },
    /// Inputs a decoder must refuse.
    Reject {
        /// The inputs and the error.
        reject: Reject,
        /// What the official parser does instead, when it deviates from the spec.
        official: Option<Official>,
    },
}

/// An Engine.IO packet type, by its name in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)] // the names are the spec's
pub enum EngineIoPacketType {
    Open,
    Close,
    Ping,
    Pong,
    Message,
    Upgrade,
    Noop,
}

/// A logical Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineIoPacket {
    /// The packet type.
    #[serde(rename = "type")]
    pub packet_type: EngineIoPacketType,
    /// Text data; `None` is the same packet as empty text.
    #[serde(default)]
    pub data: Option<String>,
    /// Binary data.
    #[serde(default)]
    pub binary: Option<Hex>,
}

/// Where an encoded form travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// HTTP long-polling: a packet of a payload.
    Polling,
    /// WebSocket: one frame.
    Websocket,
}

/// Text or bytes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    /// A string: a polling body or packet, a WebSocket text frame, a Socket.IO packet string.
    Text(String),
    /// Bytes: a WebSocket binary frame, a v3 binary payload, a Socket.IO attachment.
    Bytes(Vec<u8>),
}

/// One encoded form of an Engine.IO packet or payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineIoEncoding {
    /// Where it travels (packet vectors only; empty for payloads).
    pub transports: Vec<Transport>,
    /// The encoded form.
    pub wire: Wire,
    /// Whether encoders must produce exactly this form (else decoders must merely accept it).
    pub canonical: bool,
}

/// A Socket.IO packet type, by its name in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)] // the names are the spec's
pub enum SocketIoPacketType {
    Connect,
    Disconnect,
    Event,
    Ack,
    ConnectError,
    /// The v4 name of CONNECT_ERROR (type 4).
    Error,
    BinaryEvent,
    BinaryAck,
}

/// A logical Socket.IO packet. Binary values inside `data` are written `{"$binary": "<hex>"}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketIoPacket {
    /// The packet type.
    #[serde(rename = "type")]
    pub packet_type: SocketIoPacketType,
    /// The namespace; `None` is `/`.
    #[serde(default)]
    pub nsp: Option<String>,
    /// The acknowledgement id.
    #[serde(default)]
    pub id: Option<u64>,
    /// The payload, if any.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

/// One encoded form of a Socket.IO packet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketIoEncoding {
    /// The encoded string.
    pub text: String,
    /// The binary attachments, in order.
    #[serde(default)]
    pub attachments: Vec<Hex>,
    /// Whether encoders must produce exactly this form.
    pub canonical: bool,
}

/// Which Engine.IO decoder a reject vector feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecoderKind {
    /// The packet decoder: one WebSocket frame or polling packet per input.
    Packet,
    /// The payload decoder: one polling body per input.
    Payload,
}

/// Inputs a decoder must refuse.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    /// Which Engine.IO decoder (Socket.IO vectors feed the one packet decoder).
    #[serde(default)]
    pub decoder: Option<DecoderKind>,
    /// Fed in order to one decoder: all but the last are accepted, the last is refused.
    pub inputs: Vec<Input>,
    /// Payload decoders: the packets decoded before the error.
    #[serde(default)]
    pub delivered: Vec<EngineIoPacket>,
    /// The error class.
    pub error: String,
}

/// One input of a reject vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input(pub Wire);

/// What the official parser does where it deviates from the spec.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Official {
    /// The packet (or, for payload decoders, the packets) it decodes instead of refusing.
    pub accepts: serde_json::Value,
    /// The spec's sentence and what the official parser does.
    pub reason: String,
}

/// Bytes written as lowercase hexadecimal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hex(pub Vec<u8>);

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_hex(&text).map(Hex).map_err(serde::de::Error::custom)
    }
}

/// Parses lowercase hexadecimal, two digits per byte.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    if text.len() % 2 != 0 {
        return Err(format!("hex {text:?} has an odd number of digits"));
    }
    (0..text.len())
        .step_by(2)
        .map(|index| {
            let pair = &text[index..index + 2];
            let valid = pair
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            valid
                .then(|| u8::from_str_radix(pair, 16).ok())
                .flatten()
                .ok_or_else(|| format!("{pair:?} in {text:?} is not two lowercase hex digits"))
        })
        .collect()
}

/// Writes bytes as lowercase hexadecimal.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireForm {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    hex: Option<Hex>,
}

impl WireForm {
    fn into_wire<E: serde::de::Error>(self) -> Result<Wire, E> {
        match (self.text, self.hex) {
            (Some(text), None) => Ok(Wire::Text(text)),
            (None, Some(Hex(bytes))) => Ok(Wire::Bytes(bytes)),
            _ => Err(E::custom("expected exactly one of `text` and `hex`")),
        }
    }
}

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        WireForm::deserialize(deserializer)?.into_wire().map(Input)
    }
}

impl<'de> Deserialize<'de> for EngineIoEncoding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            transports: Vec<Transport>,
            #[serde(default)]
            text: Option<String>,
            #[serde(default)]
            hex: Option<Hex>,
            canonical: bool,
        }
        let raw = Raw::deserialize(deserializer)?;
        let wire = WireForm {
            text: raw.text,
            hex: raw.hex,
        }
        .into_wire()?;
        Ok(EngineIoEncoding {
            transports: raw.transports,
            wire,
            canonical: raw.canonical,
        })
    }
}
