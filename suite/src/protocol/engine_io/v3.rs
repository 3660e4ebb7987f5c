//! Engine.IO protocol 3 (revision 3 of the spec; socket.io 1 and 2).
//!
//! Any packet may carry binary: a binary packet is its type byte followed by its data, which
//! is what a WebSocket binary frame carries (`04 01 02 03` is a binary message of three bytes).
//! In this module a binary [`Data`] is such a packet, type byte first; [`binary_message`] and
//! [`message_data`] go between a binary message and its bytes.
//!
//! Polling bodies come in two encodings:
//!
//! - a text payload: `<length>:<packet>` for each packet, the packet in its text form (a binary
//!   packet as `b<type><base64>`). The spec counts the length "in characters"; the official
//!   parser counts UTF-16 code units (JavaScript's `String.length`), which differs for the
//!   characters beyond the Basic Multilingual Plane, which count 2. This module counts as the
//!   official parser does, so that `3:4😀` is one packet.
//! - a binary payload (`Content-Type: application/octet-stream`): for each packet a record, one
//!   byte `0` (a string packet) or `1` (a binary packet), the length as one byte per decimal
//!   digit (each 0 to 9, most significant first), the byte 255, then the packet: a string
//!   packet's UTF-8 bytes (the length counts bytes), or a binary packet, type byte first.

use super::{
    decode_base64, decode_text_packet, encode_base64, PacketError, PacketType, PayloadError,
};
use crate::scenario::Data;

/// The content type of a binary payload; any other polling body is a text payload.
pub const BINARY_CONTENT_TYPE: &str = "application/octet-stream";

/// The record byte of a string packet in a binary payload.
const STRING_RECORD: u8 = 0;
/// The record byte of a binary packet in a binary payload.
const BINARY_RECORD: u8 = 1;
/// The byte that ends a record's length in a binary payload.
const LENGTH_END: u8 = 0xFF;

/// The binary packet of a binary message: the type byte 4, then `data`.
pub fn binary_message(data: &[u8]) -> Data {
    Data::Binary(encode_binary_packet(PacketType::Message, data))
}

/// The data of a binary packet that is a message (type byte 4); `None` for any other packet.
pub fn message_data(packet: &[u8]) -> Option<&[u8]> {
    match decode_binary_packet(packet) {
        Ok((PacketType::Message, data)) => Some(data),
        _ => None,
    }
}

/// Splits a binary packet (a WebSocket binary frame, or a binary record) into its type and its
/// data.
pub fn decode_binary_packet(packet: &[u8]) -> Result<(PacketType, &[u8]), PacketError> {
    let Some((&byte, data)) = packet.split_first() else {
        return Err(PacketError::Empty);
    };
    let kind = PacketType::from_byte(byte).ok_or(PacketError::UnknownTypeByte(byte))?;
    Ok((kind, data))
}

/// A binary packet: the type byte, then `data`.
pub fn encode_binary_packet(kind: PacketType, data: &[u8]) -> Vec<u8> {
    let mut packet = Vec::with_capacity(data.len() + 1);
    packet.push(kind.byte());
    packet.extend_from_slice(data);
    packet
}

/// Decodes the text form of a packet (a packet of a text payload, or a WebSocket text frame):
/// `b<type><base64>` is a binary packet (type byte first), anything else must start with a type
/// digit.
pub fn decode_packet(text: &str) -> Result<Data, PacketError> {
    let Some(encoded) = text.strip_prefix('b') else {
        return decode_text_packet(text);
    };
    let mut chars = encoded.chars();
    let digit = chars.next().ok_or(PacketError::MissingBinaryType)?;
    let kind = PacketType::from_digit(digit).ok_or(PacketError::UnknownType(digit))?;
    let data = decode_base64(chars.as_str())?;
    Ok(Data::Binary(encode_binary_packet(kind, &data)))
}

/// The text form of a packet: text as it is, a binary packet as `b<type><base64>`. A binary
/// packet must start with a valid type byte.
pub fn encode_packet(packet: &Data) -> Result<String, PacketError> {
    match packet {
        Data::Text(text) => Ok(text.clone()),
        Data::Binary(bytes) => {
            let (kind, data) = decode_binary_packet(bytes)?;
            Ok(format!("b{}{}", kind.digit(), encode_base64(data)))
        }
    }
}

