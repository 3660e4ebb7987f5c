//! Polling payloads: the bodies of HTTP long-polling requests and responses, which carry several
//! packets at once.
//!
//! - v4 ([`encode_v4`], [`decode_v4`]): packets in their text form, joined by the record
//!   separator `\x1e`; binary data always as `b<base64>`.
//! - v3 text ([`encode_v3_text`], [`decode_v3_text`]): `<length>:<packet>` repeated, where the
//!   length counts UTF-16 code units, the way JavaScript counts string length.
//! - v3 binary ([`encode_v3_binary`], [`decode_v3_binary`]): for each packet a `00` (text) or
//!   `01` (binary) byte, the length as one byte per decimal digit, `ff`, then the packet; here the
//!   length counts bytes.
//!
//! Decoders yield packets one by one and stop at the first error, so that a server can deliver
//! the packets that came before a malformed one, as the official server does.

use bytes::Bytes;

use super::{Data, Packet, ProtocolVersion};
use crate::EngineIoError;

/// The record separator that ends each packet of a v4 payload but the last.
pub const SEPARATOR: char = '\x1e';

/// The header byte of a text packet in a v3 binary payload.
const V3_TEXT_MARKER: u8 = 0x00;
/// The header byte of a binary packet in a v3 binary payload.
const V3_BINARY_MARKER: u8 = 0x01;
/// The byte that ends the length digits in a v3 binary payload.
const V3_LENGTH_END: u8 = 0xff;
/// How much of a malformed length prefix an error shows.
const V3_SHOWN_PREFIX: usize = 16;

/// Encodes a v4 payload: each packet's text form, joined by `\x1e`.
pub fn encode_v4(packets: &[Packet]) -> String {
    let mut body = String::new();
    for (index, packet) in packets.iter().enumerate() {
        if index > 0 {
            body.push(SEPARATOR);
        }
        body.push_str(&packet.encode_text(ProtocolVersion::V4));
    }
    body
}

/// Decodes a v4 payload, packet by packet, stopping after the first error.
pub fn decode_v4(body: &str) -> impl Iterator<Item = Result<Packet, EngineIoError>> + '_ {
    let packets: Box<dyn Iterator<Item = Result<Packet, EngineIoError>>> = if body.is_empty() {
        Box::new(std::iter::once(Err(EngineIoError::EmptyPayload)))
    } else {
        Box::new(
            body.split(SEPARATOR)
                .map(|text| Packet::decode_text(text, ProtocolVersion::V4)),
        )
    };
    stop_after_error(packets)
}

/// Encodes a v3 text payload: `<length>:<packet>` for each packet, binary data in base64
/// (`b<type><base64>`), the length in UTF-16 code units. No packet at all is written `0:`, as the
/// official encoder writes it.
pub fn encode_v3_text(packets: &[Packet]) -> String {
    if packets.is_empty() {
        return "0:".to_owned();
    }
    let mut body = String::new();
    for packet in packets {
        let text = packet.encode_text(ProtocolVersion::V3);
        body.push_str(&utf16_len(&text).to_string());
        body.push(':');
        body.push_str(&text);
    }
    body
}

/// Decodes a v3 text payload, packet by packet, stopping after the first error. A packet of
/// length 0 (as in `0:`) is no packet.
pub fn decode_v3_text(body: &str) -> impl Iterator<Item = Result<Packet, EngineIoError>> + '_ {
    let mut rest = body;
    let mut first = true;
    let packets = std::iter::from_fn(move || loop {
        if rest.is_empty() {
            let empty = std::mem::replace(&mut first, false);
            return empty.then_some(Err(EngineIoError::EmptyPayload));
        }
        first = false;
        let (length, after_length) = match split_v3_length(rest) {
            Ok(split) => split,
            Err(error) => return Some(Err(error)),
        };
        let Some(split_at) = utf16_boundary(after_length, length) else {
            return Some(Err(EngineIoError::LengthMismatch {
                expected: length,
                available: utf16_len(after_length),
            }));
        };
        let (text, remaining) = after_length.split_at(split_at);
        rest = remaining;
        if !text.is_empty() {
            return Some(Packet::decode_text(text, ProtocolVersion::V3));
        }
    });
    stop_after_error(packets)
}

/// Encodes a v3 binary payload (the form a v3 server sends to a client that supports binary
/// when at least one packet is binary).
pub fn encode_v3_binary(packets: &[Packet]) -> Vec<u8> {
    let mut body = Vec::new();
    for packet in packets {
        let (marker, content): (u8, Vec<u8>) = match &packet.data {
            Data::Text(_) => (
                V3_TEXT_MARKER,
                packet.encode_text(ProtocolVersion::V3).into_bytes(),
            ),
            Data::Binary(bytes) => {
                let mut content = Vec::with_capacity(bytes.len() + 1);
                content.push(packet.packet_type as u8);
                content.extend_from_slice(bytes);
                (V3_BINARY_MARKER, content)
            }
        };
        body.push(marker);
        body.extend(content.len().to_string().bytes().map(|digit| digit - b'0'));
        body.push(V3_LENGTH_END);
        body.extend_from_slice(&content);
    }
    body
}

