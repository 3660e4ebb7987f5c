//! WebSocket connections through tokio-tungstenite's client: each one has a reader task that
//! records every frame in the transcript and queues it into an [`Inbox`], by its
//! [`PacketRules`] (a session's, or a raw WebSocket's, which only take care of the heartbeat). Ping and pong
//! control frames are recorded, and queued only for a raw WebSocket whose steps see them;
//! tungstenite answers a ping with a pong by itself (RFC 6455 §5.5.2).
//!
//! What is read is bounded by the wire's [`ReadLimits`](super::wire::ReadLimits): a frame or a
//! message over [`ReadLimits::message`](super::wire::ReadLimits::message) ends the connection
//! as soon as its header announces it, and everything a case reads counts against
//! [`ReadLimits::case`](super::wire::ReadLimits::case); tungstenite itself bounds the head of
//! the handshake's response at 64 KiB.

use std::sync::Arc;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use http::{HeaderName, HeaderValue};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Mutex};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use super::error::{millis, StepError};
use super::inbox::{Closure, Control, Incoming};
use super::session::rules::{Handling, PacketRules, CLOSED_BY_PACKET};
use super::session::v3_session_binary;
use super::transcript::{EventKind, WireData};
use super::wire::{AbortOnDrop, ReadLimits, Wire};
use crate::scenario::Data;

type Stream = WebSocketStream<TcpStream>;
/// The writing half; `None` once the connection has ended, so that the TCP connection is
/// closed (both halves dropped) as RFC 6455 §5.5.1 asks after the close handshake.
type Sink = Arc<Mutex<Option<SplitSink<Stream, Message>>>>;

/// An open WebSocket: its writer, and the reader task feeding an inbox.
pub(crate) struct WsConnection {
    actor: String,
    channel: String,
    wire: Wire,
    sink: Sink,
    /// The headers of the 101 response.
    headers: Vec<(String, String)>,
    _reader: AbortOnDrop<()>,
}

/// What came of a WebSocket request.
pub(crate) enum WsOpen {
    /// Accepted (101).
    Accepted(WsConnection),
    /// Refused: the status and headers, when an HTTP response came, and what came.
    Refused(Option<u16>, String, Vec<(String, String)>),
}

/// A WebSocket request to make.
pub(crate) struct WsRequest<'a> {
    pub(crate) actor: &'a str,
    /// The transcript's name for it: `ws:probe`.
    pub(crate) channel: String,
    /// Path and query.
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    /// What the reader does by itself with the packets it receives.
    pub(crate) rules: PacketRules,
    /// What the reader makes of the frames.
    pub(crate) framing: Framing,
    /// Ping and pong control frames go to the inbox (they are recorded either way).
    pub(crate) control_frames: bool,
}

/// What a reader makes of the frames it queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Each frame as it came: a raw WebSocket's, or a protocol 4 session's (where a binary
    /// frame is a binary message's bytes).
    AsIs,
    /// A protocol 3 session: a binary frame carries its packet type in its first byte, so a
    /// binary message `04 …` is queued as its data (see [`v3_session_binary`]).
    V3Session,
}