/// A string's length as the official parser counts it: in UTF-16 code units.
pub fn utf16_length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The packets of a text payload as written, split by their lengths and not decoded: for a
/// reader that deals with each packet itself. An empty payload has no packet.
pub fn split_text_payload(payload: &str) -> Result<Vec<&str>, PayloadError> {
    let mut packets = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let Some(colon) = rest.find(':') else {
            return Err(PayloadError::MissingColon {
                rest: rest.to_owned(),
            });
        };
        let digits = &rest[..colon];
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(PayloadError::InvalidLength {
                digits: digits.to_owned(),
            });
        }
        let body = &rest[colon + 1..];
        let end = match digits.parse::<usize>() {
            Ok(length) => prefix_of_units(body, length)?,
            // More than any memory holds, and so more than remains.
            Err(_) => None,
        };
        let Some(end) = end else {
            return Err(PayloadError::Truncated {
                length: digits.to_owned(),
                remaining: utf16_length(body),
            });
        };
        packets.push(&body[..end]);
        rest = &body[end..];
    }
    Ok(packets)
}

/// The byte length of the first `units` UTF-16 code units of `text`; `None` when it is
/// shorter.
fn prefix_of_units(text: &str, units: usize) -> Result<Option<usize>, PayloadError> {
    let mut counted = 0;
    for (offset, character) in text.char_indices() {
        if counted == units {
            return Ok(Some(offset));
        }
        counted += character.len_utf16();
        if counted > units {
            return Err(PayloadError::SplitsCharacter { length: units });
        }
    }
    Ok((counted == units).then_some(text.len()))
}

/// How the official parser writes a list without packets: one record of length 0.
pub const EMPTY_TEXT_PAYLOAD: &str = "0:";

/// Decodes a text payload: at least one packet, each of which decodes; or
/// [`EMPTY_TEXT_PAYLOAD`], no packet. A body without any record has no packet either, and is
/// refused.
pub fn decode_text_payload(payload: &str) -> Result<Vec<Data>, PayloadError> {
    if payload.is_empty() {
        return Err(PayloadError::Empty);
    }
    if payload == EMPTY_TEXT_PAYLOAD {
        return Ok(Vec::new());
    }
    split_text_payload(payload)?
        .into_iter()
        .enumerate()
        .map(|(index, packet)| {
            decode_packet(packet).map_err(|error| PayloadError::Packet { index, error })
        })
        .collect()
}

/// A text payload: `<length>:<packet>` for each packet in its text form, the length in UTF-16
/// code units; [`EMPTY_TEXT_PAYLOAD`] for no packet.
pub fn encode_text_payload(packets: &[Data]) -> Result<String, PacketError> {
    if packets.is_empty() {
        return Ok(EMPTY_TEXT_PAYLOAD.to_owned());
    }
    let mut payload = String::new();
    for packet in packets {
        let packet = encode_packet(packet)?;
        payload.push_str(&utf16_length(&packet).to_string());
        payload.push(':');
        payload.push_str(&packet);
    }
    Ok(payload)
}

/// The records of a binary payload, not decoded: a string record is [`Data::Text`], a binary
/// record [`Data::Binary`] (type byte first, unchecked). The framing is checked: each record's
/// byte is 0 or 1, its length has digits 0 to 9 and ends with 255, is not 0 and fits, and a
/// string record is UTF-8. An empty payload has no record.
pub fn split_binary_payload(payload: &[u8]) -> Result<Vec<Data>, PayloadError> {
    let mut records = Vec::new();
    let mut rest = payload;
    while let Some((&kind, after_kind)) = rest.split_first() {
        let offset = payload.len() - rest.len();
        if kind != STRING_RECORD && kind != BINARY_RECORD {
            return Err(PayloadError::RecordKind { offset, byte: kind });
        }
        let Some(separator) = after_kind.iter().position(|&byte| byte == LENGTH_END) else {
            return Err(PayloadError::NoSeparator { offset });
        };
        let digits = &after_kind[..separator];
        let body = &after_kind[separator + 1..];
        let length = record_length(offset, digits, body.len())?;
        let Some(packet) = body.get(..length) else {
            return Err(PayloadError::RecordTruncated {
                offset,
                length: length.to_string(),
                remaining: body.len(),
            });
        };
        records.push(if kind == STRING_RECORD {
            let text = std::str::from_utf8(packet).map_err(|_| PayloadError::NotUtf8 { offset })?;
            Data::Text(text.to_owned())
        } else {
            Data::Binary(packet.to_vec())
        });
        rest = &body[length..];
    }
    Ok(records)
}

