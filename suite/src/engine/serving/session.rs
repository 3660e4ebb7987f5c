//! The abstract Engine.IO session on the server's side, for client-role cases: the engine
//! answers the client's handshake with an open packet and then carries packets both ways over
//! HTTP long-polling (a GET held until there is something to send, POSTs read and answered
//! `ok`), over WebSocket, or over polling upgraded to WebSocket the way the spec's server does
//! it (`2probe` answered `3probe`, the held GET answered with a noop, then `5`).
//!
//! Whatever the transport, what the client sends lands in one [`Inbox`]: a packet is
//! [`Data::Text`] with its type character (`4hello`), or [`Data::Binary`] for a binary
//! message, its data only, in both protocols. A close packet `1` from the client, or the end of
//! its WebSocket, ends the session, and the inbox says so.
//!
//! The automatic heartbeat is the server's half of it. In protocol 4 the server pings: the
//! engine sends `2` every `pingInterval` from the open onward and leaves the client's pongs
//! `3` out of the inbox. In protocol 3 the client pings: every ping `2` (with its data) is
//! answered with a pong `3` (with the same data) and left out of the inbox.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch, Mutex};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use super::super::error::StepError;
use super::super::inbox::{Closure, Inbox, Incoming};
use super::super::transcript::{EventKind, Recorder, WireData};
use super::super::wire::AbortOnDrop;
use super::listener::{Arrival, Received, Reply, Routes, ServerStream, ACTOR};
use crate::protocol::engine_io::{v3, v4, PacketType, PROBE};
use crate::scenario::Data;

type Sink = Arc<Mutex<Option<SplitSink<ServerStream, Message>>>>;

/// What a session is opened with.
#[derive(Debug, Clone)]
pub(crate) struct SessionConfig {
    pub(crate) sid: String,
    pub(crate) eio: u8,
    /// The open packet, as sent (`0{"sid":…}`).
    pub(crate) open_packet: String,
    pub(crate) ping_interval: Duration,
    /// The engine keeps the heartbeat by itself (`heartbeat: auto`).
    pub(crate) auto_heartbeat: bool,
    /// How the engine treats a WebSocket the client opens to upgrade this polling session.
    pub(crate) upgrade: UpgradeHandling,
    /// The `maxPayload` announced (protocol 4): a POST over it gets 413 and ends the session,
    /// as the official server does.
    pub(crate) max_payload: Option<u64>,
    /// Headers added to the answer of a polling handshake.
    pub(crate) open_headers: Vec<(String, String)>,
}

/// How the engine treats a WebSocket opened to upgrade a polling session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpgradeHandling {
    /// None is offered: such a WebSocket is refused with 400.
    Refuse,
    /// The spec's upgrade, served by the session.
    Serve,
    /// Left to the steps: the request goes to the front door, where `ws_accept` takes it.
    Steps,
}

/// A live session.
pub(crate) struct ServedSession {
    pub(crate) sid: String,
    /// What the client sent, in order.
    pub(crate) inbox: Inbox,
    link: Arc<Link>,
    /// Turns true once the client has completed an upgrade (sent `5`).
    upgraded: watch::Receiver<bool>,
    _tasks: Vec<AbortOnDrop<()>>,
}

/// What the session's tasks share: how to send, and where packets go.
struct Link {
    eio: u8,
    sid: String,
    auto_heartbeat: bool,
    max_payload: Option<u64>,
    recorder: Recorder,
    routes: Routes,
    inbox: mpsc::UnboundedSender<Incoming>,
    state: Mutex<State>,
    /// Turns true when the engine ends the session: WebSocket readers then let go of their
    /// half of the connection, so that it ends.
    closing: watch::Sender<bool>,
    /// Set once the probe is answered: a GET that comes while the client finishes its upgrade
    /// gets a noop at once instead of being held, as the official server does, so the
    /// client's polling can pause.
    upgrading: std::sync::atomic::AtomicBool,
    /// How long each POST's answer is held (`hold_posts`); none by default.
    post_hold: std::sync::Mutex<Option<Duration>>,
    /// Whether a held POST is still unanswered.
    post_pending: Arc<std::sync::atomic::AtomicBool>,
    /// How many polling GETs the session has had, for `no_poll`.
    gets: watch::Sender<u64>,
}

