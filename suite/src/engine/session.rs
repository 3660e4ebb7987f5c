//! The abstract Engine.IO session, mapped onto a transport: HTTP long-polling (a GET always
//! pending, POSTs one at a time), WebSocket, or polling upgraded to WebSocket the way the
//! spec's client does it (pause polling, probe, upgrade).
//!
//! Whatever the transport, received packets land in one [`Inbox`]; pings are answered there
//! when the heartbeat is automatic; noop packets `6` are transport mechanics and are left out
//! on either transport (they stay in the transcript), and a close packet `1` ends the session
//! on either.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use tokio::sync::{mpsc, Mutex};
use tokio::time::Instant;

use super::error::StepError;
use super::http::{self, HttpRequest};
use super::inbox::{Inbox, Incoming, Next};
use super::matching::{match_data, polling_packet, MatchError};
use super::transcript::EventKind;
use super::vars::Vars;
use super::websocket::{self, WsConnection, WsOpen, WsRequest};
use super::wire::{AbortOnDrop, Wire};
use crate::scenario::{Data, Pattern, Transport};

/// What opening a session needs to know.
pub(crate) struct SessionSetup<'a> {
    pub(crate) actor: &'a str,
    /// The endpoint's path, such as `/engine.io/`.
    pub(crate) path: &'a str,
    pub(crate) eio: u8,
    pub(crate) transport: Transport,
    pub(crate) auto_pong: bool,
    /// Extra handshake query parameters.
    pub(crate) extra_query: Option<String>,
    /// The open packet's JSON, matched structurally.
    pub(crate) open_json: serde_json::Value,
    /// How long the server may hold a polling GET before it counts as stalled.
    pub(crate) poll_timeout: Duration,
    /// By when the open (and, for `upgrade`, the upgrade) must be done.
    pub(crate) deadline: Instant,
}

/// An open session.
pub(crate) struct Session {
    /// The session id from the open packet.
    pub(crate) sid: String,
    /// Everything received, in order.
    pub(crate) inbox: Inbox,
    /// Feeds `inbox`; handed to the WebSocket of an upgrade.
    sender: mpsc::UnboundedSender<Incoming>,
    link: Link,
    poller: Option<Poller>,
}

enum Link {
    Polling(Arc<PollingLink>),
    WebSocket(WsConnection),
}

struct Poller {
    paused: Arc<AtomicBool>,
    task: AbortOnDrop<()>,
}

/// What the polling transport needs for its requests.
struct PollingLink {
    wire: Wire,
    actor: String,
    /// Path and query of every request of the session (with the sid).
    target: String,
    /// One POST at a time: "a client MUST NOT have more than one active POST request".
    post_lane: Mutex<()>,
}

impl Session {
    /// Opens a session; the open packet's captures go to `vars`.
    pub(crate) async fn open(
        wire: &Wire,
        setup: &SessionSetup<'_>,
        vars: &mut Vars,
    ) -> Result<Session, StepError> {
        if setup.eio != 4 {
            return Err(StepError::Invalid(format!(
                "Engine.IO v{} sessions are not implemented by the engine yet",
                setup.eio
            )));
        }
        match setup.transport {
            Transport::Polling => open_polling(wire, setup, vars).await,
            Transport::Websocket => open_websocket(wire, setup, vars).await,
            Transport::Upgrade => {
                let mut session = open_polling(wire, setup, vars).await?;
                session.upgrade(wire, setup).await?;
                Ok(session)
            }
        }
    }

    /// Sends packets: over polling in one POST, over WebSocket one frame each.
    pub(crate) async fn send(&self, packets: &[Data], deadline: Instant) -> Result<(), StepError> {
        match &self.link {
            Link::Polling(link) => link.post(&encode_payload(packets), deadline).await,
            Link::WebSocket(connection) => {
                for packet in packets {
                    connection.send(packet, deadline).await?;
                }
                Ok(())
            }
        }
    }

