//! The hyper service: it checks each request's query the way the official server does, in the
//! same order (HS-14), and hands it to the handshake, a transport or the upgrade.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::config::{Config, TransportKind};
use super::handshake::{generate_sid, open_packet};
use super::response::{self, Body, ErrorCode};
use super::session::{Registry, Session, Socket, WsOut};
use super::{polling, websocket};

/// An Engine.IO protocol 4 server: a cheap, cloneable hyper service. Each new session reaches
/// the application through the [`Sockets`] returned with it by [`EngineIo::new`].
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
}

impl<'a> Query<'a> {
    /// The first value of each parameter. Values are compared as they are written: the ones
    /// that count (`4`, `polling`, `websocket`, base64url sids) need no percent-encoding.
    fn parse(query: &'a str) -> Query<'a> {
        let mut parsed = Query::default();
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "EIO" => &mut parsed.eio,
                "transport" => &mut parsed.transport,
                "sid" => &mut parsed.sid,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        parsed
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

    /// Whether the request is for this server: its path starts with the configured path
    /// (HS-01).
    pub fn handles<B>(&self, request: &Request<B>) -> bool {
        request.uri().path().starts_with(&self.inner.config.path)
    }

    /// Closes every open session.
    pub fn close_all(&self) {
        self.inner.registry.close_all();
    }

    /// Answers one request; a request outside the path gets `404`.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        if !self.handles(&request) {
            return response::status(StatusCode::NOT_FOUND);
        }
        let config = &self.inner.config;
        let query = Query::parse(request.uri().query().unwrap_or(""));
        let Some(transport) = query
            .transport
            .and_then(TransportKind::from_name)
            .filter(|transport| config.allows(*transport))
        else {
            return response::error(ErrorCode::UnknownTransport);
        };
        let session = match query.sid {
            Some(sid) => match self.inner.registry.get(sid) {
                Some(session) => Some(session),
                None => return response::error(ErrorCode::UnknownSid),
            },
            None => None,
        };
        if session.is_none() && request.method() != Method::GET {
            return response::error(ErrorCode::BadHandshakeMethod);
        }
        let wants_websocket = websocket::is_upgrade_request(request.headers());
        if wants_websocket != (transport == TransportKind::WebSocket) {
            // `transport=websocket` without an upgrade (HS-12, HS-13); or an upgrade for
            // polling, which the official server accepts and then drops (WS-10), where a
            // refusal before the 101 says the same plainly.
            return response::error(ErrorCode::BadRequest);
        }
        // The spec makes EIO mandatory on every request and this server speaks only 4, so
        // anything but exactly `4` is refused, before any WebSocket is accepted. SPEC-FAITHFUL,
        // unlike the official server (HS-19), which accepts such a WebSocket with 101 and then
        // drops it: the spec says the server MUST close it, and refusing the upgrade does that
        // without pretending to accept.
        if query.eio != Some("4") {
            return response::error(ErrorCode::UnsupportedProtocolVersion);
        }
        match (transport, session) {
            (TransportKind::Polling, None) => self.polling_handshake(),
            (TransportKind::Polling, Some(session)) => match *request.method() {
                Method::GET => polling::get(session).await,
                Method::POST => polling::post(session, request).await,
                // The spec knows only GET and POST and is silent on other methods, so this
                // follows the official server: 500 with an empty body, the session kept (PL-10).
                _ => response::status(StatusCode::INTERNAL_SERVER_ERROR),
            },
            (TransportKind::WebSocket, None) => self.websocket_handshake(request),
            (TransportKind::WebSocket, Some(session)) => self.upgrade(session, request),
        }
    }

    fn polling_handshake(&self) -> Response<Body> {
        let Some(sid) = generate_sid() else {
            return response::error(ErrorCode::BadRequest);
        };
        let open = open_packet(&sid, &self.inner.config, TransportKind::Polling);
        let (session, socket) = Session::open(
            sid,
            Arc::clone(&self.inner.config),
            Arc::clone(&self.inner.registry),
            TransportKind::Polling,
            None,
        );
        session.start_heartbeat();
        (self.inner.accept)(socket);
        response::payload(&[open])
    }

    fn websocket_handshake(&self, mut request: Request<Incoming>) -> Response<Body> {
        let Some(switching) = websocket::switching_protocols(request.headers()) else {
            return response::error(ErrorCode::BadRequest);
        };
        let Some(sid) = generate_sid() else {
            return response::error(ErrorCode::BadRequest);
        };
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel();
        let open = open_packet(&sid, &self.inner.config, TransportKind::WebSocket);
        // The open packet goes first, before anything the application sends.
        let _ = outgoing.send(WsOut::Packet(open));
        let (session, socket) = Session::open(
            sid,
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
        switching
    }

    fn upgrade(&self, session: Arc<Session>, mut request: Request<Incoming>) -> Response<Body> {
        // SPEC-FAITHFUL, unlike the official server (UP-12): with allow_upgrades off, no
        // WebSocket may take over a polling session.
        if !self.inner.config.allow_upgrades {
            return response::error(ErrorCode::BadRequest);
        }
        let Some(switching) = websocket::switching_protocols(request.headers()) else {
            return response::error(ErrorCode::BadRequest);
        };
        let deadline = Instant::now() + self.inner.config.upgrade_timeout;
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel();
        if !session.reserve_upgrade(outgoing) {
            // SPEC-FAITHFUL, unlike the official server (UP-08, UP-09, UP-11): "A client MUST
            // NOT open more than one WebSocket connection per session. Should it happen, the
            // server MUST close the WebSocket connection." A WebSocket for a session that is
            // already on WebSocket (upgraded or born there) or already upgrading is refused
            // before the 101, rather than accepted (and, for a WebSocket-only session, allowed
            // to take the session over) and then closed.
            return response::error(ErrorCode::BadRequest);
        }
        let on_upgrade = hyper::upgrade::on(&mut request);
        tokio::spawn(websocket::run_probe(
            session,
            on_upgrade,
            outgoing_rx,
            deadline,
        ));
        switching
    }

    /// Serves HTTP/1.1 connections from `listener`, with upgrades, until accepting fails for
    /// good.
    pub async fn serve(self, listener: TcpListener) -> io::Result<()> {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) if is_transient(&error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
                Err(error) => return Err(error),
            };
            let service = self.clone();
            tokio::spawn(async move {
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades();
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "connection ended with an error");
                }
            });
        }
    }

    /// Binds `address` and serves it; returns the bound address and the serving future.
    pub async fn listen(
        self,
        address: impl ToSocketAddrs,
    ) -> io::Result<(SocketAddr, impl Future<Output = io::Result<()>>)> {
        let listener = TcpListener::bind(address).await?;
        let bound = listener.local_addr()?;
        Ok((bound, self.serve(listener)))
    }
}

fn is_transient(error: &io::Error) -> bool {
    !matches!(
        error.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::NotConnected | io::ErrorKind::Unsupported
    )
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