/// A binary record's length from its digit bytes; `remaining` is what follows the 255.
fn record_length(offset: usize, digits: &[u8], remaining: usize) -> Result<usize, PayloadError> {
    if digits.is_empty() {
        return Err(PayloadError::NoLength { offset });
    }
    if let Some(&byte) = digits.iter().find(|&&digit| digit > 9) {
        return Err(PayloadError::LengthDigit { offset, byte });
    }
    let written = || {
        digits
            .iter()
            .map(|digit| char::from(b'0' + digit))
            .collect()
    };
    let length = digits.iter().try_fold(0_usize, |length, &digit| {
        length.checked_mul(10)?.checked_add(usize::from(digit))
    });
    match length {
        Some(0) => Err(PayloadError::EmptyRecord { offset }),
        Some(length) => Ok(length),
        // More than any memory holds, and so more than remains.
        None => Err(PayloadError::RecordTruncated {
            offset,
            length: written(),
            remaining,
        }),
    }
}

/// Decodes a binary payload: at least one record; a string record must be a packet's text form,
/// a binary record a binary packet with a valid type byte.
pub fn decode_binary_payload(payload: &[u8]) -> Result<Vec<Data>, PayloadError> {
    if payload.is_empty() {
        return Err(PayloadError::Empty);
    }
    split_binary_payload(payload)?
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            let decoded = match record {
                Data::Text(text) => decode_packet(&text),
                Data::Binary(bytes) => match decode_binary_packet(&bytes) {
                    Ok(_) => Ok(Data::Binary(bytes)),
                    Err(error) => Err(error),
                },
            };
            decoded.map_err(|error| PayloadError::Packet { index, error })
        })
        .collect()
}

