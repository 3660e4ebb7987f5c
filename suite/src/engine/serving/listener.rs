//! The engine's HTTP server for a client-role case: it listens on a fresh port of 127.0.0.1,
//! reads every request the client under test makes (body bounded), records it, and hands it,
//! with a way to answer it, to whoever the request belongs to: the session whose `sid` it
//! carries, or the front door, where the steps that await a handshake or a raw request take
//! it. Nothing is answered on the listener's own initiative but a request for a session the
//! engine has closed, which gets what the spec's server gives: HTTP 400.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as IncomingBody;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

use super::super::transcript::{EventKind, Recorder, WireData};
use super::super::wire::{AbortOnDrop, ReadLimits};

/// The transcript's actor for everything of a client-role case: the one client under test.
pub(crate) const ACTOR: &str = "client";

/// A WebSocket accepted by the engine, over the upgraded HTTP connection.
pub(crate) type ServerStream = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// A request the client made, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    pub(crate) method: String,
    /// The path, without the query.
    pub(crate) path: String,
    /// The query parameters in order, percent-decoded.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// A WebSocket upgrade request (`Upgrade: websocket`).
    pub(crate) websocket: bool,
}

impl Received {
    /// The first value of a query parameter.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of a header, by case-insensitive name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The path and query, as read: `/socket.io/?EIO=4&transport=polling`.
    pub(crate) fn target(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let query = self
            .query
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect::<Vec<_>>()
            .join("&");
        format!("{}?{query}", self.path)
    }

    /// `GET /socket.io/?EIO=4&transport=polling`, for messages.
    pub(crate) fn describe(&self) -> String {
        let kind = if self.websocket { " (WebSocket)" } else { "" };
        format!("{} {}{kind}", self.method, self.target())
    }
}

/// How the engine answers a request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// An HTTP response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// `101 Switching Protocols`: the WebSocket, once upgraded, goes to the sender.
    Accept(oneshot::Sender<ServerStream>),
    /// No answer: the connection ends (a reset as the client sees it).
    Drop,
}

impl Reply {
    /// A response with a text body.
    pub(crate) fn text(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Http {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: body.into(),
        }
    }

    /// The spec server's answer to a request for a session it does not know.
    pub(crate) fn unknown_session() -> Reply {
        Reply::text(
            400,
            "application/json",
            r#"{"code":1,"message":"Session ID unknown"}"#,
        )
    }
}

/// A request waiting for its answer.
#[derive(Debug)]
pub(crate) struct Arrival {
    /// The transcript's name for its connection: `http#2`.
    pub(crate) channel: String,
    pub(crate) request: Received,
    reply: oneshot::Sender<Reply>,
}

impl Arrival {
    /// Answers the request. A client that has gone away meanwhile is no error: what it did
    /// instead shows in the transcript and in the next steps.
    pub(crate) fn answer(self, reply: Reply) {
        let _ = self.reply.send(reply);
    }
}

/// Where requests go: sessions by sid, and the front door for the rest.
#[derive(Debug, Clone, Default)]
pub(crate) struct Routes {
    inner: Arc<Mutex<RouteTable>>,
}

#[derive(Debug, Default)]
struct RouteTable {
    sessions: HashMap<String, mpsc::UnboundedSender<Arrival>>,
    closed: HashSet<String>,
    /// The front door, for requests a session hands back.
    front: Option<mpsc::UnboundedSender<Arrival>>,
}

impl Routes {
    /// Sends the requests carrying `sid` to `sender` from now on.
    pub(crate) fn open(&self, sid: &str, sender: mpsc::UnboundedSender<Arrival>) {
        let mut table = self.lock();
        table.closed.remove(sid);
        table.sessions.insert(sid.to_owned(), sender);
    }

    /// Ends the session `sid`: its later requests get HTTP 400.
    pub(crate) fn close(&self, sid: &str) {
        let mut table = self.lock();
        table.sessions.remove(sid);
        table.closed.insert(sid.to_owned());
    }

    /// Hands a request of a session to the steps instead (an upgrade the steps script).
    pub(crate) fn to_front(&self, arrival: Arrival) {
        let front = self.lock().front.clone();
        if let Some(front) = front {
            let _ = front.send(arrival);
        }
    }

    fn lock(&self) -> MutexGuard<'_, RouteTable> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The listening server of one case.
pub(crate) struct Listener {
    pub(crate) address: SocketAddr,
    pub(crate) routes: Routes,
    /// Requests that belong to no session.
    pub(crate) front: mpsc::UnboundedReceiver<Arrival>,
    _accepting: AbortOnDrop<()>,
}

/// What every connection task shares.
#[derive(Clone)]
struct Shared {
    recorder: Recorder,
    /// What one request body or WebSocket message may hold, from the `maxPayload` the case
    /// announces: a client that sends an endless body is cut off there, with a 413.
    limits: Arc<ReadLimits>,
    routes: Routes,
    front: mpsc::UnboundedSender<Arrival>,
    connections: Arc<AtomicUsize>,
}

impl Listener {
    /// Binds 127.0.0.1 on a free port and serves until dropped, reading no request body and no
    /// WebSocket message longer than `limits.message`.
    pub(crate) async fn bind(recorder: Recorder, limits: ReadLimits) -> std::io::Result<Listener> {
        let socket = TcpListener::bind("127.0.0.1:0").await?;
        let address = socket.local_addr()?;
        let routes = Routes::default();
        let (front_sender, front) = mpsc::unbounded_channel();
        routes.lock().front = Some(front_sender.clone());
        let shared = Shared {
            recorder,
            limits: Arc::new(limits),
            routes: routes.clone(),
            front: front_sender,
            connections: Arc::default(),
        };
        let accepting = tokio::spawn(accept_loop(socket, shared));
        Ok(Listener {
            address,
            routes,
            front,
            _accepting: AbortOnDrop(accepting),
        })
    }
}

/// Accepts connections; each is served by its own task, and all of them end with this one.
async fn accept_loop(socket: TcpListener, shared: Shared) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = socket.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let number = shared.connections.fetch_add(1, Ordering::Relaxed) + 1;
        let channel = format!("http#{number}");
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let shared = shared.clone();
                let channel = channel.clone();
                async move { serve(request, shared, channel).await }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
        // Finished connections are reaped so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
}

