//! The reference crate's stateful Socket.IO decoder, protocols 4 and 5: text packets and the
//! binary attachments that follow BINARY_EVENT and BINARY_ACK, under an attachment limit.
//!
//! Input: a flags byte (bit 0: protocol 4, else 5; bits 1 to 7: the attachment limit, 0 for
//! the default 10), then Engine.IO messages, each a kind byte (bit 0: binary, else text) and a
//! chunk. Asserts: no panic; a packet never declares more attachments than the limit; a decoded
//! packet encodes to messages that a decoder decodes to the same packet.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sio_fuzz::Input;
use sio_reference::socket_io::{Decoder, Packet, ProtocolVersion, Value, DEFAULT_MAX_ATTACHMENTS};

/// Encodes `packet` and decodes it again with a decoder that takes any number of attachments
/// (a placeholder used twice becomes two attachments once encoded).
fn round_trip(packet: &Packet, version: ProtocolVersion) {
    let encoded = packet.encode();
    let mut decoder = Decoder::with_max_attachments(version, usize::MAX);
    let mut decoded = decoder.decode_text(&encoded.text);
    for attachment in &encoded.attachments {
        assert!(
            matches!(decoded, Ok(None)),
            "decoded before its attachments: {decoded:?}"
        );
        decoded = decoder.decode_binary(attachment.clone());
    }
    let again = match decoded {
        Ok(Some(again)) => again,
        other => panic!("{packet:?} encoded as {encoded:?} decodes to {other:?}"),
    };
    // A binary packet whose placeholders were all dropped is sent as a plain one: the type on
    // the wire is the one the data calls for.
    assert_eq!(again.packet_type, packet.wire_type(), "type");
    assert_eq!(again.namespace, packet.namespace, "namespace");
    assert_eq!(again.id, packet.id, "id");
    // Compared as JSON text: the encoder writes numbers as `JSON.stringify` does, `-0` as `0`,
    // so that only their value, not serde_json's representation, survives.
    let json = |packet: &Packet| packet.data.as_ref().map(Value::to_json);
    assert_eq!(json(&again), json(packet), "data");
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.byte();
    let version = if flags & 1 == 1 {
        ProtocolVersion::V4
    } else {
        ProtocolVersion::V5
    };
    let limit = match usize::from(flags >> 1) {
        0 => DEFAULT_MAX_ATTACHMENTS,
        limit => limit,
    };
    let mut decoder = Decoder::with_max_attachments(version, limit);
    // The attachments taken so far by the packet being reconstructed, if there is one.
    let mut taken: Option<usize> = None;
    while !input.is_empty() {
        let kind = input.byte();
        let message = input.chunk();
        let binary = kind & 1 == 1;
        let decoded = if binary {
            decoder.decode_binary(Bytes::copy_from_slice(message))
        } else {
            let Ok(text) = std::str::from_utf8(message) else {
                continue;
            };
            decoder.decode_text(text)
        };
        if decoded.is_ok() && binary {
            let count = taken
                .as_mut()
                .expect("an attachment taken without a binary packet");
            *count += 1;
            assert!(
                *count <= limit,
                "more attachments than the limit were taken"
            );
        }
        match decoded {
            Ok(Some(packet)) => {
                taken = None;
                round_trip(&packet, version);
            }
            Ok(None) => {
                assert!(decoder.is_reconstructing());
                if !binary {
                    taken = Some(0);
                }
            }
            Err(_) => {
                taken = None;
                assert!(!decoder.is_reconstructing(), "not reset after an error");
            }
        }
    }
});
