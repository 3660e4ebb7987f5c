//! Namespaces: the channels a client joins with CONNECT, each with its middlewares, connection
//! handlers, sockets and rooms.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::broadcast::BroadcastOperator;
use super::error::{ConnectError, EmitError};
use super::recovery::{ConnectionStateRecovery, RecoveryStore};
use super::socket::{Handshake, Socket};
use super::{read, write};
use crate::socket_io::Value;

/// A connection handler: called with each socket that joins the namespace.
pub(crate) type ConnectionHandler = dyn Fn(Socket) + Send + Sync;

/// What a middleware returns: a future that allows or refuses the connection.
pub(crate) type MiddlewareFuture = Pin<Box<dyn Future<Output = Result<(), ConnectError>> + Send>>;

/// A middleware: it sees the handshake of each CONNECT and may refuse it.
pub(crate) type Middleware = dyn Fn(Handshake) -> MiddlewareFuture + Send + Sync;

/// The application's handlers of a namespace, shared by a dynamic namespace with its children.
#[derive(Default)]
pub(crate) struct Handlers {
    connection: Vec<Arc<ConnectionHandler>>,
    middlewares: Vec<Arc<Middleware>>,
}

/// A shared, growable set of [`Handlers`].
pub(crate) type SharedHandlers = Arc<RwLock<Handlers>>;

pub(crate) fn add_connection_handler(
    handlers: &SharedHandlers,
    handler: impl Fn(Socket) + Send + Sync + 'static,
) {
    write(handlers).connection.push(Arc::new(handler));
}

pub(crate) fn add_middleware<F, Fut>(handlers: &SharedHandlers, middleware: F)
where
    F: Fn(Handshake) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
{
    let boxed = move |handshake: Handshake| -> MiddlewareFuture { Box::pin(middleware(handshake)) };
    write(handlers).middlewares.push(Arc::new(boxed));
}

/// One namespace, such as `/` or `/admin`: a cheap, cloneable handle.
///
/// ```
/// use sio_reference::server::socket_io::{Config, ConnectError, SocketIo};
///
/// let io = SocketIo::new(Config::default());
/// let admin = io.of("/admin");
/// admin.use_middleware(|handshake| async move {
///     match handshake.auth.get("token").and_then(|token| token.as_str()) {
///         Some("secret") => Ok(()),
///         _ => Err(ConnectError::new("not authorized")),
///     }
/// });
/// admin.on_connection(|socket| {
///     let _ = socket.emit("welcome", vec![]);
/// });
/// ```
#[derive(Clone)]
pub struct Namespace {
    inner: Arc<NamespaceInner>,
}

struct NamespaceInner {
    name: String,
    handlers: SharedHandlers,
    sockets: RwLock<HashMap<String, Socket>>,
    rooms: RwLock<HashMap<String, HashSet<String>>>,
    /// The ids of server-side acknowledgements: one counter per namespace, starting at 0,
    /// shared by every socket and by broadcasts, as on the official server (behaviors AK-08).
    next_ack_id: AtomicU64,
    /// The log of events and kept sessions, when connection state recovery is on.
    recovery: Option<RecoveryStore>,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Namespace")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

impl Namespace {
    pub(crate) fn new(
        name: String,
        handlers: SharedHandlers,
        recovery: Option<ConnectionStateRecovery>,
    ) -> Namespace {
        Namespace {
            inner: Arc::new(NamespaceInner {
                name,
                handlers,
                sockets: RwLock::default(),
                rooms: RwLock::default(),
                next_ack_id: AtomicU64::new(0),
                recovery: recovery.map(RecoveryStore::new),
            }),
        }
    }

    /// The namespace's name, such as `/` or `/admin`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Calls `handler` with each socket that joins the namespace, after the client has been
    /// sent its CONNECT answer, so that anything the handler emits follows it (behaviors
    /// NS-16). Handlers run in the order they were added, on the connection's task: they
    /// should register the socket's event handlers and return, spawning any longer work.
    pub fn on_connection(&self, handler: impl Fn(Socket) + Send + Sync + 'static) -> &Namespace {
        add_connection_handler(&self.inner.handlers, handler);
        self
    }

    /// Adds a middleware that runs, in order with the others, on each CONNECT to the
    /// namespace before the socket exists. The first refusal answers the client with a
    /// CONNECT_ERROR carrying its message and data; the connection itself stays open.
    pub fn use_middleware<F, Fut>(&self, middleware: F) -> &Namespace
    where
        F: Fn(Handshake) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        add_middleware(&self.inner.handlers, middleware);
        self
    }