/// Requests a WebSocket; frames go to `inbox`.
pub(crate) async fn open(
    wire: &Wire,
    request: WsRequest<'_>,
    inbox: mpsc::UnboundedSender<Incoming>,
    deadline: Instant,
) -> Result<WsOpen, StepError> {
    let url = format!("ws://{}{}", wire.address, request.target);
    let mut client_request = url
        .as_str()
        .into_client_request()
        .map_err(|error| StepError::Invalid(format!("bad WebSocket request {url}: {error}")))?;
    for (name, value) in &request.headers {
        let name = HeaderName::from_bytes(name.as_bytes());
        let value = HeaderValue::from_str(value);
        let (Ok(name), Ok(value)) = (name, value) else {
            return Err(StepError::Invalid(format!("bad header in {url}")));
        };
        client_request.headers_mut().insert(name, value);
    }
    wire.recorder.record(
        request.actor,
        &request.channel,
        EventKind::WsRequest {
            target: request.target.clone(),
        },
    );
    let started = Instant::now();
    let stream = wire.connect().await?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(wire.limits.message))
        .max_frame_size(Some(wire.limits.message));
    let handshake =
        tokio_tungstenite::client_async_with_config(client_request, stream, Some(config));
    let outcome = match tokio::time::timeout_at(deadline, handshake).await {
        Err(_) => {
            let detail = format!("no answer within {}", millis(started.elapsed()));
            record_refusal(wire, &request, None, &detail);
            return Err(StepError::nothing_within(
                "an answer to the WebSocket request",
                started.elapsed(),
            ));
        }
        Ok(outcome) => outcome,
    };
    match outcome {
        Ok((stream, response)) => {
            wire.recorder
                .record(request.actor, &request.channel, EventKind::WsAccepted);
            let headers = header_list(response.headers());
            Ok(WsOpen::Accepted(start(
                wire, &request, stream, headers, inbox,
            )))
        }
        Err(tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response.body().clone().unwrap_or_default();
            let detail = WireData::body(&body).to_string();
            record_refusal(wire, &request, Some(status), &detail);
            let headers = header_list(response.headers());
            Ok(WsOpen::Refused(Some(status), detail, headers))
        }
        Err(error) => {
            let detail = describe_error(&wire.limits, &error);
            record_refusal(wire, &request, None, &detail);
            Ok(WsOpen::Refused(None, detail, Vec::new()))
        }
    }
}

/// What a refusal says in a failure: `refused: 400 "…"`, or `refused: (no HTTP status) …`
/// when no HTTP response came.
pub(crate) fn describe_refusal(status: Option<u16>, detail: &str) -> String {
    match status {
        Some(status) => format!("refused: {status} {detail}"),
        None => format!("refused: (no HTTP status) {detail}"),
    }
}

fn header_list(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect()
}

fn record_refusal(wire: &Wire, request: &WsRequest<'_>, status: Option<u16>, detail: &str) {
    wire.recorder.record(
        request.actor,
        &request.channel,
        EventKind::WsRefused {
            status,
            detail: detail.to_owned(),
        },
    );
}

fn start(
    wire: &Wire,
    request: &WsRequest<'_>,
    stream: Stream,
    headers: Vec<(String, String)>,
    inbox: mpsc::UnboundedSender<Incoming>,
) -> WsConnection {
    let (sink, stream) = stream.split();
    let sink: Sink = Arc::new(Mutex::new(Some(sink)));
    let reader = Reader {
        wire: wire.clone(),
        actor: request.actor.to_owned(),
        channel: request.channel.clone(),
        sink: Arc::clone(&sink),
        rules: request.rules,
        framing: request.framing,
        control_frames: request.control_frames,
        inbox,
    };
    WsConnection {
        actor: request.actor.to_owned(),
        channel: request.channel.clone(),
        wire: wire.clone(),
        sink,
        headers,
        _reader: AbortOnDrop(tokio::spawn(reader.run(stream))),
    }
}

struct Reader {
    wire: Wire,
    actor: String,
    channel: String,
    sink: Sink,
    rules: PacketRules,
    framing: Framing,
    control_frames: bool,
    inbox: mpsc::UnboundedSender<Incoming>,
}