/// The transport of the moment.
enum State {
    Polling {
        /// Packets waiting for the client's next GET.
        queue: Vec<Data>,
        /// The client's GET, held until there is something to send.
        held: Option<Arrival>,
    },
    WebSocket {
        channel: String,
        sink: Sink,
    },
    /// Ended by the engine with a close packet while no GET was held: the packets (the `1`
    /// last) wait for the client's next GET, which ends the session, as a spec server's
    /// deferred close does. Nothing else is accepted.
    Closing {
        queue: Vec<Data>,
    },
    /// Ended by either side.
    Closed,
}

impl ServedSession {
    /// Answers a polling handshake with the open packet and starts serving the session.
    pub(crate) fn polling(
        handshake: Arrival,
        config: &SessionConfig,
        routes: &Routes,
        recorder: &Recorder,
    ) -> ServedSession {
        let open = Data::Text(config.open_packet.clone());
        let body = encode_payload(config.eio, &[open]);
        let mut reply = Reply::text(200, "text/plain; charset=UTF-8", body);
        if let Reply::Http { headers, .. } = &mut reply {
            headers.extend(config.open_headers.iter().cloned());
        }
        let state = State::Polling {
            queue: Vec::new(),
            held: None,
        };
        // The session's routes first: a quick client's next request (its WebSocket, on
        // another worker thread) may come before this thread goes on after the answer.
        let session = ServedSession::start(config, state, routes, recorder);
        handshake.answer(reply);
        session
    }

    /// Accepts a WebSocket handshake, sends the open packet as its first frame, and starts
    /// serving the session over it.
    pub(crate) async fn websocket(
        handshake: Arrival,
        config: &SessionConfig,
        routes: &Routes,
        recorder: &Recorder,
        deadline: Instant,
    ) -> Result<ServedSession, StepError> {
        let channel = handshake.channel.clone();
        let stream = accept_websocket(handshake, deadline).await?;
        let (sink, stream) = stream.split();
        let sink: Sink = Arc::new(Mutex::new(Some(sink)));
        let state = State::WebSocket {
            channel: channel.clone(),
            sink: Arc::clone(&sink),
        };
        let mut session = ServedSession::start(config, state, routes, recorder);
        session
            .link
            .send_frame(&sink, &channel, &Data::Text(config.open_packet.clone()))
            .await;
        let link = Arc::clone(&session.link);
        let reader = tokio::spawn(async move { link.read_websocket(stream, channel).await });
        session._tasks.push(AbortOnDrop(reader));
        Ok(session)
    }

    fn start(
        config: &SessionConfig,
        state: State,
        routes: &Routes,
        recorder: &Recorder,
    ) -> ServedSession {
        let (sender, inbox) = Inbox::new();
        let link = Arc::new(Link {
            eio: config.eio,
            sid: config.sid.clone(),
            auto_heartbeat: config.auto_heartbeat,
            max_payload: config.max_payload,
            recorder: recorder.clone(),
            routes: routes.clone(),
            inbox: sender,
            state: Mutex::new(state),
            closing: watch::channel(false).0,
            upgrading: std::sync::atomic::AtomicBool::new(false),
            post_hold: std::sync::Mutex::new(None),
            post_pending: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            gets: watch::channel(0).0,
        });
        let (arrivals_sender, arrivals) = mpsc::unbounded_channel();
        routes.open(&config.sid, arrivals_sender);
        let (upgraded_sender, upgraded) = watch::channel(false);
        let driver = Driver {
            link: Arc::clone(&link),
            upgrade: config.upgrade,
            upgraded: Arc::new(upgraded_sender),
            tasks: Vec::new(),
        };
        let mut tasks = vec![AbortOnDrop(tokio::spawn(driver.run(arrivals)))];
        if config.auto_heartbeat && config.eio == 4 {
            let link = Arc::clone(&link);
            let interval = config.ping_interval;
            tasks.push(AbortOnDrop(tokio::spawn(async move {
                link.ping_every(interval).await;
            })));
        }
        ServedSession {
            sid: config.sid.clone(),
            inbox,
            link,
            upgraded,
            _tasks: tasks,
        }
    }

