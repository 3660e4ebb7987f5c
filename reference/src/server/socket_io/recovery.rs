//! Connection state recovery: a client that lost its connection gets back its socket id, its
//! rooms and the events it missed (socket.io 4.6 and later, behaviors CSR-01 to CSR-10). Not in
//! the written protocol: the wire is the official server's.
//!
//! With recovery on, every namespace keeps a log of the events it emits without an
//! acknowledgement request, each one numbered by an *offset* that is appended to its arguments
//! (`42["news","hello","17"]`), and the sessions of the sockets that left for a reason after
//! which a client comes back (a lost transport, a ping timeout, the server shutting down). The
//! CONNECT answer carries, besides the `sid`, a private session id `pid`
//! (`40{"sid":"…","pid":"…"}`); a client that comes back sends both in its CONNECT payload
//! (`40{"pid":"…","offset":"17"}`), and if its session is still kept and its offset still in
//! the log, it gets the events of its rooms emitted after that offset, then the answer with its
//! old `sid` and the same `pid`.
//!
//! The storage is bounded: each namespace keeps at most
//! [`max_stored_packets`](ConnectionStateRecovery::max_stored_packets) events and at most
//! [`max_sessions`](ConnectionStateRecovery::max_sessions) sessions, the oldest going first,
//! and nothing older than
//! [`max_disconnection_duration`](ConnectionStateRecovery::max_disconnection_duration): an
//! event is dropped that long after it was emitted, a session that long after its socket left.
//! The official server keeps both without a count bound and purges by age once a minute.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use std::time::Instant;

use super::lock;
use crate::socket_io::{Packet, Value};

/// The options of connection state recovery, the official server's `connectionStateRecovery`.
/// Off unless [`Config::connection_state_recovery`](super::Config::connection_state_recovery)
/// holds one, as on the official server.
///
/// ```
/// use std::time::Duration;
/// use sio_reference::server::socket_io::{Config, ConnectionStateRecovery};
///
/// let config = Config {
///     connection_state_recovery: Some(ConnectionStateRecovery {
///         max_disconnection_duration: Duration::from_secs(30),
///         ..ConnectionStateRecovery::default()
///     }),
///     ..Config::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionStateRecovery {
    /// How long after its socket left a session can be recovered, and how long an event stays
    /// in the log: `maxDisconnectionDuration`. Default 120 000 ms, the official default.
    pub max_disconnection_duration: Duration,
    /// Whether a recovered socket skips the namespace's middlewares: `skipMiddlewares`.
    /// Default `true`, the official default.
    pub skip_middlewares: bool,
    /// The most events a namespace keeps for replay; past it the oldest is dropped, and a
    /// client whose offset it was gets a new session. Default 10 000. Not an official option:
    /// the official server's log has no count bound.
    pub max_stored_packets: usize,
    /// The most sessions a namespace keeps; past it the one disconnected first is dropped.
    /// Default 10 000. Not an official option.
    pub max_sessions: usize,
}

impl Default for ConnectionStateRecovery {
    fn default() -> Self {
        ConnectionStateRecovery {
            max_disconnection_duration: Duration::from_millis(120_000),
            skip_middlewares: true,
            max_stored_packets: 10_000,
            max_sessions: 10_000,
        }
    }
}

/// Why a socket left, as far as recovery goes: after these reasons its session is kept, after
/// the others (a DISCONNECT from either side, a parse error) it is not (behaviors CSR-07).
pub(crate) fn is_recoverable(reason: super::DisconnectReason) -> bool {
    use super::DisconnectReason as Reason;
    match reason {
        Reason::TransportClose
        | Reason::TransportError
        | Reason::PingTimeout
        | Reason::ForcedClose
        | Reason::ServerShuttingDown => true,
        Reason::ClientNamespaceDisconnect
        | Reason::ServerNamespaceDisconnect
        | Reason::ParseError => false,
    }
}

/// Which sockets a logged event was for: those in any of `rooms` (every socket when there is
/// none), minus those in any of `except`, minus the socket `exclude`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Audience {
    pub(crate) rooms: Vec<String>,
    pub(crate) except: Vec<String>,
    pub(crate) exclude: Option<String>,
}