impl Reader {
    async fn run(self, mut stream: SplitStream<Stream>) {
        let mut closed = false;
        while let Some(message) = stream.next().await {
            if let Ok(message) = &message {
                if let Err(exceeded) = self.wire.count_received(message.len()) {
                    self.end(&mut closed, exceeded);
                    self.drop_connection(stream).await;
                    return;
                }
            }
            match message {
                Ok(Message::Text(text)) => {
                    let data = Data::Text(text.as_str().to_owned());
                    self.on_data(&mut closed, data).await;
                }
                Ok(Message::Binary(bytes)) => {
                    self.on_data(&mut closed, Data::Binary(bytes.to_vec()))
                        .await;
                }
                Ok(Message::Close(frame)) => {
                    let code = frame.map(|frame| u16::from(frame.code));
                    self.record(EventKind::CloseReceived { code });
                    if !closed {
                        let _ = self.inbox.send(Incoming::Closed(Closure {
                            detail: describe_close(code),
                            // RFC 6455 §7.1.5: a close frame without a status code is 1005.
                            code: Some(code.unwrap_or(NO_STATUS_RECEIVED)),
                        }));
                    }
                    closed = true;
                }
                Ok(Message::Ping(payload)) => {
                    let payload = payload.to_vec();
                    self.record(EventKind::PingReceived {
                        payload: WireData::body(&payload),
                    });
                    // tungstenite has queued the pong, written at its next read.
                    self.record(EventKind::PongSent {
                        payload: WireData::body(&payload),
                    });
                    self.on_control(Control::Ping, payload);
                }
                Ok(Message::Pong(payload)) => {
                    let payload = payload.to_vec();
                    self.record(EventKind::PongReceived {
                        payload: WireData::body(&payload),
                    });
                    self.on_control(Control::Pong, payload);
                }
                Ok(Message::Frame(_)) => {}
                Err(error) => {
                    let detail = describe_error(&self.wire.limits, &error);
                    self.end(&mut closed, format!("connection error: {detail}"));
                    self.drop_connection(stream).await;
                    return;
                }
            }
        }
        self.end(
            &mut closed,
            "the connection ended without a close frame".to_owned(),
        );
        self.drop_connection(stream).await;
    }

    /// Drops both halves, which closes the TCP connection: "After both sending and receiving
    /// a Close message, an endpoint considers the WebSocket connection closed and MUST close
    /// the underlying TCP connection" (RFC 6455 §5.5.1). A server may wait for that before it
    /// ends the session.
    async fn drop_connection(&self, stream: SplitStream<Stream>) {
        let sink = self.sink.lock().await.take();
        drop((sink, stream));
    }

    fn end(&self, closed: &mut bool, detail: String) {
        if !*closed {
            self.record(EventKind::Ended {
                detail: detail.clone(),
            });
            let _ = self.inbox.send(Incoming::closed(detail));
            *closed = true;
        }
    }

    fn on_control(&self, control: Control, payload: Vec<u8>) {
        if self.control_frames {
            let _ = self.inbox.send(Incoming::Control(control, payload));
        }
    }

    async fn on_data(&self, closed: &mut bool, data: Data) {
        self.record(EventKind::FrameReceived {
            frame: WireData::frame(&data),
        });
        match self.rules.handle(&data) {
            Handling::Deliver => {
                let data = match (self.framing, data) {
                    (Framing::V3Session, Data::Binary(bytes)) => v3_session_binary(bytes),
                    (_, data) => data,
                };
                let _ = self.inbox.send(Incoming::Data(data));
            }
            Handling::Drop => {}
            Handling::Close => {
                if !*closed {
                    let _ = self.inbox.send(Incoming::closed(CLOSED_BY_PACKET));
                }
                *closed = true;
            }
            Handling::AnswerPing => self.answer_ping().await,
        }
    }

    /// Sends the pong of the automatic heartbeat, unless the connection has ended.
    async fn answer_ping(&self) {
        let pong = PacketRules::pong();
        let sent = match self.sink.lock().await.as_mut() {
            Some(sink) => sink.send(message(&pong)).await.is_ok(),
            None => false,
        };
        if sent {
            self.record(EventKind::FrameSent {
                frame: WireData::frame(&pong),
            });
        }
    }

    fn record(&self, kind: EventKind) {
        self.wire.recorder.record(&self.actor, &self.channel, kind);
    }
}

/// What went wrong, naming the engine's limit when a frame or a message was over it, and
/// tungstenite's when the handshake's response head was.
fn describe_error(limits: &ReadLimits, error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, .. }) => {
            let size = u64::try_from(*size).ok();
            limits.message_exceeded("a frame or message", size)
        }
        tungstenite::Error::AttackAttempt => format!(
            "a response head longer than {} bytes, or trickled in too many small reads (the \
             WebSocket library's limits on a handshake)",
            ReadLimits::HEAD
        ),
        _ => error.to_string(),
    }
}

