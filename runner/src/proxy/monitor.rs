//! The decoding half of the proxy: every polling payload and WebSocket frame it carries is
//! decoded with the suite's own protocol module ([`sio_suite::protocol`]), packet by packet,
//! into the [`Journal`], and each session's state is followed so that protocol violations are
//! flagged as they happen, each naming the requirement of `suite/requirements/` it breaks:
//!
//! | violation | requirement |
//! |---|---|
//! | a protocol 4 polling payload whose packets do not split at `\x1e` and decode | `EIO4-POLL-PAYLOAD-SEPARATOR` |
//! | a protocol 3 payload whose `<length>:` framing does not hold | `EIO3-PAYLOAD-LENGTH` (binary payloads: `EIO3-PAYLOAD-BINARY`) |
//! | a WebSocket frame that is not one Engine.IO packet | `EIO4-WS-FRAME-PER-PACKET` |
//! | a message that is not a Socket.IO packet | `SIO5-ENCODING-FORMAT` |
//! | binary data that no BINARY_EVENT or BINARY_ACK announced, or a packet between a binary packet and its last attachment | `SIO5-ENCODING-ATTACHMENTS` |
//! | an ACK whose id the other side never asked for (or asked for and got already) | `SIO5-ACK-SAME-ID` |
//! | an ACK whose payload is not an array | `SIO5-ACK-PAYLOAD` |
//! | an EVENT whose payload is not a non-empty array | `SIO5-EVENT-PAYLOAD` |
//! | a client packet in a namespace before its CONNECT | `SIO5-CONNECT-CLIENT-FIRST` |
//! | a server packet in a namespace before it answered CONNECT | `SIO5-EXCHANGE-AFTER-CONNECT` |
//! | a ping not answered with a pong within `pingTimeout` (protocol 4: the client's pong; protocol 3: the server's) | `EIO4-HEARTBEAT-PING-INTERVAL`, `EIO3-PING-PONG` |
//! | a POST body over the session's `maxPayload` | `EIO4-POLL-CLIENT-MAX-PAYLOAD` |
//! | a client frame over the session's `maxPayload` | `WS-04` (the official server closes the WebSocket with 1009) |
//!
//! A session is Socket.IO when its path has `socket.io` in it (`/socket.io/`,
//! `/socket.io-recovery/`), plain Engine.IO otherwise; its protocol revision is its `EIO`
//! query parameter. Nothing here changes what the proxy forwards: it only reads.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;
use sio_suite::engine::WireData;
use sio_suite::protocol::engine_io::{self, v3, v4, PacketType};
use sio_suite::protocol::socket_io::{self, PacketType as SioType};
use sio_suite::scenario::Data;
use tokio::time::Instant;

use super::journal::{Entry, EntryKind, Journal, PerSide, Side};

/// The most acknowledgement ids followed per namespace and side: a peer that asks for more
/// acks than this without getting answers is not followed further (bounded memory).
const MAX_PENDING_ACKS: usize = 10_000;

/// What the proxy knows of an HTTP request or a WebSocket from its path and query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The connection, `http#3` or `ws#2`.
    pub channel: String,
    /// `EIO` (4 when absent or not 3).
    pub eio: u8,
    /// `sid`, when given.
    pub sid: Option<String>,
    /// `transport`.
    pub transport: Option<String>,
    /// Whether the path serves Socket.IO (has `socket.io` in it).
    pub socket_io: bool,
    /// Whether the request is an Engine.IO one at all (it has `EIO` or `transport`).
    pub engine_io: bool,
    /// The path, without the query.
    pub path: String,
}

impl Endpoint {
    /// The endpoint of a request for `target` (path and query) on `channel`.
    pub fn parse(channel: &str, target: &str) -> Endpoint {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut endpoint = Endpoint {
            channel: channel.to_owned(),
            eio: 4,
            sid: None,
            transport: None,
            socket_io: path.contains("socket.io"),
            engine_io: false,
            path: path.to_owned(),
        };
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "EIO" => {
                    endpoint.engine_io = true;
                    if value == "3" {
                        endpoint.eio = 3;
                    }
                }
                "transport" => {
                    endpoint.engine_io = true;
                    endpoint.transport = Some(value.to_owned());
                }
                "sid" if !value.is_empty() => endpoint.sid = Some(value.to_owned()),
                _ => {}
            }
        }
        endpoint
    }
}

/// A ping waiting for its pong.
#[derive(Debug, Clone, Copy)]
struct PendingPing {
    seq: u64,
    at: Instant,
    flagged: bool,
}

