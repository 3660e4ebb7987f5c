//! The WebSocket transport: one packet per frame (spec "WebSocket"), the WebSocket handshake,
//! and the probe that upgrades a polling session.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use http::header::{HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use http::{HeaderMap, Response, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as TungsteniteError, Message};
use tokio_tungstenite::WebSocketStream;

use super::queue::QueueReceiver;
use super::response::Body;
use super::session::{CatchUp, CloseReason, Session, WsOut};
use crate::engine_io::{Data, Frame, Packet, PacketType, ProtocolVersion};

type Ws = WebSocketStream<CountedIo>;

/// How long the closing handshake may take once the session is done with a WebSocket.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The WebSocket's read buffer, and the most read from the socket at once.
///
/// tungstenite allocates it eagerly and zero-fills it up to its capacity before each read, so
/// its default, 128 KiB, costs every connection 128 KiB of memory and every read a 128 KiB
/// `memset`. Engine.IO messages are mostly small; a larger message still arrives whole, since
/// the buffer grows to the frame's length once its header is read. Which frames are accepted
/// is up to `max_frame_size` and `max_message_size` alone.
const READ_BUFFER_SIZE: usize = 4 * 1024;

/// Whether the request asks for a WebSocket (`Upgrade: websocket`).
pub(crate) fn is_upgrade_request(headers: &HeaderMap) -> bool {
    headers
        .get(UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}

/// The `101 Switching Protocols` answer, or `None` without a `Sec-WebSocket-Key`.
pub(crate) fn switching_protocols(headers: &HeaderMap) -> Option<Response<Body>> {
    let key = headers.get(SEC_WEBSOCKET_KEY)?;
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes())).ok()?;
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let response_headers = response.headers_mut();
    response_headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    response_headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    response_headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    Some(response)
}

/// Waits for the HTTP upgrade and wraps the connection in a WebSocket; with it, the count of
/// its reads that found nothing to read.
async fn accept(on_upgrade: OnUpgrade, max_message_size: usize) -> Option<(Ws, IdleReads)> {
    let upgraded = on_upgrade.await.ok()?;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_SIZE)
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size));
    let idle_reads = IdleReads::default();
    let io = CountedIo {
        io: TokioIo::new(upgraded),
        idle_reads: idle_reads.clone(),
    };
    let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    Some((ws, idle_reads))
}

/// How many reads of a connection found nothing to read (returned `Pending`).
#[derive(Debug, Clone, Default)]
struct IdleReads(Arc<AtomicU64>);

impl IdleReads {
    fn count(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// An upgraded connection that counts its [`IdleReads`].
struct CountedIo {
    io: TokioIo<Upgraded>,
    idle_reads: IdleReads,
}

impl AsyncRead for CountedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_read(context, buf);
        if polled.is_pending() {
            self.idle_reads.0.fetch_add(1, Ordering::AcqRel);
        }
        polled
    }
}

impl AsyncWrite for CountedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(context, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(context, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(context)
    }
}

/// Runs a session born on WebSocket, whose open packet is already queued on `outgoing`.
pub(crate) async fn run_session(
    session: Arc<Session>,
    on_upgrade: OnUpgrade,
    outgoing: QueueReceiver<WsOut>,
) {
    let mut closed = session.closed_signal();
    let accepted = tokio::select! {
        ws = accept(on_upgrade, session.config.max_http_buffer_size) => ws,
        // The heartbeat bounds the wait: no pong, no session.
        _ = closed.wait_for(|closed| *closed) => None,
    };
    let Some((ws, _)) = accepted else {
        session.close(CloseReason::TransportError);
        return;
    };
    let (sink, stream) = ws.split();
    tokio::spawn(write(
        sink,
        outgoing,
        write_timeout(&session),
        session.version,
    ));
    read(session, stream).await;
}

