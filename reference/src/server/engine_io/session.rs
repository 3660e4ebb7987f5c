//! One Engine.IO session: its transport, its outgoing buffer, the pending polling request, the
//! heartbeat, the upgrade in progress and the close; and [`Socket`], the application's handle.
//!
//! All state sits behind one short-lived lock that is never held across an `.await`; the tasks
//! that serve a session (polling requests, WebSocket readers and writers, the heartbeat) talk to
//! it through channels.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::time::Instant;

use super::config::{Config, TransportKind};
use super::queue::{queue, QueueReceiver, QueueSender};
use crate::engine_io::{Data, Packet, PacketType, ProtocolVersion};

/// Why a session closed: the official server's close reasons (behaviors CL-08).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The client closed: a close packet, a WebSocket close frame or a dropped connection.
    TransportClose,
    /// The client broke the transport's rules: overlapping requests, a wrong content type, a
    /// heartbeat in the wrong direction (a ping from a v4 client, a pong from a v3 client), a
    /// WebSocket error.
    TransportError,
    /// No pong came within `ping_timeout`; in protocol 3, no packet at all within
    /// `ping_interval + ping_timeout`.
    PingTimeout,
    /// The client sent a packet that does not decode.
    ParseError,
    /// The application closed the session.
    ForcedClose,
}

impl CloseReason {
    /// The reason as the official server names it: `transport close`, `ping timeout`, …
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ParseError => "parse error",
            CloseReason::ForcedClose => "forced close",
        }
    }
}

/// What a WebSocket writer task is told to do.
#[derive(Debug)]
pub(crate) enum WsOut {
    /// Send the packet in its own frame.
    Packet(Packet),
    /// Send a close frame (with no status, as the official server does) and stop.
    Close,
    /// Send a close frame with status 1009, "Message Too Big", and stop: a message over
    /// `max_http_buffer_size` (WS-04).
    CloseTooBig,
    /// Drop this once everything queued before it is written and flushed: a polling request
    /// waits for the answers to the frames that came before it, `3probe` among them, to be on
    /// their way before its own answer goes.
    Flushed(CatchUp),
}

/// What wakes a pending polling `GET`.
#[derive(Debug)]
pub(crate) enum Wake {
    /// Packets were queued: take the whole buffer.
    Flush,
    /// Answer with exactly these packets (`1` on close, `6` on upgrade).
    Answer(Vec<Packet>),
}

/// How a polling `GET` starts.
pub(crate) enum PollStart {
    /// Answer at once with these packets.
    Now(Vec<Packet>),
    /// Wait to be woken.
    Wait(oneshot::Receiver<Wake>),
    /// A `GET` was already pending: the session is closed, answer 400.
    Overlap,
    /// The session is on WebSocket now: answer 400 code 3.
    Mismatch,
    /// The session is gone: answer 400 code 1.
    Closed,
}

/// What became of a WebSocket's request to upgrade a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reservation {
    /// The WebSocket probes the session now.
    Reserved,
    /// The session already has its WebSocket: it was born on one, it was upgraded, or another
    /// WebSocket is probing it. "A client MUST NOT open more than one WebSocket connection per
    /// session. Should it happen, the server MUST close the WebSocket connection."
    WebSocketTaken,
    /// The session is closed, its close deferred (CL-05): it takes no new transport.
    Closed,
}

/// A polling request's wait for the probing WebSocket to handle the frames that arrived before
/// the request: dropped once it has, and its answers are written (see [`Session::catch_up`]).
pub(crate) type CatchUp = oneshot::Sender<()>;

/// An upgrade to WebSocket in progress.
struct Upgrade {
    /// The probing WebSocket's writer.
    probe: QueueSender<WsOut>,
    /// Where polling requests ask the probe to catch up with its WebSocket.
    catch_up: mpsc::UnboundedSender<CatchUp>,
    /// Whether `2probe` was answered.
    probed: bool,
}

struct State {
    transport: TransportKind,
    closed: Option<CloseReason>,
    /// Closed by the application over polling with no GET pending: the session stays
    /// registered until a GET takes the close packet or `close_timeout` passes (CL-05).
    lingering: bool,
    buffer: Vec<Packet>,
    poll: Option<oneshot::Sender<Wake>>,
    posting: bool,
    websocket: Option<QueueSender<WsOut>>,
    upgrade: Option<Upgrade>,
    incoming: Option<QueueSender<Data>>,
    /// Protocol 4: when the ping last sent must have been answered by, until its pong comes.
    /// A request that arrives after it finds the session timed out even if the heartbeat's
    /// timer, which may fire a little late, has not yet closed it (see
    /// [`Session::check_ping_deadline`]).
    pong_due: Option<Instant>,
}

