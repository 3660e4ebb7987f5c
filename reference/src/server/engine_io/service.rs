//! The hyper service: it checks each request's query the way the official server does, in the
//! same order (HS-14), and hands it to the handshake, a transport or the upgrade.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ORIGIN, SET_COOKIE};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body::Body as HttpBody;
use hyper::body::Incoming;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::config::{Config, TransportKind};
use super::handshake::{generate_sid, open_packet};
use super::layer::EngineIoLayer;
use super::queue::queue;
use super::response::{self, Body, BoxError, ErrorCode, PayloadEncoding};
use super::session::{Registry, Reservation, Session, Socket, WsOut};
use super::{polling, websocket};
use crate::engine_io::ProtocolVersion;

/// An Engine.IO server, of protocol 4 and, with [`Config::allow_eio3`], protocol 3: a cheap,
/// cloneable hyper and tower service. Each new
/// session reaches the application through the [`Sockets`] returned with it by
/// [`EngineIo::new`], or the acceptor given to [`EngineIo::with_acceptor`].
#[derive(Clone)]
pub struct EngineIo {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    registry: Arc<Registry>,
    accept: Acceptor,
}

/// What the server does with each new session.
type Acceptor = Box<dyn Fn(Socket) + Send + Sync>;

impl std::fmt::Debug for EngineIo {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("EngineIo")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// The new sessions of an [`EngineIo`] server, in the order of their handshakes.
#[derive(Debug)]
pub struct Sockets {
    receiver: mpsc::UnboundedReceiver<Socket>,
}

impl Sockets {
    /// The next new session; `None` once every [`EngineIo`] handle is dropped.
    pub async fn accept(&mut self) -> Option<Socket> {
        self.receiver.recv().await
    }
}

/// The query parameters the server reads.
#[derive(Debug, Default)]
struct Query<'a> {
    eio: Option<&'a str>,
    transport: Option<&'a str>,
    sid: Option<&'a str>,
    b64: Option<&'a str>,
}

impl<'a> Query<'a> {
    /// The first value of each parameter. Values are compared as they are written: the ones
    /// that count (`3`, `4`, `polling`, `websocket`, base64url sids) need no percent-encoding.
    fn parse(query: &'a str) -> Query<'a> {
        let mut parsed = Query::default();
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "EIO" => &mut parsed.eio,
                "transport" => &mut parsed.transport,
                "sid" => &mut parsed.sid,
                "b64" => &mut parsed.b64,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        parsed
    }

    /// The protocol version `EIO` names: exactly `3` or `4`, nothing else.
    fn version(&self) -> Option<ProtocolVersion> {
        match self.eio {
            Some("3") => Some(ProtocolVersion::V3),
            Some("4") => Some(ProtocolVersion::V4),
            _ => None,
        }
    }

    /// Whether a protocol 3 client asks for binary data as base64: any non-empty `b64` value,
    /// `b64=0` included, as on the official server (E3-04).
    fn base64(&self) -> bool {
        self.b64.is_some_and(|value| !value.is_empty())
    }
}

impl EngineIo {
    /// A server with these options, and the stream of its new sessions.
    pub fn new(config: Config) -> (EngineIo, Sockets) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let server = EngineIo::with_acceptor(config, move |socket| {
            let _ = sender.send(socket);
        });
        (server, Sockets { receiver })
    }

    /// A server with these options that calls `accept` with each new session, as soon as its
    /// handshake is answered. `accept` runs inside the request's task and should return
    /// quickly, typically by spawning a task that owns the socket.
    pub fn with_acceptor(
        config: Config,
        accept: impl Fn(Socket) + Send + Sync + 'static,
    ) -> EngineIo {
        EngineIo {
            inner: Arc::new(Inner {
                config: Arc::new(config),
                registry: Arc::new(Registry::default()),
                accept: Box::new(accept),
            }),
        }
    }

    /// The server's options.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether the request is for this server: its path starts with the configured path, with
    /// or without the trailing slash as `add_trailing_slash` says (HS-01).
    pub fn handles<B>(&self, request: &Request<B>) -> bool {
        request
            .uri()
            .path()
            .starts_with(&self.inner.config.served_path())
    }