    /// The spec's upgrade, in its order: pause polling (no new request; the pending GET stays),
    /// open a WebSocket with the sid, send `2probe`, get `3probe`; the server must then answer
    /// the pending GET (with a noop); then send `5`.
    async fn upgrade(&mut self, wire: &Wire, setup: &SessionSetup<'_>) -> Result<(), StepError> {
        if let Some(poller) = &self.poller {
            poller.paused.store(true, Ordering::SeqCst);
        }
        let request = WsRequest {
            actor: setup.actor,
            channel: wire.channel("ws"),
            target: format!(
                "{}?EIO={}&transport=websocket&sid={}",
                setup.path, setup.eio, self.sid
            ),
            headers: Vec::new(),
            auto_pong: setup.auto_pong,
            session: true,
            control_frames: false,
        };
        let opened = websocket::open(wire, request, self.sender.clone(), setup.deadline).await?;
        let connection = match opened {
            WsOpen::Accepted(connection) => connection,
            WsOpen::Refused(status, detail, _) => {
                return Err(StepError::unmet(
                    "the upgrade's WebSocket accepted (101)",
                    format!("refused: {status:?} {detail}"),
                ))
            }
        };
        connection
            .send(&Data::Text("2probe".to_owned()), setup.deadline)
            .await?;
        self.await_probe_answer(setup.deadline).await?;
        self.await_poller_end(setup.deadline).await?;
        connection
            .send(&Data::Text("5".to_owned()), setup.deadline)
            .await?;
        wire.recorder.record(
            setup.actor,
            connection.channel(),
            EventKind::Note {
                text: "upgraded: the session goes on over this WebSocket".to_owned(),
            },
        );
        self.link = Link::WebSocket(connection);
        Ok(())
    }

    /// Waits for `3probe`, keeping whatever else arrives meanwhile (packets of the pending
    /// GET) in the inbox, in order.
    async fn await_probe_answer(&mut self, deadline: Instant) -> Result<(), StepError> {
        let started = Instant::now();
        let mut others = Vec::new();
        let result = loop {
            match self.inbox.next(deadline).await {
                Next::Item(Incoming::Data(Data::Text(text))) if text == "3probe" => break Ok(()),
                Next::Item(Incoming::Closed(closure)) => {
                    break Err(StepError::unmet("3probe on the WebSocket", closure.detail))
                }
                Next::Item(other) => others.push(other),
                Next::Timeout => {
                    break Err(StepError::nothing_within(
                        "3probe on the WebSocket",
                        started.elapsed(),
                    ))
                }
            }
        };
        self.inbox.put_back(others);
        result
    }

    /// Waits for the paused poller's last GET, which the server must answer.
    async fn await_poller_end(&mut self, deadline: Instant) -> Result<(), StepError> {
        let Some(mut poller) = self.poller.take() else {
            return Ok(());
        };
        let started = Instant::now();
        match tokio::time::timeout_at(deadline, &mut poller.task.0).await {
            Ok(_) => Ok(()),
            Err(_) => Err(StepError::nothing_within(
                "the pending GET answered (with a noop) after the probe",
                started.elapsed(),
            )),
        }
    }
}

