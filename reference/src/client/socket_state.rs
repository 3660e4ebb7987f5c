//! The state of one namespace's socket, as the Socket.IO client keeps it. I/O free: the caller
//! feeds it the connection's openings and closings, the packets of its namespace, the
//! application's emits and the time, and carries out the returned [`Output`]s.
//!
//! Where the spec is silent (buffers, ack timeouts, retries, recovery) it does what the official
//! client does:
//!
//! - emits made while the namespace is not connected wait in a send buffer and leave in order
//!   right after the CONNECT answer; events that arrive before the answer wait too and are
//!   delivered first (the official client then emits `connect`);
//! - a volatile emit is dropped when the namespace is not connected;
//! - ack ids count from 0 per socket; an ack with a timeout fails with "operation has timed
//!   out", and on a disconnection pending acks fail with "socket has been disconnected" (those
//!   of packets still in the send buffer wait on);
//! - with `retries`, emits queue with one in flight at a time (sent in order, the head again
//!   right after each CONNECT answer), each try with a new ack id, dropped after `1 + retries`
//!   failed tries; a try fails when its ack times out, or when the namespace disconnects if it
//!   has a timeout (without one it is simply sent again once connected); any ACK completes
//!   the emit (the official client, without a timeout, takes an ACK whose first argument is not
//!   `null` for a failure: not copied);
//! - connection state recovery: once a CONNECT answer gave a `pid`, each event delivered whose
//!   last argument is a string makes that string the offset (the event name counts for an
//!   event without arguments; an event asking for an ack never counts), and the next CONNECT
//!   carries `{"pid":…,"offset":…}` merged before the auth's fields; an answer with the same
//!   `pid` is a recovered connection. An answer without a `pid` turns this off.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::Protocol;
use crate::socket_io::{Packet, PacketType, Value, RESERVED_EVENTS};

/// The caller's name for an acknowledgement it waits for.
pub type AckToken = u64;

/// Why an acknowledgement did not come.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// The timeout passed first (the official client's "operation has timed out").
    #[error("operation has timed out")]
    Timeout,
    /// The namespace disconnected first (the official client's "socket has been
    /// disconnected").
    #[error("socket has been disconnected")]
    Disconnected,
    /// The client was closed or dropped.
    #[error("the client is closed")]
    Closed,
}

/// Why a namespace's socket disconnected, in the official client's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// `io server disconnect`: the server sent DISCONNECT (`41`). No reconnection follows.
    IoServerDisconnect,
    /// `io client disconnect`: the application disconnected the socket. No reconnection
    /// follows.
    IoClientDisconnect,
    /// `ping timeout`: the server stopped pinging (v4) or answering pings (v3).
    PingTimeout,
    /// `transport close`: the server closed the connection.
    TransportClose,
    /// `transport error`: the connection failed.
    TransportError,
    /// `parse error`: the server sent a packet that does not decode.
    ParseError,
}

impl DisconnectReason {
    /// The official client's words.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::IoServerDisconnect => "io server disconnect",
            DisconnectReason::IoClientDisconnect => "io client disconnect",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
        }
    }

    /// Whether the client reconnects after it: after everything but the two deliberate
    /// disconnections.
    pub fn reconnects(self) -> bool {
        !matches!(
            self,
            DisconnectReason::IoServerDisconnect | DisconnectReason::IoClientDisconnect
        )
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An emit the application asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct EmitRequest {
    /// The event name.
    pub name: String,
    /// The arguments.
    pub arguments: Vec<Value>,
    /// The acknowledgement asked for, if any.
    pub ack: Option<AckRequest>,
    /// Whether the emit may be dropped when it cannot leave now.
    pub volatile: bool,
}

/// An acknowledgement asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckRequest {
    /// The caller's name for it, given back in [`Output::AckResolved`].
    pub token: AckToken,
    /// How long to wait; `None` takes the socket's `ack_timeout`, if it has one.
    pub timeout: Option<Duration>,
}