    /// A tower layer that mounts this server in front of another service, such as an axum
    /// `Router`: see [`EngineIoLayer`].
    pub fn layer(&self) -> EngineIoLayer {
        EngineIoLayer::new(self.clone())
    }

    /// Closes every open session at once: a pending `GET` receives `1`, a WebSocket a close
    /// frame, and what was queued is discarded (CL-06, server shutdown).
    pub fn close_all(&self) {
        self.inner.registry.close_all();
    }

    /// Answers one request; a request outside the path gets `404`.
    ///
    /// The body may be of any type (hyper's, axum's, a test's); a `POST` body is read up to
    /// [`Config::max_http_buffer_size`]. A WebSocket upgrade needs hyper's `OnUpgrade` in the
    /// request's extensions, as hyper puts it there when serving with upgrades.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if !self.handles(&request) {
            return response::status(StatusCode::NOT_FOUND);
        }
        let Some(cors) = &self.inner.config.cors else {
            return self.dispatch(request).await;
        };
        if request.method() == Method::OPTIONS {
            // The official server hands `cors` to the `cors` package, a middleware that
            // answers every preflight before the engine looks at the request (HS-28).
            return cors.preflight(request.headers());
        }
        let origin = request.headers().get(ORIGIN).cloned();
        let upgrading = websocket::is_upgrade_request(request.headers());
        let mut response = self.dispatch(request).await;
        // On every engine response, errors and the 101 included (HS-29), except a refused
        // WebSocket: the official server writes that refusal raw onto the socket, without the
        // headers its middlewares set (HS-17, HS-18).
        if !self.refused_upgrade(upgrading, &response) {
            cors.decorate(origin.as_ref(), response.headers_mut());
        }
        response
    }

    /// Whether `response` is the official bare refusal of a WebSocket request.
    fn refused_upgrade(&self, upgrading: bool, response: &Response<Body>) -> bool {
        upgrading
            && self.inner.config.allows(TransportKind::WebSocket)
            && response.status() != StatusCode::SWITCHING_PROTOCOLS
    }

    /// Checks the request in the official order (HS-14) and hands it on.
    async fn dispatch<B>(&self, request: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let upgrading = websocket::is_upgrade_request(&parts.headers);
        let (transport, session) = match self.verify(&parts, upgrading) {
            Ok(verified) => verified,
            Err(code) => return self.refuse(code, upgrading),
        };
        if session.is_none() {
            // Only handshakes are put to the application, as on the official server.
            if let Err(refused) = self.ask_application(&parts, upgrading).await {
                return refused;
            }
        }
        let query = Query::parse(parts.uri.query().unwrap_or(""));
        let Some(version) = self.served_version(query.version(), session.as_deref()) else {
            return self.refuse(ErrorCode::UnsupportedProtocolVersion, upgrading);
        };
        let base64 = query.base64();
        let request = Request::from_parts(parts, body);
        let routed = match (transport, session) {
            (TransportKind::Polling, None) => Ok(self.polling_handshake(version)),
            (TransportKind::Polling, Some(session)) => Ok(match *request.method() {
                Method::GET => polling::get(session, base64).await,
                Method::POST => polling::post(session, request).await,
                // The spec knows only GET and POST and is silent on other methods, so this
                // follows the official server: 500 with an empty body, the session kept (PL-10).
                _ => response::status(StatusCode::INTERNAL_SERVER_ERROR),
            }),
            (TransportKind::WebSocket, None) => self.websocket_handshake(request, version),
            (TransportKind::WebSocket, Some(session)) => self.upgrade(session, request),
        };
        routed.unwrap_or_else(|code| self.refuse(code, upgrading))
    }

    /// The protocol a request is served in, if any: a handshake's `EIO` must be exactly `4`,
    /// or exactly `3` with [`Config::allow_eio3`]; any other request's must be its session's.
    ///
    /// The spec makes EIO mandatory on every request, so a request without it, or with a
    /// version not served, is refused with code 5, before any WebSocket is accepted.
    /// SPEC-FAITHFUL, unlike the official server (HS-19), which accepts such a WebSocket with
    /// 101 and then drops it: the spec says the server MUST close it, and refusing the upgrade
    /// does that without pretending to accept. SPEC-FAITHFUL too (HS-08): with `allowEIO3`, the
    /// official server serves a handshake whose `EIO` is missing or garbage as protocol 3,
    /// where the spec says a missing mandatory parameter is a bad request.
    fn served_version(
        &self,
        requested: Option<ProtocolVersion>,
        session: Option<&Session>,
    ) -> Option<ProtocolVersion> {
        let requested = requested?;
        let served = match session {
            Some(session) => requested == session.version,
            None => requested == ProtocolVersion::V4 || self.inner.config.allow_eio3,
        };
        served.then_some(requested)
    }

    /// Puts a handshake to the application's [`AllowRequest`](super::AllowRequest) hook, if
    /// there is one: a refusal is `403` JSON over HTTP (HS-16) and the official bare `400` to a
    /// WebSocket (HS-17).
    async fn ask_application(&self, parts: &Parts, upgrading: bool) -> Result<(), Response<Body>> {
        let Some(hook) = &self.inner.config.allow_request else {
            return Ok(());
        };
        hook.check(parts).await.map_err(|refusal| {
            if upgrading {
                response::upgrade_refused(refusal.message())
            } else {
                response::forbidden(refusal.message())
            }
        })
    }

    /// The server's own checks, before the application's: transport, sid, method, upgrade.
    fn verify(
        &self,
        parts: &Parts,
        upgrading: bool,
    ) -> Result<(TransportKind, Option<Arc<Session>>), ErrorCode> {
        let config = &self.inner.config;
        let query = Query::parse(parts.uri.query().unwrap_or(""));
        let transport = query
            .transport
            .and_then(TransportKind::from_name)
            .filter(|transport| config.allows(*transport))
            .ok_or(ErrorCode::UnknownTransport)?;
        // The Origin check that comes next on the official server (HS-15) has nothing to find
        // here: `http` refuses control characters in header values before a request exists.
        let session = match query.sid {
            Some(sid) => {
                let session = self.inner.registry.get(sid).ok_or(ErrorCode::UnknownSid)?;
                if session.check_ping_deadline() {
                    return Err(ErrorCode::UnknownSid);
                }
                Some(session)
            }
            None => None,
        };
        if session.is_none() && parts.method != Method::GET {
            return Err(ErrorCode::BadHandshakeMethod);
        }
        if upgrading != (transport == TransportKind::WebSocket) {
            // `transport=websocket` without an upgrade (HS-12, HS-13); or an upgrade for
            // polling, which the official server accepts and then drops (WS-10), where a
            // refusal before the 101 says the same plainly.
            return Err(ErrorCode::BadRequest);
        }
        Ok((transport, session))
    }

    /// An error answer: JSON over HTTP; the official server's bare `400 Bad Request` to a
    /// WebSocket request (HS-18), which it answers that way whenever WebSocket is enabled
    /// (without it, an upgrade request is an ordinary request, HS-32).
    fn refuse(&self, code: ErrorCode, upgrading: bool) -> Response<Body> {
        if upgrading && self.inner.config.allows(TransportKind::WebSocket) {
            response::upgrade_refused(code.message())
        } else {
            response::error(code)
        }
    }

    /// Opens a polling session. The open packet is the whole payload: `0{…}` in protocol 4,
    /// `<length>:0{…}` in protocol 3, with the same JSON, `maxPayload` included (E3-03).
    fn polling_handshake(&self, version: ProtocolVersion) -> Response<Body> {
        let Some(sid) = generate_sid() else {
            return response::error(ErrorCode::BadRequest);
        };
        let open = open_packet(&sid, &self.inner.config, TransportKind::Polling);
        let (session, socket) = Session::open(
            sid.clone(),
            version,
            Arc::clone(&self.inner.config),
            Arc::clone(&self.inner.registry),
            TransportKind::Polling,
            None,
        );
        session.start_heartbeat();
        (self.inner.accept)(socket);
        let encoding = PayloadEncoding {
            version,
            base64: false,
        };
        let mut response = response::payload(&[open], encoding);
        // The cookie goes on the polling handshake only, never on a WebSocket's (HS-23).
        if let Some(cookie) = self
            .inner
            .config
            .cookie
            .as_ref()
            .and_then(|c| c.header(&sid))
        {
            response.headers_mut().insert(SET_COOKIE, cookie);
        }
        response
    }

    fn websocket_handshake<B>(
        &self,
        mut request: Request<B>,
        version: ProtocolVersion,
    ) -> Result<Response<Body>, ErrorCode> {
        let switching =
            websocket::switching_protocols(request.headers()).ok_or(ErrorCode::BadRequest)?;
        let sid = generate_sid().ok_or(ErrorCode::BadRequest)?;
        let (outgoing, outgoing_rx) = queue();
        let open = open_packet(&sid, &self.inner.config, TransportKind::WebSocket);
        // The open packet goes first, before anything the application sends.
        let _ = outgoing.send(WsOut::Packet(open));
        let (session, socket) = Session::open(
            sid,
            version,
            Arc::clone(&self.inner.config),
            Arc::clone(&self.inner.registry),
            TransportKind::WebSocket,
            Some(outgoing),
        );
        let on_upgrade = hyper::upgrade::on(&mut request);
        tokio::spawn(websocket::run_session(
            Arc::clone(&session),
            on_upgrade,
            outgoing_rx,
        ));
        session.start_heartbeat();
        (self.inner.accept)(socket);
        Ok(switching)
    }

    fn upgrade<B>(
        &self,
        session: Arc<Session>,
        mut request: Request<B>,
    ) -> Result<Response<Body>, ErrorCode> {
        // SPEC-FAITHFUL, unlike the official server (UP-12): with allow_upgrades off, no
        // WebSocket may take over a polling session.
        if !self.inner.config.allow_upgrades {
            return Err(ErrorCode::BadRequest);
        }
        let switching =
            websocket::switching_protocols(request.headers()).ok_or(ErrorCode::BadRequest)?;
        let deadline = Instant::now() + self.inner.config.upgrade_timeout;
        let (outgoing, outgoing_rx) = queue();
        let (catch_up, catch_up_rx) = mpsc::unbounded_channel();
        match session.reserve_upgrade(outgoing, catch_up) {
            Reservation::Reserved => {}
            Reservation::WebSocketTaken => {
                // "A client MUST NOT open more than one WebSocket connection per session.
                // Should it happen, the server MUST close the WebSocket connection." As on the
                // official server (UP-08, UP-09), it is accepted and closed at once, with a close
                // frame and no status; the session's own WebSocket carries on. SPEC-FAITHFUL,
                // unlike the official server (UP-11), for a session born on WebSocket too: there
                // the official server lets the second WebSocket probe and take the session over.
                let on_upgrade = hyper::upgrade::on(&mut request);
                tokio::spawn(websocket::close_at_once(
                    on_upgrade,
                    self.inner.config.max_http_buffer_size,
                ));
                return Ok(switching);
            }
            Reservation::Closed => return Err(ErrorCode::BadRequest),
        }
        let on_upgrade = hyper::upgrade::on(&mut request);
        tokio::spawn(websocket::run_probe(
            session,
            on_upgrade,
            outgoing_rx,
            catch_up_rx,
            deadline,
        ));
        Ok(switching)
    }

    /// Serves HTTP/1.1 connections from `listener`, with upgrades, until accepting fails for
    /// good. Requests outside the path get `404`. Each request carries its peer's
    /// [`RemoteAddr`](super::RemoteAddr) in its extensions.
    pub async fn serve(self, listener: TcpListener) -> io::Result<()> {
        crate::server::http::serve(listener, move |request| {
            let server = self.clone();
            async move { server.handle(request).await }
        })
        .await
    }

    /// Binds `address` and serves it; returns the bound address and the serving future.
    pub async fn listen(
        self,
        address: impl ToSocketAddrs,
    ) -> io::Result<(SocketAddr, impl Future<Output = io::Result<()>>)> {
        crate::server::http::listen(address, move |request| {
            let server = self.clone();
            async move { server.handle(request).await }
        })
        .await
    }
}

impl hyper::service::Service<Request<Incoming>> for EngineIo {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let server = self.clone();
        Box::pin(async move { Ok(server.handle(request).await) })
    }
}

/// The server as a tower service, for any request body: requests outside the path get `404`.
/// To fall through to another service instead, use [`EngineIo::layer`].
impl<B> tower_service::Service<Request<B>> for EngineIo
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let server = self.clone();
        Box::pin(async move { Ok(server.handle(request).await) })
    }
}