    /// Sends packets: over polling in the answer to the client's next GET (all of them in one
    /// payload), over WebSocket one frame each.
    pub(crate) async fn send(&self, packets: &[Data]) -> Result<(), StepError> {
        if self.link.send(packets).await {
            Ok(())
        } else {
            Err(StepError::unmet(
                "a session open to send on",
                "the session is closed",
            ))
        }
    }

    /// Holds the answer to each later POST for `hold`, so that a second POST sent before the
    /// first is answered shows.
    pub(crate) fn hold_posts(&self, hold: Duration) {
        if let Ok(mut post_hold) = self.link.post_hold.lock() {
            *post_hold = Some(hold);
        }
    }

    /// Expects no polling GET in the session for `duration` (a client that paused polling).
    pub(crate) async fn no_poll(&self, duration: Duration) -> Result<(), StepError> {
        let mut gets = self.link.gets.subscribe();
        gets.mark_unchanged();
        let started = Instant::now();
        match tokio::time::timeout(duration, gets.changed()).await {
            Err(_) | Ok(Err(_)) => Ok(()),
            Ok(Ok(())) => Err(StepError::unmet(
                format!("no polling GET for {} ms", duration.as_millis()),
                format!("a polling GET after {} ms", started.elapsed().as_millis()),
            )),
        }
    }

    /// Waits until the client has upgraded the session (sent `5` on the new WebSocket).
    pub(crate) async fn await_upgrade(&mut self, deadline: Instant) -> Result<(), StepError> {
        let started = Instant::now();
        match tokio::time::timeout_at(deadline, self.upgraded.wait_for(|done| *done)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(StepError::unmet(
                "the client's upgrade to WebSocket",
                "the session ended first",
            )),
            Err(_) => Err(StepError::nothing_within(
                "the client's upgrade to WebSocket (a WebSocket with the sid, `2probe`, then `5`)",
                started.elapsed(),
            )),
        }
    }

    /// Ends the session from the server's side: with a close packet `1` (`packet`), or by
    /// ending the transport without one (`drop`): the held GET's connection, or the WebSocket's.
    pub(crate) async fn close(&self, with_packet: bool) {
        self.link.close(with_packet).await;
    }
}

impl Drop for ServedSession {
    fn drop(&mut self) {
        self.link.routes.close(&self.sid);
    }
}

/// Handles the requests that carry the session's sid.
struct Driver {
    link: Arc<Link>,
    upgrade: UpgradeHandling,
    upgraded: Arc<watch::Sender<bool>>,
    tasks: Vec<AbortOnDrop<()>>,
}

impl Driver {
    async fn run(mut self, mut arrivals: mpsc::UnboundedReceiver<Arrival>) {
        while let Some(arrival) = arrivals.recv().await {
            let request = &arrival.request;
            if request.websocket {
                self.on_websocket(arrival).await;
            } else if request.method == "GET" {
                self.link.on_get(arrival).await;
            } else if request.method == "POST" {
                self.link.on_post(arrival).await;
            } else {
                self.link.note(&format!(
                    "a {} request for the session: answered 400",
                    request.method
                ));
                arrival.answer(Reply::text(400, "text/plain", "Bad request"));
            }
        }
    }

