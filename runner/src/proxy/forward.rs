//! The carrying half of the proxy: HTTP requests forwarded to the upstream and their responses
//! back, byte for byte, and WebSocket upgrades answered by opening the upstream's WebSocket
//! with the same path, query and headers, then relaying every frame one to one.
//!
//! Each client connection gets its own upstream connection, opened at its first request and
//! again when the upstream closed it, so that the server sees the client's connections as
//! they are (a kept-alive polling connection stays one connection). Hop-by-hop headers
//! (RFC 9110 §7.6.1: `Connection` and the headers it names, `Keep-Alive`, `Proxy-*`, `TE`,
//! `Trailer`, `Transfer-Encoding`, `Upgrade`) are not forwarded; every other header is,
//! `Host` included, in order and with its case as hyper keeps it (lower case). Bodies are read
//! whole, at most [`Limits::message`] bytes: a longer one gets `413` from the proxy, logged as
//! such.
//!
//! WebSocket: the upgrade request's headers other than the handshake's own
//! (`Sec-WebSocket-Key`, `-Version`, `-Extensions`: the proxy negotiates no extension, so
//! frames cross it as they are) go to the upstream; its 101's headers (`Set-Cookie`,
//! `Sec-WebSocket-Protocol`, …) come back with the proxy's own `Sec-WebSocket-Accept`; a
//! refusal comes back with its status, headers and body. Text frames stay text and binary
//! frames binary, ping and pong control frames are relayed (the WebSocket library also
//! answers a ping with a pong itself, so a pinger gets two pongs: RFC 6455 §5.5.3 allows the
//! extra, unsolicited one), close frames are relayed with their code and reason, and a side
//! that ends its connection without a close frame has the other side's connection ended the
//! same way.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sio_suite::engine::WireData;
use sio_suite::scenario::Data;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use super::journal::{EntryKind, Side};
use super::monitor::{Endpoint, Monitor};
use super::tee::{Copied, Tee};

/// The body of what the proxy answers a client: the upstream's, passed through, or its own.
pub type ProxyBody = UnsyncBoxBody<Bytes, hyper::Error>;

/// The proxy's own body.
fn full(bytes: Bytes) -> ProxyBody {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A client connection's upstream connection.
type Upstream = SendRequest<Tee<Incoming>>;

/// How much the proxy reads and waits, at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// An HTTP body, a WebSocket message or frame, in bytes.
    pub message: usize,
    /// How long the upstream may take to answer a request (a long-polling GET waits up to
    /// `pingInterval`).
    pub upstream_timeout: Duration,
}

impl Default for Limits {
    /// 16 MiB (16 times the official server's default `maxHttpBufferSize`), and 120 s.
    fn default() -> Limits {
        Limits {
            message: 16 * 1024 * 1024,
            upstream_timeout: Duration::from_secs(120),
        }
    }
}

/// The proxy: where it forwards to, its limits, and the monitor that decodes what it carries.
#[derive(Debug)]
pub struct Proxy {
    upstream: SocketAddr,
    limits: Limits,
    monitor: Arc<Mutex<Monitor>>,
    connections: AtomicU64,
    websockets: AtomicU64,
}

