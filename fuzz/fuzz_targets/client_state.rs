//! The reference client's I/O-free state machines fed with packets from the fuzz input: the
//! heartbeat (`Heartbeat`), the upgrade (`Upgrade`) and a namespace's socket (`SocketState`),
//! the latter behind the Socket.IO decoder, as the client's manager runs them.
//!
//! Input: a flags byte (bit 0: Socket.IO protocol 4 over Engine.IO 3, else 5 over 4; bit 1: a
//! retry queue; bit 2: an ack timeout; bits 3 and 4: a GET and a POST in flight when the
//! upgrade starts), a chunk with the open packet's JSON (a default one when it does not
//! parse), then operations, each an opcode byte and its arguments (see `step`). Asserts: no
//! panic; an abandoned upgrade stays abandoned and a completed one completes only with no
//! request in flight; a v4 heartbeat answers a ping with a pong; the heartbeat expires when it
//! says so; an acknowledgement resolves at most once; a socket is inactive after the server's
//! DISCONNECT, and has an id when it reports itself connected.
#![no_main]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sio_fuzz::Input;
use sio_reference::client::engine::handshake::Handshake;
use sio_reference::client::engine::heartbeat::{Heartbeat, HeartbeatAction};
use sio_reference::client::engine::upgrade::{Upgrade, UpgradeStep};
use sio_reference::client::socket_state::{AckRequest, EmitRequest, Output, SocketState};
use sio_reference::client::{DisconnectReason, Protocol};
use sio_reference::engine_io::{Packet as EnginePacket, PacketType as EngineType};
use sio_reference::socket_io::{
    Decoder, Packet, PacketType, ProtocolVersion as SocketIoVersion, Value,
};

const REASONS: [DisconnectReason; 6] = [
    DisconnectReason::IoServerDisconnect,
    DisconnectReason::IoClientDisconnect,
    DisconnectReason::PingTimeout,
    DisconnectReason::TransportClose,
    DisconnectReason::TransportError,
    DisconnectReason::ParseError,
];

struct Machines {
    protocol: Protocol,
    now: Instant,
    heartbeat: Heartbeat,
    upgrade: Upgrade,
    socket: SocketState,
    decoder: Decoder,
    next_token: u64,
    resolved: HashSet<u64>,
}