    /// A WebSocket with the sid: the client upgrades.
    async fn on_websocket(&mut self, arrival: Arrival) {
        let polling = matches!(*self.link.state.lock().await, State::Polling { .. });
        if self.upgrade == UpgradeHandling::Steps {
            self.link.routes.to_front(arrival);
            return;
        }
        if self.upgrade == UpgradeHandling::Refuse || !polling {
            self.link
                .note("a WebSocket with the sid where no upgrade is offered: refused with 400");
            arrival.answer(Reply::text(
                400,
                "application/json",
                r#"{"code":3,"message":"Bad request"}"#,
            ));
            return;
        }
        let channel = arrival.channel.clone();
        let (deliver, delivered) = oneshot::channel();
        arrival.answer(Reply::Accept(deliver));
        let link = Arc::clone(&self.link);
        let upgraded = Arc::clone(&self.upgraded);
        self.tasks.push(AbortOnDrop(tokio::spawn(async move {
            if let Ok(stream) = delivered.await {
                link.serve_upgrade(stream, channel, &upgraded).await;
            }
        })));
    }
}

impl Link {
    fn note(&self, text: &str) {
        self.recorder.record(
            ACTOR,
            "session",
            EventKind::Note {
                text: text.to_owned(),
            },
        );
    }

    fn deliver(&self, item: Incoming) {
        let _ = self.inbox.send(item);
    }

    /// Ends the session because of what the client did.
    async fn end_by_client(&self, detail: &str) {
        let mut state = self.state.lock().await;
        if let State::Polling {
            held: Some(held), ..
        } = std::mem::replace(&mut *state, State::Closed)
        {
            held.answer(Reply::text(
                200,
                "text/plain; charset=UTF-8",
                encode_payload(self.eio, &[bare(PacketType::Noop)]),
            ));
        }
        *state = State::Closed;
        self.routes.close(&self.sid);
        self.deliver(Incoming::closed(detail));
    }

    async fn on_get(&self, arrival: Arrival) {
        self.gets.send_modify(|count| *count += 1);
        let mut state = self.state.lock().await;
        match &mut *state {
            State::Polling { held: Some(_), .. } => {
                drop(state);
                arrival.answer(Reply::text(
                    400,
                    "application/json",
                    r#"{"code":3,"message":"Bad request"}"#,
                ));
                self.end_by_client(
                    "the client sent a GET while another was pending (\"the client MUST NOT have more than one active GET\"): answered 400",
                )
                .await;
            }
            State::Polling { queue, .. }
                if queue.is_empty() && self.upgrading.load(std::sync::atomic::Ordering::SeqCst) =>
            {
                arrival.answer(self.payload_reply(&[bare(PacketType::Noop)]));
            }
            State::Polling { queue, held } if queue.is_empty() => *held = Some(arrival),
            State::Polling { queue, .. } => {
                let packets = std::mem::take(queue);
                arrival.answer(self.payload_reply(&packets));
            }
            State::Closing { queue } => {
                let packets = std::mem::take(queue);
                *state = State::Closed;
                drop(state);
                arrival.answer(self.payload_reply(&packets));
                self.routes.close(&self.sid);
            }
            State::WebSocket { .. } | State::Closed => {
                drop(state);
                self.note("a polling GET for a session no longer on polling: answered 400");
                arrival.answer(Reply::unknown_session());
            }
        }
    }

