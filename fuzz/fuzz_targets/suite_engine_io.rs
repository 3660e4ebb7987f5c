//! The suite's own Engine.IO decoders (`sio_suite::protocol::engine_io`), both revisions:
//! packets in their text form, protocol 3 binary packets, and the three polling payloads.
//!
//! Input: a mode byte (its value modulo 6: a v4 packet, a v4 payload, a v3 text packet, a v3
//! text payload, a v3 binary payload, a v3 binary packet), then the input. Asserts: no panic;
//! what decodes encodes to what decodes the same; the strict decoders of the text forms read
//! only the form encoders write, so their input is exactly what the encoder writes back (but for the
//! v3 payloads, whose lengths may have leading zeros).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sio_fuzz::Input;
use sio_suite::protocol::engine_io::{v3, v4};
use sio_suite::scenario::Data;

fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mode = input.byte() % 6;
    let wire = input.rest();
    match mode {
        0 => {
            let Some(wire) = text(wire) else { return };
            let Ok(packet) = v4::decode_packet(wire) else {
                return;
            };
            assert_eq!(v4::encode_packet(&packet), wire, "v4 packet not canonical");
        }
        1 => {
            let Some(wire) = text(wire) else { return };
            let split: Vec<&str> = v4::split_payload(wire).collect();
            let Ok(packets) = v4::decode_payload(wire) else {
                return;
            };
            assert_eq!(packets.len(), split.len());
            assert_eq!(
                v4::encode_payload(&packets),
                wire,
                "v4 payload not canonical"
            );
        }
        2 => {
            let Some(wire) = text(wire) else { return };
            let Ok(packet) = v3::decode_packet(wire) else {
                return;
            };
            let encoded = v3::encode_packet(&packet).expect("a decoded packet encodes");
            assert_eq!(encoded, wire, "v3 packet not canonical");
        }
        3 => {
            let Some(wire) = text(wire) else { return };
            let split = v3::split_text_payload(wire);
            let Ok(packets) = v3::decode_text_payload(wire) else {
                return;
            };
            if wire != v3::EMPTY_TEXT_PAYLOAD {
                assert_eq!(split.map(|split| split.len()), Ok(packets.len()));
            }
            let encoded = v3::encode_text_payload(&packets).expect("decoded packets encode");
            assert_eq!(
                v3::decode_text_payload(&encoded),
                Ok(packets),
                "v3 text round trip"
            );
        }
        4 => {
            let Ok(packets) = v3::decode_binary_payload(wire) else {
                return;
            };
            let encoded = v3::encode_binary_payload(&packets);
            assert_eq!(
                v3::decode_binary_payload(&encoded),
                Ok(packets),
                "v3 binary round trip"
            );
        }
        _ => {
            let Ok((kind, bytes)) = v3::decode_binary_packet(wire) else {
                return;
            };
            assert_eq!(v3::encode_binary_packet(kind, bytes), wire);
            let frame = Data::Binary(wire.to_vec());
            let encoded = v3::encode_packet(&frame).expect("a binary packet encodes");
            assert_eq!(
                v3::decode_packet(&encoded),
                Ok(frame),
                "b<type><base64> round trip"
            );
        }
    }
});
