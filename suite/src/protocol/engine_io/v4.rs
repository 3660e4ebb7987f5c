//! Engine.IO protocol 4 (revision 4 of the spec; socket.io 3 and later).
//!
//! Only messages carry binary. Over WebSocket a binary message is a binary frame of its bytes;
//! in text (a polling payload, or a WebSocket text frame) it is `b` followed by the bytes in
//! base64: "Binary payloads MUST be base64-encoded and prefixed with a `b` character". A
//! polling payload is the packets joined by the record separator `\x1e`.
//!
//! In this module a binary [`Data`] is a binary message's bytes.

use super::{decode_base64, decode_text_packet, encode_base64, PacketError, PayloadError};
use crate::scenario::Data;

/// What separates the packets of a polling payload.
pub const RECORD_SEPARATOR: char = '\u{1e}';

/// Decodes the text form of a packet (a packet of a polling payload, or a WebSocket text
/// frame): `b<base64>` is a binary message, anything else must start with a type digit.
pub fn decode_packet(text: &str) -> Result<Data, PacketError> {
    match text.strip_prefix('b') {
        Some(encoded) => decode_base64(encoded).map(Data::Binary),
        None => decode_text_packet(text),
    }
}

/// The text form of a packet: text as it is, a binary message as `b<base64>`.
pub fn encode_packet(packet: &Data) -> String {
    match packet {
        Data::Text(text) => text.clone(),
        Data::Binary(bytes) => format!("b{}", encode_base64(bytes)),
    }
}

/// The packets of a polling payload as written, split at the record separator and not
/// decoded: for a reader that deals with each packet itself.
pub fn split_payload(payload: &str) -> std::str::Split<'_, char> {
    payload.split(RECORD_SEPARATOR)
}

/// Decodes a polling payload: at least one packet, each of which decodes.
pub fn decode_payload(payload: &str) -> Result<Vec<Data>, PayloadError> {
    if payload.is_empty() {
        return Err(PayloadError::Empty);
    }
    split_payload(payload)
        .enumerate()
        .map(|(index, packet)| {
            decode_packet(packet).map_err(|error| PayloadError::Packet { index, error })
        })
        .collect()
}

/// A polling payload: the packets' text forms joined by the record separator.
pub fn encode_payload(packets: &[Data]) -> String {
    let encoded: Vec<String> = packets.iter().map(encode_packet).collect();
    encoded.join("\u{1e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(text: &str) -> Data {
        Data::Text(text.to_owned())
    }

    #[test]
    fn packets_decode_text_by_type_and_binary_from_base64() {
        assert_eq!(decode_packet("4hello"), Ok(text("4hello")));
        assert_eq!(decode_packet("6"), Ok(text("6")));
        assert_eq!(
            decode_packet("bAQIDBA=="),
            Ok(Data::Binary(vec![1, 2, 3, 4]))
        );
        assert_eq!(decode_packet("b"), Ok(Data::Binary(vec![])));
        assert_eq!(encode_packet(&Data::Binary(vec![1, 2, 3, 4])), "bAQIDBA==");
        assert_eq!(encode_packet(&text("2probe")), "2probe");
    }

    #[test]
    fn malformed_packets_are_refused_with_their_reason() {
        assert_eq!(decode_packet(""), Err(PacketError::Empty));
        for (packet, first) in [("7", '7'), ("9hello", '9'), (" 4", ' '), ("BAQID", 'B')] {
            assert_eq!(
                decode_packet(packet),
                Err(PacketError::UnknownType(first)),
                "{packet:?}"
            );
        }
        // Not canonical base64: a bad character, a bad length, partial or extra padding, the
        // URL-safe alphabet.
        for packet in [
            "b!!!!", "bA", "bAQIDB", "bAQIDBA=", "bAQ===", "b-_8=", "bAQ ID",
        ] {
            assert!(
                matches!(
                    decode_packet(packet),
                    Err(PacketError::InvalidBase64 { .. })
                ),
                "{packet:?}"
            );
        }
    }

    #[test]
    fn payloads_join_and_split_at_the_record_separator() {
        let packets = [text("4a"), Data::Binary(vec![1, 2, 3]), text("6")];
        let payload = encode_payload(&packets);
        assert_eq!(payload, "4a\u{1e}bAQID\u{1e}6");
        assert_eq!(decode_payload(&payload), Ok(packets.to_vec()));
        assert_eq!(encode_payload(&[]), "");
        assert_eq!(
            split_payload("4a\u{1e}\u{1e}x").collect::<Vec<_>>(),
            ["4a", "", "x"]
        );
    }

    #[test]
    fn malformed_payloads_name_the_packet_at_fault() {
        assert_eq!(decode_payload(""), Err(PayloadError::Empty));
        let packet = |index, error| Err(PayloadError::Packet { index, error });
        assert_eq!(decode_payload("4a\u{1e}"), packet(1, PacketError::Empty));
        assert_eq!(decode_payload("\u{1e}4a"), packet(0, PacketError::Empty));
        assert_eq!(
            decode_payload("4a\u{1e}9zz\u{1e}4b"),
            packet(1, PacketError::UnknownType('9'))
        );
        // A message that holds a record separator is two packets, the second untyped.
        assert_eq!(
            decode_payload("4x\u{1e}y"),
            packet(1, PacketError::UnknownType('y'))
        );
        let error = decode_payload("4a\u{1e}b!!!!").expect_err("bad base64");
        assert!(
            error.to_string().starts_with("packet 2: the base64 data"),
            "{error}"
        );
    }
}
