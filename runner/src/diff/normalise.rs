//! A transcript made comparable with another implementation's: every event of the wire as one
//! line, tagged with the step it happened in and the lane (actor and connection) it happened
//! on, with what differs from run to run masked.
//!
//! Masked, because two correct servers (or one server twice) differ there by design:
//!
//! - the identifiers a server draws: Engine.IO session ids (`"sid":"…"` in the handshake,
//!   `sid=…` in the query), Socket.IO socket ids (`40{"sid":"…"}`), recovery private ids
//!   (`"pid":"…"`) and the `io` cookie's value become `<id1>`, `<id2>`, … in the order they
//!   first appear, so that the first session of both sides is `<id1>`;
//! - the acknowledgement ids the server draws (`42<ack1>[…]`, and the client's `43<ack1>[…]`
//!   answer; with a protocol 3 payload's length, `<len>:`), and the recovery offsets it draws
//!   (`<offset1>`): the official server counts both across sockets;
//! - the port a server listens on (`127.0.0.1:<port>`, `localhost:<port>`);
//! - the `Date` response header, and `Content-Length`, which follows from the body shown
//!   beside it (and so would differ with every masked id of another length);
//! - the hop-by-hop headers of HTTP/1.1 (`Connection`, `Keep-Alive`, `Transfer-Encoding`),
//!   which are the HTTP library's, not the protocol's;
//! - Engine.IO heartbeats (pings, pongs, and the polls that carried only them), unless asked
//!   for: how many fall in a case follows the timing of the run;
//! - polls still in flight when the case ended;
//! - the order of headers, which HTTP leaves free (they are sorted by name, lower-cased);
//! - the times of the events.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use sio_suite::engine::{Event, EventKind, Transcript, WireData};

/// One event of a transcript, made comparable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The step it happened in: its 1-based number (0 before the first step) and keyword.
    pub step: Step,
    /// The actor and the connection: `client http#1`, `alice ws#3`.
    pub lane: String,
    /// The whole event, masked: what is compared (long data in full).
    pub key: String,
    /// The event as the transcript shows it, masked (long data abbreviated).
    pub shown: String,
}

/// A step of a case, as the transcript names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Step {
    /// Its 1-based number; 0 for what happened before the first step.
    pub number: usize,
    /// Its keyword (`connect`, `send`, `receive`); empty before the first step.
    pub keyword: String,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.number == 0 {
            write!(f, "before the first step")
        } else {
            write!(f, "step {} ({})", self.number, self.keyword)
        }
    }
}

/// Response and request headers that are dropped: the date; the length of a body that is
/// shown in full; and the hop-by-hop headers of HTTP/1.1 connection management (RFC 9110
/// §7.6.1: `Connection`, `Keep-Alive`, `Transfer-Encoding`), which say how the HTTP library
/// keeps its connections and frames its bodies, not what the protocol sends.
const DROPPED_HEADERS: [&str; 5] = [
    "date",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
];

/// The transcript's events as masked lines, in order; step markers become the lines' step.
/// Heartbeats are left out unless `heartbeats` (see [`Lanes`] and [`is_heartbeat_exchange`]).
pub fn lines(transcript: &Transcript, heartbeats: bool) -> Vec<Line> {
    let ids = Identifiers::of(transcript);
    let lanes = Lanes::of(transcript, heartbeats);
    let mut step = Step {
        number: 0,
        keyword: String::new(),
    };
    let mut lines = Vec::new();
    for event in &transcript.events {
        if let EventKind::Step { number, keyword } = &event.kind {
            step = Step {
                number: *number,
                keyword: keyword.clone(),
            };
            continue;
        }
        let Some(lane) = lanes.lane(event) else {
            continue;
        };
        if !heartbeats && is_heartbeat_frame(&event.kind) {
            continue;
        }
        let mut kind = without_noisy_headers(&event.kind);
        if !heartbeats {
            strip_heartbeats(&mut kind);
        }
        let from_server = from_server(&kind);
        for text in texts_mut(&mut kind) {
            *text = ids.mask(text, from_server);
        }
        lines.push(Line {
            step: step.clone(),
            lane,
            key: serde_json::to_string(&kind).unwrap_or_else(|_| kind.to_string()),
            shown: kind.to_string(),
        });
    }
    lines
}

