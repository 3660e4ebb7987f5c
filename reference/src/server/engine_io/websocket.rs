//! The WebSocket transport: one packet per frame (spec "WebSocket"), the WebSocket handshake,
//! and the probe that upgrades a polling session.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use http::header::{HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use http::{HeaderMap, Response, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as TungsteniteError, Message};
use tokio_tungstenite::WebSocketStream;

use super::queue::QueueReceiver;
use super::response::Body;
use super::session::{CloseReason, Session, WsOut};
use crate::engine_io::{Data, Frame, Packet, PacketType, ProtocolVersion};

type Ws = WebSocketStream<TokioIo<Upgraded>>;

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

/// Waits for the HTTP upgrade and wraps the connection in a WebSocket.
async fn accept(on_upgrade: OnUpgrade, max_message_size: usize) -> Option<Ws> {
    let upgraded = on_upgrade.await.ok()?;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_SIZE)
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size));
    Some(WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await)
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
    let Some(ws) = accepted else {
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
/// session onto it, all within `upgrade_timeout` of the request (spec "Upgrade").
pub(crate) async fn run_probe(
    session: Arc<Session>,
    on_upgrade: OnUpgrade,
    outgoing: QueueReceiver<WsOut>,
    deadline: Instant,
) {
    let accepted = tokio::time::timeout_at(
        deadline,
        accept(on_upgrade, session.config.max_http_buffer_size),
    )
    .await;
    let Ok(Some(ws)) = accepted else {
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
    let mut probed = false;
    loop {
        let message = tokio::select! {
            message = tokio::time::timeout_at(deadline, stream.next()) => message,
            _ = closed.wait_for(|closed| *closed) => break,
        };
        let packet = match message {
            // No `5` within upgrade_timeout: the probe is closed, the session stays on polling
            // (UP-07).
            Err(_) => break,
            Ok(None | Some(Err(_))) => break,
            Ok(Some(Ok(message))) => match decode(message, session.version) {
                Received::Packet(packet) => packet,
                Received::Control => continue,
                Received::Invalid | Received::Closed => break,
            },
        };
        let is_probe = packet.packet_type == PacketType::Ping
            && matches!(&packet.data, Data::Text(text) if text == "probe");
        if is_probe && !probed {
            probed = true;
            if !session.probe() {
                break;
            }
        } else if packet.packet_type == PacketType::Upgrade && probed {
            if session.complete_upgrade() {
                read(session, stream).await;
                return;
            }
            break;
        } else {
            // Anything else ends the probe and the session carries on over polling (UP-06).
            // SPEC-FAITHFUL, unlike the official server (UP-05): `5` without a `2probe` first
            // is refused, since the spec's upgrade is probe, then upgrade.
            break;
        }
    }
    session.abort_upgrade();
    finish(stream).await;
}

/// Accepts a WebSocket the session cannot take (it already has one) and closes it at once: a
/// close frame with no status, as the official server sends, then the closing handshake.
pub(crate) async fn close_at_once(on_upgrade: OnUpgrade, max_message_size: usize) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        let mut ws = accept(on_upgrade, max_message_size).await?;
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
                };
                sink.feed(message).await?;
            }
            sink.flush().await
        })
        .await;
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