/// The open sessions, by sid.
#[derive(Default)]
pub(crate) struct Registry {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
}

impl Registry {
    pub(crate) fn get(&self, sid: &str) -> Option<Arc<Session>> {
        lock(&self.sessions).get(sid).cloned()
    }

    pub(crate) fn insert(&self, session: Arc<Session>) {
        lock(&self.sessions).insert(session.sid.clone(), session);
    }

    fn remove(&self, sid: &str) {
        lock(&self.sessions).remove(sid);
    }

    /// Closes every session.
    pub(crate) fn close_all(&self) {
        let sessions: Vec<_> = lock(&self.sessions).values().cloned().collect();
        for session in sessions {
            session.close(CloseReason::ForcedClose);
        }
    }
}

/// One Engine.IO session.
pub(crate) struct Session {
    pub(crate) sid: String,
    /// The protocol the session speaks, fixed by its handshake's `EIO`.
    pub(crate) version: ProtocolVersion,
    pub(crate) config: Arc<Config>,
    /// The registry that lists the session, held weakly: the registry holds the session, and a
    /// strong reference back would make a cycle that outlives a dropped server whose runtime
    /// ended with sessions still open (a deferred close waits up to `close_timeout`).
    registry: Weak<Registry>,
    state: Mutex<State>,
    /// Signalled when the client shows it is alive: a pong in protocol 4, any packet in
    /// protocol 3.
    heard: Notify,
    closed: watch::Sender<bool>,
    activity: watch::Sender<Activity>,
}

/// What the session's polling transport has seen, for tests that must know a request reached
/// the server (or the session ended) before they go on, rather than sleep and hope.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// `GET`s that found nothing to send and were held open.
    pub held_gets: u64,
    /// `POST`s whose body started to be read.
    pub posts: u64,
    /// The session is closed and forgotten: later requests get `400` code 1.
    pub released: bool,
}