/// The lanes of a transcript's events: the sequences whose order is the protocol's, not the
/// scheduler's.
///
/// - HTTP: one lane per actor and method (`client GET`, `client POST`), the requests and
///   their responses in order, whatever connection (`http#7`) each went on: the numbers of
///   connections shift with every extra poll, and a held GET races the POST beside it.
/// - WebSocket: one lane per actor, connection and direction (`client ws#1 sent`, `client
///   ws#1 received`), connections numbered per actor in order of appearance: what is sent and
///   what arrives on one socket interleave as the scheduler has it.
///
/// HTTP exchanges left out: a request still waiting for its response when the case ended (a
/// poll in flight), and, unless heartbeats are kept, an exchange that carried only heartbeats
/// (a GET answered `2`, a POST of `3`).
#[derive(Debug, Default)]
struct Lanes {
    /// The lane of each channel, by actor and channel; `None`: left out.
    by_channel: HashMap<(String, String), Option<String>>,
}

/// What an HTTP channel carried, to decide its lane.
#[derive(Debug, Default)]
struct Exchange {
    method: Option<String>,
    request_heartbeats_only: bool,
    answered: bool,
    response_heartbeats_only: bool,
}

impl Lanes {
    fn of(transcript: &Transcript, heartbeats: bool) -> Lanes {
        let mut exchanges: HashMap<(String, String), Exchange> = HashMap::new();
        let mut sockets: HashMap<(String, String), usize> = HashMap::new();
        let mut lanes = Lanes::default();
        for event in &transcript.events {
            let key = (event.actor.clone(), event.channel.clone());
            match &event.kind {
                EventKind::HttpRequest { method, body, .. }
                | EventKind::RequestReceived { method, body, .. } => {
                    let exchange = exchanges.entry(key).or_default();
                    exchange.method = Some(method.clone());
                    exchange.request_heartbeats_only = carries_only_heartbeats(body, true);
                }
                EventKind::RawRequest { .. } => {
                    exchanges.entry(key).or_default().method = Some("raw".to_owned());
                }
                EventKind::HttpResponse { body, .. } | EventKind::ResponseSent { body, .. } => {
                    let exchange = exchanges.entry(key).or_default();
                    exchange.answered = true;
                    exchange.response_heartbeats_only = carries_only_heartbeats(body, false);
                }
                EventKind::HttpFailed { .. } => exchanges.entry(key).or_default().answered = true,
                EventKind::Step { .. } => {}
                _ if event.channel.starts_with("http#") => {}
                _ => {
                    if let std::collections::hash_map::Entry::Vacant(lane) =
                        lanes.by_channel.entry(key)
                    {
                        let kind = event.channel.split('#').next().unwrap_or_default();
                        let counter = sockets
                            .entry((event.actor.clone(), kind.to_owned()))
                            .or_default();
                        *counter += 1;
                        let name = if event.channel.contains('#') {
                            format!("{} {kind}#{counter}", event.actor)
                        } else {
                            format!("{} {}", event.actor, event.channel)
                        };
                        lane.insert(Some(name));
                    }
                }
            }
        }
        for (key, exchange) in exchanges {
            let heartbeat_only =
                exchange.request_heartbeats_only && exchange.response_heartbeats_only;
            let lane = match exchange.method {
                Some(method) if exchange.answered && (heartbeats || !heartbeat_only) => {
                    Some(format!("{} {method}", key.0))
                }
                _ => None,
            };
            lanes.by_channel.insert(key, lane);
        }
        lanes
    }

