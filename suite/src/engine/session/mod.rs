//! The abstract Engine.IO session, mapped onto a transport: HTTP long-polling (a GET always
//! pending, POSTs one at a time), WebSocket, or polling upgraded to WebSocket the way the
//! spec's client does it (pause polling, probe, upgrade).
//!
//! Whatever the transport, received packets land in one [`Inbox`], through the same
//! [`rules`]: noop packets `6` are transport mechanics and are left out (they stay in the
//! transcript), a close packet `1` ends the session, and the automatic heartbeat is taken care
//! of.
//!
//! The automatic heartbeat depends on the protocol. In protocol 4 the server pings: every ping
//! `2` is answered with `3` and left out of the inbox. In protocol 3 the client pings: a pinger
//! task sends `2` every `pingInterval` (the target's declared option) from the open onward,
//! over whatever link the session is on at that moment, and the server's pongs `3` are left out
//! of the inbox; a ping from the server is never answered.
//!
//! Protocol 3 frames packets differently: a polling body is a v3 payload (`<length>:<packet>`
//! repeated, lengths in UTF-16 code units; binary as `b4<base64>`), or, when the response's
//! `Content-Type` is `application/octet-stream`, a v3 binary payload; a binary packet carries
//! its type as its first byte. A binary message is the session's [`Data::Binary`] with its data
//! only, as in protocol 4.

pub(crate) mod rules;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Mutex};
use tokio::time::{Instant, MissedTickBehavior};

use super::error::StepError;
use super::http::{self, HttpRequest, HttpResponse};
use super::inbox::{Inbox, Incoming, Next};
use super::matching::{match_data, MatchError};
use super::transcript::{EventKind, WireData};
use super::vars::Vars;
use super::websocket::{self, Framing, WsConnection, WsOpen, WsRequest};
use super::wire::{AbortOnDrop, Wire};
use crate::protocol::engine_io::{self, v3, v4, PacketType, PING_PROBE, PONG_PROBE};
use crate::scenario::{Data, Pattern, Transport};
use rules::{AutoHeartbeat, Handling, PacketRules, CLOSED_BY_PACKET};

/// What opening a session needs to know.
pub(crate) struct SessionSetup<'a> {
    pub(crate) actor: &'a str,
    /// The endpoint's path, such as `/engine.io/`.
    pub(crate) path: &'a str,
    pub(crate) eio: u8,
    pub(crate) transport: Transport,
    /// The engine takes care of the heartbeat (`heartbeat: auto`).
    pub(crate) auto_heartbeat: bool,
    /// The target's declared `pingInterval`: how often a protocol 3 session pings.
    pub(crate) ping_interval: Duration,
    /// Extra handshake query parameters.
    pub(crate) extra_query: Option<String>,
    /// The open packet's JSON, matched structurally.
    pub(crate) open_json: serde_json::Value,
    /// How long the server may hold a polling GET (or take to answer a POST of the engine's
    /// own) before it counts as stalled.
    pub(crate) poll_timeout: Duration,
    /// By when the open (and, for `upgrade`, the upgrade) must be done.
    pub(crate) deadline: Instant,
}

/// The Engine.IO protocol revision a session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    V3,
    V4,
}

impl Protocol {
    fn of(eio: u8) -> Result<Protocol, StepError> {
        match eio {
            3 => Ok(Protocol::V3),
            4 => Ok(Protocol::V4),
            other => Err(StepError::Invalid(format!(
                "Engine.IO v{other} sessions are not implemented by the engine"
            ))),
        }
    }

    /// What the engine does by itself about the heartbeat, when it is automatic.
    fn heartbeat(self, auto: bool) -> AutoHeartbeat {
        match (auto, self) {
            (false, _) => AutoHeartbeat::Off,
            (true, Protocol::V4) => AutoHeartbeat::AnswerPings,
            (true, Protocol::V3) => AutoHeartbeat::DropPongs,
        }
    }

    /// How a session's WebSocket reader reads frames.
    fn framing(self) -> Framing {
        match self {
            Protocol::V3 => Framing::V3Session,
            Protocol::V4 => Framing::AsIs,
        }
    }
}

/// An open session.
pub(crate) struct Session {
    /// The session id from the open packet.
    pub(crate) sid: String,
    /// Everything received, in order.
    pub(crate) inbox: Inbox,
    /// Feeds `inbox`; handed to the WebSocket of an upgrade.
    sender: mpsc::UnboundedSender<Incoming>,
    protocol: Protocol,
    rules: PacketRules,
    /// The link the session is on; shared with the pinger, switched by the upgrade.
    route: Arc<Mutex<Route>>,
    poller: Option<Poller>,
    /// Protocol 3's automatic pings; they end with the session.
    _pinger: Option<AbortOnDrop<()>>,
}