/// Why an emit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// "connect", "connect_error", "disconnect", "disconnecting", "newListener" and
    /// "removeListener" "must not be used as event names".
    #[error("{0:?} is a reserved event name")]
    ReservedName(String),
}

/// What the caller must do or tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this packet on the connection.
    Send(Packet),
    /// The namespace is connected, with this socket id.
    Connected {
        /// The socket id (`sid` of the CONNECT answer).
        id: String,
        /// Whether the server recovered the previous session (same `pid`).
        recovered: bool,
    },
    /// The server refused the CONNECT; the socket is inactive now and does not reconnect.
    ConnectError {
        /// The refusal's message.
        message: String,
        /// Its data, if the server gave some.
        data: Option<Value>,
    },
    /// The namespace disconnected.
    Disconnected(DisconnectReason),
    /// An event from the server.
    Event {
        /// The event name (a number sent as a name is written in decimal).
        name: String,
        /// The arguments.
        arguments: Vec<Value>,
        /// The id to acknowledge with, when the server asked for an acknowledgement.
        ack_id: Option<u64>,
    },
    /// An acknowledgement the caller waited for came, or failed.
    AckResolved {
        /// The caller's token.
        token: AckToken,
        /// The acknowledgement's arguments, or why there are none.
        result: Result<Vec<Value>, AckError>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AckKind {
    /// The application waits for it.
    User(AckToken),
    /// The head of the retry queue waits for it.
    Retry,
}

#[derive(Debug, Clone)]
struct PendingAck {
    kind: AckKind,
    deadline: Option<Instant>,
}

#[derive(Debug, Clone)]
struct Queued {
    name: String,
    arguments: Vec<Value>,
    token: Option<AckToken>,
    timeout: Option<Duration>,
    tries: u32,
    pending: bool,
}

/// The message of the connect error a v5 client reports when a server answers CONNECT without
/// a `sid`: a socket.io 2.x server, as the official client words it.
pub const V2_SERVER_MESSAGE: &str = "It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not compatible (more information here: https://socket.io/docs/v3/migrating-from-2-x-to-3-0/)";

/// A namespace's CONNECT payload: a value, or a function the client calls for every CONNECT
/// it sends, the first and each one after a reconnection (the official client's `auth`
/// callback), so that a token refreshed meanwhile is the one sent.
#[derive(Clone)]
pub enum Auth {
    /// The same payload every time.
    Value(Value),
    /// The payload of the moment.
    Function(Arc<dyn Fn() -> Value + Send + Sync>),
}

impl Auth {
    /// An auth computed by `function` at every CONNECT.
    pub fn function(function: impl Fn() -> Value + Send + Sync + 'static) -> Auth {
        Auth::Function(Arc::new(function))
    }

    /// The payload for the CONNECT about to be sent.
    pub fn current(&self) -> Value {
        match self {
            Auth::Value(value) => value.clone(),
            Auth::Function(function) => function(),
        }
    }
}

impl From<Value> for Auth {
    fn from(value: Value) -> Auth {
        Auth::Value(value)
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Value(value) => formatter.debug_tuple("Value").field(value).finish(),
            Auth::Function(_) => formatter.write_str("Function(…)"),
        }
    }
}

/// One namespace's socket.
#[derive(Debug, Clone)]
pub struct SocketState {
    namespace: String,
    protocol: Protocol,
    auth: Option<Auth>,
    retries: Option<u32>,
    ack_timeout: Option<Duration>,
    /// Subscribed to the connection: connecting, connected or waiting to reconnect.
    active: bool,
    /// The socket id while connected.
    id: Option<String>,
    engine_sid: Option<String>,
    next_id: u64,
    acks: HashMap<u64, PendingAck>,
    send_buffer: VecDeque<Packet>,
    /// Events received before the CONNECT answer, with their offset candidates.
    receive_buffer: Vec<(Output, Option<String>)>,
    queue: VecDeque<Queued>,
    pid: Option<String>,
    last_offset: Option<String>,
}