    async fn on_post(&self, arrival: Arrival) {
        let on_polling = matches!(*self.state.lock().await, State::Polling { .. });
        if !on_polling {
            self.note("a polling POST for a session no longer on polling: answered 400");
            arrival.answer(Reply::unknown_session());
            return;
        }
        if self.post_pending.load(Ordering::SeqCst) {
            arrival.answer(Reply::text(
                400,
                "application/json",
                r#"{"code":3,"message":"Bad request"}"#,
            ));
            self.end_by_client(
                "the client sent a POST while another was unanswered (\"a client MUST NOT have more than one active POST request\"): answered 400",
            )
            .await;
            return;
        }
        let size = arrival.request.body.len();
        if let Some(max) = self
            .max_payload
            .filter(|max| u64::try_from(size).unwrap_or(u64::MAX) > *max)
        {
            arrival.answer(Reply::text(413, "text/plain", "Payload Too Large"));
            self.end_by_client(&format!(
                "the client POSTed {size} bytes, over the maxPayload of {max} it was given (\"The client SHOULD use the maxPayload value sent during the handshake to decide how many packets should be concatenated\"): answered 413, as the official server does"
            ))
            .await;
            return;
        }
        let packets = match decode_payload(self.eio, &arrival.request) {
            Ok(packets) => packets,
            Err(why) => {
                arrival.answer(Reply::text(
                    400,
                    "application/json",
                    r#"{"code":3,"message":"Bad request"}"#,
                ));
                self.end_by_client(&format!(
                    "the client POSTed a body that is not a payload: {why}"
                ))
                .await;
                return;
            }
        };
        self.answer_post(arrival);
        for packet in packets {
            if self.on_packet(packet).await == Flow::Ended {
                return;
            }
        }
    }

    /// Answers a POST `ok`: at once, or after the hold `hold_posts` set, during which the POST
    /// counts as active.
    fn answer_post(&self, arrival: Arrival) {
        let hold = self.post_hold.lock().ok().and_then(|hold| *hold);
        let Some(hold) = hold else {
            arrival.answer(Reply::text(200, "text/html", "ok"));
            return;
        };
        self.post_pending.store(true, Ordering::SeqCst);
        let pending = Arc::clone(&self.post_pending);
        // Not kept in the session's tasks: it ends by itself after `hold`, and a session that
        // ended meanwhile only makes its answer go nowhere.
        tokio::spawn(async move {
            tokio::time::sleep(hold).await;
            pending.store(false, Ordering::SeqCst);
            arrival.answer(Reply::text(200, "text/html", "ok"));
        });
    }

    /// The session's packet rules, for a packet from either transport.
    async fn on_packet(&self, packet: Data) -> Flow {
        let text = match &packet {
            Data::Text(text) => text.as_str(),
            Data::Binary(_) => {
                self.deliver(Incoming::Data(packet));
                return Flow::Go;
            }
        };
        if text == PacketType::Close.bare() {
            self.end_by_client("the client sent a close packet 1").await;
            return Flow::Ended;
        }
        if self.auto_heartbeat && self.eio == 4 && text == PacketType::Pong.bare() {
            return Flow::Go;
        }
        if self.auto_heartbeat && self.eio == 3 && text.starts_with(PacketType::Ping.digit()) {
            let pong = format!("{}{}", PacketType::Pong.digit(), &text[1..]);
            self.send(&[Data::Text(pong)]).await;
            return Flow::Go;
        }
        self.deliver(Incoming::Data(packet));
        Flow::Go
    }

    fn payload_reply(&self, packets: &[Data]) -> Reply {
        Reply::text(
            200,
            "text/plain; charset=UTF-8",
            encode_payload(self.eio, packets),
        )
    }

    /// Sends packets on the transport of the moment; false when the session is closed.
    async fn send(&self, packets: &[Data]) -> bool {
        let mut state = self.state.lock().await;
        match &mut *state {
            State::Polling { queue, held } => {
                queue.extend(packets.iter().cloned());
                if let Some(get) = held.take() {
                    let packets = std::mem::take(queue);
                    get.answer(self.payload_reply(&packets));
                }
                true
            }
            State::WebSocket { channel, sink } => {
                let (channel, sink) = (channel.clone(), Arc::clone(sink));
                drop(state);
                for packet in packets {
                    self.send_frame(&sink, &channel, packet).await;
                }
                true
            }
            State::Closing { .. } | State::Closed => false,
        }
    }