    /// The lane of `event`, or `None` when it is left out.
    fn lane(&self, event: &Event) -> Option<String> {
        let key = (event.actor.clone(), event.channel.clone());
        let lane = match self.by_channel.get(&key) {
            Some(lane) => lane.clone()?,
            None => format!("{} {}", event.actor, event.channel),
        };
        if event.channel.starts_with("http#") {
            return Some(lane);
        }
        let direction = match &event.kind {
            EventKind::WsRequest { .. }
            | EventKind::FrameSent { .. }
            | EventKind::CloseSent { .. }
            | EventKind::PingSent { .. }
            | EventKind::PongSent { .. }
            | EventKind::Cue { .. } => "sent",
            EventKind::Note { .. }
            | EventKind::ProgramStarted { .. }
            | EventKind::ProgramEnded { .. } => "notes",
            _ => "received",
        };
        Some(format!("{lane} {direction}"))
    }
}

/// An Engine.IO heartbeat packet alone: `2` (ping) or `3` (pong), in either protocol.
fn is_heartbeat_packet(packet: &str) -> bool {
    matches!(packet, "2" | "3")
}

/// A WebSocket frame that is one heartbeat packet.
fn is_heartbeat_frame(kind: &EventKind) -> bool {
    match kind {
        EventKind::FrameSent { frame } | EventKind::FrameReceived { frame } => {
            matches!(frame, WireData::Text(text) if is_heartbeat_packet(text))
        }
        _ => false,
    }
}

/// Whether an HTTP body carries nothing but heartbeats: a payload of `2`s and `3`s, or, for a
/// request, nothing at all (a GET), or, for a response, the `ok` of a POST.
fn carries_only_heartbeats(body: &WireData, request: bool) -> bool {
    let WireData::Text(text) = body else {
        return false;
    };
    if text.is_empty() {
        return request;
    }
    if !request && text == "ok" {
        return true;
    }
    match packets(text) {
        Some(packets) => packets
            .iter()
            .all(|(_, packet)| is_heartbeat_packet(packet)),
        None => false,
    }
}

/// The packets of a polling payload, each with its protocol 3 length prefix (`None` in
/// protocol 4, whose packets are separated by `\x1e`); `None` when it is not a payload.
fn packets(text: &str) -> Option<Vec<(Option<&str>, &str)>> {
    let starts_with_length = text.split_once(':').is_some_and(|(length, _)| {
        !length.is_empty() && length.bytes().all(|b| b.is_ascii_digit())
    });
    if !starts_with_length {
        return Some(text.split('\x1e').map(|packet| (None, packet)).collect());
    }
    // Protocol 3: `<length>:<packet>` again and again, the length in characters.
    let mut packets = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (length, after) = rest.split_once(':')?;
        let count: usize = length.parse().ok()?;
        let end = after
            .char_indices()
            .nth(count)
            .map_or(after.len(), |(index, _)| index);
        if after[..end].chars().count() != count {
            return None;
        }
        packets.push((Some(length), &after[..end]));
        rest = &after[end..];
    }
    Some(packets)
}

/// Removes the heartbeat packets from a polling payload that carries others too.
fn strip_heartbeats(kind: &mut EventKind) {
    let body = match kind {
        EventKind::HttpRequest { body, .. }
        | EventKind::HttpResponse { body, .. }
        | EventKind::RequestReceived { body, .. }
        | EventKind::ResponseSent { body, .. } => body,
        _ => return,
    };
    let WireData::Text(text) = body else { return };
    let Some(packets) = packets(text) else { return };
    let kept: Vec<&(Option<&str>, &str)> = packets
        .iter()
        .filter(|(_, packet)| !is_heartbeat_packet(packet))
        .collect();
    if kept.is_empty() || kept.len() == packets.len() {
        return;
    }
    let stripped = if kept[0].0.is_some() {
        kept.iter()
            .map(|(length, packet)| format!("{}:{packet}", length.unwrap_or_default()))
            .collect::<String>()
    } else {
        kept.iter()
            .map(|(_, packet)| *packet)
            .collect::<Vec<_>>()
            .join("\x1e")
    };
    *text = stripped;
}