/// A mutex lock that survives poisoning: the state stays consistent at every unlock, since no
/// code between lock and unlock can panic on network input.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Session {
    /// A new session speaking `version` on `transport`, registered, its heartbeat not yet
    /// started. A WebSocket session passes its writer.
    pub(crate) fn open(
        sid: String,
        version: ProtocolVersion,
        config: Arc<Config>,
        registry: Arc<Registry>,
        transport: TransportKind,
        websocket: Option<QueueSender<WsOut>>,
    ) -> (Arc<Session>, Socket) {
        let (incoming_tx, incoming_rx) = queue();
        let (closed, _) = watch::channel(false);
        let session = Arc::new(Session {
            sid,
            version,
            config,
            registry: Arc::downgrade(&registry),
            state: Mutex::new(State {
                transport,
                closed: None,
                lingering: false,
                buffer: Vec::new(),
                poll: None,
                posting: false,
                websocket,
                upgrade: None,
                incoming: Some(incoming_tx),
                pong_due: None,
            }),
            heard: Notify::new(),
            closed,
            activity: watch::Sender::new(Activity::default()),
        });
        registry.insert(Arc::clone(&session));
        let socket = Socket {
            session: Arc::clone(&session),
            incoming: incoming_rx,
        };
        (session, socket)
    }

    /// A receiver that turns `true` when the session closes.
    pub(crate) fn closed_signal(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// The transport the session currently runs on.
    pub(crate) fn transport(&self) -> TransportKind {
        lock(&self.state).transport
    }

    /// Queues a packet for the client; false once the session is closed.
    pub(crate) fn send(&self, packet: Packet) -> bool {
        self.send_all(std::iter::once(packet))
    }

    /// Queues packets for the client, under one lock so that nothing comes between them;
    /// false once the session is closed.
    pub(crate) fn send_all(&self, packets: impl IntoIterator<Item = Packet>) -> bool {
        let mut state = lock(&self.state);
        if state.closed.is_some() {
            return false;
        }
        if let Some(websocket) = &state.websocket {
            let sent = packets
                .into_iter()
                .all(|packet| websocket.send(WsOut::Packet(packet)).is_ok());
            if sent {
                return true;
            }
            // The writer gave up (a write timed out or failed): the transport is gone.
            drop(state);
            self.close(CloseReason::TransportError);
            return false;
        }
        state.buffer.extend(packets);
        if let Some(poll) = state.poll.take() {
            // A GET whose client went away leaves the buffer as it is.
            let _ = poll.send(Wake::Flush);
        }
        true
    }

    /// Handles a packet the client sent on the session's active transport. Returns false when
    /// the session is (now) closed and the transport should stop reading.
    pub(crate) fn receive(&self, packet: Packet) -> bool {
        self.heard_packet();
        match packet.packet_type {
            PacketType::Message => {
                let state = lock(&self.state);
                if state.closed.is_some() {
                    // While a close is deferred, messages are dropped but the rest of the
                    // payload is still read, for a close packet in it.
                    return state.lingering;
                }
                if let Some(incoming) = &state.incoming {
                    let _ = incoming.send(packet.data);
                }
                true
            }
            PacketType::Pong => match self.version {
                // Any pong, with or without data, re-arms the ping interval (HB-04, HB-07).
                ProtocolVersion::V4 => {
                    lock(&self.state).pong_due = None;
                    self.heard.notify_one();
                    true
                }
                // In protocol 3 only the client pings: a pong from it breaks the heartbeat's
                // direction and closes the session, as on the official server (HB-13).
                ProtocolVersion::V3 => {
                    self.close(CloseReason::TransportError);
                    false
                }
            },
            PacketType::Ping => match self.version {
                // In protocol 4 only the server pings: a ping from the client breaks the
                // heartbeat's direction and closes the session (HB-06).
                ProtocolVersion::V4 => {
                    self.close(CloseReason::TransportError);
                    false
                }
                // SPEC-FAITHFUL, unlike the official server (HB-11), which answers a bare `3`:
                // the v3 spec says "Server should answer with a pong packet containing the
                // same data", so `2hi` gets `3hi`.
                ProtocolVersion::V3 => {
                    self.send(Packet {
                        packet_type: PacketType::Pong,
                        data: packet.data,
                    });
                    // A ping read while a close is deferred is not answered, and the rest of
                    // the payload is still read, for a close packet in it.
                    !self.is_gone()
                }
            },
            PacketType::Close => {
                self.close_by_client();
                false
            }
            // Open, upgrade and noop mean nothing on an established transport (PL-13).
            PacketType::Open | PacketType::Upgrade | PacketType::Noop => true,
        }
    }

    /// A packet came from the client, on any of its transports: in protocol 3, that keeps the
    /// session alive for another `ping_interval + ping_timeout`.
    pub(crate) fn heard_packet(&self) {
        if self.version == ProtocolVersion::V3 {
            self.heard.notify_one();
        }
    }

    /// The client sent a close packet: a pending GET is released with a noop (CL-01), the
    /// session closes.
    fn close_by_client(&self) {
        self.shut(CloseReason::TransportClose, PacketType::Noop);
    }

    /// Closes the session: a pending GET receives `1`, a WebSocket receives a close frame, the
    /// application's [`Socket::recv`] returns `None`, and later requests get `400` code 1.
    pub(crate) fn close(&self, reason: CloseReason) {
        self.shut(reason, PacketType::Close);
    }

    /// Closes the session because its WebSocket received a message over
    /// `max_http_buffer_size`: the close frame says 1009, as the official server's does (WS-04).
    pub(crate) fn close_message_too_big(&self) {
        if let Some(websocket) = &lock(&self.state).websocket {
            let _ = websocket.send(WsOut::CloseTooBig);
        }
        self.close(CloseReason::TransportError);
    }

    fn shut(&self, reason: CloseReason, poll_answer: PacketType) {
        {
            let mut state = lock(&self.state);
            if state.closed.is_some() {
                if !std::mem::take(&mut state.lingering) {
                    return;
                }
                // A deferred close ends here, before any GET took the close packet: the client
                // closed, broke a rule, timed out, or the close timeout passed.
                state.buffer.clear();
                drop(state);
                self.release(reason);
                return;
            }
            state.closed = Some(reason);
            state.buffer.clear();
            state.incoming = None;
            if let Some(poll) = state.poll.take() {
                let _ = poll.send(Wake::Answer(vec![Packet::empty(poll_answer)]));
            }
            if let Some(websocket) = state.websocket.take() {
                let _ = websocket.send(WsOut::Close);
            }
            if let Some(upgrade) = state.upgrade.take() {
                let _ = upgrade.probe.send(WsOut::Close);
            }
        }
        self.release(reason);
    }

    /// Forgets the closed session: later requests get `400` code 1 and its tasks stop.
    fn release(&self, reason: CloseReason) {
        tracing::debug!(sid = %self.sid, reason = reason.as_str(), "engine.io session closed");
        if let Some(registry) = self.registry.upgrade() {
            registry.remove(&self.sid);
        }
        self.closed.send_replace(true);
        self.activity
            .send_modify(|activity| activity.released = true);
    }

    /// Closes the session at the application's request (reason "forced close").
    ///
    /// On WebSocket, or over polling with a GET pending, that is at once: a close frame, or `1`
    /// for the GET (CL-04). Over polling with no GET pending the close packet has nowhere to
    /// go, so, as on the official server, the close is deferred (CL-05): the application sees
    /// the session closed now, while the client's next GET receives what was queued before the
    /// close (CL-06) and the GET after that `6\x1e1`, a noop then the close, which ends the
    /// session. If no GET comes within `close_timeout`, the session is dropped anyway.
    pub(crate) fn close_gracefully(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to run the close timeout on: close at once rather than never.
            self.close(CloseReason::ForcedClose);
            return;
        };
        let mut state = lock(&self.state);
        if state.closed.is_some() {
            return;
        }
        let get_pending = state.poll.as_ref().is_some_and(|poll| !poll.is_closed());
        if state.transport != TransportKind::Polling || get_pending {
            drop(state);
            self.close(CloseReason::ForcedClose);
            return;
        }
        state.closed = Some(CloseReason::ForcedClose);
        state.lingering = true;
        state.incoming = None;
        state.poll = None;
        if let Some(upgrade) = state.upgrade.take() {
            let _ = upgrade.probe.send(WsOut::Close);
        }
        drop(state);
        tracing::debug!(sid = %self.sid, "engine.io session closing, waiting for a GET");
        let session = Arc::clone(self);
        runtime.spawn(async move {
            let mut closed = session.closed_signal();
            tokio::select! {
                _ = closed.wait_for(|closed| *closed) => {}
                _ = tokio::time::sleep(session.config.close_timeout) => {
                    session.close(CloseReason::ForcedClose);
                }
            }
        });
    }

    /// What a GET receives while the close is deferred: the packets queued before the close;
    /// once there are none, a noop and the close packet, which end the session.
    fn deferred_close_answer(&self, mut state: MutexGuard<'_, State>) -> Vec<Packet> {
        if !state.buffer.is_empty() {
            return std::mem::take(&mut state.buffer);
        }
        state.lingering = false;
        drop(state);
        self.release(CloseReason::ForcedClose);
        // The noop first, as on the official server, which writes the close packet by appending
        // it to an empty send.
        vec![
            Packet::empty(PacketType::Noop),
            Packet::empty(PacketType::Close),
        ]
    }

    /// Whether the session is closed and forgotten (not merely closing).
    pub(crate) fn is_gone(&self) -> bool {
        let state = lock(&self.state);
        state.closed.is_some() && !state.lingering
    }

    /// What the polling transport has seen so far, and whether the session is released.
    pub(crate) fn activity(&self) -> watch::Receiver<Activity> {
        self.activity.subscribe()
    }

    /// The reason the session closed, if it did.
    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        lock(&self.state).closed
    }

    /// Starts the heartbeat, from now: the caller starts it before the handshake is answered,
    /// as the official server arms its first timer when it opens the session. In protocol 4: a
    /// ping `pingInterval` after the start or after the last pong, then `pingTimeout` to
    /// answer it (HB-01 … HB-03). In protocol 3 the client pings and the server only watches:
    /// see [`Session::watch_v3_client`].
    pub(crate) fn start_heartbeat(self: &Arc<Self>) {
        let started = Instant::now();
        let session = Arc::clone(self);
        match self.version {
            ProtocolVersion::V4 => tokio::spawn(session.ping_v4_client(started)),
            ProtocolVersion::V3 => tokio::spawn(session.watch_v3_client(started)),
        };
    }

    /// The protocol 4 heartbeat. Each wait runs to a deadline fixed when it is armed, not from
    /// whenever the task gets to run, so the timer's own lateness never adds up from one wait to
    /// the next: see [`timeout_armed_at`].
    async fn ping_v4_client(self: Arc<Self>, started: Instant) {
        let mut closed = self.closed_signal();
        let interval = self.config.ping_interval;
        let timeout = self.config.ping_timeout;
        let mut interval_from = started;
        loop {
            let ping_due = interval_from + interval;
            tokio::select! {
                _ = closed.wait_for(|closed| *closed) => return,
                _ = self.heard.notified() => {
                    interval_from = Instant::now();
                    continue;
                }
                _ = tokio::time::sleep_until(ping_due) => {}
            }
            let answer_by = timeout_armed_at(ping_due, Instant::now()) + timeout;
            lock(&self.state).pong_due = Some(answer_by);
            if !self.send(Packet::empty(PacketType::Ping)) {
                return;
            }
            tokio::select! {
                _ = closed.wait_for(|closed| *closed) => return,
                _ = self.heard.notified() => interval_from = Instant::now(),
                _ = tokio::time::sleep_until(answer_by) => {
                    self.close(CloseReason::PingTimeout);
                    return;
                }
            }
        }
    }

    /// Closes the session with "ping timeout" if its ping's deadline has passed, and says
    /// whether it did: called for every request of the session, so that a request that comes
    /// after the deadline is refused as one for a closed session (HB-03), whether or not the
    /// heartbeat's timer has fired yet. Timers fire up to a millisecond late and then wait for
    /// their task to run, so a client that waits exactly `pingInterval + pingTimeout` would
    /// otherwise find the session open more often than on the official server.
    pub(crate) fn check_ping_deadline(&self) -> bool {
        let due = lock(&self.state).pong_due;
        match due {
            Some(due) if Instant::now() >= due => {
                self.close(CloseReason::PingTimeout);
                true
            }
            _ => false,
        }
    }

    /// The protocol 3 heartbeat: the session closes with "ping timeout" when no packet came
    /// within `pingInterval + pingTimeout` of the handshake or of the last packet.
    ///
    /// SPEC-FAITHFUL, unlike the official server (HB-12), where only a ping re-arms the timer:
    /// the v3 spec says the server detects an unresponsive client "when it does not receive any
    /// data within `pingTimeout + pingInterval`", so any packet counts.
    async fn watch_v3_client(self: Arc<Self>, started: Instant) {
        let mut closed = self.closed_signal();
        let silence = self.config.ping_interval + self.config.ping_timeout;
        let mut heard_at = started;
        loop {
            tokio::select! {
                _ = closed.wait_for(|closed| *closed) => return,
                _ = self.heard.notified() => heard_at = Instant::now(),
                _ = tokio::time::sleep_until(heard_at + silence) => {
                    self.close(CloseReason::PingTimeout);
                    return;
                }
            }
        }
    }

    // ---- polling -------------------------------------------------------------------------

    /// Starts a polling GET.
    pub(crate) fn poll(&self) -> PollStart {
        let mut state = lock(&self.state);
        if state.closed.is_some() {
            if state.lingering {
                return PollStart::Now(self.deferred_close_answer(state));
            }
            return PollStart::Closed;
        }
        if state.transport != TransportKind::Polling {
            return PollStart::Mismatch;
        }
        if state.poll.as_ref().is_some_and(|poll| !poll.is_closed()) {
            drop(state);
            // Spec: "MUST return an HTTP 400 error status and close the session"; the pending
            // GET receives the close packet (PL-08).
            self.close(CloseReason::TransportError);
            return PollStart::Overlap;
        }
        if !state.buffer.is_empty() {
            return PollStart::Now(std::mem::take(&mut state.buffer));
        }
        if state.upgrade.as_ref().is_some_and(|upgrade| upgrade.probed) {
            // The client is upgrading: release the poll at once (UP-02).
            return PollStart::Now(vec![Packet::empty(PacketType::Noop)]);
        }
        let (wake, woken) = oneshot::channel();
        state.poll = Some(wake);
        self.activity
            .send_modify(|activity| activity.held_gets += 1);
        PollStart::Wait(woken)
    }

    /// Takes the buffered packets for a woken GET; a noop when another path took them.
    pub(crate) fn drain(&self) -> Vec<Packet> {
        let mut state = lock(&self.state);
        if state.closed.is_some() {
            if state.lingering {
                return self.deferred_close_answer(state);
            }
            return vec![Packet::empty(PacketType::Close)];
        }
        if state.buffer.is_empty() {
            return vec![Packet::empty(PacketType::Noop)];
        }
        std::mem::take(&mut state.buffer)
    }

    /// Starts a polling POST: `Ok` with a guard that ends it, or why not.
    pub(crate) fn begin_post(self: &Arc<Self>) -> Result<PostGuard, PollStart> {
        let mut state = lock(&self.state);
        // A POST while the close is deferred is read, for a close packet in it (CL-05).
        if state.closed.is_some() && !state.lingering {
            return Err(PollStart::Closed);
        }
        if state.transport != TransportKind::Polling {
            return Err(PollStart::Mismatch);
        }
        if state.posting {
            drop(state);
            // Spec: "MUST return an HTTP 400 error status and close the session" (PL-09).
            self.close(CloseReason::TransportError);
            return Err(PollStart::Overlap);
        }
        state.posting = true;
        self.activity.send_modify(|activity| activity.posts += 1);
        Ok(PostGuard {
            session: Arc::clone(self),
        })
    }

    // ---- upgrade ---------------------------------------------------------------------------

    /// Reserves the session for an upgrade by the WebSocket whose writer is `probe` and whose
    /// reader takes catch-up requests from `catch_up`, or says why not.
    pub(crate) fn reserve_upgrade(
        &self,
        probe: QueueSender<WsOut>,
        catch_up: mpsc::UnboundedSender<CatchUp>,
    ) -> Reservation {
        let mut state = lock(&self.state);
        if state.closed.is_some() {
            return Reservation::Closed;
        }
        if state.transport != TransportKind::Polling || state.upgrade.is_some() {
            return Reservation::WebSocketTaken;
        }
        state.upgrade = Some(Upgrade {
            probe,
            catch_up,
            probed: false,
        });
        Reservation::Reserved
    }

    /// Waits until the session's WebSocket, if it has one, has handled every frame that had
    /// arrived when this polling request did, and written its answers to them: called before
    /// each polling request is served. At once on a session with no WebSocket.
    ///
    /// The official server handles a session's events in the order they arrive, on one event
    /// loop, writing each answer as it goes: a GET sent after `2probe` and `5` on the WebSocket
    /// finds the session upgraded (400), and `3probe` is on the wire before that 400 (the
    /// official suite's "ignores HTTP requests with same sid after upgrade" needs both). Here
    /// the WebSocket's reader and writer are tasks of their own, which the GET's task may
    /// overtake. So the request waits for the probe, while an upgrade is in progress, to read
    /// what has arrived on its WebSocket, then for the WebSocket's writer to flush what was
    /// queued before it. The wait ends within `upgrade_timeout` (the probe's deadline) plus
    /// one write timeout (the writer's).
    pub(crate) async fn catch_up(&self) {
        let caught_up = {
            let state = lock(&self.state);
            let (request, caught_up) = oneshot::channel();
            let asked = if let Some(upgrade) = &state.upgrade {
                upgrade.catch_up.send(request).is_ok()
            } else if let Some(websocket) = &state.websocket {
                websocket.send(WsOut::Flushed(request)).is_ok()
            } else {
                false
            };
            if !asked {
                return;
            }
            caught_up
        };
        // Dropped unanswered, which is the answer: caught up, or the task has ended.
        let _ = caught_up.await;
    }

    /// Hands a caught-up request to the WebSocket's writer (the probe's, or the session's once
    /// upgraded), which drops it once what is queued before it is written; drops it now when
    /// there is no writer.
    pub(crate) fn release_after_writes(&self, request: CatchUp) {
        let state = lock(&self.state);
        let writer = state
            .websocket
            .as_ref()
            .or(state.upgrade.as_ref().map(|upgrade| &upgrade.probe));
        if let Some(writer) = writer {
            let _ = writer.send(WsOut::Flushed(request));
        }
    }

    /// Answers `2probe` with `3probe` and releases a pending GET with a noop.
    pub(crate) fn probe(&self) -> bool {
        self.heard_packet();
        let mut state = lock(&self.state);
        let State { upgrade, poll, .. } = &mut *state;
        let Some(upgrade) = upgrade.as_mut() else {
            return false;
        };
        upgrade.probed = true;
        let answered = upgrade
            .probe
            .send(WsOut::Packet(Packet::text(PacketType::Pong, "probe")))
            .is_ok();
        if let Some(poll) = poll.take() {
            let _ = poll.send(Wake::Answer(vec![Packet::empty(PacketType::Noop)]));
        }
        answered
    }

    /// Completes the upgrade on `5`: the session moves to the probing WebSocket and the packets
    /// buffered meanwhile are sent on it, once and in order (UP-04).
    pub(crate) fn complete_upgrade(&self) -> bool {
        self.heard_packet();
        let mut state = lock(&self.state);
        if state.closed.is_some() {
            return false;
        }
        let Some(upgrade) = state.upgrade.take() else {
            return false;
        };
        for packet in std::mem::take(&mut state.buffer) {
            let _ = upgrade.probe.send(WsOut::Packet(packet));
        }
        if let Some(poll) = state.poll.take() {
            let _ = poll.send(Wake::Answer(vec![Packet::empty(PacketType::Noop)]));
        }
        state.transport = TransportKind::WebSocket;
        state.websocket = Some(upgrade.probe);
        true
    }

    /// Gives up the upgrade in progress, closing the probing WebSocket; the session carries on
    /// over polling (UP-06, UP-07).
    pub(crate) fn abort_upgrade(&self) {
        let mut state = lock(&self.state);
        if let Some(upgrade) = state.upgrade.take() {
            let _ = upgrade.probe.send(WsOut::Close);
        }
    }
}