    async fn send_frame(&self, sink: &Sink, channel: &str, packet: &Data) {
        let message = match (packet, self.eio) {
            (Data::Text(text), _) => Message::text(text.clone()),
            (Data::Binary(bytes), 3) => match v3::binary_message(bytes) {
                Data::Binary(framed) => Message::binary(framed),
                Data::Text(text) => Message::text(text),
            },
            (Data::Binary(bytes), _) => Message::binary(bytes.clone()),
        };
        let frame = match &message {
            Message::Binary(bytes) => WireData::Binary(bytes.to_vec()),
            _ => WireData::frame(packet),
        };
        if let Some(sink) = sink.lock().await.as_mut() {
            if sink.send(message).await.is_ok() {
                self.recorder
                    .record(ACTOR, channel, EventKind::FrameSent { frame });
            }
        }
    }

    async fn ping_every(&self, interval: Duration) {
        let mut ticks = tokio::time::interval_at(Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if !self.send(&[bare(PacketType::Ping)]).await {
                return;
            }
        }
    }

    async fn close(&self, with_packet: bool) {
        let mut state = self.state.lock().await;
        let previous = std::mem::replace(&mut *state, State::Closed);
        if let State::Polling {
            mut queue,
            held: None,
        } = previous
        {
            if with_packet {
                // No GET to carry the `1`: it waits for the next one, which ends the session.
                queue.push(bare(PacketType::Close));
                *state = State::Closing { queue };
                drop(state);
                self.closing.send_replace(true);
                return;
            }
            drop(state);
            self.routes.close(&self.sid);
            self.closing.send_replace(true);
            return;
        }
        self.routes.close(&self.sid);
        drop(state);
        self.closing.send_replace(true);
        match previous {
            State::Polling { mut queue, held } => {
                if with_packet {
                    queue.push(bare(PacketType::Close));
                }
                match held {
                    Some(get) if with_packet => get.answer(self.payload_reply(&queue)),
                    Some(get) => get.answer(Reply::Drop),
                    None => {}
                }
            }
            State::WebSocket { channel, sink } => {
                if with_packet {
                    self.send_frame(&sink, &channel, &bare(PacketType::Close))
                        .await;
                    if let Some(sink) = sink.lock().await.as_mut() {
                        if sink.send(Message::Close(None)).await.is_ok() {
                            self.recorder.record(
                                ACTOR,
                                &channel,
                                EventKind::CloseSent { code: None },
                            );
                        }
                    }
                }
                // Dropping the writing half (the reader ends with the session) ends the
                // connection; without a close packet, that is all the client sees.
                sink.lock().await.take();
                self.recorder.record(
                    ACTOR,
                    &channel,
                    EventKind::Ended {
                        detail: "the engine ended the WebSocket".to_owned(),
                    },
                );
            }
            State::Closing { .. } | State::Closed => {}
        }
    }

    /// The upgrade, the spec's way: `2probe` answered `3probe`, the held GET answered with a
    /// noop so the client's polling can pause, then `5` moves the session to the WebSocket.
    async fn serve_upgrade(
        self: &Arc<Self>,
        stream: ServerStream,
        channel: String,
        upgraded: &watch::Sender<bool>,
    ) {
        let (sink, mut stream) = stream.split();
        let sink: Sink = Arc::new(Mutex::new(Some(sink)));
        let mut closing = self.closing.subscribe();
        while let Some(message) = next_unless_closing(&mut stream, &mut closing).await {
            let data = match self.frame_data(message, &channel) {
                Frame::Packet(data) => data,
                Frame::Control => continue,
                Frame::End => break,
            };
            match &data {
                Data::Text(text) if text.strip_prefix(PacketType::Ping.digit()) == Some(PROBE) => {
                    self.send_frame(&sink, &channel, &PacketType::Pong.text(PROBE))
                        .await;
                    self.upgrading
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    let mut state = self.state.lock().await;
                    if let State::Polling { held, .. } = &mut *state {
                        if let Some(get) = held.take() {
                            get.answer(self.payload_reply(&[bare(PacketType::Noop)]));
                        }
                    }
                }
                Data::Text(text) if text == PacketType::Upgrade.bare() => {
                    let queued = {
                        let mut state = self.state.lock().await;
                        let queued = match &mut *state {
                            State::Polling { queue, held } => {
                                if let Some(get) = held.take() {
                                    get.answer(self.payload_reply(&[bare(PacketType::Noop)]));
                                }
                                std::mem::take(queue)
                            }
                            _ => Vec::new(),
                        };
                        *state = State::WebSocket {
                            channel: channel.clone(),
                            sink: Arc::clone(&sink),
                        };
                        queued
                    };
                    self.recorder.record(
                        ACTOR,
                        &channel,
                        EventKind::Note {
                            text: "upgraded: the session goes on over this WebSocket".to_owned(),
                        },
                    );
                    for packet in &queued {
                        self.send_frame(&sink, &channel, packet).await;
                    }
                    let _ = upgraded.send(true);
                    self.read_messages(stream, channel).await;
                    return;
                }
                _ => {
                    self.deliver(Incoming::Data(data));
                }
            }
        }
        self.note("the upgrade's WebSocket ended before the client sent `5`");
    }

