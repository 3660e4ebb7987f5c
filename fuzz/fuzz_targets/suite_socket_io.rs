//! The suite's own Socket.IO decoder (`sio_suite::protocol::socket_io`): the text form
//! `<type>[<attachments>-][<namespace>,][<id>][<JSON payload>]`, bare or in an Engine.IO
//! message `4…`.
//!
//! Input: a mode byte (bit 0: an Engine.IO message, else the bare packet), then the text.
//! Asserts: no panic; a decoded packet encodes to a text that decodes to the same packet and that
//! text is a fixed point (encoding what it decodes to gives it back); but for a number payload
//! not led by `-`, whose digits the encoder writes where the id is read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sio_fuzz::Input;
use sio_suite::protocol::socket_io::{decode, decode_message, Packet};
use sio_suite::scenario::Data;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let message = input.byte() & 1 == 1;
    let Ok(text) = std::str::from_utf8(input.rest()) else {
        return;
    };
    let decoded = if message {
        decode_message(text)
    } else {
        decode(text)
    };
    let Ok(packet) = decoded else { return };
    let encoded = packet.encode();
    if message {
        assert_eq!(packet.to_message(), Data::Text(format!("4{encoded}")));
    }
    let again = decode(&encoded);
    // A payload that starts with a digit (a number, after JSON's leading whitespace) is read
    // back as part of the id.
    let ambiguous = packet
        .data
        .as_ref()
        .is_some_and(|data| data.is_number() && !data.to_string().starts_with('-'));
    if ambiguous {
        return;
    }
    assert_eq!(
        again.as_ref(),
        Ok(&packet),
        "{text:?} encodes as {encoded:?}"
    );
    let again: Packet = again.expect("an encoded packet decodes");
    assert_eq!(
        again.encode(),
        encoded,
        "the encoded form is not a fixed point"
    );
});