/// How late a timer may fire and still count as on time: the timer's resolution.
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

/// When the ping timeout starts, for a ping due at `ping_due` and sent at `sent_at`.
///
/// The official server arms `pingTimeout` in the event-loop turn that sends the ping, on a clock
/// that counts whole milliseconds and is read at the start of the turn, so its ping timeout
/// ends `pingInterval + pingTimeout` after the interval started, give or take a millisecond.
/// Tokio rounds every deadline up to the next millisecond instead, and a timeout counted from
/// the moment the (already late) ping went out would end a millisecond or two after the
/// official one: a client that polls exactly at `pingInterval + pingTimeout` would find the
/// session still open. So the timeout runs from the ping's due moment while the ping went out
/// within the timer's resolution; a ping held back longer (a busy machine) gives the client its
/// whole `pingTimeout` from the moment the ping was sent.
fn timeout_armed_at(ping_due: Instant, sent_at: Instant) -> Instant {
    if sent_at.saturating_duration_since(ping_due) <= TIMER_RESOLUTION {
        ping_due
    } else {
        sent_at
    }
}

/// Ends a polling POST when dropped, so that a POST whose client went away does not count as
/// in flight.
pub(crate) struct PostGuard {
    session: Arc<Session>,
}

impl Drop for PostGuard {
    fn drop(&mut self) {
        lock(&self.session.state).posting = false;
    }
}