    async fn read_websocket(self: &Arc<Self>, stream: SplitStream<ServerStream>, channel: String) {
        self.read_messages(stream, channel).await;
    }

    /// Reads the session's WebSocket until it ends.
    async fn read_messages(&self, mut stream: SplitStream<ServerStream>, channel: String) {
        let mut closing = self.closing.subscribe();
        while let Some(message) = next_unless_closing(&mut stream, &mut closing).await {
            match message {
                Ok(Message::Close(frame)) => {
                    let code = frame.map(|frame| u16::from(frame.code));
                    self.recorder
                        .record(ACTOR, &channel, EventKind::CloseReceived { code });
                    self.end_websocket(Closure {
                        detail: format!("the client closed the WebSocket (code {code:?})"),
                        code: Some(code.unwrap_or(1005)),
                    })
                    .await;
                    return;
                }
                other => match self.frame_data(other, &channel) {
                    Frame::Packet(data) => {
                        if self.on_packet(data).await == Flow::Ended {
                            return;
                        }
                    }
                    Frame::Control => {}
                    Frame::End => break,
                },
            }
        }
        self.recorder.record(
            ACTOR,
            &channel,
            EventKind::Ended {
                detail: "the client's WebSocket ended".to_owned(),
            },
        );
        self.end_websocket(Closure {
            detail: "the client's WebSocket ended without a close frame".to_owned(),
            code: None,
        })
        .await;
    }

    async fn end_websocket(&self, closure: Closure) {
        let mut state = self.state.lock().await;
        if matches!(*state, State::Closed) {
            return;
        }
        *state = State::Closed;
        self.routes.close(&self.sid);
        self.deliver(Incoming::Closed(closure));
    }

    /// A frame as the session sees it, recorded: a packet, nothing (a control frame), or the
    /// end of the connection.
    fn frame_data(
        &self,
        message: Result<Message, tokio_tungstenite::tungstenite::Error>,
        channel: &str,
    ) -> Frame {
        let data = match message {
            Ok(Message::Text(text)) => Data::Text(text.as_str().to_owned()),
            Ok(Message::Binary(bytes)) => Data::Binary(bytes.to_vec()),
            Ok(Message::Ping(payload)) => {
                self.recorder.record(
                    ACTOR,
                    channel,
                    EventKind::PingReceived {
                        payload: WireData::body(&payload),
                    },
                );
                return Frame::Control;
            }
            Ok(Message::Pong(payload)) => {
                self.recorder.record(
                    ACTOR,
                    channel,
                    EventKind::PongReceived {
                        payload: WireData::body(&payload),
                    },
                );
                return Frame::Control;
            }
            Ok(Message::Close(_)) | Ok(Message::Frame(_)) => return Frame::End,
            Err(error) => {
                self.note(&format!("the client's WebSocket failed: {error}"));
                return Frame::End;
            }
        };
        self.recorder.record(
            ACTOR,
            channel,
            EventKind::FrameReceived {
                frame: WireData::frame(&data),
            },
        );
        Frame::Packet(if self.eio == 3 {
            v3_session_packet(data)
        } else {
            data
        })
    }
}