/// `text` (a failure's explanation) with the identifiers, ports and acknowledgement ids of
/// `transcript` masked as its lines are.
pub fn mask_text(transcript: &Transcript, text: &str) -> String {
    Identifiers::of(transcript).mask(text, true)
}

/// `kind` with the dropped headers removed and the others sorted by name.
fn without_noisy_headers(kind: &EventKind) -> EventKind {
    let tidy = |headers: &[(String, String)]| {
        let mut kept: Vec<(String, String)> = headers
            .iter()
            .filter(|(name, _)| !DROPPED_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect();
        kept.sort();
        kept
    };
    let mut kind = kind.clone();
    match &mut kind {
        EventKind::HttpRequest { headers, .. }
        | EventKind::HttpResponse { headers, .. }
        | EventKind::RequestReceived { headers, .. }
        | EventKind::ResponseSent { headers, .. }
        | EventKind::WsRequestReceived { headers, .. } => *headers = tidy(headers),
        _ => {}
    }
    kind
}

/// The identifiers a transcript's server (or client) drew, each with its placeholder.
#[derive(Debug, Default)]
struct Identifiers {
    /// Identifier → `<idN>`, longest first when masking.
    placeholders: Vec<(String, String)>,
    /// Acknowledgement ids the server drew (in the EVENT and BINARY_EVENT packets it sent) →
    /// `<ackN>`: the official server counts them per namespace across sockets, so they depend
    /// on which cases ran before.
    acks: HashMap<String, String>,
    /// Connection state recovery offsets the server drew (the last argument of its events,
    /// once a CONNECT answer carried a `pid`) → `<offsetN>`: the official server counts them
    /// across sockets too.
    offsets: HashMap<String, String>,
}

impl Identifiers {
    /// `text` with the recovery offsets the server drew masked, where offsets stand.
    fn mask_offsets(&self, mut text: String) -> String {
        if self.offsets.is_empty() {
            return text;
        }
        for pattern in offset_patterns() {
            let mut out = String::with_capacity(text.len());
            let mut copied = 0;
            for captures in pattern.captures_iter(&text) {
                let Some(offset) = captures.get(1) else {
                    continue;
                };
                if let Some(placeholder) = self.offsets.get(offset.as_str()) {
                    out.push_str(&text[copied..offset.start()]);
                    out.push_str(placeholder);
                    copied = offset.end();
                }
            }
            out.push_str(&text[copied..]);
            text = out;
        }
        text
    }
}

/// The patterns whose first group is a drawn identifier, as they appear in wire text.
fn identifier_patterns() -> &'static [Regex] {
    static PATTERNS: OnceLock<Vec<Regex>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            r#""sid":"([^"\\]+)""#,
            r#""pid":"([^"\\]+)""#,
            r"[?&]sid=([^&\s#]+)",
            r"\bio=([^;\s]+)",
        ]
        .iter()
        .map(|pattern| Regex::new(pattern).expect("a literal pattern that compiles"))
        .collect()
    })
}

/// A Socket.IO packet with an acknowledgement id, at the start of an Engine.IO message (the
/// text's start, after a polling payload's `\x1e` separator, or after a protocol 3 payload's
/// `length:`, group 1): `42<id>[`, `45<n>-/chat,<id>[`. Group 2 is the packet type, group 3
/// the id.
fn ack_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"(?:^|\x1e|(\d+):)4([2-6])(?:\d+-)?(?:/[^,\[]*,)?(\d+)\[")
            .expect("a literal pattern that compiles")
    })
}