/// The session was closed: nothing more can be sent on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the Engine.IO session is closed")]
pub struct SocketClosed;

/// The application's handle on one Engine.IO session: [`send`](Socket::send) messages,
/// [`recv`](Socket::recv) the client's, [`close`](Socket::close) it.
pub struct Socket {
    session: Arc<Session>,
    incoming: QueueReceiver<Data>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Socket")
            .field("sid", &self.session.sid)
            .finish_non_exhaustive()
    }
}

impl Socket {
    /// The session id, `sid`.
    pub fn id(&self) -> &str {
        &self.session.sid
    }

    /// The transport the session runs on now.
    pub fn transport(&self) -> TransportKind {
        self.session.transport()
    }

    /// The protocol the session speaks: [`ProtocolVersion::V3`] only on a server with
    /// [`Config::allow_eio3`](super::Config::allow_eio3).
    pub fn protocol(&self) -> ProtocolVersion {
        self.session.version
    }

    /// Sends a message packet with `data`.
    pub fn send(&self, data: Data) -> Result<(), SocketClosed> {
        let packet = Packet {
            packet_type: PacketType::Message,
            data,
        };
        if self.session.send(packet) {
            Ok(())
        } else {
            Err(SocketClosed)
        }
    }

    /// The next message from the client, or `None` once the session is closed.
    pub async fn recv(&mut self) -> Option<Data> {
        self.incoming.recv().await
    }

