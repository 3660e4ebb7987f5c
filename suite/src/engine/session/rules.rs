//! What a session does with each packet it receives, by itself, before the steps see it: the
//! same on every transport, so that the poller and the WebSocket reader apply one set of rules.
//!
//! - a noop `6` is transport mechanics (the server releases a pending GET with it, and may send
//!   it on a WebSocket too): it stays out of the inbox;
//! - a close packet `1` ends the session;
//! - under the automatic heartbeat, protocol 4's server pings: a ping `2` is answered with a
//!   pong `3` and stays out of the inbox; protocol 3's client pings (the session's pinger): the
//!   server's pong `3` stays out of the inbox, and a ping is never answered.
//!
//! Each rule matches a packet exactly (`3probe` is the upgrade's, not a pong to drop). Every
//! packet is in the transcript, whatever the rules make of it. A raw WebSocket applies the
//! heartbeat rules only: its steps see every other frame as it came.

use crate::protocol::engine_io::PacketType;
use crate::scenario::Data;

/// What a reader (or a session's poller) does by itself about the Engine.IO heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AutoHeartbeat {
    /// Nothing: pings and pongs are packets like any other.
    Off,
    /// Protocol 4, where the server pings: a ping `2` is answered with a pong `3`.
    AnswerPings,
    /// Protocol 3, where the client pings (the session's pinger): the server's pong `3` is
    /// dropped, and a ping is never answered.
    DropPongs,
}

/// What becomes of a packet that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handling {
    /// It goes to the inbox, for the steps.
    Deliver,
    /// It stays out of the inbox: a noop, or a pong the engine's own ping asked for.
    Drop,
    /// A close packet: the session is over.
    Close,
    /// A ping the engine answers with [`PacketRules::pong`]; it stays out of the inbox.
    AnswerPing,
}

/// How a closure by a close packet reads in the inbox.
pub(crate) const CLOSED_BY_PACKET: &str = "a close packet 1";

/// The rules a reader applies to what it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PacketRules {
    heartbeat: AutoHeartbeat,
    /// Noops and close packets are the session's business (not on a raw WebSocket).
    session: bool,
}

impl PacketRules {
    /// A session's rules: noops dropped, a close packet ends it, and `heartbeat`.
    pub(crate) fn session(heartbeat: AutoHeartbeat) -> PacketRules {
        PacketRules {
            heartbeat,
            session: true,
        }
    }

    /// A raw WebSocket's rules: `heartbeat` only.
    pub(crate) fn raw(heartbeat: AutoHeartbeat) -> PacketRules {
        PacketRules {
            heartbeat,
            session: false,
        }
    }

    /// What becomes of `packet`.
    pub(crate) fn handle(&self, packet: &Data) -> Handling {
        let is = |kind: PacketType| kind.is_bare(packet);
        match self.heartbeat {
            _ if self.session && is(PacketType::Noop) => Handling::Drop,
            _ if self.session && is(PacketType::Close) => Handling::Close,
            AutoHeartbeat::AnswerPings if is(PacketType::Ping) => Handling::AnswerPing,
            AutoHeartbeat::DropPongs if is(PacketType::Pong) => Handling::Drop,
            _ => Handling::Deliver,
        }
    }

    /// The answer to a ping: a pong `3`.
    pub(crate) fn pong() -> Data {
        PacketType::Pong.text("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(text: &str) -> Data {
        Data::Text(text.to_owned())
    }

    fn handled(rules: PacketRules, packets: &[&str]) -> Vec<Handling> {
        packets
            .iter()
            .map(|packet| rules.handle(&text(packet)))
            .collect()
    }

    const PACKETS: [&str; 8] = ["6", "1", "2", "3", "3probe", "4hello", "61", "12"];

    #[test]
    fn a_session_drops_noops_closes_on_close_packets_and_keeps_the_heartbeat() {
        use Handling::{AnswerPing, Close, Deliver, Drop};
        let v4 = PacketRules::session(AutoHeartbeat::AnswerPings);
        assert_eq!(
            handled(v4, &PACKETS),
            [Drop, Close, AnswerPing, Deliver, Deliver, Deliver, Deliver, Deliver]
        );
        let v3 = PacketRules::session(AutoHeartbeat::DropPongs);
        assert_eq!(
            handled(v3, &PACKETS),
            [Drop, Close, Deliver, Drop, Deliver, Deliver, Deliver, Deliver]
        );
        let manual = PacketRules::session(AutoHeartbeat::Off);
        assert_eq!(
            handled(manual, &PACKETS),
            [Drop, Close, Deliver, Deliver, Deliver, Deliver, Deliver, Deliver]
        );
        assert_eq!(v4.handle(&Data::Binary(vec![b'2'])), Deliver);
        assert_eq!(PacketRules::pong(), text("3"));
    }

    #[test]
    fn a_raw_websocket_keeps_only_the_heartbeat_rules() {
        use Handling::{AnswerPing, Deliver};
        let raw = PacketRules::raw(AutoHeartbeat::AnswerPings);
        assert_eq!(
            handled(raw, &PACKETS),
            [Deliver, Deliver, AnswerPing, Deliver, Deliver, Deliver, Deliver, Deliver]
        );
        let off = PacketRules::raw(AutoHeartbeat::Off);
        assert!(handled(off, &PACKETS)
            .iter()
            .all(|handling| *handling == Deliver));
    }
}
