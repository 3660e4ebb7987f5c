//! The stateful Socket.IO decoder: text packets, and the binary attachments that follow
//! BINARY_EVENT and BINARY_ACK packets.

use bytes::Bytes;

use super::packet::{Packet, PacketType, ProtocolVersion};
use super::Value;
use crate::SocketIoError;

/// The number of attachments a decoder accepts by default, as the official parser (10).
pub const DEFAULT_MAX_ATTACHMENTS: usize = 10;

/// The largest acknowledgement id: 2^53 - 1, the largest integer a JavaScript peer represents
/// exactly.
const MAX_ACK_ID: u64 = (1 << 53) - 1;

/// Event names that "must not be used as event names, as they have a special meaning" (v5).
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Decodes a stream of Socket.IO packets, one Engine.IO message at a time.
///
/// Feed it every text message with [`Decoder::decode_text`] and every binary message with
/// [`Decoder::decode_binary`]. A BINARY_EVENT or BINARY_ACK is returned once its last attachment
/// has arrived. After an error the decoder is reset; the protocol says the connection must then
/// be closed.
#[derive(Debug, Clone)]
pub struct Decoder {
    version: ProtocolVersion,
    max_attachments: usize,
    pending: Option<PendingBinary>,
}

/// A binary packet waiting for its attachments.
#[derive(Debug, Clone)]
struct PendingBinary {
    packet_type: PacketType,
    namespace: String,
    id: Option<u64>,
    data: Option<serde_json::Value>,
    expected: usize,
    attachments: Vec<Bytes>,
}

/// The text part of a packet, decoded.
struct Header {
    packet_type: PacketType,
    attachments: usize,
    namespace: String,
    id: Option<u64>,
    data: Option<serde_json::Value>,
}

impl Decoder {
    /// A decoder for a protocol version, accepting up to [`DEFAULT_MAX_ATTACHMENTS`].
    pub fn new(version: ProtocolVersion) -> Decoder {
        Decoder::with_max_attachments(version, DEFAULT_MAX_ATTACHMENTS)
    }

    /// A decoder accepting up to `max_attachments` attachments per packet.
    pub fn with_max_attachments(version: ProtocolVersion, max_attachments: usize) -> Decoder {
        Decoder {
            version,
            max_attachments,
            pending: None,
        }
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_reconstructing(&self) -> bool {
        self.pending.is_some()
    }

    /// Decodes a text message: a complete packet, or `None` when it is a binary packet whose
    /// attachments are still to come.
    pub fn decode_text(&mut self, text: &str) -> Result<Option<Packet>, SocketIoError> {
        if let Some(pending) = self.pending.take() {
            let missing = pending.expected - pending.attachments.len();
            return Err(SocketIoError::UnexpectedText { missing });
        }
        let header = self.parse_header(text)?;
        if header.packet_type.is_binary() {
            self.pending = Some(PendingBinary {
                packet_type: header.packet_type,
                namespace: header.namespace,
                id: header.id,
                data: header.data,
                expected: header.attachments,
                attachments: Vec::with_capacity(header.attachments),
            });
            return Ok(None);
        }
        Ok(Some(Packet {
            packet_type: header.packet_type,
            namespace: header.namespace,
            id: header.id,
            data: header.data.map(Value::from),
        }))
    }

    /// Decodes a binary message: an attachment of the pending binary packet, which is returned
    /// when this was its last attachment.
    pub fn decode_binary(&mut self, attachment: Bytes) -> Result<Option<Packet>, SocketIoError> {
        let mut pending = self.pending.take().ok_or(SocketIoError::UnexpectedBinary)?;
        pending.attachments.push(attachment);
        if pending.attachments.len() < pending.expected {
            self.pending = Some(pending);
            return Ok(None);
        }
        let data = match pending.data {
            Some(json) => Some(reconstruct(json, &pending.attachments)?),
            None => None,
        };
        Ok(Some(Packet {
            packet_type: pending.packet_type,
            namespace: pending.namespace,
            id: pending.id,
            data,
        }))
    }

    fn parse_header(&self, text: &str) -> Result<Header, SocketIoError> {
        let mut chars = text.chars();
        let first = chars.next().ok_or(SocketIoError::EmptyPacket)?;
        let packet_type = PacketType::from_digit(first)
            .ok_or(SocketIoError::UnknownPacketType { found: first })?;
        let mut rest = chars.as_str();
        let mut attachments = 0;
        if packet_type.is_binary() {
            (attachments, rest) = self.split_attachment_count(rest)?;
        }
        let mut namespace = "/";
        if rest.starts_with('/') {
            (namespace, rest) = rest.split_once(',').unwrap_or((rest, ""));
        }
        let (id, rest) = split_ack_id(rest)?;
        let data =
            match rest {
                "" => None,
                json => Some(serde_json::from_str(json).map_err(|error| {
                    SocketIoError::InvalidJson {
                        reason: error.to_string(),
                    }
                })?),
            };
        self.validate_payload(packet_type, data.as_ref())?;
        Ok(Header {
            packet_type,
            attachments,
            namespace: namespace.to_owned(),
            id,
            data,
        })
    }

    /// Splits `<n>-<rest>`.
    fn split_attachment_count<'a>(&self, text: &'a str) -> Result<(usize, &'a str), SocketIoError> {
        let invalid = |found: &str| SocketIoError::InvalidAttachmentCount {
            found: found.chars().take(24).collect(),
        };
        let (digits, rest) = text.split_once('-').ok_or_else(|| invalid(text))?;
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid(digits));
        }
        // All digits: only an overflow can fail, and that is too many in any case.
        let count = digits.parse().unwrap_or(usize::MAX);
        if count == 0 {
            return Err(invalid(digits));
        }
        if count > self.max_attachments {
            return Err(SocketIoError::TooManyAttachments {
                count,
                max: self.max_attachments,
            });
        }
        Ok((count, rest))
    }

    fn validate_payload(
        &self,
        packet_type: PacketType,
        data: Option<&serde_json::Value>,
    ) -> Result<(), SocketIoError> {
        use serde_json::Value as Json;
        let invalid = |expected| SocketIoError::InvalidPayload {
            packet_type: packet_type.name(),
            expected,
        };
        match (packet_type, data) {
            (PacketType::Connect, None | Some(Json::Object(_))) => Ok(()),
            (PacketType::Connect, Some(_)) => Err(invalid("a JSON object or nothing")),
            (PacketType::Disconnect, None) => Ok(()),
            (PacketType::Disconnect, Some(_)) => Err(invalid("no payload")),
            (PacketType::ConnectError, None | Some(Json::Object(_) | Json::String(_))) => Ok(()),
            (PacketType::ConnectError, Some(_)) => Err(invalid("a JSON object or a string")),
            (PacketType::Event | PacketType::BinaryEvent, Some(Json::Array(items))) => {
                self.validate_event_name(items.first(), packet_type)
            }
            (PacketType::Ack | PacketType::BinaryAck, Some(Json::Array(_))) => Ok(()),
            (PacketType::Event | PacketType::BinaryEvent, Some(_)) => {
                Err(invalid("a non-empty array"))
            }
            (PacketType::Ack | PacketType::BinaryAck, Some(_)) => Err(invalid("an array")),
            // v4: an ACK "may contain a payload"; v5 made it mandatory.
            (PacketType::Ack, None) if self.version == ProtocolVersion::V4 => Ok(()),
            (_, None) => Err(SocketIoError::MissingPayload {
                packet_type: packet_type.name(),
            }),
        }
    }

    fn validate_event_name(
        &self,
        name: Option<&serde_json::Value>,
        packet_type: PacketType,
    ) -> Result<(), SocketIoError> {
        let invalid = SocketIoError::InvalidPayload {
            packet_type: packet_type.name(),
            expected:
                "a non-empty array whose first element, the event name, is a string or a number",
        };
        match name {
            Some(serde_json::Value::Number(_)) => Ok(()),
            Some(serde_json::Value::String(name))
                if self.version == ProtocolVersion::V5
                    && RESERVED_EVENTS.contains(&name.as_str()) =>
            {
                Err(SocketIoError::ReservedEventName { name: name.clone() })
            }
            Some(serde_json::Value::String(_)) => Ok(()),
            _ => Err(invalid),
        }
    }
}