    /// Closes the session, with the reason "forced close". The application sees it closed at
    /// once; the client gets a WebSocket close frame, or the close packet on its pending or
    /// next polling `GET` (after what was queued before the close), within
    /// [`Config::close_timeout`](super::Config::close_timeout).
    pub fn close(&self) {
        self.session.close_gracefully();
    }

    /// Why the session closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.session.close_reason()
    }

    /// What the session's polling transport has seen: test support, to await a request
    /// reaching the server, or the session's end, instead of sleeping.
    #[doc(hidden)]
    pub fn activity(&self) -> watch::Receiver<Activity> {
        self.session.activity()
    }

    /// A cloneable handle that sends on and closes this session, for tasks other than the
    /// one that receives.
    pub fn handle(&self) -> SocketHandle {
        SocketHandle {
            session: Arc::clone(&self.session),
        }
    }
}

/// A cloneable handle on one Engine.IO session: it sends and closes, but does not receive
/// (only the [`Socket`] does).
#[derive(Clone)]
pub struct SocketHandle {
    session: Arc<Session>,
}

impl std::fmt::Debug for SocketHandle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SocketHandle")
            .field("sid", &self.session.sid)
            .finish_non_exhaustive()
    }
}

impl SocketHandle {
    /// The session id, `sid`.
    pub fn id(&self) -> &str {
        &self.session.sid
    }