/// A binary packet waiting for its attachments.
#[derive(Debug, Clone)]
struct Assembly {
    packet: socket_io::Packet,
    sizes: Vec<usize>,
    expected: usize,
}

/// What the proxy follows of a namespace in a session.
#[derive(Debug, Clone, Default)]
struct Namespace {
    /// The client sent its CONNECT.
    client_connected: bool,
    /// The server answered it with a CONNECT.
    server_connected: bool,
    /// The client's CONNECT asked to recover a session (a string `pid` and `offset`): the
    /// official server sends the missed packets before its answer (behaviour CSR-05).
    recovering: bool,
    /// The ids each side asked to be acknowledged, not yet answered.
    acks: PerSide<HashSet<u64>>,
}

/// What the proxy knows of a session, for the recorded scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The sid.
    pub sid: String,
    /// The Engine.IO protocol revision, 3 or 4.
    pub eio: u8,
    /// Whether it carries Socket.IO.
    pub socket_io: bool,
    /// The path of its requests (`/socket.io/`).
    pub path: String,
    /// `polling` or `websocket`: the transport of its handshake.
    pub opened_over: String,
    /// Whether it was upgraded from polling to WebSocket.
    pub upgraded: bool,
    /// The open packet's `pingInterval`, `pingTimeout` and `maxPayload`, when it has them.
    pub ping_interval: Option<u64>,
    /// See [`SessionInfo::ping_interval`].
    pub ping_timeout: Option<u64>,
    /// See [`SessionInfo::ping_interval`].
    pub max_payload: Option<u64>,
}

/// What the proxy follows of an Engine.IO session.
#[derive(Debug, Clone)]
struct Session {
    info: Option<SessionInfo>,
    eio: u8,
    socket_io: bool,
    ping_timeout: Option<Duration>,
    max_payload: Option<u64>,
    ping_seq: u64,
    ping: Option<PendingPing>,
    namespaces: HashMap<String, Namespace>,
    assembling: PerSide<Option<Assembly>>,
}

impl Session {
    fn new(eio: u8, socket_io: bool) -> Session {
        Session {
            info: None,
            eio,
            socket_io,
            ping_timeout: None,
            max_payload: None,
            ping_seq: 0,
            ping: None,
            namespaces: HashMap::new(),
            assembling: PerSide::default(),
        }
    }

    /// Whether the session is over WebSocket (opened over it, or upgraded).
    fn on_websocket(&self) -> bool {
        self.info
            .as_ref()
            .is_some_and(|info| info.upgraded || info.opened_over == "websocket")
    }

    /// Who sends the pings: the server in protocol 4, the client in protocol 3.
    fn pinger(&self) -> Side {
        if self.eio == 3 {
            Side::Client
        } else {
            Side::Server
        }
    }
}

/// A ping's deadline, for the proxy to check when it passes.
#[derive(Debug, Clone)]
pub struct PingDeadline {
    /// The session.
    pub sid: String,
    /// The ping's number in the session.
    pub seq: u64,
    /// When its pong is due.
    pub due: Instant,
}

/// The state of every session the proxy has seen, and the journal.
#[derive(Debug)]
pub struct Monitor {
    started: Instant,
    journal: Journal,
    sessions: HashMap<String, Session>,
    opened: Vec<String>,
    deadlines: Vec<PingDeadline>,
}

/// Where a packet was seen: the connection, its session, and who sent it.
struct Seen<'a> {
    channel: &'a str,
    sid: Option<&'a str>,
    from: Side,
}

impl Monitor {
    /// A monitor writing to `journal`, its clock started now.
    pub fn new(journal: Journal) -> Monitor {
        Monitor {
            started: Instant::now(),
            journal,
            sessions: HashMap::new(),
            opened: Vec::new(),
            deadlines: Vec::new(),
        }
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The sessions opened, in the order of their open packets.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.opened
            .iter()
            .filter_map(|sid| self.sessions.get(sid))
            .filter_map(|session| session.info.clone())
            .collect()
    }

    /// The ping deadlines found since the last call, for the proxy to wait for.
    pub fn take_deadlines(&mut self) -> Vec<PingDeadline> {
        std::mem::take(&mut self.deadlines)
    }

    /// Adds an entry of the wire or a remark.
    pub fn record(
        &mut self,
        channel: &str,
        sid: Option<&str>,
        from: Option<Side>,
        kind: EntryKind,
    ) {
        self.push(channel, sid, None, from, kind);
    }