/// Splits the leading acknowledgement id, if any.
fn split_ack_id(text: &str) -> Result<(Option<u64>, &str), SocketIoError> {
    let end = text
        .find(|character: char| !character.is_ascii_digit())
        .unwrap_or(text.len());
    if end == 0 {
        return Ok((None, text));
    }
    let (digits, rest) = text.split_at(end);
    let out_of_range = || SocketIoError::AckIdOutOfRange {
        found: digits.to_owned(),
    };
    let id: u64 = digits.parse().map_err(|_| out_of_range())?;
    if id > MAX_ACK_ID {
        return Err(out_of_range());
    }
    Ok((Some(id), rest))
}

/// Puts the attachments back in place of their placeholders `{"_placeholder":true,"num":<n>}`,
/// by `num` (not by position).
fn reconstruct(json: serde_json::Value, attachments: &[Bytes]) -> Result<Value, SocketIoError> {
    use serde_json::Value as Json;
    match json {
        Json::Object(entries) if entries.get("_placeholder") == Some(&Json::Bool(true)) => {
            let index = entries.get("num").and_then(placeholder_index);
            match index.and_then(|index| attachments.get(index)) {
                Some(attachment) => Ok(Value::Binary(attachment.clone())),
                None => Err(SocketIoError::InvalidPlaceholder {
                    placeholder: Json::Object(entries).to_string(),
                    attachments: attachments.len(),
                }),
            }
        }
        Json::Object(entries) => Ok(Value::Object(
            entries
                .into_iter()
                .map(|(key, value)| Ok((key, reconstruct(value, attachments)?)))
                .collect::<Result<_, _>>()?,
        )),
        Json::Array(items) => Ok(Value::Array(
            items
                .into_iter()
                .map(|item| reconstruct(item, attachments))
                .collect::<Result<_, _>>()?,
        )),
        other => Ok(Value::from(other)),
    }
}

/// A placeholder's `num` as an index: a non-negative integer (`0` and `0.0` alike).
fn placeholder_index(num: &serde_json::Value) -> Option<usize> {
    let number = num.as_number()?;
    if let Some(index) = number.as_u64() {
        return usize::try_from(index).ok();
    }
    let float = number.as_f64()?;
    let integral = float >= 0.0 && float.fract() == 0.0 && float < usize::MAX as f64;
    integral.then_some(float as usize)
}