/// Where a recovery offset stands (group 1): the last argument of an EVENT, and the `offset`
/// of a CONNECT (and of the `auth` the fixture echoes).
fn offset_patterns() -> &'static [Regex; 2] {
    static PATTERNS: OnceLock<[Regex; 2]> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            r#"(?:^|\x1e)42(?:/[^,\[]*,)?\[.*,"([^"\\]+)"\](?:$|\x1e)"#,
            r#""offset":"([^"\\]+)""#,
        ]
        .map(|pattern| Regex::new(pattern).expect("a literal pattern that compiles"))
    })
}

/// Ports of the loopback host.
fn port_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}\b")
            .expect("a literal pattern that compiles")
    })
}

impl Identifiers {
    /// The identifiers in the texts of `transcript`, numbered in order of appearance.
    fn of(transcript: &Transcript) -> Identifiers {
        let mut numbered: HashMap<String, usize> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut acks: HashMap<String, String> = HashMap::new();
        let mut offsets: HashMap<String, String> = HashMap::new();
        let mut recovering = false;
        for event in &transcript.events {
            let mut kind = event.kind.clone();
            let from_server = from_server(&kind);
            for text in texts_mut(&mut kind) {
                recovering = recovering || (from_server && text.contains("\"pid\":"));
                if from_server && recovering {
                    let found = offset_patterns()[0]
                        .captures_iter(text)
                        .filter_map(|captures| captures.get(1));
                    for offset in found {
                        if !offsets.contains_key(offset.as_str()) {
                            let placeholder = format!("<offset{}>", offsets.len() + 1);
                            offsets.insert(offset.as_str().to_owned(), placeholder);
                        }
                    }
                }
                if from_server {
                    for captures in ack_pattern().captures_iter(text) {
                        let (Some(kind), Some(id)) = (captures.get(2), captures.get(3)) else {
                            continue;
                        };
                        // EVENT (2) and BINARY_EVENT (5) carry the ids the server draws.
                        if matches!(kind.as_str(), "2" | "5") && !acks.contains_key(id.as_str()) {
                            let placeholder = format!("<ack{}>", acks.len() + 1);
                            acks.insert(id.as_str().to_owned(), placeholder);
                        }
                    }
                }
                // Matches are taken in the order they stand in the text.
                let mut found: Vec<(usize, String)> = identifier_patterns()
                    .iter()
                    .flat_map(|pattern| pattern.captures_iter(text))
                    .filter_map(|captures| captures.get(1))
                    .map(|id| (id.start(), id.as_str().to_owned()))
                    .collect();
                found.sort();
                for (_, id) in found {
                    // Short values ("1", "ab") would mask ordinary text too.
                    if id.len() >= 4 && !numbered.contains_key(&id) {
                        numbered.insert(id.clone(), order.len() + 1);
                        order.push(id);
                    }
                }
            }
        }
        let mut placeholders: Vec<(String, String)> = order
            .into_iter()
            .enumerate()
            .map(|(index, id)| (id, format!("<id{}>", index + 1)))
            .collect();
        placeholders.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Identifiers {
            placeholders,
            acks,
            offsets,
        }
    }

    /// `text` with every identifier and loopback port replaced by its placeholder, and the
    /// server's ack ids: in its EVENT and BINARY_EVENT packets (`from_server`), or in the
    /// client's ACK and BINARY_ACK packets.
    fn mask(&self, text: &str, from_server: bool) -> String {
        let mut masked = text.to_owned();
        for (id, placeholder) in &self.placeholders {
            masked = masked.replace(id.as_str(), placeholder);
        }
        let masked = port_pattern()
            .replace_all(&masked, "${1}:<port>")
            .into_owned();
        let masked = self.mask_offsets(masked);
        if self.acks.is_empty() {
            return masked;
        }
        // The server's ack ids, in its packets and in the client's ACK and BINARY_ACK answers.
        let mut out = String::with_capacity(masked.len());
        let mut copied = 0;
        for captures in ack_pattern().captures_iter(&masked) {
            let (Some(kind), Some(id)) = (captures.get(2), captures.get(3)) else {
                continue;
            };
            let answers = matches!(kind.as_str(), "3" | "6");
            let asks = matches!(kind.as_str(), "2" | "5");
            if !((from_server && asks) || (!from_server && answers)) {
                continue;
            }
            if let Some(placeholder) = self.acks.get(id.as_str()) {
                // A protocol 3 length counts the id's digits: masked with it.
                if let Some(length) = captures.get(1) {
                    out.push_str(&masked[copied..length.start()]);
                    out.push_str("<len>");
                    copied = length.end();
                }
                out.push_str(&masked[copied..id.start()]);
                out.push_str(placeholder);
                copied = id.end();
            }
        }
        out.push_str(&masked[copied..]);
        out
    }
}