    fn push(
        &mut self,
        channel: &str,
        sid: Option<&str>,
        nsp: Option<&str>,
        from: Option<Side>,
        kind: EntryKind,
    ) {
        self.push_entry(channel, sid, nsp, from, kind, true);
    }

    fn push_entry(
        &mut self,
        channel: &str,
        sid: Option<&str>,
        nsp: Option<&str>,
        from: Option<Side>,
        kind: EntryKind,
        echo: bool,
    ) {
        let entry = Entry {
            at: self.started.elapsed(),
            channel: channel.to_owned(),
            sid: sid.map(str::to_owned),
            nsp: nsp.map(str::to_owned),
            from,
            kind,
            echo,
        };
        self.journal.push(entry);
    }

    fn violation(
        &mut self,
        seen: &Seen<'_>,
        nsp: Option<&str>,
        requirement: &str,
        message: String,
    ) {
        self.push(
            seen.channel,
            seen.sid,
            nsp,
            Some(seen.from),
            EntryKind::Violation {
                requirement: requirement.to_owned(),
                message,
            },
        );
    }

    fn session(&mut self, endpoint: &Endpoint, sid: &str) -> &mut Session {
        self.sessions
            .entry(sid.to_owned())
            .or_insert_with(|| Session::new(endpoint.eio, endpoint.socket_io))
    }

    /// A polling request's body, from the client: a POST's payload is decoded and checked
    /// against the session's `maxPayload`.
    pub fn polling_request(
        &mut self,
        endpoint: &Endpoint,
        method: &str,
        body: &[u8],
        binary: bool,
    ) {
        if !endpoint.engine_io || method != "POST" {
            return;
        }
        let Some(sid) = endpoint.sid.as_deref() else {
            return;
        };
        let seen = Seen {
            channel: &endpoint.channel,
            sid: Some(sid),
            from: Side::Client,
        };
        let max_payload = self.session(endpoint, sid).max_payload;
        if let Some(max) = max_payload.filter(|max| body.len() as u64 > *max) {
            self.violation(
                &seen,
                None,
                "EIO4-POLL-CLIENT-MAX-PAYLOAD",
                format!(
                    "a POST body of {} bytes, over the maxPayload of {max} the open packet announced",
                    body.len()
                ),
            );
        }
        self.payload(endpoint, &seen, body, binary);
    }

    /// A polling response, from the server: `raw` (its entry) is journaled under the session
    /// (the one its open packet opens, for a handshake), then the handshake's and the GETs'
    /// payloads are decoded (a POST's `ok` and error responses are not payloads). Returns the
    /// session's sid.
    pub fn polling_response(
        &mut self,
        endpoint: &Endpoint,
        method: &str,
        status: u16,
        body: Option<&[u8]>,
        binary: bool,
        raw: EntryKind,
    ) -> Option<String> {
        let payload = body.filter(|_| {
            endpoint.engine_io
                && method == "GET"
                && status == 200
                && endpoint.transport.as_deref() != Some("websocket")
        });
        let sid = endpoint
            .sid
            .clone()
            .or_else(|| payload.and_then(|body| handshake_sid(endpoint.eio, body, binary)));
        self.push(
            &endpoint.channel,
            sid.as_deref(),
            None,
            Some(Side::Server),
            raw,
        );
        if let Some(body) = payload {
            let seen = Seen {
                channel: &endpoint.channel,
                sid: sid.as_deref(),
                from: Side::Server,
            };
            self.payload(endpoint, &seen, body, binary);
        }
        sid
    }

    /// A WebSocket frame's entry: not echoed on the live log when the frame is an Engine.IO
    /// one, since its packet's line shows it.
    pub fn record_frame(
        &mut self,
        endpoint: &Endpoint,
        sid: Option<&str>,
        from: Side,
        kind: EntryKind,
    ) {
        let echo = !endpoint.engine_io;
        self.push_entry(&endpoint.channel, sid, None, Some(from), kind, echo);
    }

    /// Decodes a polling payload and handles its packets; returns the sid of an open packet.
    fn payload(
        &mut self,
        endpoint: &Endpoint,
        seen: &Seen<'_>,
        body: &[u8],
        binary: bool,
    ) -> Option<String> {
        let packets = match decode_payload(endpoint.eio, body, binary) {
            Ok(packets) => packets,
            Err((requirement, message)) => {
                self.violation(seen, None, requirement, message);
                return None;
            }
        };
        let mut opened = None;
        for packet in packets {
            let sid = opened.as_deref().or(seen.sid);
            let here = Seen {
                channel: seen.channel,
                sid,
                from: seen.from,
            };
            if let Some(sid) = self.packet(endpoint, &here, packet) {
                opened = Some(sid);
            }
        }
        opened
    }