impl Audience {
    /// Whether a socket with this id, in these rooms, was among the audience (the official
    /// adapter's `shouldIncludePacket`, the socket being in the room of its id).
    fn includes(&self, sid: &str, rooms: &HashSet<String>) -> bool {
        let included = self.rooms.is_empty() || self.rooms.iter().any(|room| rooms.contains(room));
        let excepted = self.except.iter().any(|room| rooms.contains(room));
        included && !excepted && self.exclude.as_deref() != Some(sid)
    }
}

/// A session kept after its socket left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    /// The socket's id, which the recovered socket takes again.
    pub(crate) sid: String,
    /// The private session id the client sends back.
    pub(crate) pid: String,
    /// The rooms the socket was in, the room of its id included.
    pub(crate) rooms: HashSet<String>,
}

/// A session taken back by a client: the session, and the offset after which its events are
/// replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recovered {
    pub(crate) session: Session,
    offset: u64,
    disconnected_at: Instant,
}

/// One namespace's log of events and kept sessions.
#[derive(Debug)]
pub(crate) struct RecoveryStore {
    options: ConnectionStateRecovery,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The next offset to give; offsets start at 1 and only grow.
    next_offset: u64,
    /// The logged events, oldest first, with consecutive offsets.
    packets: VecDeque<Logged>,
    sessions: HashMap<String, Kept>,
    /// The pids in the order their sockets left, for expiry and the count bound; an entry whose
    /// session was taken back or kept again later is stale and skipped.
    departures: VecDeque<(Instant, String)>,
}

#[derive(Debug)]
struct Logged {
    offset: u64,
    emitted_at: Instant,
    packet: Packet,
    audience: Audience,
}

#[derive(Debug)]
struct Kept {
    session: Session,
    disconnected_at: Instant,
}

impl RecoveryStore {
    pub(crate) fn new(options: ConnectionStateRecovery) -> RecoveryStore {
        RecoveryStore {
            options,
            state: Mutex::new(State {
                next_offset: 1,
                ..State::default()
            }),
        }
    }

    /// Whether a recovered socket skips the middlewares.
    pub(crate) fn skips_middlewares(&self) -> bool {
        self.options.skip_middlewares
    }

    /// Logs an event for replay: appends its offset to its arguments, then, with the log
    /// still locked, chooses its recipients with `recipients`, so that a socket being
    /// recovered either has the event replayed or receives it live, never both nor neither
    /// (see [`replay`](RecoveryStore::replay)).
    pub(crate) fn log<T>(
        &self,
        packet: &mut Packet,
        audience: Audience,
        recipients: impl FnOnce() -> T,
    ) -> T {
        let mut state = lock(&self.state);
        let now = Instant::now();
        state.expire_packets(now, &self.options);
        let offset = state.next_offset;
        state.next_offset += 1;
        if let Some(Value::Array(items)) = &mut packet.data {
            items.push(Value::from(offset.to_string()));
        }
        state.packets.push_back(Logged {
            offset,
            emitted_at: now,
            packet: packet.clone(),
            audience,
        });
        while state.packets.len() > self.options.max_stored_packets {
            state.packets.pop_front();
        }
        recipients()
    }

    /// Keeps the session of a socket that left for a recoverable reason.
    pub(crate) fn keep(&self, session: Session) {
        self.keep_at(session, Instant::now());
    }

    fn keep_at(&self, session: Session, now: Instant) {
        let mut state = lock(&self.state);
        state.expire_sessions(now, &self.options);
        while state.sessions.len() >= self.options.max_sessions.max(1) {
            if !state.drop_first_departure() {
                break;
            }
        }
        state.departures.push_back((now, session.pid.clone()));
        state.sessions.insert(
            session.pid.clone(),
            Kept {
                session,
                disconnected_at: now,
            },
        );
        if state.departures.len() > 2 * self.options.max_sessions.max(1) {
            let State {
                departures,
                sessions,
                ..
            } = &mut *state;
            departures.retain(|(at, pid)| {
                sessions
                    .get(pid)
                    .is_some_and(|kept| kept.disconnected_at == *at)
            });
        }
    }

