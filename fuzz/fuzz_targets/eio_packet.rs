//! The reference crate's Engine.IO packet decoder, both protocol versions: the text form (a
//! polling packet or a WebSocket text frame) and the WebSocket binary frame.
//!
//! Input: a flags byte (bit 0: protocol 3, else 4; bit 1: a binary frame, else the text form),
//! then the packet. Asserts: no panic; a decoded packet encodes to a form that decodes to the
//! same packet; a text packet's text form is exactly its input (the format has one way to
//! write it).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sio_fuzz::Input;
use sio_reference::engine_io::{Data, Frame, Packet, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.byte();
    let version = if flags & 1 == 1 {
        ProtocolVersion::V3
    } else {
        ProtocolVersion::V4
    };
    let wire = input.rest();
    let packet = if flags & 2 == 2 {
        Packet::decode_binary(Bytes::copy_from_slice(wire), version)
    } else {
        let Ok(text) = std::str::from_utf8(wire) else {
            return;
        };
        let packet = Packet::decode_text(text, version);
        if let Ok(Packet {
            data: Data::Text(_),
            ..
        }) = &packet
        {
            let encoded = packet.as_ref().map(|p| p.encode_text(version));
            assert_eq!(encoded.as_deref(), Ok(text), "text form not kept");
        }
        packet
    };
    let Ok(packet) = packet else {
        return;
    };
    let again = Packet::decode_text(&packet.encode_text(version), version);
    assert_eq!(again.as_ref(), Ok(&packet), "text form round trip");
    let again = match packet.encode_frame(version) {
        Frame::Text(text) => Packet::decode_text(&text, version),
        Frame::Binary(bytes) => Packet::decode_binary(bytes, version),
    };
    assert_eq!(again.as_ref(), Ok(&packet), "frame round trip");
});
