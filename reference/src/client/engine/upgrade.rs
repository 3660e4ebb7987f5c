//! The upgrade from polling to WebSocket, as the client runs it. I/O free: the connection
//! reports what happens ([`Upgrade::on_probe_answer`], [`Upgrade::get_finished`],
//! [`Upgrade::post_finished`]) and acts on the returned [`UpgradeStep`].
//!
//! The spec: "To upgrade to WebSocket, the client MUST: pause the HTTP long-polling transport
//! (no more HTTP request gets sent), to ensure that no packet gets lost; open a WebSocket
//! connection with the same session ID; send a `ping` packet with the string `probe` in the
//! payload", and once the server has answered `3probe`, "the client MUST send a `upgrade`
//! packet to complete the upgrade".
//!
//! SPEC-FAITHFUL: the official client opens the WebSocket and sends `2probe` while polling goes
//! on, and pauses polling only when `3probe` arrives. This client pauses first, as the spec
//! orders: from the start of the upgrade no new `GET` or `POST` is sent; the `GET` in flight is
//! released by the server's `noop` ("the server MUST send a `noop` packet to any pending `GET`
//! request"), and `5` goes out once `3probe` has arrived and no request is in flight. Outgoing
//! packets wait meanwhile and leave over the WebSocket.

use crate::engine_io::{Data, Packet, PacketType};

/// The probe: `2probe`.
pub fn probe() -> Packet {
    Packet::text(PacketType::Ping, "probe")
}

/// Where an upgrade stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    get_in_flight: bool,
    post_in_flight: bool,
    probed: bool,
    failed: bool,
}

/// What the connection does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeStep {
    /// Wait: for the probe's answer, or for polling requests to finish.
    Wait,
    /// Send `5` over the WebSocket, then the waiting packets, and drop polling.
    Complete,
    /// The probe failed ("probe error" in the official client): close the WebSocket and go
    /// on polling.
    Abandon,
}

impl Upgrade {
    /// An upgrade that starts while these polling requests are in flight; polling sends no
    /// new request from now on.
    pub fn start(get_in_flight: bool, post_in_flight: bool) -> Upgrade {
        Upgrade {
            get_in_flight,
            post_in_flight,
            probed: false,
            failed: false,
        }
    }

    /// The first packet on the probing WebSocket: `3probe` moves the upgrade on, anything else
    /// abandons it.
    pub fn on_probe_answer(&mut self, packet: &Packet) -> UpgradeStep {
        let answered = packet.packet_type == PacketType::Pong
            && matches!(&packet.data, Data::Text(text) if text == "probe");
        if answered {
            self.probed = true;
        } else {
            self.failed = true;
        }
        self.step()
    }

    /// The probing WebSocket failed to open or closed before its answer.
    pub fn on_probe_failure(&mut self) -> UpgradeStep {
        self.failed = true;
        self.step()
    }

    /// The `GET` in flight finished.
    pub fn get_finished(&mut self) -> UpgradeStep {
        self.get_in_flight = false;
        self.step()
    }

    /// The `POST` in flight finished.
    pub fn post_finished(&mut self) -> UpgradeStep {
        self.post_in_flight = false;
        self.step()
    }

    /// Whether polling is paused: no request in flight.
    pub fn polling_paused(&self) -> bool {
        !self.get_in_flight && !self.post_in_flight
    }

    /// The step the upgrade is at.
    pub fn step(&self) -> UpgradeStep {
        if self.failed {
            UpgradeStep::Abandon
        } else if self.probed && self.polling_paused() {
            UpgradeStep::Complete
        } else {
            UpgradeStep::Wait
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pong_probe() -> Packet {
        Packet::text(PacketType::Pong, "probe")
    }

    #[test]
    fn completes_only_after_the_probe_and_the_requests_in_flight() {
        let mut upgrade = Upgrade::start(true, true);
        assert_eq!(upgrade.on_probe_answer(&pong_probe()), UpgradeStep::Wait);
        assert_eq!(upgrade.get_finished(), UpgradeStep::Wait);
        assert_eq!(upgrade.post_finished(), UpgradeStep::Complete);
    }

    #[test]
    fn requests_may_finish_before_the_probe_answer() {
        let mut upgrade = Upgrade::start(true, false);
        assert_eq!(upgrade.get_finished(), UpgradeStep::Wait);
        assert!(upgrade.polling_paused());
        assert_eq!(
            upgrade.on_probe_answer(&pong_probe()),
            UpgradeStep::Complete
        );
    }

    #[test]
    fn a_wrong_answer_abandons_the_upgrade() {
        let mut upgrade = Upgrade::start(false, false);
        let answer = Packet::text(PacketType::Pong, "other");
        assert_eq!(upgrade.on_probe_answer(&answer), UpgradeStep::Abandon);
        let mut upgrade = Upgrade::start(true, false);
        assert_eq!(upgrade.on_probe_failure(), UpgradeStep::Abandon);
    }

    #[test]
    fn the_probe_is_ping_probe() {
        assert_eq!(
            probe().encode_text(crate::engine_io::ProtocolVersion::V4),
            "2probe"
        );
    }
}