    /// Takes back the session `pid` for a client whose last event had `offset`: `None` when
    /// the session is unknown or expired, or when the offset is not in the log (never given,
    /// or dropped since), as on the official server (behaviors CSR-06). A session is taken
    /// back once; the official server keeps it, so that a second client with the same `pid`
    /// would get a second socket with the same id.
    pub(crate) fn take(&self, pid: &str, offset: &str) -> Option<Recovered> {
        self.take_at(pid, offset, Instant::now())
    }

    fn take_at(&self, pid: &str, offset: &str, now: Instant) -> Option<Recovered> {
        let offset: u64 = offset.parse().ok()?;
        let mut state = lock(&self.state);
        state.expire_sessions(now, &self.options);
        state.expire_packets(now, &self.options);
        if !state.has_offset(offset) {
            return None;
        }
        let kept = state.sessions.remove(pid)?;
        Some(Recovered {
            session: kept.session,
            offset,
            disconnected_at: kept.disconnected_at,
        })
    }

    /// Gives back a session taken for a client that did not join after all (a middleware
    /// refused it), as it was.
    pub(crate) fn give_back(&self, recovered: Recovered) {
        let mut state = lock(&self.state);
        let pid = recovered.session.pid.clone();
        state
            .departures
            .push_back((recovered.disconnected_at, pid.clone()));
        state.sessions.insert(
            pid,
            Kept {
                session: recovered.session,
                disconnected_at: recovered.disconnected_at,
            },
        );
    }

    /// The events logged after the recovered offset whose audience included the session, in
    /// order; `register` makes the recovered socket reachable while the log is locked, so that
    /// an event logged after this call reaches it live (behaviors CSR-05, CSR-08).
    pub(crate) fn replay(&self, recovered: &Recovered, register: impl FnOnce()) -> Vec<Packet> {
        let state = lock(&self.state);
        let session = &recovered.session;
        let missed = state
            .packets
            .iter()
            .filter(|logged| logged.offset > recovered.offset)
            .filter(|logged| logged.audience.includes(&session.sid, &session.rooms))
            .map(|logged| logged.packet.clone())
            .collect();
        register();
        missed
    }
}

impl State {
    fn has_offset(&self, offset: u64) -> bool {
        self.packets
            .front()
            .is_some_and(|first| first.offset <= offset && offset < self.next_offset)
    }

    /// Drops the events emitted longer than `maxDisconnectionDuration` ago.
    fn expire_packets(&mut self, now: Instant, options: &ConnectionStateRecovery) {
        while self.packets.front().is_some_and(|first| {
            now.duration_since(first.emitted_at) > options.max_disconnection_duration
        }) {
            self.packets.pop_front();
        }
    }

