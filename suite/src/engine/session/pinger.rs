//! Protocol 3's automatic heartbeat, where the client pings.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::{Instant, MissedTickBehavior};

use super::packets::Protocol;
use super::Route;
use crate::engine::transcript::EventKind;
use crate::engine::wire::Wire;
use crate::protocol::engine_io::PacketType;

/// Protocol 3's client heartbeat: a ping `2` every `interval` on the session's current link.
pub(super) struct Pinger {
    pub(super) wire: Wire,
    pub(super) actor: String,
    pub(super) route: Arc<Mutex<Route>>,
    pub(super) interval: Duration,
    /// How long a ping's POST may take.
    pub(super) timeout: Duration,
}

impl Pinger {
    /// Pings until a ping cannot be sent (the session is over): the route is held while a ping
    /// goes, so that the upgrade switches links between two pings.
    pub(super) async fn run(self) {
        // A zero period would be a busy loop (and tokio refuses it).
        let interval = self.interval.max(Duration::from_millis(1));
        let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let ping = [PacketType::Ping.text("")];
        loop {
            ticks.tick().await;
            let route = self.route.lock().await;
            if let Route::WebSocket(connection) = &*route {
                if !connection.is_open().await {
                    return;
                }
            }
            let deadline = Instant::now() + self.timeout;
            if let Err(error) = route.send(Protocol::V3, &ping, deadline).await {
                self.wire.recorder.record(
                    &self.actor,
                    "pinger",
                    EventKind::Note {
                        text: format!("the automatic ping failed, and pinging stops: {error:?}"),
                    },
                );
                return;
            }
        }
    }
}