/// Takes the monitor's lock; a panic elsewhere does not stop the proxy.
fn lock(monitor: &Mutex<Monitor>) -> MutexGuard<'_, Monitor> {
    monitor.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Proxy {
    /// A proxy to `upstream`, decoding into `monitor`.
    pub fn new(upstream: SocketAddr, limits: Limits, monitor: Arc<Mutex<Monitor>>) -> Proxy {
        Proxy {
            upstream,
            limits,
            monitor,
            connections: AtomicU64::new(0),
            websockets: AtomicU64::new(0),
        }
    }

    /// The monitor.
    pub fn monitor(&self) -> &Arc<Mutex<Monitor>> {
        &self.monitor
    }

    /// Serves the clients of `listener` until the task is dropped, each connection in its
    /// own task.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (tcp, _) = listener.accept().await?;
            // Packets are small and latency matters (a pong has pingTimeout to arrive).
            let _ = tcp.set_nodelay(true);
            let proxy = Arc::clone(&self);
            tokio::spawn(async move { proxy.connection(tcp).await });
        }
    }

    /// One client connection: its requests in turn, over one upstream connection.
    async fn connection(self: Arc<Self>, tcp: TcpStream) {
        let number = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
        let channel = format!("http#{number}");
        let upstream = Arc::new(tokio::sync::Mutex::new(None));
        let proxy = Arc::clone(&self);
        let service = hyper::service::service_fn(move |request| {
            let proxy = Arc::clone(&proxy);
            let channel = channel.clone();
            let upstream = Arc::clone(&upstream);
            async move { Ok::<_, Infallible>(proxy.request(request, &channel, &upstream).await) }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(tcp), service)
            .with_upgrades()
            .await;
    }

    async fn request(
        self: Arc<Self>,
        mut request: Request<Incoming>,
        channel: &str,
        upstream: &tokio::sync::Mutex<Option<Upstream>>,
    ) -> Response<ProxyBody> {
        let target = request
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |target| target.as_str().to_owned());
        if is_websocket_upgrade(request.headers()) {
            let upgrade = hyper::upgrade::on(&mut request);
            return self.websocket(request, upgrade, &target).await;
        }
        let endpoint = Arc::new(Endpoint::parse(channel, &target));
        let (parts, body) = request.into_parts();
        let method = parts.method.as_str().to_owned();
        let request_headers = header_list(&parts.headers);
        let request_binary = is_binary(&parts.headers);
        let on_request = {
            let proxy = Arc::clone(&self);
            let endpoint = Arc::clone(&endpoint);
            let method = method.clone();
            let target = target.clone();
            Box::new(move |copied: Copied| {
                let mut monitor = lock(&proxy.monitor);
                monitor.record(
                    &endpoint.channel,
                    endpoint.sid.as_deref(),
                    Some(Side::Client),
                    EntryKind::HttpRequest {
                        method: method.clone(),
                        target,
                        headers: request_headers,
                        body: WireData::body(&copied.bytes),
                    },
                );
                if copied.whole() {
                    monitor.polling_request(&endpoint, &method, &copied.bytes, request_binary);
                } else {
                    proxy.unread(&mut monitor, &endpoint, Side::Client, &copied);
                }
            })
        };
        let forwarded = Request::builder()
            .method(parts.method.clone())
            .uri(target.as_str())
            .body(Tee::new(body, self.limits.message, on_request));
        let mut forwarded = match forwarded {
            Ok(forwarded) => forwarded,
            Err(error) => {
                let error = format!("the request cannot be forwarded: {error}");
                return self.failed(&endpoint, StatusCode::BAD_REQUEST, error);
            }
        };
        copy_end_to_end(&parts.headers, forwarded.headers_mut(), &[]);
        let response = match self.send(upstream, forwarded).await {
            Ok(response) => response,
            Err(error) => return self.failed(&endpoint, StatusCode::BAD_GATEWAY, error),
        };
        let (parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        let response_headers = header_list(&parts.headers);
        let response_binary = is_binary(&parts.headers);
        let on_response = {
            let proxy = Arc::clone(&self);
            let endpoint = Arc::clone(&endpoint);
            Box::new(move |copied: Copied| {
                let mut monitor = lock(&proxy.monitor);
                let raw = EntryKind::HttpResponse {
                    status,
                    headers: response_headers,
                    body: WireData::body(&copied.bytes),
                };
                let whole = copied.whole().then_some(copied.bytes.as_slice());
                monitor.polling_response(&endpoint, &method, status, whole, response_binary, raw);
                if !copied.whole() {
                    proxy.unread(&mut monitor, &endpoint, Side::Server, &copied);
                }
                proxy.arm_deadlines(&mut monitor);
            })
        };
        let mut back =
            Response::new(Tee::new(body, self.limits.message, on_response).boxed_unsync());
        *back.status_mut() = parts.status;
        copy_end_to_end(&parts.headers, back.headers_mut(), &[]);
        back
    }

    /// A body the monitor cannot decode: cut short, or longer than the limit (it was carried
    /// all the same).
    fn unread(&self, monitor: &mut Monitor, endpoint: &Endpoint, from: Side, copied: &Copied) {
        let text = if copied.complete {
            format!(
                "a body of {} bytes, over the {} the proxy keeps: carried, not decoded",
                copied.total, self.limits.message
            )
        } else {
            format!(
                "a body cut short after {} bytes: carried as far as it came, not decoded",
                copied.total
            )
        };
        monitor.record(
            &endpoint.channel,
            endpoint.sid.as_deref(),
            Some(from),
            EntryKind::Note { text },
        );
    }

    /// Sends a request on the client connection's upstream connection, opening it first if
    /// there is none or the upstream closed it. A request already sent is never sent again.
    async fn send(
        &self,
        upstream: &tokio::sync::Mutex<Option<Upstream>>,
        request: Request<Tee<Incoming>>,
    ) -> Result<Response<Incoming>, String> {
        let mut slot = upstream.lock().await;
        let reusable = match slot.take() {
            Some(mut sender) => sender.ready().await.is_ok().then_some(sender),
            None => None,
        };
        let mut sender = match reusable {
            Some(sender) => sender,
            None => self.open_upstream().await?,
        };
        let answer =
            tokio::time::timeout(self.limits.upstream_timeout, sender.send_request(request)).await;
        *slot = Some(sender);
        match answer {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(format!("the upstream failed: {error}")),
            Err(_) => Err(format!(
                "the upstream did not answer within {} s",
                self.limits.upstream_timeout.as_secs()
            )),
        }
    }

    async fn open_upstream(&self) -> Result<Upstream, String> {
        let tcp = TcpStream::connect(self.upstream)
            .await
            .map_err(|error| format!("cannot reach the upstream {}: {error}", self.upstream))?;
        let _ = tcp.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|error| format!("the upstream {}: {error}", self.upstream))?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// The proxy's own answer to a request it could not carry, logged.
    fn failed(
        &self,
        endpoint: &Endpoint,
        status: StatusCode,
        error: String,
    ) -> Response<ProxyBody> {
        lock(&self.monitor).record(
            &endpoint.channel,
            endpoint.sid.as_deref(),
            None,
            EntryKind::HttpFailed {
                status: status.as_u16(),
                error: error.clone(),
            },
        );
        let mut response = Response::new(full(Bytes::from(error)));
        *response.status_mut() = status;
        response
    }

    /// Starts a task per ping deadline the monitor found: when it passes, the monitor checks
    /// whether the pong came.
    fn arm_deadlines(&self, monitor: &mut Monitor) {
        for deadline in monitor.take_deadlines() {
            let monitor = Arc::clone(&self.monitor);
            tokio::spawn(async move {
                tokio::time::sleep_until(deadline.due).await;
                lock(&monitor).ping_due(&deadline);
            });
        }
    }

    /// A WebSocket upgrade: the upstream's WebSocket first, then the client's, then the relay.
    async fn websocket(
        self: Arc<Self>,
        request: Request<Incoming>,
        upgrade: hyper::upgrade::OnUpgrade,
        target: &str,
    ) -> Response<ProxyBody> {
        let number = self.websockets.fetch_add(1, Ordering::Relaxed) + 1;
        let endpoint = Endpoint::parse(&format!("ws#{number}"), target);
        lock(&self.monitor).record(
            &endpoint.channel,
            endpoint.sid.as_deref(),
            Some(Side::Client),
            EntryKind::WsRequest {
                target: target.to_owned(),
            },
        );
        let Some(key) = request.headers().get("sec-websocket-key").cloned() else {
            return self.failed(
                &endpoint,
                StatusCode::BAD_REQUEST,
                "a WebSocket request without Sec-WebSocket-Key".to_owned(),
            );
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(self.limits.message))
            .max_frame_size(Some(self.limits.message));
        let upstream = match self.open_upstream_websocket(&request, target, config).await {
            Ok(upstream) => upstream,
            Err(refusal) => return self.refused(&endpoint, refusal),
        };
        let (upstream, answer) = upstream;
        lock(&self.monitor).record(
            &endpoint.channel,
            endpoint.sid.as_deref(),
            Some(Side::Server),
            EntryKind::WsAccepted,
        );
        let mut response = Response::new(full(Bytes::new()));
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        copy_end_to_end(
            answer.headers(),
            response.headers_mut(),
            WEBSOCKET_HANDSHAKE,
        );
        let headers = response.headers_mut();
        headers.insert(
            hyper::header::CONNECTION,
            HeaderValue::from_static("Upgrade"),
        );
        headers.insert(
            hyper::header::UPGRADE,
            HeaderValue::from_static("websocket"),
        );
        if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
            headers.insert("sec-websocket-accept", accept);
        }
        let proxy = Arc::clone(&self);
        tokio::spawn(async move {
            match upgrade.await {
                Ok(upgraded) => {
                    let client = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    proxy.relay(endpoint, client, upstream).await;
                }
                Err(error) => lock(&proxy.monitor).record(
                    &endpoint.channel,
                    endpoint.sid.as_deref(),
                    Some(Side::Client),
                    EntryKind::Ended {
                        detail: format!("the client's upgrade failed: {error}"),
                    },
                ),
            }
        });
        response
    }

    async fn open_upstream_websocket(
        &self,
        request: &Request<Incoming>,
        target: &str,
        config: WebSocketConfig,
    ) -> Result<
        (
            WebSocketStream<TcpStream>,
            tungstenite::handshake::client::Response,
        ),
        Refusal,
    > {
        let url = format!("ws://{}{target}", self.upstream);
        let mut upstream_request = url
            .into_client_request()
            .map_err(|error| Refusal::Failed(format!("the upstream request: {error}")))?;
        copy_end_to_end(
            request.headers(),
            upstream_request.headers_mut(),
            WEBSOCKET_HANDSHAKE,
        );
        let tcp = TcpStream::connect(self.upstream).await.map_err(|error| {
            Refusal::Failed(format!(
                "cannot reach the upstream {}: {error}",
                self.upstream
            ))
        })?;
        let handshake =
            tokio_tungstenite::client_async_with_config(upstream_request, tcp, Some(config));
        match tokio::time::timeout(self.limits.upstream_timeout, handshake).await {
            Ok(Ok(upstream)) => Ok(upstream),
            Ok(Err(tungstenite::Error::Http(response))) => Err(Refusal::Answered(response)),
            Ok(Err(error)) => Err(Refusal::Failed(format!(
                "the upstream's WebSocket handshake: {error}"
            ))),
            Err(_) => Err(Refusal::Failed(
                "the upstream did not answer the WebSocket handshake in time".to_owned(),
            )),
        }
    }

    /// The upstream refused the WebSocket (its answer goes back as it is) or could not be
    /// reached (502).
    fn refused(&self, endpoint: &Endpoint, refusal: Refusal) -> Response<ProxyBody> {
        match refusal {
            Refusal::Answered(answer) => {
                let status = answer.status();
                let body = answer.body().clone().unwrap_or_default();
                lock(&self.monitor).record(
                    &endpoint.channel,
                    endpoint.sid.as_deref(),
                    Some(Side::Server),
                    EntryKind::WsRefused {
                        status: Some(status.as_u16()),
                        detail: String::from_utf8_lossy(&body).into_owned(),
                    },
                );
                let mut response = Response::new(full(Bytes::from(body)));
                *response.status_mut() = status;
                copy_end_to_end(answer.headers(), response.headers_mut(), &[]);
                response
            }
            Refusal::Failed(detail) => {
                lock(&self.monitor).record(
                    &endpoint.channel,
                    endpoint.sid.as_deref(),
                    None,
                    EntryKind::WsRefused {
                        status: None,
                        detail: detail.clone(),
                    },
                );
                let mut response = Response::new(full(Bytes::from(detail)));
                *response.status_mut() = StatusCode::BAD_GATEWAY;
                response
            }
        }
    }

    /// Relays frames between the client's WebSocket and the upstream's until both are done.
    async fn relay<C, U>(
        &self,
        endpoint: Endpoint,
        client: WebSocketStream<C>,
        upstream: WebSocketStream<U>,
    ) where
        C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
        U: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let (mut to_client, mut from_client) = client.split();
        let (mut to_upstream, mut from_upstream) = upstream.split();
        let mut sid = endpoint.sid.clone();
        // Once a side sent its close frame, the other side's answer is awaited (for a
        // bounded time), then the relay ends.
        let mut closing = false;
        loop {
            let wait = async {
                tokio::select! {
                    message = from_client.next() => (Side::Client, message),
                    message = from_upstream.next() => (Side::Server, message),
                }
            };
            let (from, message) = if closing {
                match tokio::time::timeout(CLOSE_WAIT, wait).await {
                    Ok(next) => next,
                    Err(_) => break,
                }
            } else {
                wait.await
            };
            let message = match message {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    self.ended(&endpoint, sid.as_deref(), from, format!("{error}"));
                    break;
                }
                None => {
                    if !closing {
                        self.ended(
                            &endpoint,
                            sid.as_deref(),
                            from,
                            "the connection ended without a close frame".to_owned(),
                        );
                    }
                    break;
                }
            };
            if let Some(opened) = self.observe(&endpoint, sid.as_deref(), from, &message) {
                sid = Some(opened);
            }
            if let Message::Close(_) = message {
                closing = true;
                lock(&self.monitor).websocket_ended(sid.as_deref());
            }
            let sent = match from {
                Side::Client => to_upstream.send(message).await,
                Side::Server => to_client.send(message).await,
            };
            // A close frame sent to a side that closed already fails; that is the end.
            if sent.is_err() && !closing {
                break;
            }
        }
        if closing {
            // The WebSocket library answers a close frame by itself, but writes the answer
            // only when the stream is next used: flush both sides before they are dropped.
            let _ = tokio::time::timeout(CLOSE_WAIT, async {
                let _ = to_client.close().await;
                let _ = to_upstream.close().await;
            })
            .await;
        }
    }

    /// Journals and decodes a relayed message; returns the sid of an open packet.
    fn observe(
        &self,
        endpoint: &Endpoint,
        sid: Option<&str>,
        from: Side,
        message: &Message,
    ) -> Option<String> {
        let mut monitor = lock(&self.monitor);
        let (kind, data) = match message {
            Message::Text(text) => (
                EntryKind::Frame {
                    frame: WireData::Text(text.as_str().to_owned()),
                },
                Some(Data::Text(text.as_str().to_owned())),
            ),
            Message::Binary(bytes) => (
                EntryKind::Frame {
                    frame: WireData::Binary(bytes.to_vec()),
                },
                Some(Data::Binary(bytes.to_vec())),
            ),
            Message::Ping(payload) | Message::Pong(payload) => (
                EntryKind::Control {
                    control: if matches!(message, Message::Ping(_)) {
                        "ping"
                    } else {
                        "pong"
                    }
                    .to_owned(),
                    payload: WireData::body(payload),
                },
                None,
            ),
            Message::Close(frame) => (close_entry(frame.as_ref()), None),
            Message::Frame(_) => return None,
        };
        if data.is_some() {
            monitor.record_frame(endpoint, sid, from, kind);
        } else {
            monitor.record(&endpoint.channel, sid, Some(from), kind);
        }
        let opened = data.and_then(|data| monitor.frame(endpoint, sid, from, &data));
        self.arm_deadlines(&mut monitor);
        opened
    }

    fn ended(&self, endpoint: &Endpoint, sid: Option<&str>, from: Side, detail: String) {
        let mut monitor = lock(&self.monitor);
        monitor.record(
            &endpoint.channel,
            sid,
            Some(from),
            EntryKind::Ended { detail },
        );
        monitor.websocket_ended(sid);
    }
}

