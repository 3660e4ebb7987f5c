//! What the proxy saw, as entries: the wire (HTTP requests and responses, WebSocket frames and
//! closes), the Engine.IO and Socket.IO packets decoded from it, and the violations found. Each
//! entry is printed as a line of the live log and written as a JSON line; the whole journal
//! also makes the HTML transcript and the recorded scenarios.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use sio_suite::engine::WireData;

/// Who sent what an entry shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The client (what came into the proxy's listening socket).
    Client,
    /// The server (what came back from the upstream).
    Server,
}

impl Side {
    /// The other side.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// `C→S` or `S→C`.
    pub fn arrow(self) -> &'static str {
        match self {
            Side::Client => "C→S",
            Side::Server => "S→C",
        }
    }

    fn index(self) -> usize {
        match self {
            Side::Client => 0,
            Side::Server => 1,
        }
    }
}

/// A pair of values, one per side.
#[derive(Debug, Clone, Default)]
pub struct PerSide<T> {
    values: [T; 2],
}

impl<T> PerSide<T> {
    /// The value of `side`.
    pub fn get(&self, side: Side) -> &T {
        &self.values[side.index()]
    }

    /// The value of `side`, to change.
    pub fn get_mut(&mut self, side: Side) -> &mut T {
        &mut self.values[side.index()]
    }
}

/// One thing the proxy saw.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Time since the proxy started, in milliseconds (fractional).
    #[serde(serialize_with = "serialize_millis")]
    pub at: Duration,
    /// The connection: `http#3` (an HTTP connection of a client), `ws#2` (a WebSocket).
    pub channel: String,
    /// The Engine.IO session, once its sid is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The Socket.IO namespace, for Socket.IO packets and the violations about them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nsp: Option<String>,
    /// Who sent it; absent for the proxy's own remarks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Side>,
    /// What it is.
    #[serde(flatten)]
    pub kind: EntryKind,
    /// Whether the live log shows it (a frame whose packet has its own line, an Engine.IO
    /// message shown as its Socket.IO packet, are not); the JSON lines have every entry.
    #[serde(skip)]
    pub echo: bool,
}

/// What an entry is.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryKind {
    /// An HTTP request of the client, as forwarded.
    HttpRequest {
        /// The method.
        method: String,
        /// The path and query.
        target: String,
        /// The headers, as received.
        headers: Vec<(String, String)>,
        /// The body.
        body: WireData,
    },
    /// The upstream's response, as forwarded.
    HttpResponse {
        /// The status.
        status: u16,
        /// The headers, as received.
        headers: Vec<(String, String)>,
        /// The body.
        body: WireData,
    },
    /// A request the proxy could not carry (the upstream unreachable, a body over the limit):
    /// the proxy answered the client itself.
    HttpFailed {
        /// The status the proxy answered with.
        status: u16,
        /// Why.
        error: String,
    },
    /// The client asked for a WebSocket.
    WsRequest {
        /// The path and query.
        target: String,
    },
    /// The upstream accepted the WebSocket, and so did the proxy for the client.
    WsAccepted,
    /// The upstream refused the WebSocket; its answer was passed on.
    WsRefused {
        /// The status, when an HTTP response came.
        status: Option<u16>,
        /// What came instead.
        detail: String,
    },
    /// A data frame (a WebSocket message), relayed.
    Frame {
        /// Its content: text for a text frame, binary for a binary frame.
        frame: WireData,
    },
    /// A ping or pong control frame, relayed.
    Control {
        /// `ping` or `pong`.
        control: String,
        /// Its application data.
        payload: WireData,
    },
    /// A close frame, relayed.
    Close {
        /// Its status code, when it has one.
        code: Option<u16>,
        /// Its reason.
        reason: String,
    },
    /// A WebSocket ended without a close frame.
    Ended {
        /// How.
        detail: String,
    },
    /// An Engine.IO packet, decoded.
    Packet {
        /// The packet type's name in the spec: `open`, `ping`, `message`, …
        packet: String,
        /// The packet as the scenarios write it: text with its type digit (`4hello`), or a
        /// binary message's data.
        wire: WireData,
    },
    /// A Socket.IO packet, decoded (a binary one once its attachments arrived).
    SocketIo {
        /// The packet type's name in the spec: `CONNECT`, `EVENT`, `BINARY_ACK`, …
        packet: String,
        /// The acknowledgement id.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        /// The JSON payload.
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<Value>,
        /// The sizes of the binary attachments, in order.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<usize>,
    },
    /// A protocol violation.
    Violation {
        /// The requirement it breaks: an id of `suite/requirements/`.
        requirement: String,
        /// What happened.
        message: String,
    },
    /// A remark of the proxy (a session's parameters, an upgrade).
    Note {
        /// The remark.
        text: String,
    },
}

fn serialize_millis<S: serde::Serializer>(at: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((at.as_secs_f64() * 1_000_000.0).round() / 1000.0)
}