/// Runs a WebSocket that probes a polling session: `2probe` → `3probe`, then `5` moves the
/// session onto it, all within `upgrade_timeout` of the request (spec "Upgrade"). Meanwhile,
/// each polling request of the session waits on `catch_up` until the probe has handled the
/// frames that arrived before it ([`Session::catch_up`]).
pub(crate) async fn run_probe(
    session: Arc<Session>,
    on_upgrade: OnUpgrade,
    outgoing: QueueReceiver<WsOut>,
    mut catch_up: mpsc::UnboundedReceiver<CatchUp>,
    deadline: Instant,
) {
    let accepted = tokio::time::timeout_at(
        deadline,
        accept(on_upgrade, session.config.max_http_buffer_size),
    )
    .await;
    let Ok(Some((ws, idle_reads))) = accepted else {
        session.abort_upgrade();
        return;
    };
    let (sink, mut stream) = ws.split();
    tokio::spawn(write(
        sink,
        outgoing,
        write_timeout(&session),
        session.version,
    ));
    let mut closed = session.closed_signal();
    let mut probe = Probe {
        session: &session,
        probed: false,
    };
    let step = loop {
        let event = tokio::select! {
            // Catching up comes first: a request waits on it.
            biased;
            _ = closed.wait_for(|closed| *closed) => ProbeEvent::Closed,
            Some(request) = catch_up.recv() => ProbeEvent::CatchUp(request),
            message = tokio::time::timeout_at(deadline, stream.next()) => ProbeEvent::Message(message.ok()),
        };
        let step = match event {
            ProbeEvent::Closed => ProbeStep::Abort,
            ProbeEvent::CatchUp(request) => {
                let step = probe.catch_up(&mut stream, &idle_reads, deadline).await;
                session.release_after_writes(request);
                // Every request queued so far came after the frames just handled.
                while let Ok(request) = catch_up.try_recv() {
                    session.release_after_writes(request);
                }
                step
            }
            ProbeEvent::Message(Some(message)) => probe.handle(message),
            // No `5` within upgrade_timeout: the probe is closed, the session stays on polling
            // (UP-07).
            ProbeEvent::Message(None) => ProbeStep::Abort,
        };
        if step != ProbeStep::Probing {
            break step;
        }
    };
    // Requests still waiting go on now: the probe is over, one way or the other.
    drop(catch_up);
    if step == ProbeStep::Upgraded {
        read(session, stream).await;
        return;
    }
    session.abort_upgrade();
    finish(stream).await;
}

/// What a probing WebSocket's task wakes up to.
enum ProbeEvent {
    /// The session closed.
    Closed,
    /// A polling request waits for the probe to catch up.
    CatchUp(CatchUp),
    /// A message, or the end of the connection (`Some(None)`); `None` past the deadline.
    Message(Option<Option<Result<Message, TungsteniteError>>>),
}

/// Where a probe stands after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProbeStep {
    /// Still probing: `2probe` may have been answered, `5` has not come.
    Probing,
    /// `5` came after the probe: the session is on this WebSocket now.
    Upgraded,
    /// The probe failed: the session carries on over polling.
    Abort,
}

/// The probing side of an upgrade.
struct Probe<'a> {
    session: &'a Session,
    probed: bool,
}

impl Probe<'_> {
    /// Handles one message of the probing WebSocket (`None`: the connection ended).
    fn handle(&mut self, message: Option<Result<Message, TungsteniteError>>) -> ProbeStep {
        let packet = match message {
            None | Some(Err(_)) => return ProbeStep::Abort,
            Some(Ok(message)) => match decode(message, self.session.version) {
                Received::Packet(packet) => packet,
                Received::Control => return ProbeStep::Probing,
                Received::Invalid | Received::Closed => return ProbeStep::Abort,
            },
        };
        let is_probe = packet.packet_type == PacketType::Ping
            && matches!(&packet.data, Data::Text(text) if text == "probe");
        if is_probe && !self.probed {
            self.probed = true;
            if self.session.probe() {
                ProbeStep::Probing
            } else {
                ProbeStep::Abort
            }
        } else if packet.packet_type == PacketType::Upgrade && self.probed {
            if self.session.complete_upgrade() {
                ProbeStep::Upgraded
            } else {
                ProbeStep::Abort
            }
        } else {
            // Anything else ends the probe and the session carries on over polling (UP-06).
            // SPEC-FAITHFUL, unlike the official server (UP-05): `5` without a `2probe` first
            // is refused, since the spec's upgrade is probe, then upgrade.
            ProbeStep::Abort
        }
    }

    /// Handles every frame already received, up to the end of the probe, without waiting for
    /// more: until a read of the connection finds nothing to read.
    ///
    /// The stream's half of the WebSocket may be held for a moment by the writer's half (it
    /// writes `3probe`), and then it yields nothing with the connection unread; the reads that
    /// found nothing, counted by [`IdleReads`], tell that apart from a connection read dry.
    async fn catch_up(
        &mut self,
        stream: &mut SplitStream<Ws>,
        idle_reads: &IdleReads,
        deadline: Instant,
    ) -> ProbeStep {
        while Instant::now() < deadline {
            let idle_before = idle_reads.count();
            let polled =
                std::future::poll_fn(|context| Poll::Ready(stream.poll_next_unpin(context))).await;
            match polled {
                Poll::Ready(message) => {
                    let step = self.handle(message);
                    if step != ProbeStep::Probing {
                        return step;
                    }
                }
                Poll::Pending if idle_reads.count() != idle_before => return ProbeStep::Probing,
                // The writer holds the WebSocket: let it finish.
                Poll::Pending => tokio::task::yield_now().await,
            }
        }
        ProbeStep::Abort
    }
}