    /// The sockets connected to the namespace now.
    pub fn sockets(&self) -> Vec<Socket> {
        read(&self.inner.sockets).values().cloned().collect()
    }

    /// Emits an event to every socket of the namespace.
    pub fn emit(&self, event: &str, arguments: Vec<Value>) -> Result<(), EmitError> {
        self.broadcast().emit(event, arguments)
    }

    /// Every socket of the namespace, to narrow with [`to`](BroadcastOperator::to) and
    /// [`except`](BroadcastOperator::except).
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.clone())
    }

    /// The sockets in `room`.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Every socket except those in `room`.
    pub fn except(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().except(room)
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.inner.next_ack_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The recovery log and sessions, when connection state recovery is on.
    pub(crate) fn recovery(&self) -> Option<&RecoveryStore> {
        self.inner.recovery.as_ref()
    }

    pub(crate) fn middlewares(&self) -> Vec<Arc<Middleware>> {
        read(&self.inner.handlers).middlewares.clone()
    }

    pub(crate) fn connection_handlers(&self) -> Vec<Arc<ConnectionHandler>> {
        read(&self.inner.handlers).connection.clone()
    }

    pub(crate) fn add_socket(&self, socket: &Socket) {
        write(&self.inner.sockets).insert(socket.id().to_owned(), socket.clone());
    }

    /// Removes the socket and takes it out of every room.
    pub(crate) fn remove_socket(&self, id: &str, rooms: &HashSet<String>) {
        write(&self.inner.sockets).remove(id);
        let mut all_rooms = write(&self.inner.rooms);
        for room in rooms {
            leave_room(&mut all_rooms, room, id);
        }
    }

    pub(crate) fn join(&self, room: &str, id: &str) {
        write(&self.inner.rooms)
            .entry(room.to_owned())
            .or_default()
            .insert(id.to_owned());
    }

    pub(crate) fn leave(&self, room: &str, id: &str) {
        leave_room(&mut write(&self.inner.rooms), room, id);
    }

    /// The sockets in any of `rooms`, or every socket when `rooms` is empty, minus those in
    /// any of `except` and minus `exclude`.
    pub(crate) fn select(
        &self,
        rooms: &[String],
        except: &[String],
        exclude: Option<&str>,
    ) -> Vec<Socket> {
        let sockets = read(&self.inner.sockets);
        let all_rooms = read(&self.inner.rooms);
        let excluded: HashSet<&str> = except
            .iter()
            .filter_map(|room| all_rooms.get(room))
            .flatten()
            .map(String::as_str)
            .chain(exclude)
            .collect();
        let chosen: Vec<&String> = if rooms.is_empty() {
            sockets.keys().collect()
        } else {
            let mut ids: Vec<&String> = rooms
                .iter()
                .filter_map(|room| all_rooms.get(room))
                .flatten()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        chosen
            .into_iter()
            .filter(|id| !excluded.contains(id.as_str()))
            .filter_map(|id| sockets.get(id).cloned())
            .collect()
    }
}

fn leave_room(rooms: &mut HashMap<String, HashSet<String>>, room: &str, id: &str) {
    if let Some(members) = rooms.get_mut(room) {
        members.remove(id);
        if members.is_empty() {
            rooms.remove(room);
        }
    }
}

/// A dynamic namespace: it accepts, on first CONNECT, any namespace name its predicate
/// accepts, creating a child namespace that shares its handlers (behaviors NS-12). Register
/// handlers here as on a [`Namespace`].
///
/// ```
/// use sio_reference::server::socket_io::{Config, SocketIo};
///
/// let io = SocketIo::new(Config::default());
/// io.of_dynamic(|name| name.starts_with("/room-"))
///     .on_connection(|socket| {
///         let _ = socket.emit("joined", vec![socket.namespace().name().into()]);
///     });
/// ```
#[derive(Clone)]
pub struct DynamicNamespace {
    pub(crate) accepts: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    pub(crate) handlers: SharedHandlers,
}

impl std::fmt::Debug for DynamicNamespace {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DynamicNamespace")
            .finish_non_exhaustive()
    }
}

impl DynamicNamespace {
    /// Calls `handler` with each socket that joins any of the namespace's children; see
    /// [`Namespace::on_connection`].
    pub fn on_connection(
        &self,
        handler: impl Fn(Socket) + Send + Sync + 'static,
    ) -> &DynamicNamespace {
        add_connection_handler(&self.handlers, handler);
        self
    }

    /// Adds a middleware for every child; see [`Namespace::use_middleware`].
    pub fn use_middleware<F, Fut>(&self, middleware: F) -> &DynamicNamespace
    where
        F: Fn(Handshake) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        add_middleware(&self.handlers, middleware);
        self
    }
}