    /// A WebSocket data frame, from `from`: one Engine.IO packet. Returns the sid of an open
    /// packet (a WebSocket opened without a polling handshake).
    pub fn frame(
        &mut self,
        endpoint: &Endpoint,
        sid: Option<&str>,
        from: Side,
        frame: &Data,
    ) -> Option<String> {
        if !endpoint.engine_io {
            return None;
        }
        let seen = Seen {
            channel: &endpoint.channel,
            sid,
            from,
        };
        let size = match frame {
            Data::Text(text) => text.len(),
            Data::Binary(bytes) => bytes.len(),
        };
        if from == Side::Client {
            let max_payload = sid
                .and_then(|sid| self.sessions.get(sid))
                .and_then(|s| s.max_payload);
            if let Some(max) = max_payload.filter(|max| size as u64 > *max) {
                self.violation(
                    &seen,
                    None,
                    "WS-04",
                    format!("a frame of {size} bytes, over the maxPayload of {max} the open packet announced"),
                );
            }
        }
        let packet = match decode_frame(endpoint.eio, frame) {
            Ok(packet) => packet,
            Err(message) => {
                self.violation(&seen, None, "EIO4-WS-FRAME-PER-PACKET", message);
                return None;
            }
        };
        self.packet(endpoint, &seen, packet)
    }

    /// One Engine.IO packet: journaled, then followed (open, heartbeat, Socket.IO).
    fn packet(
        &mut self,
        endpoint: &Endpoint,
        seen: &Seen<'_>,
        packet: EioPacket,
    ) -> Option<String> {
        // A Socket.IO session's messages are echoed as their Socket.IO packets.
        let socket_io = seen
            .sid
            .and_then(|sid| self.sessions.get(sid))
            .map_or(endpoint.socket_io, |session| session.socket_io);
        let echo = !(packet.kind == PacketType::Message && socket_io);
        self.push_entry(
            seen.channel,
            seen.sid,
            None,
            Some(seen.from),
            EntryKind::Packet {
                packet: packet.kind.name().to_owned(),
                wire: packet.wire.clone(),
            },
            echo,
        );
        match (packet.kind, &packet.wire) {
            (PacketType::Open, WireData::Text(text)) if seen.from == Side::Server => {
                self.open(endpoint, seen, text)
            }
            (PacketType::Ping | PacketType::Pong, WireData::Text(text)) => {
                if let Some(sid) = seen.sid {
                    self.heartbeat(endpoint, seen, sid, packet.kind, text);
                }
                None
            }
            (PacketType::Message, wire) => {
                if let Some(sid) = seen.sid {
                    if self.session(endpoint, sid).socket_io {
                        self.socket_io(endpoint, seen, sid, wire);
                    }
                }
                None
            }
            (PacketType::Close, _) => {
                self.ended(seen.sid);
                None
            }
            (PacketType::Upgrade, _) => {
                if let Some(info) = seen
                    .sid
                    .and_then(|sid| self.sessions.get_mut(sid))
                    .and_then(|session| session.info.as_mut())
                {
                    info.upgraded = true;
                }
                self.push(
                    seen.channel,
                    seen.sid,
                    None,
                    None,
                    EntryKind::Note {
                        text: "the session is upgraded to WebSocket".to_owned(),
                    },
                );
                None
            }
            _ => None,
        }
    }

