//! The polling transport of a session: its requests, one POST at a time, and the poller that
//! keeps a GET pending and queues what each one brings, by the session's rules.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Mutex};
use tokio::time::Instant;

use super::packets::{decode_poll_body, encode_payload, Protocol};
use super::rules::{Handling, PacketRules, CLOSED_BY_PACKET};
use crate::engine::error::StepError;
use crate::engine::http::{self, HttpRequest};
use crate::engine::inbox::Incoming;
use crate::engine::transcript::{EventKind, WireData};
use crate::engine::wire::Wire;
use crate::protocol::engine_io::{self, PacketType};
use crate::scenario::Data;

/// What the polling transport needs for its requests.
pub(super) struct PollingLink {
    pub(super) wire: Wire,
    pub(super) actor: String,
    pub(super) protocol: Protocol,
    /// Path and query of every request of the session (with the sid).
    pub(super) target: String,
    /// One POST at a time: "a client MUST NOT have more than one active POST request".
    pub(super) post_lane: Mutex<()>,
}

impl PollingLink {
    fn request(&self, method: &str, body: &str) -> HttpRequest {
        let headers = if method == "POST" {
            vec![(
                "Content-Type".to_owned(),
                engine_io::TEXT_CONTENT_TYPE.to_owned(),
            )]
        } else {
            Vec::new()
        };
        HttpRequest {
            method: method.to_owned(),
            target: self.target.clone(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    /// One POST at a time; the server must answer 200.
    pub(super) async fn post(&self, body: &str, deadline: Instant) -> Result<(), StepError> {
        let _lane = tokio::time::timeout_at(deadline, self.post_lane.lock())
            .await
            .map_err(|_| StepError::unmet("the previous POST answered", "it was not, in time"))?;
        let request = self.request("POST", body);
        let response = http::send_fresh(&self.wire, &self.actor, &request, deadline).await?;
        if response.status == 200 {
            Ok(())
        } else {
            Err(StepError::unmet(
                format!("200 for the POST of {body:?}"),
                response.describe(),
            ))
        }
    }
}

/// Keeps a GET pending until paused or closed, queueing what each one brings.
pub(super) async fn poll_loop(
    link: Arc<PollingLink>,
    inbox: mpsc::UnboundedSender<Incoming>,
    rules: PacketRules,
    paused: Arc<AtomicBool>,
    polling: watch::Sender<bool>,
    poll_timeout: Duration,
) {
    let mut backoff = NoopBackoff::default();
    while !paused.load(Ordering::SeqCst) {
        backoff.wait().await;
        let request = link.request("GET", "");
        let deadline = Instant::now() + poll_timeout;
        polling.send_replace(true);
        let response = match http::send_fresh(&link.wire, &link.actor, &request, deadline).await {
            Ok(response) => response,
            Err(StepError::Unmet { actual, .. }) => {
                let detail = format!("a polling GET got no response: {actual}");
                let _ = inbox.send(Incoming::closed(detail));
                return;
            }
            Err(error) => {
                let _ = inbox.send(Incoming::closed(format!("a polling GET failed: {error:?}")));
                return;
            }
        };
        if response.status != 200 {
            let detail = format!("a polling GET was answered {}", response.describe());
            let _ = inbox.send(Incoming::closed(detail));
            return;
        }
        let packets = decode_poll_body(link.protocol, &response).unwrap_or_else(|why| {
            // The whole body goes to the steps as one packet, so that what they expect shows
            // the difference.
            link.wire.recorder.record(
                &link.actor,
                "session",
                EventKind::Note {
                    text: format!("a polling GET's body is taken whole: {why}"),
                },
            );
            vec![match WireData::body(&response.body) {
                WireData::Text(text) => Data::Text(text),
                WireData::Binary(bytes) => Data::Binary(bytes),
            }]
        });
        backoff.after(packets.iter().all(is_noop));
        for packet in packets {
            match rules.handle(&packet) {
                Handling::Deliver => {
                    let _ = inbox.send(Incoming::Data(packet));
                }
                Handling::Drop => {}
                Handling::Close => {
                    let _ = inbox.send(Incoming::closed(CLOSED_BY_PACKET));
                    return;
                }
                Handling::AnswerPing => {
                    let deadline = Instant::now() + poll_timeout;
                    if let Ok(pong) = encode_payload(link.protocol, &[PacketRules::pong()]) {
                        let _ = link.post(&pong, deadline).await;
                    }
                }
            }
        }
    }
}

fn is_noop(packet: &Data) -> bool {
    PacketType::Noop.is_bare(packet)
}

/// The pause before the next GET when GETs bring nothing but noops: a server that answers
/// every GET with `6` at once (some do as soon as a WebSocket is opened for the session) would
/// otherwise get thousands of requests a second. It starts at 5 ms, doubles up to 80 ms, and
/// is gone as soon as a GET brings anything else.
#[derive(Debug, Default)]
struct NoopBackoff {
    next: Option<Duration>,
}

impl NoopBackoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MOST: Duration = Duration::from_millis(80);

    async fn wait(&self) {
        if let Some(pause) = self.next {
            tokio::time::sleep(pause).await;
        }
    }

    fn after(&mut self, only_noops: bool) {
        self.next = if only_noops {
            Some(
                self.next
                    .map_or(Self::FIRST, |pause| (pause * 2).min(Self::MOST)),
            )
        } else {
            None
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_noop_backoff_grows_and_resets() {
        let mut backoff = NoopBackoff::default();
        assert_eq!(backoff.next, None);
        let mut pauses = Vec::new();
        for _ in 0..6 {
            backoff.after(true);
            pauses.push(backoff.next.map(|pause| pause.as_millis()));
        }
        assert_eq!(
            pauses,
            [Some(5), Some(10), Some(20), Some(40), Some(80), Some(80)]
        );
        backoff.after(false);
        assert_eq!(backoff.next, None);
    }
}