impl Machines {
    fn text<'a>(input: &mut Input<'a>) -> Option<&'a str> {
        std::str::from_utf8(input.chunk()).ok()
    }

    /// One operation; `false` when the input is used up.
    fn step(&mut self, input: &mut Input<'_>) -> bool {
        if input.is_empty() {
            return false;
        }
        let version = self.protocol.engine_io();
        match input.byte() % 16 {
            // Time passes: u16 milliseconds.
            0 => {
                self.now += Duration::from_millis(u64::from(input.u16()));
                let action = self.heartbeat.poll(self.now);
                let expired = self.heartbeat.has_expired(self.now);
                assert_eq!(action == HeartbeatAction::Expired, expired);
                let outputs = self.socket.poll_timeouts(self.now);
                self.check(outputs);
            }
            // An Engine.IO packet from the server, to the heartbeat.
            1 => {
                let Some(text) = Self::text(input) else {
                    return true;
                };
                let Ok(packet) = EnginePacket::decode_text(text, version) else {
                    return true;
                };
                let answer = self.heartbeat.on_packet(&packet, self.now);
                if let Some(answer) = answer {
                    assert_eq!(answer.packet_type, EngineType::Pong);
                }
            }
            // The probing WebSocket's first packet.
            2 => {
                let Some(text) = Self::text(input) else {
                    return true;
                };
                let Ok(packet) = EnginePacket::decode_text(text, version) else {
                    return true;
                };
                let before = self.upgrade.step();
                let after = self.upgrade.on_probe_answer(&packet);
                self.check_upgrade(before, after);
            }
            3 => {
                let before = self.upgrade.step();
                let after = self.upgrade.get_finished();
                self.check_upgrade(before, after);
            }
            4 => {
                let before = self.upgrade.step();
                let after = self.upgrade.post_finished();
                self.check_upgrade(before, after);
            }
            5 => {
                let after = self.upgrade.on_probe_failure();
                assert_eq!(after, UpgradeStep::Abandon);
            }
            // A Socket.IO text packet, then its attachments, through the decoder.
            6 | 7 => {
                let Some(text) = Self::text(input) else {
                    return true;
                };
                let decoded = self.decoder.decode_text(text);
                self.on_decoded(decoded);
            }
            8 => {
                let attachment = Bytes::copy_from_slice(input.chunk());
                let decoded = self.decoder.decode_binary(attachment);
                self.on_decoded(decoded);
            }
            // The application emits: name, flags (ack, volatile), timeout.
            9 => {
                let name = Self::text(input).unwrap_or("event").to_owned();
                let flags = input.byte();
                let timeout = Duration::from_millis(u64::from(input.u16()));
                let ack = (flags & 1 == 1).then(|| {
                    self.next_token += 1;
                    AckRequest {
                        token: self.next_token,
                        timeout: (flags & 2 == 2).then_some(timeout),
                    }
                });
                let request = EmitRequest {
                    name,
                    arguments: vec![Value::from(i64::from(flags))],
                    ack,
                    volatile: flags & 4 == 4,
                };
                if let Ok(outputs) = self.socket.emit(request, self.now) {
                    self.check(outputs);
                }
            }
            10 => {
                let sid = Self::text(input).unwrap_or("sid").to_owned();
                let outputs = self.socket.on_open(&sid);
                self.check(outputs);
            }
            11 => {
                let reason = REASONS[usize::from(input.byte()) % REASONS.len()];
                let outputs = self.socket.on_close(reason, self.now);
                self.check(outputs);
            }
            12 => {
                let outputs = self.socket.disconnect(self.now);
                self.check(outputs);
                assert!(!self.socket.is_active());
            }
            13 => {
                let open = input.byte() & 1 == 1;
                let outputs = self.socket.connect(open);
                self.check(outputs);
            }
            14 => {
                let id = u64::from(input.u16());
                let _ = self.socket.acknowledge(id, Vec::new());
            }
            _ => {
                let outputs = self.socket.abandon();
                self.check(outputs);
            }
        }
        true
    }

    fn on_decoded(&mut self, decoded: Result<Option<Packet>, sio_reference::SocketIoError>) {
        let Ok(Some(packet)) = decoded else { return };
        let disconnect = packet.packet_type == PacketType::Disconnect;
        let outputs = self.socket.on_packet(packet, self.now);
        self.check(outputs);
        if disconnect {
            assert!(
                !self.socket.is_active(),
                "active after the server's DISCONNECT"
            );
        }
    }

    fn check_upgrade(&self, before: UpgradeStep, after: UpgradeStep) {
        if before == UpgradeStep::Abandon {
            assert_eq!(
                after,
                UpgradeStep::Abandon,
                "an abandoned upgrade came back"
            );
        }
        if after == UpgradeStep::Complete {
            assert!(
                self.upgrade.polling_paused(),
                "completed with a request in flight"
            );
        }
    }

    fn check(&mut self, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::AckResolved { token, .. } => {
                    assert!(self.resolved.insert(token), "ack {token} resolved twice");
                }
                Output::Connected { id, .. } => {
                    assert_eq!(self.socket.id(), Some(id.as_str()));
                }
                _ => {}
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.byte();
    let protocol = if flags & 1 == 1 {
        Protocol::V4
    } else {
        Protocol::V5
    };
    let socket_io_version = match protocol {
        Protocol::V4 => SocketIoVersion::V4,
        Protocol::V5 => SocketIoVersion::V5,
    };
    let open = std::str::from_utf8(input.chunk()).unwrap_or("");
    let handshake = Handshake::parse(open).unwrap_or(Handshake {
        sid: "sid".to_owned(),
        upgrades: vec!["websocket".to_owned()],
        ping_interval: Duration::from_millis(25_000),
        ping_timeout: Duration::from_millis(20_000),
        max_payload: Some(1_000_000),
    });
    let now = Instant::now();
    let retries = (flags & 2 == 2).then_some(2);
    let ack_timeout = (flags & 4 == 4).then_some(Duration::from_millis(500));
    let mut machines = Machines {
        protocol,
        now,
        heartbeat: Heartbeat::start(protocol.engine_io(), &handshake, now),
        upgrade: Upgrade::start(flags & 8 == 8, flags & 16 == 16),
        socket: SocketState::new("/", protocol, None, retries, ack_timeout),
        decoder: Decoder::new(socket_io_version),
        next_token: 0,
        resolved: HashSet::new(),
    };
    while machines.step(&mut input) {}
});