    /// The server's open packet: the session's sid and parameters.
    fn open(&mut self, endpoint: &Endpoint, seen: &Seen<'_>, text: &str) -> Option<String> {
        let Ok(Value::Object(open)) = serde_json::from_str::<Value>(&text[1..]) else {
            return None;
        };
        let sid = open.get("sid").and_then(Value::as_str)?.to_owned();
        let millis = |name: &str| open.get(name).and_then(Value::as_u64);
        if !self.sessions.contains_key(&sid) {
            self.opened.push(sid.clone());
        }
        let session = self.session(endpoint, &sid);
        session.ping_timeout = millis("pingTimeout").map(Duration::from_millis);
        session.max_payload = millis("maxPayload");
        session.info = Some(SessionInfo {
            sid: sid.clone(),
            eio: endpoint.eio,
            socket_io: endpoint.socket_io,
            path: endpoint.path.clone(),
            opened_over: endpoint
                .transport
                .clone()
                .unwrap_or_else(|| "polling".to_owned()),
            upgraded: false,
            ping_interval: millis("pingInterval"),
            ping_timeout: millis("pingTimeout"),
            max_payload: millis("maxPayload"),
        });
        let kind = if session.socket_io {
            "Socket.IO"
        } else {
            "Engine.IO"
        };
        let text = format!(
            "session {sid} opened ({kind}, Engine.IO {}): pingInterval {}, pingTimeout {}, maxPayload {}",
            endpoint.eio,
            show(millis("pingInterval")),
            show(millis("pingTimeout")),
            show(millis("maxPayload")),
        );
        self.push(
            seen.channel,
            Some(&sid),
            None,
            None,
            EntryKind::Note { text },
        );
        Some(sid)
    }