async fn open_polling(
    wire: &Wire,
    setup: &SessionSetup<'_>,
    vars: &mut Vars,
) -> Result<Session, StepError> {
    let mut target = format!("{}?EIO={}&transport=polling", setup.path, setup.eio);
    if let Some(extra) = &setup.extra_query {
        target = format!("{target}&{extra}");
    }
    let request = HttpRequest {
        method: "GET".to_owned(),
        target,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let response = http::send_fresh(wire, setup.actor, &request, setup.deadline).await?;
    let expected = "200 with an open packet";
    if response.status != 200 {
        return Err(StepError::unmet(expected, response.describe()));
    }
    let Ok(text) = std::str::from_utf8(&response.body) else {
        return Err(StepError::unmet(expected, response.describe()));
    };
    let mut packets = text.split('\u{1e}');
    let open = Data::Text(packets.next().unwrap_or_default().to_owned());
    let sid = check_open(&open, setup, vars)?;
    let (sender, mut inbox) = Inbox::new();
    inbox.put_back(
        packets
            .map(|packet| Incoming::Data(polling_packet(packet)))
            .collect(),
    );
    let link = Arc::new(PollingLink {
        wire: wire.clone(),
        actor: setup.actor.to_owned(),
        target: format!(
            "{}?EIO={}&transport=polling&sid={sid}",
            setup.path, setup.eio
        ),
        post_lane: Mutex::new(()),
    });
    let paused = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(poll_loop(
        Arc::clone(&link),
        sender.clone(),
        setup.auto_pong,
        Arc::clone(&paused),
        setup.poll_timeout,
    ));
    Ok(Session {
        sid,
        inbox,
        sender,
        link: Link::Polling(link),
        poller: Some(Poller {
            paused,
            task: AbortOnDrop(task),
        }),
    })
}

async fn open_websocket(
    wire: &Wire,
    setup: &SessionSetup<'_>,
    vars: &mut Vars,
) -> Result<Session, StepError> {
    let mut target = format!("{}?EIO={}&transport=websocket", setup.path, setup.eio);
    if let Some(extra) = &setup.extra_query {
        target = format!("{target}&{extra}");
    }
    let request = WsRequest {
        actor: setup.actor,
        channel: wire.channel("ws"),
        target,
        headers: Vec::new(),
        auto_pong: setup.auto_pong,
        session: true,
        control_frames: false,
    };
    let (sender, mut inbox) = Inbox::new();
    let connection = match websocket::open(wire, request, sender.clone(), setup.deadline).await? {
        WsOpen::Accepted(connection) => connection,
        WsOpen::Refused(status, detail, _) => {
            return Err(StepError::unmet(
                "the WebSocket accepted (101)",
                format!("refused: {status:?} {detail}"),
            ))
        }
    };
    let started = Instant::now();
    let open = match inbox.next(setup.deadline).await {
        Next::Item(Incoming::Data(data)) => data,
        Next::Item(Incoming::Closed(closure)) => {
            return Err(StepError::unmet("an open packet", closure.detail))
        }
        // A session's WebSocket queues no control frame.
        Next::Item(Incoming::Control(control, _)) => {
            return Err(StepError::unmet(
                "an open packet",
                format!("a {} control frame", control.as_str()),
            ))
        }
        Next::Timeout => {
            return Err(StepError::nothing_within(
                "an open packet",
                started.elapsed(),
            ))
        }
    };
    let sid = check_open(&open, setup, vars)?;
    Ok(Session {
        sid,
        inbox,
        sender,
        link: Link::WebSocket(connection),
        poller: None,
    })
}

/// Matches the open packet and returns its sid.
fn check_open(open: &Data, setup: &SessionSetup<'_>, vars: &mut Vars) -> Result<String, StepError> {
    let pattern = Pattern::Json {
        prefix: "0".to_owned(),
        value: setup.open_json.clone(),
    };
    let expected = format!("an open packet {pattern}");
    match match_data(&pattern, open, vars) {
        Ok(()) => {}
        Err(MatchError::Mismatch(why)) => {
            return Err(StepError::unmet(expected, format!("{open:?}: {why}")))
        }
        Err(MatchError::Invalid(error)) => return Err(error),
    }
    let sid = match open {
        Data::Text(text) => serde_json::from_str::<serde_json::Value>(&text[1..])
            .ok()
            .and_then(|json| json.get("sid")?.as_str().map(str::to_owned)),
        Data::Binary(_) => None,
    };
    sid.ok_or_else(|| StepError::unmet("an open packet with a string sid", format!("{open:?}")))
}

/// The polling payload of some packets: joined by `\x1e`, binary as `b<base64>`.
fn encode_payload(packets: &[Data]) -> String {
    packets
        .iter()
        .map(|packet| match packet {
            Data::Text(text) => text.clone(),
            Data::Binary(bytes) => {
                format!(
                    "b{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                )
            }
        })
        .collect::<Vec<_>>()
        .join("\u{1e}")
}

impl PollingLink {
    fn request(&self, method: &str, body: &str) -> HttpRequest {
        let headers = if method == "POST" {
            vec![(
                "Content-Type".to_owned(),
                "text/plain;charset=UTF-8".to_owned(),
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
    async fn post(&self, body: &str, deadline: Instant) -> Result<(), StepError> {
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
async fn poll_loop(
    link: Arc<PollingLink>,
    inbox: mpsc::UnboundedSender<Incoming>,
    auto_pong: bool,
    paused: Arc<AtomicBool>,
    poll_timeout: Duration,
) {
    let mut backoff = NoopBackoff::default();
    while !paused.load(Ordering::SeqCst) {
        backoff.wait().await;
        let request = link.request("GET", "");
        let deadline = Instant::now() + poll_timeout;
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
        let text = String::from_utf8_lossy(&response.body).into_owned();
        backoff.after(text.split('\u{1e}').all(|packet| packet == "6"));
        for packet in text.split('\u{1e}').map(polling_packet) {
            match &packet {
                Data::Text(text) if text == "6" => {}
                Data::Text(text) if text == "1" => {
                    let _ = inbox.send(Incoming::closed("a close packet 1".to_owned()));
                    return;
                }
                Data::Text(text) if text == "2" && auto_pong => {
                    let deadline = Instant::now() + poll_timeout;
                    let _ = link.post("3", deadline).await;
                }
                _ => {
                    let _ = inbox.send(Incoming::Data(packet));
                }
            }
        }
    }
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