/// The most data of one entry the log line shows; the JSON line has it all.
const LOG_EXCERPT: usize = 160;

/// ANSI colours of the live log.
mod ansi {
    pub const RESET: &str = "\x1b[0m";
    pub const DIM: &str = "\x1b[2m";
    pub const CLIENT: &str = "\x1b[36m";
    pub const SERVER: &str = "\x1b[32m";
    pub const VIOLATION: &str = "\x1b[1;31m";
    pub const NOTE: &str = "\x1b[33m";
}

impl Entry {
    /// The entry as a line of the live log (no newline): the time, the session and
    /// namespace (or the connection), the direction, then what it is. `colour` adds ANSI
    /// colours: the client's side cyan, the server's green, violations red, the wire dim.
    pub fn log_line(&self, colour: bool) -> String {
        let mut scope = match &self.sid {
            Some(sid) => format!("{} sid={sid}", self.channel),
            None => self.channel.clone(),
        };
        if let Some(nsp) = &self.nsp {
            let _ = write!(scope, " {nsp}");
        }
        let arrow = self.from.map_or("   ", Side::arrow);
        let (tone, text) = self.describe();
        let paint = |code: &str, text: &str| {
            if colour {
                format!("{code}{text}{}", ansi::RESET)
            } else {
                text.to_owned()
            }
        };
        let arrow = match (self.from, &self.kind) {
            (_, EntryKind::Violation { .. }) => paint(ansi::VIOLATION, "!!!"),
            (Some(Side::Client), _) => paint(ansi::CLIENT, arrow),
            (Some(Side::Server), _) => paint(ansi::SERVER, arrow),
            (None, _) => arrow.to_owned(),
        };
        let text = match tone {
            Tone::Wire => paint(ansi::DIM, &text),
            Tone::Packet => text,
            Tone::Violation => paint(ansi::VIOLATION, &text),
            Tone::Note => paint(ansi::NOTE, &text),
        };
        format!(
            "{:>10.3}ms {scope} {arrow} {text}",
            self.at.as_secs_f64() * 1000.0
        )
    }

    /// What the entry is, in words, as the log shows it after the direction.
    pub fn text(&self) -> String {
        self.describe().1
    }

    fn describe(&self) -> (Tone, String) {
        match &self.kind {
            EntryKind::HttpRequest {
                method,
                target,
                body,
                ..
            } => (Tone::Wire, format!("{method} {target}{}", body_size(body))),
            EntryKind::HttpResponse { status, body, .. } => {
                (Tone::Wire, format!("{status}{}", body_size(body)))
            }
            EntryKind::HttpFailed { status, error } => {
                (Tone::Note, format!("proxy answered {status}: {error}"))
            }
            EntryKind::WsRequest { target } => (Tone::Wire, format!("WebSocket {target}")),
            EntryKind::WsAccepted => (Tone::Wire, "101 WebSocket accepted".to_owned()),
            EntryKind::WsRefused { status, detail } => (
                Tone::Note,
                match status {
                    Some(status) => format!("WebSocket refused: {status} {detail}"),
                    None => format!("WebSocket refused: {detail}"),
                },
            ),
            EntryKind::Frame { frame } => (Tone::Wire, frame_text(frame)),
            EntryKind::Control { control, payload } => (
                Tone::Wire,
                format!("{control} control frame {}", excerpt(payload)),
            ),
            EntryKind::Close { code, reason } => (
                Tone::Wire,
                match code {
                    Some(code) => format!("close frame {code} {reason:?}"),
                    None => "close frame, no code".to_owned(),
                },
            ),
            EntryKind::Ended { detail } => (Tone::Wire, format!("ended: {detail}")),
            EntryKind::Packet { packet, wire } => (
                Tone::Packet,
                format!("eio {packet:<7} {}", packet_data(packet, wire)),
            ),
            EntryKind::SocketIo {
                packet,
                id,
                data,
                attachments,
            } => (Tone::Packet, socket_io_text(packet, *id, data, attachments)),
            EntryKind::Violation {
                requirement,
                message,
            } => (
                Tone::Violation,
                format!("VIOLATION {requirement}: {message}"),
            ),
            EntryKind::Note { text } => (Tone::Note, text.clone()),
        }
    }
}

/// How a log line is coloured.
enum Tone {
    Wire,
    Packet,
    Violation,
    Note,
}

fn body_size(body: &WireData) -> String {
    match body {
        WireData::Text(text) if text.is_empty() => String::new(),
        WireData::Text(text) => format!(" ({} B) {}", text.len(), excerpt(body)),
        WireData::Binary(bytes) => format!(" ({} B binary)", bytes.len()),
    }
}

fn frame_text(frame: &WireData) -> String {
    match frame {
        WireData::Text(_) => format!("text frame {}", excerpt(frame)),
        WireData::Binary(bytes) => format!("binary frame ({} B) {}", bytes.len(), excerpt(frame)),
    }
}