/// Decodes a v3 binary payload, packet by packet, stopping after the first error.
pub fn decode_v3_binary(body: Bytes) -> impl Iterator<Item = Result<Packet, EngineIoError>> {
    let mut rest = body;
    let mut first = true;
    let packets = std::iter::from_fn(move || {
        if rest.is_empty() {
            let empty = std::mem::replace(&mut first, false);
            return empty.then_some(Err(EngineIoError::EmptyPayload));
        }
        first = false;
        Some(next_v3_binary_packet(&mut rest))
    });
    stop_after_error(packets)
}

fn next_v3_binary_packet(rest: &mut Bytes) -> Result<Packet, EngineIoError> {
    let marker = rest[0];
    // The digits start after the marker; searching from there keeps a leading `ff` an error.
    let digits_end = rest
        .iter()
        .skip(1)
        .position(|&byte| byte == V3_LENGTH_END)
        .map(|position| position + 1)
        .ok_or_else(|| invalid_binary_header(rest))?;
    let digits = &rest[1..digits_end];
    let valid_marker = marker == V3_TEXT_MARKER || marker == V3_BINARY_MARKER;
    let valid_digits = !digits.is_empty() && digits.iter().all(|&digit| digit <= 9);
    if !valid_marker || !valid_digits {
        return Err(invalid_binary_header(rest));
    }
    // A length too large for usize is still a length: longer than any body, so a mismatch.
    let length = digits.iter().fold(0usize, |length, &digit| {
        length.saturating_mul(10).saturating_add(usize::from(digit))
    });
    let content_start = digits_end + 1;
    let available = rest.len() - content_start;
    if available < length {
        return Err(EngineIoError::LengthMismatch {
            expected: length,
            available,
        });
    }
    let content = rest.slice(content_start..content_start + length);
    *rest = rest.slice(content_start + length..);
    if marker == V3_TEXT_MARKER {
        let text = std::str::from_utf8(&content).map_err(|_| EngineIoError::InvalidUtf8)?;
        Packet::decode_text(text, ProtocolVersion::V3)
    } else {
        Packet::decode_binary(content, ProtocolVersion::V3)
    }
}

fn invalid_binary_header(rest: &[u8]) -> EngineIoError {
    let shown = rest.iter().take(V3_SHOWN_PREFIX + 2);
    EngineIoError::InvalidLength {
        found: shown.map(|byte| format!("{byte:02x}")).collect(),
    }
}

/// Splits `<digits>:<rest>` into the length and the rest.
fn split_v3_length(text: &str) -> Result<(usize, &str), EngineIoError> {
    let invalid = || EngineIoError::InvalidLength {
        found: text.chars().take(V3_SHOWN_PREFIX + 1).collect(),
    };
    let (digits, rest) = text.split_once(':').ok_or_else(invalid)?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid());
    }
    // All digits: only an overflow can fail, and a length too large for usize is longer than
    // any body, so a mismatch.
    let length = digits.parse().unwrap_or(usize::MAX);
    Ok((length, rest))
}

/// The number of UTF-16 code units of a string: its length in JavaScript.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The byte index at which `units` UTF-16 code units of `text` end, if that is a character
/// boundary within the text.
fn utf16_boundary(text: &str, units: usize) -> Option<usize> {
    let mut counted = 0;
    for (index, character) in text.char_indices() {
        if counted == units {
            return Some(index);
        }
        if counted > units {
            return None;
        }
        counted += character.len_utf16();
    }
    (counted == units).then_some(text.len())
}

/// Ends an iterator of results after its first error.
fn stop_after_error<T, E>(
    items: impl Iterator<Item = Result<T, E>>,
) -> impl Iterator<Item = Result<T, E>> {
    let mut failed = false;
    items.take_while(move |item| {
        let go_on = !failed;
        failed = item.is_err();
        go_on
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine_io::PacketType;

    #[test]
    fn utf16_boundary_refuses_to_split_a_surrogate_pair() {
        assert_eq!(utf16_boundary("😀x", 1), None);
        assert_eq!(utf16_boundary("😀x", 2), Some(4));
        assert_eq!(utf16_boundary("😀x", 3), Some(5));
        assert_eq!(utf16_boundary("😀x", 4), None);
    }

    #[test]
    fn decoders_stop_after_the_first_error() {
        let decoded: Vec<_> = decode_v4("4a\x1e9\x1e4b").collect();
        assert_eq!(decoded.len(), 2);
        assert!(decoded[1].is_err());
    }

    #[test]
    fn v3_binary_payload_starting_with_the_length_end_is_refused() {
        let decoded: Vec<_> = decode_v3_binary(Bytes::from_static(&[0xff])).collect();
        assert!(matches!(
            decoded[..],
            [Err(EngineIoError::InvalidLength { .. })]
        ));
    }

    #[test]
    fn v3_binary_length_digits_are_bytes() {
        let body = encode_v3_binary(&[Packet::text(PacketType::Message, "x".repeat(11))]);
        assert_eq!(&body[..4], &[0x00, 0x01, 0x02, 0xff]);
    }
}
