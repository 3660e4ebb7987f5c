//! The transcript of a case: every request and response, every frame, every close, with the
//! time since the case started, in the order they happened.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use serde::{Serialize, Serializer};
use tokio::time::Instant;

use crate::scenario::Data;

/// Everything that happened in a case.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Transcript {
    /// The events, in order.
    pub events: Vec<Event>,
}

/// One thing that happened.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Time since the case started.
    #[serde(serialize_with = "serialize_millis")]
    pub at: Duration,
    /// The actor on whose behalf it happened.
    pub actor: String,
    /// The connection: `http#3`, `ws:probe`, `session`.
    pub channel: String,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A step began.
    Step {
        /// Its 1-based number.
        number: usize,
        /// Its keyword.
        keyword: String,
    },
    /// An HTTP request went out.
    HttpRequest {
        /// The method.
        method: String,
        /// The path and query.
        target: String,
        /// The headers sent.
        headers: Vec<(String, String)>,
        /// The body.
        body: WireData,
    },
    /// Raw bytes went out as an HTTP request.
    RawRequest {
        /// The bytes.
        data: WireData,
    },
    /// An HTTP response came back.
    HttpResponse {
        /// The status.
        status: u16,
        /// The headers.
        headers: Vec<(String, String)>,
        /// The body.
        body: WireData,
    },
    /// A request got no response.
    HttpFailed {
        /// Why.
        error: String,
    },
    /// A WebSocket was requested.
    WsRequest {
        /// The path and query.
        target: String,
    },
    /// The WebSocket was accepted (101).
    WsAccepted,
    /// The WebSocket was refused.
    WsRefused {
        /// The status, when an HTTP response came.
        status: Option<u16>,
        /// What came instead.
        detail: String,
    },
    /// A frame went out.
    FrameSent {
        /// Its content.
        frame: WireData,
    },
    /// A frame came in.
    FrameReceived {
        /// Its content.
        frame: WireData,
    },
    /// A close frame went out.
    CloseSent {
        /// Its code.
        code: Option<u16>,
    },
    /// A close frame came in.
    CloseReceived {
        /// Its code.
        code: Option<u16>,
    },
    /// A ping control frame (RFC 6455 §5.5.2) went out.
    PingSent {
        /// Its application data.
        payload: WireData,
    },
    /// A ping control frame came in (the WebSocket library answers it with a pong at once).
    PingReceived {
        /// Its application data.
        payload: WireData,
    },
    /// A pong control frame (RFC 6455 §5.5.3) went out: the WebSocket library's automatic
    /// answer to a ping, recorded when the ping is read.
    PongSent {
        /// Its application data (the ping's).
        payload: WireData,
    },
    /// A pong control frame came in.
    PongReceived {
        /// Its application data.
        payload: WireData,
    },
    /// A connection ended without a close frame.
    Ended {
        /// How.
        detail: String,
    },
    /// A request of the client under test came in (client-role cases: the engine serves).
    RequestReceived {
        /// The method.
        method: String,
        /// The path and query.
        target: String,
        /// The headers received.
        headers: Vec<(String, String)>,
        /// The body.
        body: WireData,
    },
    /// The engine answered a request of the client under test.
    ResponseSent {
        /// The status.
        status: u16,
        /// The headers sent.
        headers: Vec<(String, String)>,
        /// The body.
        body: WireData,
    },
    /// The client under test asked for a WebSocket.
    WsRequestReceived {
        /// The path and query.
        target: String,
        /// The headers of the upgrade request.
        headers: Vec<(String, String)>,
    },
    /// The engine started the client under test.
    ProgramStarted {
        /// The command line.
        command: String,
    },
    /// The engine wrote a cue on the client program's standard input.
    Cue {
        /// The JSON line.
        line: String,
    },
    /// The client program reported something on its standard output.
    Report {
        /// The JSON line.
        line: String,
    },
    /// The client program wrote something else (standard error, or a line that is not a
    /// JSON object).
    Output {
        /// `stdout` or `stderr`.
        stream: String,
        /// The line.
        line: String,
    },
    /// The client program ended.
    ProgramEnded {
        /// Its exit status.
        status: String,
    },
    /// A remark of the engine (an automatic pong, the upgrade of a session).
    Note {
        /// The remark.
        text: String,
    },
}

/// Bytes on the wire: text when they are UTF-8, base64 otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireData {
    /// UTF-8 text (a text frame, or an HTTP body that is valid UTF-8).
    Text(String),
    /// Binary (a binary frame, or a body that is not UTF-8).
    Binary(Vec<u8>),
}

impl WireData {
    /// The data of an HTTP body.
    pub fn body(bytes: &[u8]) -> WireData {
        match std::str::from_utf8(bytes) {
            Ok(text) => WireData::Text(text.to_owned()),
            Err(_) => WireData::Binary(bytes.to_vec()),
        }
    }

    /// The data of a frame.
    pub fn frame(data: &Data) -> WireData {
        match data {
            Data::Text(text) => WireData::Text(text.clone()),
            Data::Binary(bytes) => WireData::Binary(bytes.clone()),
        }
    }
}

impl Serialize for WireData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            WireData::Text(text) => map.serialize_entry("text", text)?,
            WireData::Binary(bytes) => map.serialize_entry(
                "base64",
                &base64::engine::general_purpose::STANDARD.encode(bytes),
            )?,
        }
        map.end()
    }
}

/// Data longer than this many bytes is shown abbreviated in the text transcript (a frame of
/// a megabyte would bury the rest); the JSON and HTML reports keep every byte.
const SHOWN_BYTES: usize = 512;