/// What follows an Engine.IO packet's type in the log: its data without the type digit, or
/// a binary message's bytes.
fn packet_data(packet: &str, wire: &WireData) -> String {
    match wire {
        WireData::Text(text) => {
            let data: String = text.chars().skip(1).collect();
            if data.is_empty() {
                String::new()
            } else {
                excerpt(&WireData::Text(data))
            }
        }
        WireData::Binary(bytes) => {
            let _ = packet;
            format!("binary ({} B) {}", bytes.len(), excerpt(wire))
        }
    }
}

fn socket_io_text(
    packet: &str,
    id: Option<u64>,
    data: &Option<Value>,
    attachments: &[usize],
) -> String {
    let mut text = format!("sio {packet}");
    if let Some(id) = id {
        let _ = write!(text, " id={id}");
    }
    if let Some(data) = data {
        let _ = write!(text, " {}", excerpt(&WireData::Text(data.to_string())));
    }
    if !attachments.is_empty() {
        let sizes: Vec<String> = attachments.iter().map(|size| format!("{size} B")).collect();
        let _ = write!(
            text,
            " + {} attachment(s): {}",
            attachments.len(),
            sizes.join(", ")
        );
    }
    text
}

/// Data as one line: text with its control characters escaped, binary as hex, each cut at
/// [`LOG_EXCERPT`] characters.
pub fn excerpt(data: &WireData) -> String {
    let mut out = String::new();
    match data {
        WireData::Text(text) => {
            for c in text.chars() {
                if out.len() >= LOG_EXCERPT {
                    out.push('…');
                    break;
                }
                match c {
                    '\u{1e}' => out.push_str("\\x1e"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c if c.is_control() => {
                        let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
                    }
                    c => out.push(c),
                }
            }
        }
        WireData::Binary(bytes) => {
            for (index, byte) in bytes.iter().enumerate() {
                if out.len() >= LOG_EXCERPT {
                    out.push('…');
                    break;
                }
                if index > 0 && index % 4 == 0 {
                    out.push(' ');
                }
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
    out
}

/// Where the journal goes as it grows: the live log, the JSON Lines file, and the entries kept
/// for the HTML page and the recorded scenarios (at most [`Journal::KEPT`]).
pub struct Journal {
    log: Option<Box<dyn Write + Send>>,
    colour: bool,
    jsonl: Option<Box<dyn Write + Send>>,
    keep: bool,
    entries: Vec<Entry>,
    dropped: usize,
    violations: usize,
    /// The number of entries so far, for whoever awaits one (tests, tools).
    count: tokio::sync::watch::Sender<usize>,
    pushed: usize,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("colour", &self.colour)
            .field("entries", &self.entries.len())
            .field("dropped", &self.dropped)
            .field("violations", &self.violations)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// The most entries kept in memory for the HTML page and the recording; later ones are
    /// still logged and written to the JSON Lines file.
    pub const KEPT: usize = 200_000;

    /// A journal that prints to `log` (coloured when `colour`), writes JSON lines to `jsonl`,
    /// and keeps its entries when `keep`.
    pub fn new(
        log: Option<Box<dyn Write + Send>>,
        colour: bool,
        jsonl: Option<Box<dyn Write + Send>>,
        keep: bool,
    ) -> Journal {
        Journal {
            log,
            colour,
            jsonl,
            keep,
            entries: Vec::new(),
            dropped: 0,
            violations: 0,
            count: tokio::sync::watch::Sender::new(0),
            pushed: 0,
        }
    }

    /// Adds an entry: prints it, writes it, keeps it. A write error (a closed stdout, a full
    /// disk) stops that output rather than the proxy.
    pub fn push(&mut self, entry: Entry) {
        if matches!(entry.kind, EntryKind::Violation { .. }) {
            self.violations += 1;
        }
        if let Some(log) = self.log.as_mut().filter(|_| entry.echo) {
            let line = entry.log_line(self.colour);
            if writeln!(log, "{line}").and_then(|()| log.flush()).is_err() {
                self.log = None;
            }
        }
        if let Some(jsonl) = &mut self.jsonl {
            let written = serde_json::to_string(&entry)
                .map_err(std::io::Error::other)
                .and_then(|line| writeln!(jsonl, "{line}"))
                .and_then(|()| jsonl.flush());
            if written.is_err() {
                self.jsonl = None;
            }
        }
        self.pushed += 1;
        self.count.send_replace(self.pushed);
        if self.keep {
            if self.entries.len() < Self::KEPT {
                self.entries.push(entry);
            } else {
                self.dropped += 1;
            }
        }
    }

    /// A receiver that sees the number of entries change: to await an entry without polling.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<usize> {
        self.count.subscribe()
    }

    /// The entries kept so far.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// How many entries were not kept, over [`Journal::KEPT`].
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// How many violations were found.
    pub fn violations(&self) -> usize {
        self.violations
    }
}