/// Accepts a WebSocket the session cannot take (it already has one) and closes it at once: a
/// close frame with no status, as the official server sends, then the closing handshake.
pub(crate) async fn close_at_once(on_upgrade: OnUpgrade, max_message_size: usize) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        let (mut ws, _) = accept(on_upgrade, max_message_size).await?;
        ws.send(Message::Close(None)).await.ok()?;
        // The client's close frame ends the closing handshake.
        while let Some(Ok(_)) = ws.next().await {}
        Some(())
    })
    .await;
}

/// How long one frame may take to write before the WebSocket is given up.
fn write_timeout(session: &Session) -> Duration {
    session.config.ping_interval + session.config.ping_timeout
}

/// Writes what the session queues, one packet per frame (WS-01), until told to close. Binary
/// data goes in a binary frame: as is in protocol 4, after a byte that is the packet type in
/// protocol 3 (E3-08).
async fn write(
    mut sink: SplitSink<Ws, Message>,
    mut outgoing: QueueReceiver<WsOut>,
    timeout: Duration,
    version: ProtocolVersion,
) {
    let mut close_frame = None;
    let mut batch = VecDeque::new();
    let mut flushed = Vec::new();
    while std::future::poll_fn(|context| outgoing.poll_take_all(&mut batch, context)).await {
        // Everything queued so far goes out with one flush: one write to the socket for a
        // burst of packets rather than one per frame, each packet still in its own frame.
        let mut closing = false;
        let written = tokio::time::timeout(timeout, async {
            for out in batch.drain(..) {
                let message = match out {
                    WsOut::Packet(packet) => match packet.encode_frame(version) {
                        Frame::Text(text) => Message::text(text),
                        Frame::Binary(bytes) => Message::binary(bytes),
                    },
                    WsOut::Close => {
                        closing = true;
                        break;
                    }
                    WsOut::CloseTooBig => {
                        close_frame = Some(CloseFrame {
                            code: CloseCode::Size,
                            reason: "".into(),
                        });
                        closing = true;
                        break;
                    }
                    WsOut::Flushed(request) => {
                        flushed.push(request);
                        continue;
                    }
                };
                sink.feed(message).await?;
            }
            sink.flush().await
        })
        .await;
        // Whoever waited for the writes goes on, whether they were made or not.
        flushed.clear();
        if !matches!(written, Ok(Ok(()))) {
            return;
        }
        if closing {
            break;
        }
    }
    // A close frame with no status, as the official server sends (WS-08, CL-07), unless the
    // client's message was too big (WS-04).
    let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(Message::Close(close_frame))).await;
}

/// Reads the session's packets from its active WebSocket until either side closes.
async fn read(session: Arc<Session>, mut stream: SplitStream<Ws>) {
    let mut closed = session.closed_signal();
    loop {
        let message = tokio::select! {
            message = stream.next() => message,
            _ = closed.wait_for(|closed| *closed) => break,
        };
        match message {
            // A close frame or a dropped connection (WS-07).
            None => {
                session.close(CloseReason::TransportClose);
                break;
            }
            Some(Err(TungsteniteError::Capacity(error))) => {
                tracing::debug!(sid = %session.sid, %error, "websocket message too big");
                session.close_message_too_big();
                break;
            }
            Some(Err(error)) => {
                tracing::debug!(sid = %session.sid, %error, "websocket error");
                session.close(CloseReason::TransportError);
                break;
            }
            Some(Ok(message)) => match decode(message, session.version) {
                // SPEC-FAITHFUL, unlike the official server (WS-06): a close packet `1` received
                // over WebSocket closes the session, as it does over polling; the official
                // server ignores it and waits for the ping timeout or a close frame.
                Received::Packet(packet) => {
                    if !session.receive(packet) {
                        break;
                    }
                }
                Received::Control => {}
                Received::Invalid => {
                    session.close(CloseReason::ParseError);
                    break;
                }
                Received::Closed => {
                    session.close(CloseReason::TransportClose);
                    break;
                }
            },
        }
    }
    finish(stream).await;
}

/// Lets the closing handshake finish, for a bounded time.
async fn finish(mut stream: SplitStream<Ws>) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
}

enum Received {
    Packet(Packet),
    Invalid,
    Control,
    Closed,
}

/// Decodes a frame of a session speaking `version`: in protocol 3 a binary frame starts with
/// the packet type, and a text frame `b4AQID` is a binary message (E3-08).
fn decode(message: Message, version: ProtocolVersion) -> Received {
    let packet = match message {
        Message::Text(text) => Packet::decode_text(text.as_str(), version),
        Message::Binary(bytes) => Packet::decode_binary(bytes, version),
        Message::Close(_) => return Received::Closed,
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Received::Control,
    };
    packet.map_or(Received::Invalid, Received::Packet)
}