/// A binary payload: one record for each packet, a text packet as a string record, a binary
/// packet (type byte first) as a binary record. A list without packets has no binary form: it
/// is the text payload [`EMPTY_TEXT_PAYLOAD`] in either mode.
pub fn encode_binary_payload(packets: &[Data]) -> Vec<u8> {
    let mut payload = Vec::new();
    for packet in packets {
        let (kind, bytes) = match packet {
            Data::Text(text) => (STRING_RECORD, text.as_bytes()),
            Data::Binary(bytes) => (BINARY_RECORD, bytes.as_slice()),
        };
        payload.push(kind);
        payload.extend(bytes.len().to_string().bytes().map(|digit| digit - b'0'));
        payload.push(LENGTH_END);
        payload.extend_from_slice(bytes);
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(text: &str) -> Data {
        Data::Text(text.to_owned())
    }

    #[test]
    fn binary_packets_carry_their_type_byte_first() {
        assert_eq!(binary_message(&[1, 2, 3]), Data::Binary(vec![4, 1, 2, 3]));
        assert_eq!(message_data(&[4, 1, 2, 3]), Some(&[1_u8, 2, 3][..]));
        assert_eq!(message_data(&[4]), Some(&[][..]));
        assert_eq!(message_data(&[2, 1]), None);
        assert_eq!(message_data(&[]), None);
        assert_eq!(
            decode_binary_packet(&[2, 9]),
            Ok((PacketType::Ping, &[9_u8][..]))
        );
        assert_eq!(decode_binary_packet(&[]), Err(PacketError::Empty));
        assert_eq!(
            decode_binary_packet(&[7, 1]),
            Err(PacketError::UnknownTypeByte(7))
        );
        // An ASCII digit is not a type byte.
        assert_eq!(
            decode_binary_packet(b"4hello"),
            Err(PacketError::UnknownTypeByte(b'4'))
        );
    }

    #[test]
    fn packets_decode_text_by_type_and_binary_from_typed_base64() {
        assert_eq!(decode_packet("4hello"), Ok(text("4hello")));
        assert_eq!(
            decode_packet("b4AQIDBA=="),
            Ok(Data::Binary(vec![4, 1, 2, 3, 4]))
        );
        assert_eq!(decode_packet("b4"), Ok(Data::Binary(vec![4])));
        assert_eq!(decode_packet("b2AQID"), Ok(Data::Binary(vec![2, 1, 2, 3])));
        assert_eq!(
            encode_packet(&Data::Binary(vec![4, 1, 2, 3, 4])),
            Ok("b4AQIDBA==".to_owned())
        );
        assert_eq!(
            encode_packet(&text("9 anything")),
            Ok("9 anything".to_owned())
        );
        assert_eq!(
            encode_packet(&Data::Binary(vec![])),
            Err(PacketError::Empty)
        );
    }

    #[test]
    fn malformed_packets_are_refused_with_their_reason() {
        assert_eq!(decode_packet(""), Err(PacketError::Empty));
        assert_eq!(decode_packet("7"), Err(PacketError::UnknownType('7')));
        assert_eq!(decode_packet("b"), Err(PacketError::MissingBinaryType));
        assert_eq!(decode_packet("b9AQID"), Err(PacketError::UnknownType('9')));
        assert_eq!(decode_packet("bbAQID"), Err(PacketError::UnknownType('b')));
        for packet in ["b4!!!!", "b4A", "b4AQ ID", "b4AQ==AQ==", "b4-_8="] {
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
    fn text_payloads_count_lengths_in_utf16_units() {
        let packets = [text("4hello"), text("4€"), text("4😀"), text("6")];
        let payload = encode_text_payload(&packets).expect("text packets");
        // `€` is one unit, `😀` two (a surrogate pair), whatever their UTF-8 lengths.
        assert_eq!(payload, "6:4hello2:4€3:4😀1:6");
        assert_eq!(
            split_text_payload(&payload),
            Ok(vec!["4hello", "4€", "4😀", "6"])
        );
        assert_eq!(decode_text_payload(&payload), Ok(packets.to_vec()));
        assert_eq!(
            encode_text_payload(&[binary_message(&[1, 2, 3, 4]), text("2")]),
            Ok("10:b4AQIDBA==1:2".to_owned())
        );
        assert_eq!(
            decode_text_payload("10:b4AQIDBA==1:2"),
            Ok(vec![Data::Binary(vec![4, 1, 2, 3, 4]), text("2")])
        );
        // No packet: one empty record, which the splitter leaves to its reader.
        assert_eq!(encode_text_payload(&[]), Ok("0:".to_owned()));
        assert_eq!(decode_text_payload("0:"), Ok(vec![]));
        assert_eq!(split_text_payload("0:"), Ok(vec![""]));
        assert_eq!(split_text_payload(""), Ok(vec![]));
    }

    #[test]
    fn malformed_text_payloads_are_refused_with_their_reason() {
        assert_eq!(decode_text_payload(""), Err(PayloadError::Empty));
        let missing_colon = |rest: &str| {
            Err(PayloadError::MissingColon {
                rest: rest.to_owned(),
            })
        };
        // A protocol 4 body; a length that is too short leaves the rest without a length.
        assert_eq!(split_text_payload("4hello"), missing_colon("4hello"));
        assert_eq!(split_text_payload("5:4hello"), missing_colon("o"));
        assert_eq!(split_text_payload("6:4hello6"), missing_colon("6"));
        for digits in ["", "x", "-1", "+6", " 6", "6.0", "0x6"] {
            assert_eq!(
                split_text_payload(&format!("{digits}:4hello")),
                Err(PayloadError::InvalidLength {
                    digits: digits.to_owned()
                }),
                "{digits:?}"
            );
        }
        let truncated = |length: &str, remaining| {
            Err(PayloadError::Truncated {
                length: length.to_owned(),
                remaining,
            })
        };
        assert_eq!(split_text_payload("6:4hell"), truncated("6", 5));
        assert_eq!(split_text_payload("2:"), truncated("2", 0));
        // Lengths in UTF-8 bytes, not UTF-16 units.
        assert_eq!(split_text_payload("4:4€"), truncated("4", 2));
        assert_eq!(
            split_text_payload("99999999999999999999:4a"),
            truncated("99999999999999999999", 2)
        );
        assert_eq!(
            split_text_payload("2:4😀"),
            Err(PayloadError::SplitsCharacter { length: 2 })
        );
        // The framing holds; a packet does not.
        assert_eq!(
            decode_text_payload("6:4hello3:9zz"),
            Err(PayloadError::Packet {
                index: 1,
                error: PacketError::UnknownType('9')
            })
        );
        // An empty record is the whole of an empty list, never one packet among others.
        assert_eq!(
            decode_text_payload("2:4a0:"),
            Err(PayloadError::Packet {
                index: 1,
                error: PacketError::Empty
            })
        );
    }

    /// The spec's example: `4€` and the binary message `01 02 03 04`.
    const SPEC_BINARY_PAYLOAD: [u8; 15] = [
        0x00, 0x04, 0xFF, 0x34, 0xE2, 0x82, 0xAC, 0x01, 0x05, 0xFF, 0x04, 0x01, 0x02, 0x03, 0x04,
    ];

    #[test]
    fn binary_payloads_are_typed_records() {
        let payload = SPEC_BINARY_PAYLOAD;
        let packets = vec![text("4€"), Data::Binary(vec![4, 1, 2, 3, 4])];
        assert_eq!(split_binary_payload(&payload), Ok(packets.clone()));
        assert_eq!(decode_binary_payload(&payload), Ok(packets.clone()));
        assert_eq!(encode_binary_payload(&packets), payload);
        // Several digits, most significant first.
        let long = text(&format!("4{}", "a".repeat(11)));
        let encoded = encode_binary_payload(std::slice::from_ref(&long));
        assert_eq!(encoded[..4], [0x00, 0x01, 0x02, 0xFF]);
        assert_eq!(decode_binary_payload(&encoded), Ok(vec![long]));
        // A string record may hold a base64 packet.
        assert_eq!(
            decode_binary_payload(&[0x00, 0x06, 0xFF, b'b', b'4', b'A', b'Q', b'=', b'=']),
            Ok(vec![Data::Binary(vec![4, 1])])
        );
        assert_eq!(split_binary_payload(&[]), Ok(vec![]));
    }

    #[test]
    fn malformed_binary_payloads_are_refused_with_their_reason() {
        assert_eq!(decode_binary_payload(&[]), Err(PayloadError::Empty));
        let refused: &[(&[u8], PayloadError)] = &[
            (
                &[0x02, 0x01, 0xFF, 0x34],
                PayloadError::RecordKind { offset: 0, byte: 2 },
            ),
            (&[0x00, 0x01, 0x34], PayloadError::NoSeparator { offset: 0 }),
            (&[0x00], PayloadError::NoSeparator { offset: 0 }),
            (&[0x00, 0xFF, 0x34], PayloadError::NoLength { offset: 0 }),
            (
                &[0x00, 0x0A, 0xFF, 0x34],
                PayloadError::LengthDigit {
                    offset: 0,
                    byte: 10,
                },
            ),
            // The digit as text.
            (
                &[0x00, b'1', 0xFF, 0x34],
                PayloadError::LengthDigit {
                    offset: 0,
                    byte: b'1',
                },
            ),
            (&[0x00, 0x00, 0xFF], PayloadError::EmptyRecord { offset: 0 }),
            (
                &[0x00, 0x02, 0xFF, 0x34],
                PayloadError::RecordTruncated {
                    offset: 0,
                    length: "2".to_owned(),
                    remaining: 1,
                },
            ),
            (
                &[0x00, 0x02, 0xFF, 0x34, 0xFF],
                PayloadError::NotUtf8 { offset: 0 },
            ),
            // A second record cut short.
            (
                &[0x00, 0x01, 0xFF, 0x34, 0x01],
                PayloadError::NoSeparator { offset: 4 },
            ),
            (
                &[
                    0x01, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 0xFF,
                ],
                PayloadError::RecordTruncated {
                    offset: 0,
                    length: "9".repeat(21),
                    remaining: 0,
                },
            ),
        ];
        for (payload, error) in refused {
            assert_eq!(
                split_binary_payload(payload).as_ref(),
                Err(error),
                "{payload:02X?}"
            );
        }
        // The framing holds; a packet does not.
        let packet = |error| Err(PayloadError::Packet { index: 0, error });
        assert_eq!(
            decode_binary_payload(&[0x01, 0x02, 0xFF, 0x09, 0x01]),
            packet(PacketError::UnknownTypeByte(9))
        );
        assert_eq!(
            decode_binary_payload(&[0x00, 0x02, 0xFF, 0x04, 0x61]),
            packet(PacketError::UnknownType('\u{4}'))
        );
    }
}