/// How long the relay waits for the answer to a close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Why the upstream's WebSocket did not open.
enum Refusal {
    /// It answered the handshake with another status than 101.
    Answered(Box<tungstenite::http::Response<Option<Vec<u8>>>>),
    /// It could not be reached, or its answer was not HTTP.
    Failed(String),
}

fn close_entry(frame: Option<&CloseFrame>) -> EntryKind {
    match frame {
        Some(frame) => EntryKind::Close {
            code: Some(u16::from(frame.code)),
            reason: frame.reason.as_str().to_owned(),
        },
        None => EntryKind::Close {
            code: None,
            reason: String::new(),
        },
    }
}

/// The headers of the WebSocket handshake itself, which each hop writes for its own
/// connection.
const WEBSOCKET_HANDSHAKE: &[&str] = &[
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-accept",
];

/// RFC 9110 §7.6.1's hop-by-hop headers, and the framing headers hyper writes itself.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Copies the end-to-end headers of `from` into `to`, in order, leaving out the hop-by-hop
/// ones, those `Connection` names, and `also`.
fn copy_end_to_end(from: &HeaderMap, to: &mut HeaderMap, also: &[&str]) {
    let named: Vec<String> = from
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut replaced: Vec<HeaderName> = Vec::new();
    for (name, value) in from {
        let lower = name.as_str();
        if HOP_BY_HOP.contains(&lower)
            || also.contains(&lower)
            || named.iter().any(|named| named == lower)
        {
            continue;
        }
        // The first value of a name replaces what the target had; the next ones add to it.
        if replaced.contains(name) {
            to.append(name.clone(), value.clone());
        } else {
            to.insert(name.clone(), value.clone());
            replaced.push(name.clone());
        }
    }
}

fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Whether a body is binary: `Content-Type: application/octet-stream`.
fn is_binary(headers: &HeaderMap) -> bool {
    headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().starts_with("application/octet-stream"))
}

/// Whether a request asks for a WebSocket: `Upgrade: websocket`.
fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(hyper::header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("websocket"))
        })
}
