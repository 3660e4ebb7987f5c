//! The reference crate's Engine.IO polling payload decoders: protocol 4 (packets joined by
//! `\x1e`), protocol 3's text payload (`<length>:<packet>`, lengths in UTF-16 units) and its
//! binary payload (typed records with byte-digit lengths).
//!
//! Input: a mode byte (its value modulo 3: protocol 4, protocol 3 text, protocol 3 binary),
//! then the body. Asserts: no panic; decoding stops after the first error; a body whose
//! packets all decode encodes back to a body that decodes to the same packets.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sio_fuzz::Input;
use sio_reference::engine_io::payload::{
    decode_v3_binary, decode_v3_text, decode_v4, encode_v3_binary, encode_v3_text, encode_v4,
};
use sio_reference::engine_io::Packet;
use sio_reference::EngineIoError;

/// Collects a decoder's results: the packets, or the first error.
fn collect(
    results: impl Iterator<Item = Result<Packet, EngineIoError>>,
) -> Result<Vec<Packet>, ()> {
    let results: Vec<_> = results.collect();
    let errors = results.iter().filter(|result| result.is_err()).count();
    assert!(errors <= 1, "the decoder went on after an error");
    if errors == 1 {
        assert!(
            results.last().is_some_and(Result::is_err),
            "the error is not last"
        );
        return Err(());
    }
    Ok(results.into_iter().flatten().collect())
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mode = input.byte() % 3;
    let body = input.rest();
    match mode {
        0 => {
            let Ok(text) = std::str::from_utf8(body) else {
                return;
            };
            let Ok(packets) = collect(decode_v4(text)) else {
                return;
            };
            let encoded = encode_v4(&packets);
            assert_eq!(collect(decode_v4(&encoded)), Ok(packets), "v4 round trip");
        }
        1 => {
            let Ok(text) = std::str::from_utf8(body) else {
                return;
            };
            let Ok(packets) = collect(decode_v3_text(text)) else {
                return;
            };
            let encoded = encode_v3_text(&packets);
            assert_eq!(
                collect(decode_v3_text(&encoded)),
                Ok(packets),
                "v3 text round trip"
            );
        }
        _ => {
            let Ok(packets) = collect(decode_v3_binary(Bytes::copy_from_slice(body))) else {
                return;
            };
            if packets.is_empty() {
                // No packet has no binary form (an empty body is refused).
                return;
            }
            let encoded = Bytes::from(encode_v3_binary(&packets));
            assert_eq!(
                collect(decode_v3_binary(encoded)),
                Ok(packets),
                "v3 binary round trip"
            );
        }
    }
});
