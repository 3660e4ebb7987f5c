//! The client's side of the heartbeat. I/O free: the caller passes the time and acts on what
//! [`Heartbeat::poll`] says.
//!
//! - Protocol 4: the server pings. "Upon receiving a `ping` packet, the client MUST send back
//!   a `pong` packet"; "if the client does not receive a `ping` packet within
//!   `pingInterval + pingTimeout`, then it SHOULD consider that the connection is closed". The
//!   deadline runs from the open packet, then from each ping; other packets do not move it, as
//!   in the official client since engine.io-client 6.6.1.
//! - Protocol 3: the client pings every `pingInterval` (counted from the open packet, then from
//!   each pong) and expects an answer: revision 3 says that "if no packet type is received
//!   within `pingTimeout`, the client considers the socket disconnected". Any packet shows the
//!   server alive, as in the official 3.x client, which resets its timer on every packet.

use std::time::{Duration, Instant};

use super::handshake::Handshake;
use crate::engine_io::{Packet, PacketType, ProtocolVersion};

/// What the heartbeat asks of the connection now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeartbeatAction {
    /// Nothing until [`Heartbeat::next_wakeup`].
    Wait,
    /// Protocol 3: send a ping `2`.
    SendPing,
    /// The server is gone: close with "ping timeout".
    Expired,
}

/// The heartbeat of one session.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    version: ProtocolVersion,
    ping_interval: Duration,
    ping_timeout: Duration,
    /// When the session is considered dead if nothing (v4: no ping) comes first.
    deadline: Instant,
    /// v3: when to send the next ping; `None` while a ping waits for its answer.
    next_ping: Option<Instant>,
}

impl Heartbeat {
    /// The heartbeat of a session whose open packet arrived at `now`.
    pub fn start(version: ProtocolVersion, handshake: &Handshake, now: Instant) -> Heartbeat {
        let ping_interval = handshake.ping_interval;
        let ping_timeout = handshake.ping_timeout;
        let (deadline, next_ping) = match version {
            ProtocolVersion::V4 => (now + ping_interval + ping_timeout, None),
            ProtocolVersion::V3 => (
                now + ping_interval + ping_timeout,
                Some(now + ping_interval),
            ),
        };
        Heartbeat {
            version,
            ping_interval,
            ping_timeout,
            deadline,
            next_ping,
        }
    }

    /// Notes a packet from the server, and returns the answer it calls for: a pong `3` for a
    /// v4 ping (with the ping's data, which a v4 server does not send).
    pub fn on_packet(&mut self, packet: &Packet, now: Instant) -> Option<Packet> {
        match self.version {
            ProtocolVersion::V4 => {
                if packet.packet_type != PacketType::Ping {
                    return None;
                }
                self.deadline = now + self.ping_interval + self.ping_timeout;
                Some(Packet {
                    packet_type: PacketType::Pong,
                    data: packet.data.clone(),
                })
            }
            ProtocolVersion::V3 => {
                self.deadline = now + self.ping_interval + self.ping_timeout;
                if packet.packet_type == PacketType::Pong {
                    self.next_ping = Some(now + self.ping_interval);
                }
                None
            }
        }
    }

    /// What to do at `now`: ping (v3), close, or wait.
    pub fn poll(&mut self, now: Instant) -> HeartbeatAction {
        if now >= self.deadline {
            return HeartbeatAction::Expired;
        }
        match self.next_ping {
            Some(at) if now >= at => {
                self.next_ping = None;
                self.deadline = self.deadline.min(now + self.ping_timeout);
                HeartbeatAction::SendPing
            }
            _ => HeartbeatAction::Wait,
        }
    }

    /// When [`Heartbeat::poll`] may next have something to do.
    pub fn next_wakeup(&self) -> Instant {
        self.next_ping
            .map_or(self.deadline, |at| at.min(self.deadline))
    }

    /// Whether the deadline has passed: a connection that should be considered closed, on
    /// which the official client sends nothing more.
    pub fn has_expired(&self, now: Instant) -> bool {
        now >= self.deadline
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn handshake() -> Handshake {
        Handshake {
            sid: "s".to_owned(),
            upgrades: Vec::new(),
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            max_payload: Some(1000),
        }
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn v4_answers_a_ping_with_a_pong() {
        let now = Instant::now();
        let mut heartbeat = Heartbeat::start(ProtocolVersion::V4, &handshake(), now);
        let pong = heartbeat.on_packet(&Packet::empty(PacketType::Ping), now);
        assert_eq!(pong, Some(Packet::empty(PacketType::Pong)));
        let message = Packet::text(PacketType::Message, "x");
        assert_eq!(heartbeat.on_packet(&message, now), None);
    }

    #[test]
    fn v4_expires_interval_plus_timeout_after_the_last_ping() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::start(ProtocolVersion::V4, &handshake(), start);
        assert_eq!(heartbeat.next_wakeup(), start + ms(500));
        assert_eq!(heartbeat.poll(start + ms(499)), HeartbeatAction::Wait);
        heartbeat.on_packet(&Packet::empty(PacketType::Ping), start + ms(300));
        assert_eq!(heartbeat.poll(start + ms(799)), HeartbeatAction::Wait);
        assert_eq!(heartbeat.poll(start + ms(800)), HeartbeatAction::Expired);
    }

    #[test]
    fn v4_messages_do_not_reset_the_deadline() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::start(ProtocolVersion::V4, &handshake(), start);
        heartbeat.on_packet(&Packet::text(PacketType::Message, "x"), start + ms(400));
        assert_eq!(heartbeat.poll(start + ms(500)), HeartbeatAction::Expired);
    }

    #[test]
    fn v3_pings_every_interval_and_expects_an_answer_within_the_timeout() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::start(ProtocolVersion::V3, &handshake(), start);
        assert_eq!(heartbeat.next_wakeup(), start + ms(300));
        assert_eq!(heartbeat.poll(start + ms(299)), HeartbeatAction::Wait);
        assert_eq!(heartbeat.poll(start + ms(300)), HeartbeatAction::SendPing);
        // No second ping while the first waits.
        assert_eq!(heartbeat.poll(start + ms(350)), HeartbeatAction::Wait);
        assert_eq!(heartbeat.next_wakeup(), start + ms(500));
        heartbeat.on_packet(&Packet::empty(PacketType::Pong), start + ms(320));
        assert_eq!(heartbeat.poll(start + ms(619)), HeartbeatAction::Wait);
        assert_eq!(heartbeat.poll(start + ms(620)), HeartbeatAction::SendPing);
        assert_eq!(heartbeat.poll(start + ms(820)), HeartbeatAction::Expired);
    }

    #[test]
    fn v3_never_answers_the_server() {
        let now = Instant::now();
        let mut heartbeat = Heartbeat::start(ProtocolVersion::V3, &handshake(), now);
        assert_eq!(
            heartbeat.on_packet(&Packet::empty(PacketType::Ping), now),
            None
        );
    }
}