impl SocketState {
    /// An active socket for `namespace`, with the CONNECT payload `auth`.
    pub fn new(
        namespace: &str,
        protocol: Protocol,
        auth: Option<Auth>,
        retries: Option<u32>,
        ack_timeout: Option<Duration>,
    ) -> SocketState {
        SocketState {
            namespace: namespace.to_owned(),
            protocol,
            auth,
            retries,
            ack_timeout,
            active: true,
            id: None,
            engine_sid: None,
            next_id: 0,
            acks: HashMap::new(),
            send_buffer: VecDeque::new(),
            receive_buffer: Vec::new(),
            queue: VecDeque::new(),
            pid: None,
            last_offset: None,
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Whether the socket uses the connection: it is connected, connecting, or reconnects
    /// with it.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The socket id, while connected.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The connection opened (or reopened) with this Engine.IO sid: an active socket sends its
    /// CONNECT.
    pub fn on_open(&mut self, engine_sid: &str) -> Vec<Output> {
        self.engine_sid = Some(engine_sid.to_owned());
        if !self.active {
            return Vec::new();
        }
        self.connect_packet()
            .map(Output::Send)
            .into_iter()
            .collect()
    }

    /// The CONNECT to send, if the protocol sends one for this namespace.
    fn connect_packet(&self) -> Option<Packet> {
        match self.protocol {
            Protocol::V5 => {
                let mut payload = Vec::new();
                if let Some(pid) = &self.pid {
                    payload.push(("pid".to_owned(), Value::from(pid.as_str())));
                    if let Some(offset) = &self.last_offset {
                        payload.push(("offset".to_owned(), Value::from(offset.as_str())));
                    }
                }
                let auth = self.auth.as_ref().map(Auth::current);
                let data = match (&auth, payload.is_empty()) {
                    (None, true) => None,
                    (Some(auth), true) => Some(auth.clone()),
                    (auth, false) => {
                        // The auth's fields over the recovery ones, as `Object.assign`
                        // merges them: a field of both keeps its place and takes the auth's
                        // value.
                        if let Some(Value::Object(entries)) = auth {
                            for (key, value) in entries {
                                match payload.iter_mut().find(|(existing, _)| existing == key) {
                                    Some(entry) => entry.1 = value.clone(),
                                    None => payload.push((key.clone(), value.clone())),
                                }
                            }
                        }
                        Some(Value::Object(payload))
                    }
                };
                Some(Packet {
                    namespace: self.namespace.clone(),
                    data,
                    ..Packet::new(PacketType::Connect)
                })
            }
            // Protocol 4: the main namespace is joined implicitly; another one is asked for with
            // its query (the auth's string values) after the name: `0/admin?token=abc,`.
            Protocol::V4 if self.namespace == "/" => None,
            Protocol::V4 => Some(Packet {
                namespace: format!("{}{}", self.namespace, self.v4_query()),
                ..Packet::new(PacketType::Connect)
            }),
        }
    }

    fn v4_query(&self) -> String {
        let Some(Value::Object(entries)) = self.auth.as_ref().map(Auth::current) else {
            return String::new();
        };
        let pairs: Vec<String> = entries
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_json(),
                };
                format!(
                    "{}={}",
                    super::engine::query::encode_component(key),
                    super::engine::query::encode_component(&value)
                )
            })
            .collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }

    /// The application connects the socket again (after a disconnection or a refusal):
    /// `engine_open` tells whether the connection is open, so that the CONNECT can leave now.
    pub fn connect(&mut self, engine_open: bool) -> Vec<Output> {
        if self.active {
            return Vec::new();
        }
        self.active = true;
        if engine_open {
            self.connect_packet()
                .map(Output::Send)
                .into_iter()
                .collect()
        } else {
            Vec::new()
        }
    }

    /// The application emits an event.
    pub fn emit(&mut self, request: EmitRequest, now: Instant) -> Result<Vec<Output>, EmitError> {
        if RESERVED_EVENTS.contains(&request.name.as_str()) {
            return Err(EmitError::ReservedName(request.name));
        }
        if self.retries.is_some() && !request.volatile {
            self.queue.push_back(Queued {
                name: request.name,
                arguments: request.arguments,
                token: request.ack.map(|ack| ack.token),
                timeout: request.ack.and_then(|ack| ack.timeout),
                tries: 0,
                pending: false,
            });
            return Ok(self.drain_queue(false, now));
        }
        let mut packet = Packet::event(&self.namespace, &request.name, request.arguments);
        if let Some(ack) = request.ack {
            let id = self.register_ack(AckKind::User(ack.token), ack.timeout, now);
            packet.id = Some(id);
        }
        if self.id.is_some() {
            Ok(vec![Output::Send(packet)])
        } else if request.volatile {
            // Dropped: a volatile emit never waits.
            Ok(Vec::new())
        } else {
            self.send_buffer.push_back(packet);
            Ok(Vec::new())
        }
    }

    fn register_ack(&mut self, kind: AckKind, timeout: Option<Duration>, now: Instant) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let deadline = timeout.or(self.ack_timeout).map(|timeout| now + timeout);
        self.acks.insert(id, PendingAck { kind, deadline });
        id
    }

    /// Sends the head of the retry queue, if it may go.
    fn drain_queue(&mut self, force: bool, now: Instant) -> Vec<Output> {
        if self.id.is_none() {
            return Vec::new();
        }
        let Some(head) = self.queue.front() else {
            return Vec::new();
        };
        if head.pending && !force {
            return Vec::new();
        }
        let timeout = head.timeout;
        let (name, arguments) = (head.name.clone(), head.arguments.clone());
        self.acks.retain(|_, ack| ack.kind != AckKind::Retry);
        let id = self.register_ack(AckKind::Retry, timeout, now);
        if let Some(head) = self.queue.front_mut() {
            head.pending = true;
            head.tries += 1;
        }
        let mut packet = Packet::event(&self.namespace, &name, arguments);
        packet.id = Some(id);
        vec![Output::Send(packet)]
    }

    /// The head of the retry queue failed (a timeout, a disconnection): it is tried again, or
    /// dropped after `1 + retries` tries.
    fn retry_failed(&mut self, error: AckError, now: Instant) -> Vec<Output> {
        let retries = self.retries.unwrap_or(0);
        let mut out = Vec::new();
        if let Some(head) = self.queue.front_mut() {
            head.pending = false;
            if head.tries > retries {
                if let Some(Queued {
                    token: Some(token), ..
                }) = self.queue.pop_front()
                {
                    out.push(Output::AckResolved {
                        token,
                        result: Err(error),
                    });
                }
            }
        }
        out.extend(self.drain_queue(false, now));
        out
    }

    /// The application acknowledges an event of the server.
    pub fn acknowledge(&self, id: u64, arguments: Vec<Value>) -> Output {
        Output::Send(Packet::ack(&self.namespace, id, arguments))
    }

    /// A packet of this socket's namespace.
    pub fn on_packet(&mut self, packet: Packet, now: Instant) -> Vec<Output> {
        match packet.packet_type {
            PacketType::Connect => self.on_connect_answer(packet.data),
            PacketType::Event | PacketType::BinaryEvent => self.on_event(packet),
            PacketType::Ack | PacketType::BinaryAck => self.on_ack(packet, now),
            PacketType::Disconnect => {
                let mut out = Vec::new();
                self.active = false;
                out.extend(self.on_disconnected(DisconnectReason::IoServerDisconnect, now));
                out
            }
            PacketType::ConnectError => {
                self.active = false;
                let (message, data) = connect_error(packet.data);
                vec![Output::ConnectError { message, data }]
            }
        }
    }

    fn on_connect_answer(&mut self, data: Option<Value>) -> Vec<Output> {
        let (id, pid) = match self.protocol {
            Protocol::V5 => {
                let sid = data.as_ref().and_then(|data| data.get("sid"));
                let Some(Value::String(sid)) = sid else {
                    return vec![Output::ConnectError {
                        message: V2_SERVER_MESSAGE.to_owned(),
                        data: None,
                    }];
                };
                let pid = data
                    .as_ref()
                    .and_then(|data| data.get("pid"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (sid.clone(), pid)
            }
            // Protocol 4 has no sid in the answer: the socket id is the Engine.IO sid, prefixed
            // by the namespace outside the main one, as socket.io 2.x names it.
            Protocol::V4 => {
                let sid = self.engine_sid.clone().unwrap_or_default();
                let id = if self.namespace == "/" {
                    sid
                } else {
                    format!("{}#{sid}", self.namespace)
                };
                (id, None)
            }
        };
        let recovered = pid.is_some() && self.pid == pid;
        self.pid = pid;
        self.id = Some(id.clone());
        let held = std::mem::take(&mut self.receive_buffer);
        let mut out: Vec<Output> = held
            .into_iter()
            .map(|(event, offset)| self.deliver(event, offset))
            .collect();
        out.extend(self.send_buffer.drain(..).map(Output::Send));
        out.extend(self.drain_queue(true, Instant::now()));
        out.push(Output::Connected { id, recovered });
        out
    }

    fn on_event(&mut self, packet: Packet) -> Vec<Output> {
        let Some(Value::Array(mut items)) = packet.data else {
            return Vec::new();
        };
        if items.is_empty() {
            return Vec::new();
        }
        let offset = offset_candidate(&items, packet.id);
        let name = match items.remove(0) {
            Value::String(name) => name,
            other => other.to_json(),
        };
        let event = Output::Event {
            name,
            arguments: items,
            ack_id: packet.id,
        };
        if self.id.is_some() {
            vec![self.deliver(event, offset)]
        } else {
            self.receive_buffer.push((event, offset));
            Vec::new()
        }
    }

    /// An event goes to the application: with recovery on (a `pid` from the server), its
    /// offset candidate becomes the offset of the next CONNECT. Checked on delivery, as the
    /// official client does, so that events held until the CONNECT answer count once that
    /// answer has given the `pid`.
    fn deliver(&mut self, event: Output, offset: Option<String>) -> Output {
        if self.pid.is_some() {
            if let Some(offset) = offset {
                self.last_offset = Some(offset);
            }
        }
        event
    }

    fn on_ack(&mut self, packet: Packet, now: Instant) -> Vec<Output> {
        let Some(id) = packet.id else {
            return Vec::new();
        };
        // An ack nobody waits for (timed out, or never asked) is ignored: "bad ack".
        let Some(pending) = self.acks.remove(&id) else {
            return Vec::new();
        };
        let arguments = match packet.data {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        match pending.kind {
            AckKind::User(token) => vec![Output::AckResolved {
                token,
                result: Ok(arguments),
            }],
            AckKind::Retry => {
                let mut out = Vec::new();
                if let Some(Queued {
                    token: Some(token), ..
                }) = self.queue.pop_front()
                {
                    out.push(Output::AckResolved {
                        token,
                        result: Ok(arguments),
                    });
                }
                out.extend(self.drain_queue(false, now));
                out
            }
        }
    }

    /// The connection closed for `reason`.
    pub fn on_close(&mut self, reason: DisconnectReason, now: Instant) -> Vec<Output> {
        self.engine_sid = None;
        if !self.active {
            self.id = None;
            return Vec::new();
        }
        self.on_disconnected(reason, now)
    }

    fn on_disconnected(&mut self, reason: DisconnectReason, now: Instant) -> Vec<Output> {
        self.id = None;
        let mut out = vec![Output::Disconnected(reason)];
        out.extend(self.clear_acks(now));
        out
    }

    /// Fails the acks of sent packets; those of packets still buffered wait on.
    fn clear_acks(&mut self, now: Instant) -> Vec<Output> {
        let buffered: Vec<u64> = self.send_buffer.iter().filter_map(|p| p.id).collect();
        let mut ids: Vec<u64> = self
            .acks
            .keys()
            .copied()
            .filter(|id| !buffered.contains(id))
            .collect();
        ids.sort_unstable();
        let mut out = Vec::new();
        for id in ids {
            match self.acks.remove(&id) {
                Some(PendingAck {
                    kind: AckKind::User(token),
                    ..
                }) => out.push(Output::AckResolved {
                    token,
                    result: Err(AckError::Disconnected),
                }),
                // A try with a timeout fails ("socket has been disconnected") and counts; one
                // without is forgotten, as the official client forgets callbacks that take no
                // error: the head stays in flight and goes again once connected.
                Some(PendingAck {
                    kind: AckKind::Retry,
                    deadline: Some(_),
                }) => out.extend(self.retry_failed(AckError::Disconnected, now)),
                Some(PendingAck {
                    kind: AckKind::Retry,
                    deadline: None,
                })
                | None => {}
            }
        }
        out
    }

    /// The application disconnects the socket: a DISCONNECT if it was connected, and no
    /// reconnection.
    pub fn disconnect(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        let was_connected = self.id.is_some();
        if was_connected {
            out.push(Output::Send(Packet {
                namespace: self.namespace.clone(),
                ..Packet::new(PacketType::Disconnect)
            }));
        }
        self.active = false;
        if was_connected {
            out.extend(self.on_disconnected(DisconnectReason::IoClientDisconnect, now));
        }
        out
    }

    /// Ack timeouts that passed by `now`.
    pub fn poll_timeouts(&mut self, now: Instant) -> Vec<Output> {
        let mut expired: Vec<u64> = self
            .acks
            .iter()
            .filter(|(_, ack)| ack.deadline.is_some_and(|deadline| deadline <= now))
            .map(|(&id, _)| id)
            .collect();
        expired.sort_unstable();
        let mut out = Vec::new();
        for id in expired {
            match self.acks.remove(&id).map(|ack| ack.kind) {
                Some(AckKind::User(token)) => {
                    self.send_buffer.retain(|packet| packet.id != Some(id));
                    out.push(Output::AckResolved {
                        token,
                        result: Err(AckError::Timeout),
                    });
                }
                Some(AckKind::Retry) => out.extend(self.retry_failed(AckError::Timeout, now)),
                None => {}
            }
        }
        out
    }

    /// The earliest ack deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.acks.values().filter_map(|ack| ack.deadline).min()
    }

    /// Fails every pending ack: the client is closing for good.
    pub fn abandon(&mut self) -> Vec<Output> {
        let mut out: Vec<Output> = self
            .acks
            .drain()
            .filter_map(|(_, ack)| match ack.kind {
                AckKind::User(token) => Some(token),
                AckKind::Retry => None,
            })
            .chain(self.queue.drain(..).filter_map(|queued| queued.token))
            .map(|token| Output::AckResolved {
                token,
                result: Err(AckError::Closed),
            })
            .collect();
        out.sort_by_key(|output| match output {
            Output::AckResolved { token, .. } => *token,
            _ => 0,
        });
        out
    }
}

/// The offset an event would give, with recovery on: the last element of its data array (the
/// event name itself when there are no arguments) when it is a string, and none when the server
/// asked for an acknowledgement, since the official client then looks at the callback it
/// appended to the arguments instead.
fn offset_candidate(items: &[Value], ack_id: Option<u64>) -> Option<String> {
    if ack_id.is_some() {
        return None;
    }
    match items.last() {
        Some(Value::String(offset)) => Some(offset.clone()),
        _ => None,
    }
}

/// The message and data of a CONNECT_ERROR: `{"message":…,"data":…}` in v5, a string (or that
/// object) in v4.
fn connect_error(data: Option<Value>) -> (String, Option<Value>) {
    match data {
        Some(Value::String(message)) => (message, None),
        Some(object @ Value::Object(_)) => {
            let message = object
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            (message, object.get("data").cloned())
        }
        _ => (String::new(), None),
    }
}

#[cfg(test)]
#[path = "socket_state_tests.rs"]
#[allow(clippy::unwrap_used)]
mod tests;