/// Whether the event is data the server sent (to the engine playing the client).
fn from_server(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::FrameReceived { .. } | EventKind::HttpResponse { .. }
    )
}

/// The text of wire data; none for binary.
fn data(data: &mut WireData) -> Option<&mut String> {
    match data {
        WireData::Text(text) => Some(text),
        WireData::Binary(_) => None,
    }
}

/// The texts of an event where identifiers and ports may appear, to mask them.
fn texts_mut(kind: &mut EventKind) -> Vec<&mut String> {
    let mut texts = Vec::new();
    match kind {
        EventKind::HttpRequest {
            target,
            headers,
            body,
            ..
        }
        | EventKind::RequestReceived {
            target,
            headers,
            body,
            ..
        } => {
            texts.push(target);
            texts.extend(headers.iter_mut().map(|(_, value)| value));
            texts.extend(data(body));
        }
        EventKind::HttpResponse { headers, body, .. }
        | EventKind::ResponseSent { headers, body, .. } => {
            texts.extend(headers.iter_mut().map(|(_, value)| value));
            texts.extend(data(body));
        }
        EventKind::WsRequest { target } => texts.push(target),
        EventKind::WsRequestReceived { target, headers } => {
            texts.push(target);
            texts.extend(headers.iter_mut().map(|(_, value)| value));
        }
        EventKind::FrameSent { frame } | EventKind::FrameReceived { frame } => {
            texts.extend(data(frame));
        }
        EventKind::RawRequest { data: raw } => texts.extend(data(raw)),
        EventKind::HttpFailed { error: text }
        | EventKind::WsRefused { detail: text, .. }
        | EventKind::Ended { detail: text }
        | EventKind::Cue { line: text }
        | EventKind::Report { line: text }
        | EventKind::Output { line: text, .. }
        | EventKind::ProgramStarted { command: text }
        | EventKind::Note { text } => texts.push(text),
        _ => {}
    }
    texts
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn event(channel: &str, kind: EventKind) -> Event {
        Event {
            at: Duration::ZERO,
            actor: "client".to_owned(),
            channel: channel.to_owned(),
            kind,
        }
    }

    fn received(text: &str) -> EventKind {
        EventKind::FrameReceived {
            frame: WireData::Text(text.to_owned()),
        }
    }

    fn sent(text: &str) -> EventKind {
        EventKind::FrameSent {
            frame: WireData::Text(text.to_owned()),
        }
    }

    fn shown(transcript: &Transcript) -> Vec<String> {
        lines(transcript, false)
            .into_iter()
            .map(|line| format!("{} | {}", line.lane, line.shown))
            .collect()
    }

    #[test]
    fn drawn_ids_ports_acks_and_heartbeats_are_masked() {
        let transcript = Transcript {
            events: vec![
                event(
                    "ws#4",
                    EventKind::WsRequest {
                        target: "/socket.io/?EIO=4&transport=websocket".to_owned(),
                    },
                ),
                event(
                    "ws#4",
                    received(r#"0{"sid":"Xy7_abcd","pingInterval":300}"#),
                ),
                event("ws#4", received("2")),
                event("ws#4", sent("3")),
                event("ws#4", received(r#"40{"sid":"Q9socket"}"#)),
                event("ws#4", received(r#"4217["emit-with-ack"]"#)),
                event("ws#4", sent(r#"4317["ok"]"#)),
                event("ws#4", sent(r#"4217["client-drawn"]"#)),
                event(
                    "session",
                    EventKind::Note {
                        text: "upgraded at 127.0.0.1:41234, sid Xy7_abcd".to_owned(),
                    },
                ),
            ],
        };
        assert_eq!(
            shown(&transcript),
            [
                "client ws#1 sent | > websocket /socket.io/?EIO=4&transport=websocket",
                r#"client ws#1 received | < "0{\"sid\":\"<id1>\",\"pingInterval\":300}""#,
                r#"client ws#1 received | < "40{\"sid\":\"<id2>\"}""#,
                r#"client ws#1 received | < "42<ack1>[\"emit-with-ack\"]""#,
                r#"client ws#1 sent | > "43<ack1>[\"ok\"]""#,
                r#"client ws#1 sent | > "4217[\"client-drawn\"]""#,
                "client session notes | ** upgraded at 127.0.0.1:<port>, sid <id1>",
            ]
        );
    }

    #[test]
    fn polls_of_heartbeats_and_polls_in_flight_are_left_out() {
        let get = |channel: &str| {
            event(
                channel,
                EventKind::HttpRequest {
                    method: "GET".to_owned(),
                    target: "/engine.io/?EIO=4&transport=polling&sid=abcdef".to_owned(),
                    headers: vec![("Host".to_owned(), "127.0.0.1:5000".to_owned())],
                    body: WireData::Text(String::new()),
                },
            )
        };
        let answer = |channel: &str, body: &str| {
            event(
                channel,
                EventKind::HttpResponse {
                    status: 200,
                    headers: vec![
                        (
                            "Date".to_owned(),
                            "Mon, 07 Dec 2026 20:41:51 GMT".to_owned(),
                        ),
                        ("content-length".to_owned(), "1".to_owned()),
                    ],
                    body: WireData::Text(body.to_owned()),
                },
            )
        };
        let transcript = Transcript {
            events: vec![
                get("http#1"),
                answer("http#1", "2"),
                get("http#2"),
                answer("http#2", "2\u{1e}4hello"),
                get("http#3"),
            ],
        };
        assert_eq!(
            shown(&transcript),
            [
                "client GET | > GET /engine.io/?EIO=4&transport=polling&sid=<id1> [host: 127.0.0.1:<port>]",
                r#"client GET | < 200 "4hello""#,
            ]
        );
    }

    #[test]
    fn recovery_offsets_and_protocol_3_lengths_are_masked() {
        let transcript = Transcript {
            events: vec![
                event("ws#1", received(r#"40{"sid":"sock1234","pid":"priv5678"}"#)),
                event("ws#1", received(r#"42["auth",{},"17"]"#)),
                event("ws#2", sent(r#"40{"pid":"priv5678","offset":"17"}"#)),
                event(
                    "http#3",
                    EventKind::HttpRequest {
                        method: "GET".to_owned(),
                        target: "/socket.io/?EIO=3&transport=polling".to_owned(),
                        headers: Vec::new(),
                        body: WireData::Text(String::new()),
                    },
                ),
                event(
                    "http#3",
                    EventKind::HttpResponse {
                        status: 200,
                        headers: Vec::new(),
                        body: WireData::Text(r#"11:4212["x",1]1:2"#.to_owned()),
                    },
                ),
            ],
        };
        let lines = shown(&transcript);
        assert_eq!(
            lines[1],
            r#"client ws#1 received | < "42[\"auth\",{},\"<offset1>\"]""#
        );
        assert_eq!(
            lines[2],
            r#"client ws#2 sent | > "40{\"pid\":\"<id2>\",\"offset\":\"<offset1>\"}""#
        );
        assert_eq!(lines[4], r#"client GET | < 200 "<len>:42<ack1>[\"x\",1]""#);
    }
}