    /// Drops the sessions whose sockets left longer than `maxDisconnectionDuration` ago.
    fn expire_sessions(&mut self, now: Instant, options: &ConnectionStateRecovery) {
        while self
            .departures
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > options.max_disconnection_duration)
        {
            self.drop_first_departure();
        }
    }

    /// Drops the first entry of `departures`, and its session if the entry is not stale;
    /// `false` when there was none.
    fn drop_first_departure(&mut self) -> bool {
        let Some((at, pid)) = self.departures.pop_front() else {
            return false;
        };
        if self
            .sessions
            .get(&pid)
            .is_some_and(|kept| kept.disconnected_at == at)
        {
            self.sessions.remove(&pid);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket_io::PacketType;

    fn event(name: &str) -> Packet {
        Packet::event("/", name, vec![])
    }

    fn session(sid: &str, pid: &str, rooms: &[&str]) -> Session {
        Session {
            sid: sid.to_owned(),
            pid: pid.to_owned(),
            rooms: rooms.iter().map(|room| (*room).to_owned()).collect(),
        }
    }

    fn options() -> ConnectionStateRecovery {
        ConnectionStateRecovery {
            max_disconnection_duration: Duration::from_millis(1000),
            max_stored_packets: 3,
            max_sessions: 2,
            ..ConnectionStateRecovery::default()
        }
    }

    fn to(rooms: &[&str]) -> Audience {
        Audience {
            rooms: rooms.iter().map(|room| (*room).to_owned()).collect(),
            ..Audience::default()
        }
    }

    fn names(packets: &[Packet]) -> Vec<String> {
        packets
            .iter()
            .filter_map(|packet| match &packet.data {
                Some(Value::Array(items)) => items.first()?.as_str().map(str::to_owned),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn logging_appends_the_offset_as_the_last_argument() {
        let store = RecoveryStore::new(options());
        let mut packet = Packet::event("/", "news", vec![Value::from("hello")]);
        store.log(&mut packet, Audience::default(), || ());
        assert_eq!(packet.packet_type, PacketType::Event);
        assert_eq!(
            packet.data,
            Some(Value::Array(vec![
                Value::from("news"),
                Value::from("hello"),
                Value::from("1")
            ]))
        );
    }

    #[test]
    fn a_session_replays_the_events_of_its_rooms_after_its_offset() {
        let store = RecoveryStore::new(options());
        store.log(&mut event("before"), to(&["s1"]), || ());
        store.keep(session("s1", "p1", &["s1", "room"]));
        store.log(&mut event("mine"), to(&["s1"]), || ());
        store.log(&mut event("other"), to(&["s2"]), || ());
        store.log(&mut event("room"), to(&["room"]), || ());
        // `before` (offset 1) was dropped by the bound of 3 packets.
        assert!(store.take("p1", "1").is_none());
        let recovered = store.take("p1", "2").expect("offset 2 is logged");
        assert_eq!(recovered.session.sid, "s1");
        let mut registered = false;
        let missed = store.replay(&recovered, || registered = true);
        assert!(registered);
        assert_eq!(names(&missed), ["room"]);
        // Taken once.
        assert!(store.take("p1", "2").is_none());
    }

    #[test]
    fn excepted_and_excluded_sockets_miss_nothing() {
        let store = RecoveryStore::new(options());
        store.log(&mut event("first"), Audience::default(), || ());
        store.log(
            &mut event("except"),
            Audience {
                except: vec!["muted".to_owned()],
                ..Audience::default()
            },
            || (),
        );
        store.log(
            &mut event("exclude"),
            Audience {
                exclude: Some("s1".to_owned()),
                ..Audience::default()
            },
            || (),
        );
        store.keep(session("s1", "p1", &["s1", "muted"]));
        let recovered = store.take("p1", "1").expect("kept");
        assert!(store.replay(&recovered, || ()).is_empty());
    }

    #[test]
    fn sessions_and_events_expire_after_the_max_disconnection_duration() {
        let store = RecoveryStore::new(options());
        let left = Instant::now();
        store.log(&mut event("a"), Audience::default(), || ());
        store.keep_at(session("s1", "p1", &["s1"]), left);
        let within = left + Duration::from_millis(1000);
        assert!(store.take_at("p1", "1", within).is_some_and(|recovered| {
            store.give_back(recovered);
            true
        }));
        let after = left + Duration::from_millis(1001);
        assert!(store.take_at("p1", "1", after).is_none());
    }

    #[test]
    fn the_oldest_session_goes_past_the_bound() {
        let store = RecoveryStore::new(options());
        store.log(&mut event("a"), Audience::default(), || ());
        for n in 1..=3 {
            store.keep(session(&format!("s{n}"), &format!("p{n}"), &[]));
        }
        assert!(store.take("p1", "1").is_none());
        assert!(store.take("p2", "1").is_some());
        assert!(store.take("p3", "1").is_some());
    }

    #[test]
    fn an_unknown_pid_or_offset_recovers_nothing() {
        let store = RecoveryStore::new(options());
        store.log(&mut event("a"), Audience::default(), || ());
        store.keep(session("s1", "p1", &[]));
        assert!(store.take("nope", "1").is_none());
        assert!(store.take("p1", "2").is_none());
        assert!(store.take("p1", "x").is_none());
        let recovered = store.take("p1", "1").expect("kept");
        store.give_back(recovered);
        assert!(store.take("p1", "1").is_some());
    }

    #[test]
    fn only_a_lost_connection_keeps_the_session() {
        use super::super::DisconnectReason as Reason;
        assert!(is_recoverable(Reason::TransportClose));
        assert!(is_recoverable(Reason::PingTimeout));
        assert!(!is_recoverable(Reason::ClientNamespaceDisconnect));
        assert!(!is_recoverable(Reason::ServerNamespaceDisconnect));
        assert!(!is_recoverable(Reason::ParseError));
    }
}