/// Whether a write failed because the other end had closed the connection, or the close
/// handshake had already begun, rather than for a fault of ours.
fn ended_by_peer(error: &tungstenite::Error) -> bool {
    use std::io::ErrorKind;
    use tungstenite::error::ProtocolError;
    match error {
        tungstenite::Error::ConnectionClosed
        | tungstenite::Error::AlreadyClosed
        | tungstenite::Error::Protocol(ProtocolError::SendAfterClosing) => true,
        tungstenite::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
        ),
        _ => false,
    }
}

/// The frame that carries `data`.
fn message(data: &Data) -> Message {
    match data {
        Data::Text(text) => Message::text(text.as_str()),
        Data::Binary(bytes) => Message::binary(bytes.clone()),
    }
}

/// The close code of a close frame that has none (RFC 6455 §7.1.5); never on the wire.
const NO_STATUS_RECEIVED: u16 = 1005;

fn describe_close(code: Option<u16>) -> String {
    match code {
        Some(code) => format!("a close frame with code {code}"),
        None => "a close frame".to_owned(),
    }
}

impl WsConnection {
    /// Sends one frame.
    pub(crate) async fn send(&self, data: &Data, deadline: Instant) -> Result<(), StepError> {
        let message = message(data);
        self.wire.recorder.record(
            &self.actor,
            &self.channel,
            EventKind::FrameSent {
                frame: WireData::frame(data),
            },
        );
        self.write(message, deadline).await
    }

    /// Sends a ping control frame with `payload` (at most 125 bytes, RFC 6455 §5.5).
    pub(crate) async fn ping(&self, payload: &[u8], deadline: Instant) -> Result<(), StepError> {
        self.wire.recorder.record(
            &self.actor,
            &self.channel,
            EventKind::PingSent {
                payload: WireData::body(payload),
            },
        );
        self.write(Message::Ping(payload.to_vec().into()), deadline)
            .await
    }

    /// Whether the connection can still be written to (it has not ended).
    pub(crate) async fn is_open(&self) -> bool {
        self.sink.lock().await.is_some()
    }

    /// The headers of the 101 response.
    pub(crate) fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Sends a close frame.
    pub(crate) async fn close(
        &self,
        code: Option<u16>,
        deadline: Instant,
    ) -> Result<(), StepError> {
        let frame = code.map(|code| CloseFrame {
            code: CloseCode::from(code),
            reason: "".into(),
        });
        self.wire
            .recorder
            .record(&self.actor, &self.channel, EventKind::CloseSent { code });
        self.write(Message::Close(frame), deadline).await
    }

    async fn write(&self, message: Message, deadline: Instant) -> Result<(), StepError> {
        let written = tokio::time::timeout_at(deadline, async {
            match self.sink.lock().await.as_mut() {
                Some(sink) => sink.send(message).await,
                None => Err(tokio_tungstenite::tungstenite::Error::ConnectionClosed),
            }
        })
        .await;
        match written {
            Ok(Ok(())) => Ok(()),
            // The server may end the connection while a frame is on its way (a frame over its
            // limit, a message it refuses): the write fails, yet the step that comes next (a
            // close, an ending, or the reply that will now never come) is what judges.
            Ok(Err(error)) if ended_by_peer(&error) => {
                self.wire.recorder.record(
                    &self.actor,
                    &self.channel,
                    EventKind::Note {
                        text: format!(
                            "the frame was cut short: the peer has ended the connection ({error})"
                        ),
                    },
                );
                Ok(())
            }
            Ok(Err(error)) => Err(StepError::unmet(
                "an open WebSocket to write to",
                format!("cannot write: {error}"),
            )),
            Err(_) => Err(StepError::unmet(
                "an open WebSocket to write to",
                "the frame could not be written in time",
            )),
        }
    }

    /// The transcript's name for it.
    pub(crate) fn channel(&self) -> &str {
        &self.channel
    }
}