/// A frame as the session sees it.
enum Frame {
    Packet(Data),
    Control,
    End,
}

/// The next message, or `None` at the end of the connection or once the engine ends the
/// session.
async fn next_unless_closing(
    stream: &mut SplitStream<ServerStream>,
    closing: &mut watch::Receiver<bool>,
) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>> {
    tokio::select! {
        message = stream.next() => message,
        _ = closing.wait_for(|closing| *closing) => None,
    }
}

/// A packet of `kind` without data, such as `6`.
fn bare(kind: PacketType) -> Data {
    Data::Text(kind.bare().to_owned())
}

/// Whether a session goes on after a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Ended,
}

/// Accepts a WebSocket request: the stream once upgraded, by `deadline`.
pub(crate) async fn accept_websocket(
    arrival: Arrival,
    deadline: Instant,
) -> Result<ServerStream, StepError> {
    let (deliver, delivered) = oneshot::channel();
    arrival.answer(Reply::Accept(deliver));
    match tokio::time::timeout_at(deadline, delivered).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(_)) => Err(StepError::unmet(
            "the WebSocket upgraded",
            "the client's connection ended during the upgrade",
        )),
        Err(_) => Err(StepError::unmet(
            "the WebSocket upgraded",
            "the upgrade did not complete in time",
        )),
    }
}

/// A server's payload: protocol 4 packets joined by `\x1e` (binary as `b<base64>`), or a
/// protocol 3 text payload, `<length>:<packet>` with lengths in UTF-16 code units (a binary
/// message as `b4<base64>`).
pub(crate) fn encode_payload(eio: u8, packets: &[Data]) -> String {
    if eio != 3 {
        return v4::encode_payload(packets);
    }
    let framed: Vec<Data> = packets
        .iter()
        .map(|packet| match packet {
            Data::Binary(bytes) => v3::binary_message(bytes),
            text => text.clone(),
        })
        .collect();
    // Every packet is well formed: text as the steps wrote it, binary with its type byte.
    v3::encode_text_payload(&framed).unwrap_or_default()
}

/// A protocol 3 packet as the session sees it: a binary message as its data.
fn v3_session_packet(packet: Data) -> Data {
    match packet {
        Data::Binary(bytes) => match v3::message_data(&bytes) {
            Some(data) => Data::Binary(data.to_vec()),
            None => Data::Binary(bytes),
        },
        text => text,
    }
}

/// The packets of a client's POST body.
fn decode_payload(eio: u8, request: &Received) -> Result<Vec<Data>, String> {
    let binary = request
        .header("content-type")
        .is_some_and(|value| value.starts_with("application/octet-stream"));
    if eio == 3 && binary {
        return v3::decode_binary_payload(&request.body)
            .map(|packets| packets.into_iter().map(v3_session_packet).collect())
            .map_err(|error| error.to_string());
    }
    let text =
        std::str::from_utf8(&request.body).map_err(|_| "the body is not UTF-8".to_owned())?;
    if eio == 3 {
        return v3::decode_text_payload(text)
            .map(|packets| packets.into_iter().map(v3_session_packet).collect())
            .map_err(|error| error.to_string());
    }
    v4::decode_payload(text).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_encoded_per_protocol() {
        let packets = [
            Data::Text("4é😀".to_owned()),
            Data::Binary(vec![1, 2, 3]),
            Data::Text("2".to_owned()),
        ];
        assert_eq!(encode_payload(4, &packets), "4é😀\u{1e}bAQID\u{1e}2");
        assert_eq!(encode_payload(3, &packets), "4:4é😀6:b4AQID1:2");
    }
}