/// Why a connection is ended without a response.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the engine ends this connection without an answer")
    }
}

impl std::error::Error for Dropped {}

async fn serve(
    mut request: Request<IncomingBody>,
    shared: Shared,
    channel: String,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let on_upgrade = hyper::upgrade::on(&mut request);
    let (parts, body) = request.into_parts();
    let websocket = parts
        .headers
        .get(http::header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    let body = match Limited::new(body, shared.limits.message).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(error) => {
            let detail = if error.is::<http_body_util::LengthLimitError>() {
                shared.limits.message_exceeded("a request body", None)
            } else {
                format!("the request body could not be read: {error}")
            };
            shared
                .recorder
                .record(ACTOR, &channel, EventKind::Ended { detail });
            return Ok(status_only(StatusCode::PAYLOAD_TOO_LARGE));
        }
    };
    let received = Received {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parse_query(parts.uri.query().unwrap_or("")),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body,
        websocket,
    };
    record_request(&shared.recorder, &channel, &received);
    let key = parts
        .headers
        .get("sec-websocket-key")
        .map(|key| key.as_bytes().to_vec());
    let (reply_sender, reply) = oneshot::channel();
    let arrival = Arrival {
        channel: channel.clone(),
        request: received,
        reply: reply_sender,
    };
    dispatch(&shared, arrival);
    // Held as long as the step that owns it decides (a held GET); dropped with the case.
    let Ok(reply) = reply.await else {
        return Err(Dropped);
    };
    match reply {
        Reply::Http {
            status,
            headers,
            body,
        } => {
            shared.recorder.record(
                ACTOR,
                &channel,
                EventKind::ResponseSent {
                    status,
                    headers: headers.clone(),
                    body: WireData::body(&body),
                },
            );
            Ok(http_response(status, headers, body))
        }
        Reply::Drop => {
            shared.recorder.record(
                ACTOR,
                &channel,
                EventKind::Ended {
                    detail: "the engine ended the connection without an answer".to_owned(),
                },
            );
            Err(Dropped)
        }
        Reply::Accept(deliver) => {
            let Some(key) = key else {
                return Ok(status_only(StatusCode::BAD_REQUEST));
            };
            shared
                .recorder
                .record(ACTOR, &channel, EventKind::WsAccepted);
            let most = shared.limits.message;
            tokio::spawn(async move {
                if let Ok(upgraded) = on_upgrade.await {
                    let config = WebSocketConfig::default()
                        .max_message_size(Some(most))
                        .max_frame_size(Some(most));
                    let stream = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    let _ = deliver.send(stream);
                }
            });
            Ok(switching_protocols(&key))
        }
    }
}

/// A request for a live session goes to it; one for a session the engine closed gets 400;
/// any other to the front door.
fn dispatch(shared: &Shared, arrival: Arrival) {
    let sid = arrival.request.param("sid").map(str::to_owned);
    let Some(sid) = sid else {
        let _ = shared.front.send(arrival);
        return;
    };
    let session = {
        let table = shared.routes.lock();
        if table.closed.contains(&sid) {
            None
        } else {
            Some(table.sessions.get(&sid).cloned())
        }
    };
    match session {
        None => arrival.answer(Reply::unknown_session()),
        Some(Some(sender)) => {
            if let Err(mpsc::error::SendError(arrival)) = sender.send(arrival) {
                arrival.answer(Reply::unknown_session());
            }
        }
        Some(None) => {
            let _ = shared.front.send(arrival);
        }
    }
}

fn record_request(recorder: &Recorder, channel: &str, request: &Received) {
    let target = request.target();
    let kind = if request.websocket {
        EventKind::WsRequestReceived {
            target,
            headers: request.headers.clone(),
        }
    } else {
        EventKind::RequestReceived {
            method: request.method.clone(),
            target,
            headers: request.headers.clone(),
            body: WireData::body(&request.body),
        }
    };
    recorder.record(ACTOR, channel, kind);
}

/// Splits a query string into its parameters, percent-decoding each.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (percent_decode(key), percent_decode(value)),
            None => (percent_decode(pair), String::new()),
        })
        .collect()
}

/// A query component decoded as a form does it: `+` is a space, then `%XX` escapes.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn http_response(
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

fn status_only(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

fn switching_protocols(key: &[u8]) -> Response<Full<Bytes>> {
    let mut response = status_only(StatusCode::SWITCHING_PROTOCOLS);
    let headers = response.headers_mut();
    headers.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(
        http::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key)) {
        headers.insert(http::header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_split_and_decoded() {
        assert_eq!(
            parse_query("EIO=4&transport=polling&t=Pa%2Bb&q=a+b&flag"),
            vec![
                ("EIO".to_owned(), "4".to_owned()),
                ("transport".to_owned(), "polling".to_owned()),
                ("t".to_owned(), "Pa+b".to_owned()),
                ("q".to_owned(), "a b".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
        assert_eq!(parse_query(""), Vec::new());
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