impl fmt::Display for WireData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireData::Text(text) if text.len() > SHOWN_BYTES => {
                let mut end = SHOWN_BYTES;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let rest = text.len() - end;
                write!(f, "{:?}... ({rest} more bytes)", &text[..end])
            }
            WireData::Text(text) => write!(f, "{text:?}"),
            WireData::Binary(bytes) if bytes.len() > SHOWN_BYTES => {
                let shown = base64::engine::general_purpose::STANDARD.encode(&bytes[..SHOWN_BYTES]);
                let rest = bytes.len() - SHOWN_BYTES;
                write!(f, "binary {shown}... ({rest} more bytes)")
            }
            WireData::Binary(bytes) => write!(
                f,
                "binary {}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            ),
        }
    }
}

/// Durations serialize as milliseconds.
pub(crate) fn serialize_millis<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((duration.as_secs_f64() * 1_000_000.0).round() / 1000.0)
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for event in &self.events {
            writeln!(f, "{event}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at.as_secs_f64() * 1000.0;
        write!(
            f,
            "{at:9.1} ms  {:<8} {:<10} {}",
            self.actor, self.channel, self.kind
        )
    }
}

/// The event as the text transcript shows it, without its time, actor and channel: `> GET
/// /socket.io/?EIO=4&transport=polling`, `< "40"`, `-- step 2: receive`.
impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKind::Step { number, keyword } => write!(f, "-- step {number}: {keyword}"),
            EventKind::HttpRequest {
                method,
                target,
                headers,
                body,
            } => {
                write!(f, "> {method} {target}")?;
                for (name, value) in headers {
                    write!(f, " [{name}: {value}]")?;
                }
                if body != &WireData::Text(String::new()) {
                    write!(f, " {body}")?;
                }
                Ok(())
            }
            EventKind::RawRequest { data } => write!(f, "> raw {data}"),
            EventKind::HttpResponse {
                status,
                headers,
                body,
            } => {
                write!(f, "< {status}")?;
                for (name, value) in headers {
                    write!(f, " [{name}: {value}]")?;
                }
                write!(f, " {body}")
            }
            EventKind::HttpFailed { error } => write!(f, "< no response: {error}"),
            EventKind::WsRequest { target } => write!(f, "> websocket {target}"),
            EventKind::WsAccepted => write!(f, "< 101 accepted"),
            EventKind::WsRefused { status, detail } => match status {
                Some(status) => write!(f, "< refused {status} {detail}"),
                None => write!(f, "< refused: {detail}"),
            },
            EventKind::FrameSent { frame } => write!(f, "> {frame}"),
            EventKind::FrameReceived { frame } => write!(f, "< {frame}"),
            EventKind::CloseSent { code } => write!(f, "> close {code:?}"),
            EventKind::CloseReceived { code } => write!(f, "< close {code:?}"),
            EventKind::PingSent { payload } => write!(f, "> ping control frame {payload}"),
            EventKind::PingReceived { payload } => write!(f, "< ping control frame {payload}"),
            EventKind::PongSent { payload } => write!(f, "> pong control frame {payload}"),
            EventKind::PongReceived { payload } => write!(f, "< pong control frame {payload}"),
            EventKind::Ended { detail } => write!(f, "<> ended: {detail}"),
            EventKind::RequestReceived {
                method,
                target,
                headers,
                body,
            } => {
                write!(f, "< {method} {target}")?;
                for (name, value) in headers {
                    write!(f, " [{name}: {value}]")?;
                }
                if body != &WireData::Text(String::new()) {
                    write!(f, " {body}")?;
                }
                Ok(())
            }
            EventKind::ResponseSent {
                status,
                headers,
                body,
            } => {
                write!(f, "> {status}")?;
                for (name, value) in headers {
                    write!(f, " [{name}: {value}]")?;
                }
                write!(f, " {body}")
            }
            EventKind::WsRequestReceived { target, .. } => write!(f, "< websocket {target}"),
            EventKind::ProgramStarted { command } => write!(f, "** started: {command}"),
            EventKind::Cue { line } => write!(f, "> cue {line}"),
            EventKind::Report { line } => write!(f, "< report {line}"),
            EventKind::Output { stream, line } => write!(f, "< {stream}: {line}"),
            EventKind::ProgramEnded { status } => write!(f, "** ended: {status}"),
            EventKind::Note { text } => write!(f, "** {text}"),
        }
    }
}

/// Records events from every task of a case; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    start: Instant,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Recorder {
    /// A recorder whose clock starts now.
    pub(crate) fn new() -> Recorder {
        Recorder {
            start: Instant::now(),
            events: Arc::default(),
        }
    }

    /// Records that `kind` happened now, on behalf of `actor`, on `channel`.
    pub(crate) fn record(&self, actor: &str, channel: &str, kind: EventKind) {
        let event = Event {
            at: self.start.elapsed(),
            actor: actor.to_owned(),
            channel: channel.to_owned(),
            kind,
        };
        self.lock().push(event);
    }

    /// Everything recorded so far, in order.
    pub(crate) fn transcript(&self) -> Transcript {
        Transcript {
            events: self.lock().clone(),
        }
    }

    /// A poisoned lock only means a task panicked while pushing; the events are still good.
    fn lock(&self) -> MutexGuard<'_, Vec<Event>> {
        self.events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_data_is_abbreviated_in_the_text_transcript() {
        let text = WireData::Text(format!("4{}", "é".repeat(600)));
        let shown = text.to_string();
        assert!(shown.ends_with("\"... (690 more bytes)"), "{shown}");
        let short = WireData::Text("4hello".to_owned());
        assert_eq!(short.to_string(), "\"4hello\"");
        let binary = WireData::Binary(vec![0; 600]);
        assert!(binary.to_string().ends_with("... (88 more bytes)"));
    }
}