    /// The protocol the session speaks.
    pub fn protocol(&self) -> ProtocolVersion {
        self.session.version
    }

    /// Sends message packets with each of `data`, in order and with nothing else between
    /// them (a Socket.IO packet and its binary attachments must stay together).
    pub fn send_all(&self, data: impl IntoIterator<Item = Data>) -> Result<(), SocketClosed> {
        let packets = data.into_iter().map(|data| Packet {
            packet_type: PacketType::Message,
            data,
        });
        if self.session.send_all(packets) {
            Ok(())
        } else {
            Err(SocketClosed)
        }
    }

    /// Closes the session, with the reason "forced close". The application sees it closed at
    /// once; the client gets a WebSocket close frame, or the close packet on its pending or
    /// next polling `GET` (after what was queued before the close), within
    /// [`Config::close_timeout`](super::Config::close_timeout).
    pub fn close(&self) {
        self.session.close_gracefully();
    }

    /// Why the session closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.session.close_reason()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server dropped with a session still registered (a deferred close waits up to
    /// `close_timeout`; a runtime may end first) frees the session: the registry is the only
    /// owner left, and the session holds it weakly. Found by the `server_http` fuzz target,
    /// whose memory grew by about 200 bytes per execution while sessions owned their registry.
    #[test]
    fn a_dropped_registry_frees_its_sessions() {
        let registry = Arc::new(Registry::default());
        let (session, socket) = Session::open(
            "sid".to_owned(),
            ProtocolVersion::V4,
            Arc::new(Config::default()),
            Arc::clone(&registry),
            TransportKind::Polling,
            None,
        );
        let weak = Arc::downgrade(&session);
        drop((session, socket));
        assert!(
            weak.upgrade().is_some(),
            "the registry keeps it while it lives"
        );
        drop(registry);
        assert!(
            weak.upgrade().is_none(),
            "the session outlived its registry"
        );
    }