/// The link a session sends on.
#[derive(Clone)]
enum Route {
    Polling(Arc<PollingLink>),
    WebSocket(Arc<WsConnection>),
}

struct Poller {
    paused: Arc<AtomicBool>,
    /// Turns true once the poller has sent its first GET.
    polling: watch::Receiver<bool>,
    task: AbortOnDrop<()>,
}

/// What the polling transport needs for its requests.
struct PollingLink {
    wire: Wire,
    actor: String,
    protocol: Protocol,
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
        let protocol = Protocol::of(setup.eio)?;
        let mut session = match setup.transport {
            Transport::Polling | Transport::Upgrade => {
                open_polling(wire, setup, protocol, vars).await?
            }
            Transport::Websocket => open_websocket(wire, setup, protocol, vars).await?,
        };
        if protocol == Protocol::V3 && setup.auto_heartbeat {
            // From the open onward, so that the upgrade's own wait is covered too.
            let pinger = Pinger {
                wire: wire.clone(),
                actor: setup.actor.to_owned(),
                route: Arc::clone(&session.route),
                interval: setup.ping_interval,
                timeout: setup.poll_timeout,
            };
            session._pinger = Some(AbortOnDrop(tokio::spawn(pinger.run())));
        }
        if setup.transport == Transport::Upgrade {
            session.upgrade(wire, setup).await?;
        }
        Ok(session)
    }

    /// Sends packets: over polling in one POST, over WebSocket one frame each.
    pub(crate) async fn send(&self, packets: &[Data], deadline: Instant) -> Result<(), StepError> {
        let route = tokio::time::timeout_at(deadline, self.route.lock())
            .await
            .map_err(|_| {
                StepError::unmet(
                    "the session's link free to send on",
                    "an automatic ping held it past the deadline",
                )
            })?
            .clone();
        route.send(self.protocol, packets, deadline).await
    }

    /// The spec's upgrade, in its order: pause polling (no new request; the pending GET stays),
    /// open a WebSocket with the sid, send `2probe`, get `3probe`; the server must then answer
    /// the pending GET (with a noop); then send `5`.
    async fn upgrade(&mut self, wire: &Wire, setup: &SessionSetup<'_>) -> Result<(), StepError> {
        if let Some(poller) = &mut self.poller {
            // A client upgrades a session that is polling: without this, the pause could come
            // before the first GET, and the server's answer to a pending GET (a noop) would go
            // unchecked. A poller that has ended already has nothing to wait for.
            let _ = tokio::time::timeout_at(
                setup.deadline,
                poller.polling.wait_for(|polling| *polling),
            )
            .await;
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
            rules: self.rules,
            framing: self.protocol.framing(),
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
            .send(&Data::Text(PING_PROBE.to_owned()), setup.deadline)
            .await?;
        self.await_probe_answer(setup.deadline).await?;
        self.await_poller_end(setup.deadline).await?;
        // The switch holds the route: a ping is never POSTed after the `5`, when the server
        // no longer takes polling requests for the session.
        let mut route = tokio::time::timeout_at(setup.deadline, self.route.lock())
            .await
            .map_err(|_| {
                StepError::unmet(
                    "the session's link free to send the upgrade on",
                    "an automatic ping held it past the deadline",
                )
            })?;
        connection
            .send(&PacketType::Upgrade.text(""), setup.deadline)
            .await?;
        wire.recorder.record(
            setup.actor,
            connection.channel(),
            EventKind::Note {
                text: "upgraded: the session goes on over this WebSocket".to_owned(),
            },
        );
        *route = Route::WebSocket(Arc::new(connection));
        Ok(())
    }

    /// Waits for [`PONG_PROBE`], keeping whatever else arrives meanwhile (packets of the pending
    /// GET) in the inbox, in order.
    async fn await_probe_answer(&mut self, deadline: Instant) -> Result<(), StepError> {
        let started = Instant::now();
        let mut others = Vec::new();
        let result = loop {
            match self.inbox.next(deadline).await {
                Next::Item(Incoming::Data(Data::Text(text))) if text == PONG_PROBE => break Ok(()),
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

impl Route {
    /// Sends packets: over polling in one POST, over WebSocket one frame each.
    async fn send(
        &self,
        protocol: Protocol,
        packets: &[Data],
        deadline: Instant,
    ) -> Result<(), StepError> {
        match self {
            Route::Polling(link) => {
                link.post(&encode_payload(protocol, packets)?, deadline)
                    .await
            }
            Route::WebSocket(connection) => {
                for packet in packets {
                    connection.send(&frame(protocol, packet), deadline).await?;
                }
                Ok(())
            }
        }
    }
}

/// Protocol 3's client heartbeat: a ping `2` every `interval` on the session's current link.
struct Pinger {
    wire: Wire,
    actor: String,
    route: Arc<Mutex<Route>>,
    interval: Duration,
    /// How long a ping's POST may take.
    timeout: Duration,
}

impl Pinger {
    /// Pings until a ping cannot be sent (the session is over): the route is held while a ping
    /// goes, so that the upgrade switches links between two pings.
    async fn run(self) {
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

async fn open_polling(
    wire: &Wire,
    setup: &SessionSetup<'_>,
    protocol: Protocol,
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
    let (open, rest) = handshake_packets(protocol, &response)?;
    let sid = check_open(&open, setup, vars)?;
    let (sender, mut inbox) = Inbox::new();
    inbox.put_back(rest.into_iter().map(Incoming::Data).collect());
    let link = Arc::new(PollingLink {
        wire: wire.clone(),
        actor: setup.actor.to_owned(),
        protocol,
        target: format!(
            "{}?EIO={}&transport=polling&sid={sid}",
            setup.path, setup.eio
        ),
        post_lane: Mutex::new(()),
    });
    let rules = PacketRules::session(protocol.heartbeat(setup.auto_heartbeat));
    let paused = Arc::new(AtomicBool::new(false));
    let (polling_sender, polling) = watch::channel(false);
    let task = tokio::spawn(poll_loop(
        Arc::clone(&link),
        sender.clone(),
        rules,
        Arc::clone(&paused),
        polling_sender,
        setup.poll_timeout,
    ));
    Ok(Session {
        sid,
        inbox,
        sender,
        protocol,
        rules,
        route: Arc::new(Mutex::new(Route::Polling(link))),
        poller: Some(Poller {
            paused,
            polling,
            task: AbortOnDrop(task),
        }),
        _pinger: None,
    })
}

/// The handshake response's open packet, and the packets after it.
fn handshake_packets(
    protocol: Protocol,
    response: &HttpResponse,
) -> Result<(Data, Vec<Data>), StepError> {
    let expected = "200 with a polling payload whose first packet is an open packet";
    if response.status != 200 {
        return Err(StepError::unmet(expected, response.describe()));
    }
    let mut packets = decode_poll_body(protocol, response)
        .map_err(|why| StepError::unmet(expected, format!("{}: {why}", response.describe())))?
        .into_iter();
    let Some(open) = packets.next() else {
        return Err(StepError::unmet(
            expected,
            format!("{}: no packet", response.describe()),
        ));
    };
    Ok((open, packets.collect()))
}

async fn open_websocket(
    wire: &Wire,
    setup: &SessionSetup<'_>,
    protocol: Protocol,
    vars: &mut Vars,
) -> Result<Session, StepError> {
    let mut target = format!("{}?EIO={}&transport=websocket", setup.path, setup.eio);
    if let Some(extra) = &setup.extra_query {
        target = format!("{target}&{extra}");
    }
    let rules = PacketRules::session(protocol.heartbeat(setup.auto_heartbeat));
    let request = WsRequest {
        actor: setup.actor,
        channel: wire.channel("ws"),
        target,
        headers: Vec::new(),
        rules,
        framing: protocol.framing(),
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
        protocol,
        rules,
        route: Arc::new(Mutex::new(Route::WebSocket(Arc::new(connection)))),
        poller: None,
        _pinger: None,
    })
}

/// Matches the open packet and returns its sid.
fn check_open(open: &Data, setup: &SessionSetup<'_>, vars: &mut Vars) -> Result<String, StepError> {
    let pattern = Pattern::Json {
        prefix: PacketType::Open.bare().to_owned(),
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

/// The body of a POST of some packets.
fn encode_payload(protocol: Protocol, packets: &[Data]) -> Result<String, StepError> {
    match protocol {
        Protocol::V4 => Ok(v4::encode_payload(packets)),
        Protocol::V3 => {
            let packets: Vec<Data> = packets
                .iter()
                .map(|packet| frame(protocol, packet))
                .collect();
            v3::encode_text_payload(&packets)
                .map_err(|error| StepError::Invalid(format!("cannot encode a v3 payload: {error}")))
        }
    }
}

/// The WebSocket frame of a packet: in protocol 3 a binary message carries its type byte 4
/// first.
fn frame(protocol: Protocol, packet: &Data) -> Data {
    match (protocol, packet) {
        (Protocol::V3, Data::Binary(bytes)) => v3::binary_message(bytes),
        (_, packet) => packet.clone(),
    }
}

/// A protocol 3 binary packet as a session sees it: a message (type byte 4) is its data, as in
/// protocol 4; any other packet stays whole, type byte included, so that a step expecting a
/// message shows the difference.
pub(crate) fn v3_session_binary(packet: Vec<u8>) -> Data {
    match v3::message_data(&packet) {
        Some(data) => Data::Binary(data.to_vec()),
        None => Data::Binary(packet),
    }
}

/// A packet of a polling body as a session sees it: decoded when it decodes, its text
/// otherwise, so that a step expecting something else shows what came.
fn session_packet(protocol: Protocol, packet: &str) -> Data {
    let decoded = match protocol {
        Protocol::V4 => v4::decode_packet(packet),
        Protocol::V3 => v3::decode_packet(packet).map(|decoded| match decoded {
            Data::Binary(bytes) => v3_session_binary(bytes),
            text => text,
        }),
    };
    decoded.unwrap_or_else(|_| Data::Text(packet.to_owned()))
}

/// The packets of a polling GET's body, as the session sees them.
fn decode_poll_body(protocol: Protocol, response: &HttpResponse) -> Result<Vec<Data>, String> {
    match protocol {
        Protocol::V4 => Ok(v4::split_payload(&String::from_utf8_lossy(&response.body))
            .map(|packet| session_packet(protocol, packet))
            .collect()),
        Protocol::V3 if is_octet_stream(response) => {
            let records = v3::split_binary_payload(&response.body)
                .map_err(|why| format!("not a v3 binary payload: {why}"))?;
            Ok(records
                .into_iter()
                .map(|record| match record {
                    Data::Binary(bytes) => v3_session_binary(bytes),
                    text => text,
                })
                .collect())
        }
        Protocol::V3 => {
            let text = std::str::from_utf8(&response.body)
                .map_err(|_| "not a v3 payload: not UTF-8".to_owned())?;
            let packets =
                v3::split_text_payload(text).map_err(|why| format!("not a v3 payload: {why}"))?;
            Ok(packets
                .into_iter()
                .map(|packet| session_packet(protocol, packet))
                .collect())
        }
    }
}

/// Whether a response's `Content-Type` is `application/octet-stream` (a v3 binary payload).
fn is_octet_stream(response: &HttpResponse) -> bool {
    http::header(&response.headers, "content-type").is_some_and(|value| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case(v3::BINARY_CONTENT_TYPE)
    })
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

    fn text(text: &str) -> Data {
        Data::Text(text.to_owned())
    }

    #[test]
    fn posts_are_payloads_of_the_session_protocol() {
        assert_eq!(
            encode_payload(Protocol::V3, &[text("4€"), Data::Binary(vec![1, 2, 3, 4])]),
            Ok("2:4€10:b4AQIDBA==".to_owned())
        );
        assert_eq!(
            encode_payload(Protocol::V4, &[text("4a"), Data::Binary(vec![1, 2, 3])]),
            Ok("4a\u{1e}bAQID".to_owned())
        );
    }

    #[test]
    fn v3_websocket_binary_messages_carry_their_type_byte() {
        assert_eq!(
            frame(Protocol::V3, &Data::Binary(vec![1, 2, 3])),
            Data::Binary(vec![4, 1, 2, 3])
        );
        assert_eq!(frame(Protocol::V3, &text("4a")), text("4a"));
        assert_eq!(
            frame(Protocol::V4, &Data::Binary(vec![1, 2, 3])),
            Data::Binary(vec![1, 2, 3])
        );
    }

    fn response(content_type: &str, body: &[u8]) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body: body.to_vec(),
        }
    }

    #[test]
    fn v3_poll_bodies_are_read_by_their_content_type() {
        let plain = "text/plain; charset=UTF-8";
        assert_eq!(
            decode_poll_body(Protocol::V3, &response(plain, b"6:4hello10:b4AQIDBA==1:3")),
            Ok(vec![
                text("4hello"),
                Data::Binary(vec![1, 2, 3, 4]),
                text("3")
            ])
        );
        let binary = [
            0x00, 0x06, 0xFF, 0x34, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x01, 0x05, 0xFF, 0x04, 0x01,
            0x02, 0x03, 0x04, 0x01, 0x02, 0xFF, 0x02, 0x09,
        ];
        assert_eq!(
            decode_poll_body(Protocol::V3, &response("Application/Octet-Stream", &binary)),
            Ok(vec![
                text("4hello"),
                Data::Binary(vec![1, 2, 3, 4]),
                // Not a message: whole, so that a step expecting one shows it.
                Data::Binary(vec![2, 9]),
            ])
        );
        // The same bytes under another type are not a text payload.
        assert!(decode_poll_body(Protocol::V3, &response(plain, &binary)).is_err());
        // Lengths in bytes, not UTF-16 units.
        assert!(decode_poll_body(Protocol::V3, &response(plain, "4:4€".as_bytes())).is_err());
        assert_eq!(
            decode_poll_body(Protocol::V4, &response(plain, b"4a\x1ebAQID")),
            Ok(vec![text("4a"), Data::Binary(vec![1, 2, 3])])
        );
    }

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
