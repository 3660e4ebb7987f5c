//! The reference client's handshake parser (`client::engine::handshake`): the open packet the
//! server sends first, `0{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,…}`.
//!
//! Input: a flags byte (bit 0: protocol 3, else 4; bit 1: the input is the whole Engine.IO
//! packet, read with the packet decoder and `Handshake::from_packet`, else the JSON alone),
//! then the text. Asserts: no panic, in the parser or in a heartbeat started from what it
//! accepted (whatever the timers it was given); an accepted handshake has a sid.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use sio_fuzz::Input;
use sio_reference::client::engine::handshake::Handshake;
use sio_reference::client::engine::heartbeat::{Heartbeat, HeartbeatAction};
use sio_reference::engine_io::{Packet, PacketType, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.byte();
    let version = if flags & 1 == 1 {
        ProtocolVersion::V3
    } else {
        ProtocolVersion::V4
    };
    let Ok(text) = std::str::from_utf8(input.rest()) else {
        return;
    };
    let handshake = if flags & 2 == 2 {
        let Ok(packet) = Packet::decode_text(text, version) else {
            return;
        };
        Handshake::from_packet(&packet)
    } else {
        Handshake::parse(text)
    };
    let Ok(handshake) = handshake else { return };
    assert!(!handshake.sid.is_empty());
    let _ = handshake.offers_websocket();
    let start = Instant::now();
    let mut heartbeat = Heartbeat::start(version, &handshake, start);
    let wakeup = heartbeat.next_wakeup();
    assert!(wakeup >= start);
    let _ = heartbeat.on_packet(&Packet::empty(PacketType::Ping), start);
    if let Some(later) = start.checked_add(handshake.ping_interval) {
        let action = heartbeat.poll(later);
        let expired = heartbeat.has_expired(later);
        assert_eq!(action == HeartbeatAction::Expired, expired);
    }
    let _ = heartbeat.poll(start + Duration::from_secs(1));
});