    fn polling_session(registry: &Arc<Registry>) -> (Arc<Session>, Socket) {
        Session::open(
            "sid".to_owned(),
            ProtocolVersion::V4,
            Arc::new(Config::default()),
            Arc::clone(registry),
            TransportKind::Polling,
            None,
        )
    }

    /// A request after the ping's deadline finds the session closed with "ping timeout", even
    /// when the heartbeat's timer has not fired yet; one before it, or after the pong, does not.
    #[tokio::test]
    async fn a_request_after_the_pong_deadline_closes_the_session() {
        let registry = Arc::new(Registry::default());
        let (session, _socket) = polling_session(&registry);
        assert!(!session.check_ping_deadline(), "no ping is outstanding");
        lock(&session.state).pong_due = Some(Instant::now() + Duration::from_secs(60));
        assert!(!session.check_ping_deadline(), "the deadline is to come");
        lock(&session.state).pong_due = Some(Instant::now());
        assert!(session.check_ping_deadline(), "the deadline has passed");
        assert!(registry.get("sid").is_none(), "the session is forgotten");
        assert_eq!(lock(&session.state).closed, Some(CloseReason::PingTimeout));
    }

    #[tokio::test]
    async fn a_pong_clears_the_deadline() {
        let registry = Arc::new(Registry::default());
        let (session, _socket) = polling_session(&registry);
        lock(&session.state).pong_due = Some(Instant::now());
        session.receive(Packet::empty(PacketType::Pong));
        assert!(!session.check_ping_deadline(), "the pong came");
        assert!(registry.get("sid").is_some());
    }
}