    /// A ping or a pong: a ping of the side that pings starts a wait for its pong, which must
    /// come within `pingTimeout`. Probes are the upgrade's, not the heartbeat's.
    fn heartbeat(
        &mut self,
        endpoint: &Endpoint,
        seen: &Seen<'_>,
        sid: &str,
        kind: PacketType,
        text: &str,
    ) {
        if &text[1..] == engine_io::PROBE {
            return;
        }
        let now = Instant::now();
        let session = self.session(endpoint, sid);
        // In protocol 3 the server's pong waits over polling for the client's next GET, which
        // the client sends when it likes: only a WebSocket pong is timed.
        if session.eio == 3 && !session.on_websocket() {
            return;
        }
        let pinger = session.pinger();
        let requirement = heartbeat_requirement(session.eio);
        match kind {
            PacketType::Ping if seen.from == pinger => {
                session.ping_seq += 1;
                let seq = session.ping_seq;
                session.ping = Some(PendingPing {
                    seq,
                    at: now,
                    flagged: false,
                });
                if let Some(timeout) = session.ping_timeout {
                    self.deadlines.push(PingDeadline {
                        sid: sid.to_owned(),
                        seq,
                        due: now + timeout,
                    });
                }
            }
            PacketType::Pong if seen.from == pinger.peer() => {
                let Some(ping) = session.ping.take() else {
                    return;
                };
                let waited = now.duration_since(ping.at);
                let timeout = session.ping_timeout;
                if let Some(timeout) = timeout.filter(|timeout| waited > *timeout && !ping.flagged)
                {
                    self.violation(
                        seen,
                        None,
                        requirement,
                        format!(
                            "the pong came {} ms after the ping, later than pingTimeout ({} ms)",
                            waited.as_millis(),
                            timeout.as_millis()
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    /// The session ended (a close packet, or the end of its WebSocket): a ping waiting for
    /// its pong waits no more. When it had waited about `pingTimeout` already (nine tenths of
    /// it: the proxy sees the ping after the server sent it), the session ended for want of
    /// the pong, and the violation is the late side's.
    fn ended(&mut self, sid: Option<&str>) {
        let Some((sid, session)) = sid.and_then(|sid| Some(sid).zip(self.sessions.get_mut(sid)))
        else {
            return;
        };
        let Some(ping) = session.ping.take().filter(|ping| !ping.flagged) else {
            return;
        };
        let Some(timeout) = session.ping_timeout else {
            return;
        };
        let waited = ping.at.elapsed();
        if waited >= timeout.mul_f64(0.9) {
            let late = session.pinger().peer();
            let requirement = heartbeat_requirement(session.eio);
            let seen = Seen {
                channel: "heartbeat",
                sid: Some(sid),
                from: late,
            };
            self.violation(
                &seen,
                None,
                requirement,
                format!(
                    "no pong: the session ended {} ms after the ping (pingTimeout {} ms)",
                    waited.as_millis(),
                    timeout.as_millis()
                ),
            );
        }
    }

    /// A WebSocket ended (its close frame, or its connection). When it carried the session
    /// (not a probe that failed), the session ended with it.
    pub fn websocket_ended(&mut self, sid: Option<&str>) {
        let carried = sid
            .and_then(|sid| self.sessions.get(sid))
            .is_some_and(Session::on_websocket);
        if carried {
            self.ended(sid);
        }
    }

    /// A ping's deadline passed: if its pong has not come, that is a violation by the side
    /// that should have answered.
    pub fn ping_due(&mut self, deadline: &PingDeadline) {
        let Some(session) = self.sessions.get_mut(&deadline.sid) else {
            return;
        };
        let Some(ping) = session
            .ping
            .as_mut()
            .filter(|ping| ping.seq == deadline.seq && !ping.flagged)
        else {
            return;
        };
        ping.flagged = true;
        let late = session.pinger().peer();
        let requirement = heartbeat_requirement(session.eio);
        let timeout = session.ping_timeout.unwrap_or_default();
        let seen = Seen {
            channel: "heartbeat",
            sid: Some(&deadline.sid),
            from: late,
        };
        self.violation(
            &seen,
            None,
            requirement,
            format!(
                "no pong within pingTimeout ({} ms) of the ping",
                timeout.as_millis()
            ),
        );
    }

    /// An Engine.IO message of a Socket.IO session: a packet, or an attachment of the binary
    /// packet before it.
    fn socket_io(&mut self, endpoint: &Endpoint, seen: &Seen<'_>, sid: &str, wire: &WireData) {
        match wire {
            WireData::Binary(bytes) => self.attachment(endpoint, seen, sid, bytes.len()),
            WireData::Text(text) => {
                if let Some(assembly) = self
                    .session(endpoint, sid)
                    .assembling
                    .get_mut(seen.from)
                    .take()
                {
                    self.violation(
                        seen,
                        Some(&assembly.packet.nsp),
                        "SIO5-ENCODING-ATTACHMENTS",
                        format!(
                            "a text packet while {} of the {} attachments of a {} were still to come",
                            assembly.expected - assembly.sizes.len(),
                            assembly.expected,
                            assembly.packet.kind.name()
                        ),
                    );
                }
                let packet = match socket_io::decode_message(text) {
                    Ok(packet) => packet,
                    Err(error) => {
                        self.violation(
                            seen,
                            None,
                            "SIO5-ENCODING-FORMAT",
                            format!("{text:?} is not a Socket.IO packet: {error}"),
                        );
                        return;
                    }
                };
                let expected = packet.attachments.unwrap_or(0);
                if expected > 0 {
                    let expected = usize::try_from(expected).unwrap_or(usize::MAX);
                    *self.session(endpoint, sid).assembling.get_mut(seen.from) = Some(Assembly {
                        packet,
                        sizes: Vec::new(),
                        expected,
                    });
                } else {
                    self.complete(endpoint, seen, sid, packet, Vec::new());
                }
            }
        }
    }

    fn attachment(&mut self, endpoint: &Endpoint, seen: &Seen<'_>, sid: &str, size: usize) {
        let slot = self.session(endpoint, sid).assembling.get_mut(seen.from);
        let Some(assembly) = slot.as_mut() else {
            self.violation(
                seen,
                None,
                "SIO5-ENCODING-ATTACHMENTS",
                format!("{size} bytes of binary data that no BINARY_EVENT or BINARY_ACK announced"),
            );
            return;
        };
        assembly.sizes.push(size);
        if assembly.sizes.len() >= assembly.expected {
            if let Some(done) = slot.take() {
                self.complete(endpoint, seen, sid, done.packet, done.sizes);
            }
        }
    }

    /// A whole Socket.IO packet: journaled, then checked against its namespace's state.
    fn complete(
        &mut self,
        endpoint: &Endpoint,
        seen: &Seen<'_>,
        sid: &str,
        packet: socket_io::Packet,
        sizes: Vec<usize>,
    ) {
        let nsp = packet.nsp.clone();
        self.push(
            seen.channel,
            Some(sid),
            Some(&nsp),
            Some(seen.from),
            EntryKind::SocketIo {
                packet: packet.kind.name().to_owned(),
                id: packet.id,
                data: packet.data.clone(),
                attachments: sizes,
            },
        );
        let problems = self.follow(endpoint, seen.from, sid, &packet);
        for (requirement, message) in problems {
            self.violation(seen, Some(&nsp), requirement, message);
        }
    }

    /// Follows a namespace's CONNECT and acks; returns the violations.
    fn follow(
        &mut self,
        endpoint: &Endpoint,
        from: Side,
        sid: &str,
        packet: &socket_io::Packet,
    ) -> Vec<(&'static str, String)> {
        let session = self.session(endpoint, sid);
        let eio3 = session.eio == 3;
        let namespace = session.namespaces.entry(packet.nsp.clone()).or_default();
        let mut problems = Vec::new();
        match (packet.kind, from) {
            (SioType::Connect, Side::Client) => {
                namespace.client_connected = true;
                namespace.recovering = packet.data.as_ref().is_some_and(|data| {
                    data.get("pid").is_some_and(Value::is_string)
                        && data.get("offset").is_some_and(Value::is_string)
                });
            }
            (SioType::Connect, Side::Server) => {
                namespace.server_connected = true;
                namespace.recovering = false;
                // Socket.IO v4 over Engine.IO 3: the server joins `/` by itself.
                if eio3 {
                    namespace.client_connected = true;
                }
            }
            (SioType::ConnectError, Side::Server) => namespace.server_connected = false,
            // The side that leaves must CONNECT (or answer a CONNECT) again before it sends in
            // the namespace; the other side's packets already on their way cross the
            // DISCONNECT and are no violation.
            (SioType::Disconnect, Side::Client) => namespace.client_connected = false,
            (SioType::Disconnect, Side::Server) => namespace.server_connected = false,
            (_, Side::Client) if !namespace.client_connected => problems.push((
                "SIO5-CONNECT-CLIENT-FIRST",
                format!(
                    "a {} in {} before the client's CONNECT to it",
                    packet.kind.name(),
                    packet.nsp
                ),
            )),
            (_, Side::Server) if !namespace.server_connected && !namespace.recovering => problems
                .push((
                    "SIO5-EXCHANGE-AFTER-CONNECT",
                    format!(
                        "a {} in {} before the server answered its CONNECT",
                        packet.kind.name(),
                        packet.nsp
                    ),
                )),
            _ => {}
        }
        match packet.kind {
            SioType::Event | SioType::BinaryEvent => {
                if !matches!(&packet.data, Some(Value::Array(items)) if !items.is_empty()) {
                    problems.push((
                        "SIO5-EVENT-PAYLOAD",
                        "the payload of an EVENT is not a non-empty array".to_owned(),
                    ));
                }
                if let Some(id) = packet.id {
                    let asked = namespace.acks.get_mut(from);
                    if asked.len() < MAX_PENDING_ACKS {
                        asked.insert(id);
                    }
                }
            }
            SioType::Ack | SioType::BinaryAck => {
                if !matches!(packet.data, Some(Value::Array(_))) {
                    problems.push((
                        "SIO5-ACK-PAYLOAD",
                        "the payload of an ACK is not an array".to_owned(),
                    ));
                }
                match packet.id {
                    Some(id) if namespace.acks.get_mut(from.peer()).remove(&id) => {}
                    Some(id) => problems.push((
                        "SIO5-ACK-SAME-ID",
                        format!("an ACK for the id {id}, which the other side did not ask to be acknowledged (or was answered already)"),
                    )),
                    None => problems.push(("SIO5-ACK-SAME-ID", "an ACK without an id".to_owned())),
                }
            }
            _ => {}
        }
        problems
    }
}

/// The requirement a late pong breaks.
fn heartbeat_requirement(eio: u8) -> &'static str {
    if eio == 3 {
        "EIO3-PING-PONG"
    } else {
        "EIO4-HEARTBEAT-PING-INTERVAL"
    }
}

fn show(value: Option<u64>) -> String {
    value.map_or_else(|| "absent".to_owned(), |value| value.to_string())
}

/// An Engine.IO packet as the journal and the scenarios see it: its type, and its text form
/// (`4hello`) or a binary message's data (a protocol 3 binary packet of another type keeps
/// its type byte).
#[derive(Debug, Clone, PartialEq)]
struct EioPacket {
    kind: PacketType,
    wire: WireData,
}

impl EioPacket {
    /// A decoded packet of protocol `eio` (a binary [`Data`] is a message's data in protocol
    /// 4, a typed binary packet in protocol 3).
    fn from_data(eio: u8, data: Data) -> Result<EioPacket, String> {
        match data {
            Data::Text(text) => {
                let kind = PacketType::of(&Data::Text(text.clone()))
                    .ok_or_else(|| format!("{text:?} does not start with a packet type"))?;
                Ok(EioPacket {
                    kind,
                    wire: WireData::Text(text),
                })
            }
            Data::Binary(bytes) if eio == 3 => {
                let (kind, rest) =
                    v3::decode_binary_packet(&bytes).map_err(|error| error.to_string())?;
                let wire = if kind == PacketType::Message {
                    WireData::Binary(rest.to_vec())
                } else {
                    WireData::Binary(bytes.clone())
                };
                Ok(EioPacket { kind, wire })
            }
            Data::Binary(bytes) => Ok(EioPacket {
                kind: PacketType::Message,
                wire: WireData::Binary(bytes),
            }),
        }
    }
}

/// Decodes a polling payload; a failure names the requirement the payload breaks.
fn decode_payload(
    eio: u8,
    body: &[u8],
    binary: bool,
) -> Result<Vec<EioPacket>, (&'static str, String)> {
    let decoded = if eio == 3 && binary {
        v3::decode_binary_payload(body).map_err(|error| {
            (
                "EIO3-PAYLOAD-BINARY",
                format!("the binary payload does not decode: {error}"),
            )
        })?
    } else {
        let text = std::str::from_utf8(body).map_err(|_| {
            (
                "EIO4-ENCODING-UTF8",
                "the payload is not UTF-8 text".to_owned(),
            )
        })?;
        if eio == 3 {
            v3::decode_text_payload(text).map_err(|error| {
                (
                    "EIO3-PAYLOAD-LENGTH",
                    format!(
                        "the payload {:?} does not decode as `<length>:<packet>`: {error}",
                        cut(text)
                    ),
                )
            })?
        } else {
            if looks_like_v3(text) {
                return Err((
                    "EIO4-POLL-PAYLOAD-SEPARATOR",
                    format!("the payload {:?} is framed `<length>:<packet>` (protocol 3), not separated by \\x1e", cut(text)),
                ));
            }
            v4::decode_payload(text).map_err(|error| {
                (
                    "EIO4-POLL-PAYLOAD-SEPARATOR",
                    format!(
                        "the payload {:?} does not split at \\x1e into packets: {error}",
                        cut(text)
                    ),
                )
            })?
        }
    };
    decoded
        .into_iter()
        .map(|data| EioPacket::from_data(eio, data).map_err(|error| ("EIO4-PACKET-TYPES", error)))
        .collect()
}

/// The sid of a handshake's payload: its open packet's.
fn handshake_sid(eio: u8, body: &[u8], binary: bool) -> Option<String> {
    let packets = decode_payload(eio, body, binary).ok()?;
    let open = packets
        .into_iter()
        .find(|packet| packet.kind == PacketType::Open)?;
    let WireData::Text(text) = open.wire else {
        return None;
    };
    let open: Value = serde_json::from_str(text.get(1..)?).ok()?;
    open.get("sid").and_then(Value::as_str).map(str::to_owned)
}

/// Whether a protocol 4 payload is a protocol 3 one: it starts `<digits>:` and its lengths
/// frame it exactly.
fn looks_like_v3(text: &str) -> bool {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && text.as_bytes().get(digits) == Some(&b':')
        && v3::split_text_payload(text).is_ok_and(|packets| !packets.is_empty())
}

/// Decodes a WebSocket frame: one packet.
fn decode_frame(eio: u8, frame: &Data) -> Result<EioPacket, String> {
    let data = match (eio, frame) {
        (3, Data::Text(text)) => v3::decode_packet(text)
            .map_err(|error| format!("the text frame {:?} is not a packet: {error}", cut(text)))?,
        (_, Data::Text(text)) => v4::decode_packet(text)
            .map_err(|error| format!("the text frame {:?} is not a packet: {error}", cut(text)))?,
        (_, Data::Binary(bytes)) => Data::Binary(bytes.clone()),
    };
    EioPacket::from_data(eio, data)
}

/// The start of a long text, for a message.
fn cut(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((index, _)) => format!("{}…", &text[..index]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_from_queries() {
        let endpoint = Endpoint::parse("http#1", "/socket.io/?EIO=3&transport=polling&sid=abc&t=1");
        assert_eq!(endpoint.eio, 3);
        assert_eq!(endpoint.sid.as_deref(), Some("abc"));
        assert!(endpoint.socket_io && endpoint.engine_io);
        let plain = Endpoint::parse("http#1", "/favicon.ico");
        assert!(!plain.engine_io);
    }

    #[test]
    fn a_v3_payload_on_a_v4_session_is_a_separator_violation() {
        let error = decode_payload(4, b"6:4hello", false).err();
        assert_eq!(
            error.map(|(requirement, _)| requirement),
            Some("EIO4-POLL-PAYLOAD-SEPARATOR")
        );
        assert!(decode_payload(4, b"4hello\x1e4world", false).is_ok());
        assert!(decode_payload(3, b"6:4hello", false).is_ok());
        let error = decode_payload(3, b"4hello", false).err();
        assert_eq!(
            error.map(|(requirement, _)| requirement),
            Some("EIO3-PAYLOAD-LENGTH")
        );
    }
}
