//! The server: the namespaces, and the Engine.IO server it runs on.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use tokio::net::{TcpListener, ToSocketAddrs};

use super::broadcast::BroadcastOperator;
use super::config::Config;
use super::error::EmitError;
use super::namespace::{DynamicNamespace, Namespace, SharedHandlers};
use super::recovery::ConnectionStateRecovery;
use super::socket::Socket;
use super::{client, read, write};
use crate::server::engine_io::{EngineIo, EngineIoLayer};
use crate::socket_io::Value;

/// What every connection of a server shares.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) namespaces: Namespaces,
    shutting_down: AtomicBool,
}

impl Shared {
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}

/// The namespaces: those created by name, and the dynamic ones that create children.
pub(crate) struct Namespaces {
    by_name: RwLock<HashMap<String, Namespace>>,
    dynamic: RwLock<Vec<DynamicNamespace>>,
    /// Connection state recovery's options, for every namespace made.
    recovery: Option<ConnectionStateRecovery>,
}

impl Namespaces {
    fn new(recovery: Option<ConnectionStateRecovery>) -> Namespaces {
        Namespaces {
            by_name: RwLock::default(),
            dynamic: RwLock::default(),
            recovery,
        }
    }

    /// The namespace called `name`, created if need be.
    fn of(&self, name: String) -> Namespace {
        write(&self.by_name)
            .entry(name.clone())
            .or_insert_with(|| {
                Namespace::new(name, SharedHandlers::default(), self.recovery.clone())
            })
            .clone()
    }

    /// The namespace a CONNECT asks for: one that exists, or a new child of the first dynamic
    /// namespace that accepts the name; `None` when there is neither (behaviors NS-04, NS-12).
    pub(crate) fn for_connect(&self, name: &str) -> Option<Namespace> {
        if let Some(namespace) = read(&self.by_name).get(name) {
            return Some(namespace.clone());
        }
        let parent = read(&self.dynamic)
            .iter()
            .find(|parent| (parent.accepts)(name))
            .cloned()?;
        let child = write(&self.by_name)
            .entry(name.to_owned())
            .or_insert_with(|| {
                Namespace::new(
                    name.to_owned(),
                    Arc::clone(&parent.handlers),
                    self.recovery.clone(),
                )
            })
            .clone();
        Some(child)
    }
}

/// A Socket.IO protocol 5 server, over Engine.IO protocol 4, and protocol 4 over Engine.IO 3
/// when its engine options allow protocol 3: a cheap, cloneable handle.
///
/// The main namespace `/` always exists; others are made with [`of`](SocketIo::of) or
/// [`of_dynamic`](SocketIo::of_dynamic). It answers requests under its path (`/socket.io/` by
/// default) and serves on its own with [`listen`](SocketIo::listen), or inside another
/// application through [`layer`](SocketIo::layer) (tower, axum) or [`engine`](SocketIo::engine)
/// (a hyper service).
///
/// ```no_run
/// use sio_reference::server::socket_io::{Config, SocketIo};
///
/// # async fn run() -> std::io::Result<()> {
/// let io = SocketIo::new(Config::default());
/// io.on_connection(|socket| {
///     let _ = socket.emit("auth", vec![socket.handshake().auth.clone()]);
///     socket.on("message", |socket, arguments, _ack| {
///         let _ = socket.emit("message-back", arguments);
///     });
/// });
/// let (address, serving) = io.listen("127.0.0.1:3000").await?;
/// println!("listening on {address}");
/// serving.await
/// # }
/// ```
#[derive(Clone)]
pub struct SocketIo {
    shared: Arc<Shared>,
    engine: EngineIo,
}

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SocketIo")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl SocketIo {
    /// A server with these options. It needs no running runtime until it serves requests.
    pub fn new(config: Config) -> SocketIo {
        let shared = Arc::new(Shared {
            config: config.clone(),
            namespaces: Namespaces::new(config.connection_state_recovery.clone()),
            shutting_down: AtomicBool::new(false),
        });
        shared.namespaces.of("/".to_owned());
        let for_connections = Arc::clone(&shared);
        // With `allow_eio3`, a socket.io 2.x client (EIO=3) is served Socket.IO protocol 4;
        // without it, it is refused with code 5, as by the official server.
        let engine = EngineIo::with_acceptor(config.engine, move |socket| {
            tokio::spawn(client::run(socket, Arc::clone(&for_connections)));
        });
        SocketIo { shared, engine }
    }

    /// The namespace called `name`, created if need be; a missing leading `/` is added, as
    /// the official server does (behaviors NS-15).
    pub fn of(&self, name: &str) -> Namespace {
        let name = if name.starts_with('/') {
            name.to_owned()
        } else {
            format!("/{name}")
        };
        self.shared.namespaces.of(name)
    }

    /// A dynamic namespace: every name `accepts` approves becomes a namespace on its first
    /// CONNECT, with the handlers registered here.
    pub fn of_dynamic(
        &self,
        accepts: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> DynamicNamespace {
        let parent = DynamicNamespace {
            accepts: Arc::new(accepts),
            handlers: SharedHandlers::default(),
        };
        write(&self.shared.namespaces.dynamic).push(parent.clone());
        parent
    }

    /// The main namespace, `/`.
    pub fn main_namespace(&self) -> Namespace {
        self.of("/")
    }

    /// Calls `handler` with each socket that joins the main namespace; see
    /// [`Namespace::on_connection`].
    pub fn on_connection(&self, handler: impl Fn(Socket) + Send + Sync + 'static) {
        self.main_namespace().on_connection(handler);
    }

    /// Emits to every socket of the main namespace.
    pub fn emit(&self, event: &str, arguments: Vec<Value>) -> Result<(), EmitError> {
        self.main_namespace().emit(event, arguments)
    }

    /// The sockets of the main namespace in `room`.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.main_namespace().to(room)
    }

    /// The Engine.IO server underneath: a hyper service, to mount in another application.
    pub fn engine(&self) -> &EngineIo {
        &self.engine
    }

    /// A tower layer that answers the server's path and passes every other request,
    /// unchanged, to the service it wraps: the way socket.io attaches to a Node
    /// `http.Server`. An axum `Router` mounts it with `.layer(...)`:
    ///
    /// ```no_run
    /// use axum::routing::get;
    /// use axum::Router;
    /// use sio_reference::server::socket_io::{Config, SocketIo};
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let io = SocketIo::new(Config::default());
    /// io.on_connection(|socket| {
    ///     let _ = socket.emit("hello", vec![]);
    /// });
    /// let app = Router::new()
    ///     .route("/", get(|| async { "the application" }))
    ///     .layer(io.layer());
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// axum::serve(listener, app).await
    /// # }
    /// ```
    pub fn layer(&self) -> EngineIoLayer {
        self.engine.layer()
    }

    /// Shuts down: every connection closes without DISCONNECT packets, and every socket
    /// leaves with `server shutting down` (behaviors DC-06).
    pub fn close(&self) {
        self.shared.shutting_down.store(true, Ordering::Release);
        self.engine.close_all();
    }

    /// Serves HTTP/1.1 connections from `listener`; see [`EngineIo::serve`].
    pub async fn serve(self, listener: TcpListener) -> io::Result<()> {
        self.engine.serve(listener).await
    }

    /// Binds `address` and serves it; returns the bound address and the serving future.
    pub async fn listen(
        self,
        address: impl ToSocketAddrs,
    ) -> io::Result<(SocketAddr, impl Future<Output = io::Result<()>>)> {
        self.engine.listen(address).await
    }
}
