//! A socket: one client's membership of one namespace, with its event handlers, pending
//! acknowledgements and rooms.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::oneshot;

use super::broadcast::BroadcastOperator;
use super::client::Client;
use super::error::{AckError, EmitError};
use super::namespace::Namespace;
use super::reason::DisconnectReason;
use super::recovery::{is_recoverable, Session as RecoverySession};
use super::{lock, read, write};
use crate::socket_io::{Packet, PacketType, Value, RESERVED_EVENTS};

/// What the client sent to join a namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct Handshake {
    /// The namespace the client asked for.
    pub namespace: String,
    /// The CONNECT packet's payload, `{}` when it had none (behaviors NS-02).
    pub auth: Value,
    /// The Engine.IO session id of the connection.
    pub engine_id: String,
}

/// Who a new socket is: its id, and with connection state recovery its private session id and
/// whether it recovers an earlier socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) id: String,
    pub(crate) pid: Option<String>,
    pub(crate) recovered: bool,
}

/// An event handler: the socket, the event's arguments, and its acknowledgement when the
/// client asked for one.
pub(crate) type EventHandler = dyn Fn(Socket, Vec<Value>, Option<Ack>) + Send + Sync;

/// A disconnect handler.
pub(crate) type DisconnectHandler = dyn Fn(Socket, DisconnectReason) + Send + Sync;

/// One client in one namespace: a cheap, cloneable handle.
///
/// ```
/// use sio_reference::server::socket_io::{Config, SocketIo};
///
/// let io = SocketIo::new(Config::default());
/// io.on_connection(|socket| {
///     // Answer `message` with `message-back`, and acknowledge `message-with-ack`.
///     socket.on("message", |socket, arguments, _ack| {
///         let _ = socket.emit("message-back", arguments);
///     });
///     socket.on("message-with-ack", |_socket, arguments, ack| {
///         if let Some(ack) = ack {
///             let _ = ack.send(arguments);
///         }
///     });
///     socket.join("lobby");
///     let _ = socket.to("lobby").emit("arrived", vec![socket.id().into()]);
/// });
/// ```
#[derive(Clone)]
pub struct Socket {
    inner: Arc<SocketInner>,
}

struct SocketInner {
    id: String,
    /// The private session id of connection state recovery, when it is on.
    pid: Option<String>,
    /// Whether the socket is a recovered one.
    recovered: bool,
    namespace: Namespace,
    handshake: Handshake,
    client: Arc<Client>,
    connected: AtomicBool,
    events: RwLock<HashMap<String, Arc<EventHandler>>>,
    on_disconnect: Mutex<Vec<Arc<DisconnectHandler>>>,
    pending_acks: Mutex<HashMap<u64, oneshot::Sender<Vec<Value>>>>,
    rooms: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Socket")
            .field("id", &self.inner.id)
            .field("namespace", &self.inner.namespace.name())
            .finish_non_exhaustive()
    }
}

impl Socket {
    pub(crate) fn new(
        identity: Identity,
        namespace: Namespace,
        handshake: Handshake,
        client: Arc<Client>,
    ) -> Socket {
        Socket {
            inner: Arc::new(SocketInner {
                id: identity.id,
                pid: identity.pid,
                recovered: identity.recovered,
                namespace,
                handshake,
                client,
                connected: AtomicBool::new(true),
                events: RwLock::default(),
                on_disconnect: Mutex::default(),
                pending_acks: Mutex::default(),
                rooms: Mutex::default(),
            }),
        }
    }

    /// The socket's id: the `sid` of the CONNECT answer, distinct from the Engine.IO session
    /// id (behaviors NS-01). Every socket is in the room named by its id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Whether connection state recovery gave the socket back to a client that had lost its
    /// connection: the id, the rooms and the missed events of its previous session (the
    /// official `socket.recovered`). Always `false` with recovery off.
    pub fn recovered(&self) -> bool {
        self.inner.recovered
    }

    pub(crate) fn pid(&self) -> Option<&str> {
        self.inner.pid.as_deref()
    }

    /// The namespace the socket belongs to.
    pub fn namespace(&self) -> &Namespace {
        &self.inner.namespace
    }

    /// What the client sent to join.
    pub fn handshake(&self) -> &Handshake {
        &self.inner.handshake
    }

    /// Whether the socket is still in its namespace.
    pub fn connected(&self) -> bool {
        self.inner.connected.load(Ordering::Acquire)
    }

    /// Calls `handler` with each `event` the client emits, in arrival order, on the
    /// connection's task. One handler per event name: a second replaces the first. The
    /// [`Ack`] is there when the client asked for an acknowledgement.
    pub fn on(
        &self,
        event: impl Into<String>,
        handler: impl Fn(Socket, Vec<Value>, Option<Ack>) + Send + Sync + 'static,
    ) {
        write(&self.inner.events).insert(event.into(), Arc::new(handler));
    }

    /// Calls `handler` once when the socket leaves the namespace, with the reason.
    pub fn on_disconnect(
        &self,
        handler: impl Fn(Socket, DisconnectReason) + Send + Sync + 'static,
    ) {
        lock(&self.inner.on_disconnect).push(Arc::new(handler));
    }

    /// Emits `event` with `arguments` to the client. Binary values travel as attachments.
    ///
    /// With connection state recovery on, the event goes to the room of the socket's id as the
    /// official server sends it, logged with its offset: it reaches the socket, or the socket
    /// that recovers this one, and it is not an error when the socket has left (behaviors
    /// CSR-03).
    pub fn emit(&self, event: &str, arguments: Vec<Value>) -> Result<(), EmitError> {
        if self.inner.namespace.recovery().is_some() {
            return BroadcastOperator::new(self.inner.namespace.clone())
                .to(self.inner.id.clone())
                .emit(event, arguments);
        }
        check_event_name(event)?;
        self.send(&Packet::event(
            self.inner.namespace.name(),
            event,
            arguments,
        ))
    }

    /// Emits `event` with `arguments` and waits up to `timeout` for the client's
    /// acknowledgement; resolves to its arguments. The id comes from the namespace's counter.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        arguments: Vec<Value>,
        timeout: Duration,
    ) -> Result<Vec<Value>, AckError> {
        check_event_name(event)?;
        let id = self.inner.namespace.next_ack_id();
        let reply = self.expect_ack(id);
        let packet = Packet {
            id: Some(id),
            ..Packet::event(self.inner.namespace.name(), event, arguments)
        };
        if let Err(error) = self.send(&packet) {
            self.forget_ack(id);
            return Err(error.into());
        }
        self.await_ack(id, reply, timeout).await
    }

    /// Puts the socket in `room`.
    pub fn join(&self, room: impl Into<String>) {
        let room = room.into();
        if !self.connected() {
            return;
        }
        self.inner.namespace.join(&room, &self.inner.id);
        lock(&self.inner.rooms).insert(room);
    }

    /// Takes the socket out of `room`.
    pub fn leave(&self, room: &str) {
        self.inner.namespace.leave(room, &self.inner.id);
        lock(&self.inner.rooms).remove(room);
    }

    /// The rooms the socket is in.
    pub fn rooms(&self) -> HashSet<String> {
        lock(&self.inner.rooms).clone()
    }

    /// The other sockets of the namespace in `room`: the sender is left out, as with
    /// socket.io's `socket.to(room)`.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Every other socket of the namespace, as socket.io's `socket.broadcast`.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.inner.namespace.clone()).exclude(self.inner.id.clone())
    }

    /// Leaves the namespace: the client gets a DISCONNECT packet, and the connection stays
    /// open for its other namespaces (behaviors DC-03).
    pub fn disconnect(&self) {
        if !self.connected() {
            return;
        }
        let _ = self.send(&Packet {
            namespace: self.inner.namespace.name().to_owned(),
            ..Packet::new(PacketType::Disconnect)
        });
        self.inner.client.leave(self.inner.namespace.name());
        self.left(DisconnectReason::ServerNamespaceDisconnect);
    }

    /// Closes the whole connection, as socket.io's `disconnect(true)`: every namespace the
    /// client joined gets a DISCONNECT packet, then the Engine.IO session closes (behaviors
    /// DC-04). A socket that has already left does nothing, as on the official server, whose
    /// `disconnect(true)` returns at once when the socket is not connected: a stale handle
    /// must not close a connection the client may still use for other namespaces (or for
    /// this one, joined again).
    pub fn close_connection(&self) {
        if !self.connected() {
            return;
        }
        self.inner.client.disconnect_all();
    }

    pub(crate) fn send(&self, packet: &Packet) -> Result<(), EmitError> {
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        self.inner.client.send(packet)
    }

    /// Calls the handler of an event the client emitted.
    pub(crate) fn dispatch(&self, name: &str, arguments: Vec<Value>, ack: Option<u64>) {
        let handler = read(&self.inner.events).get(name).cloned();
        if let Some(handler) = handler {
            let ack = ack.map(|id| Ack {
                socket: self.clone(),
                id,
            });
            handler(self.clone(), arguments, ack);
        }
    }

    /// Hands the client's acknowledgement to whoever waits for it; an unknown id is ignored
    /// (behaviors AK-05).
    pub(crate) fn acknowledged(&self, id: u64, arguments: Vec<Value>) {
        if let Some(reply) = lock(&self.inner.pending_acks).remove(&id) {
            let _ = reply.send(arguments);
        }
    }

    pub(crate) fn expect_ack(&self, id: u64) -> oneshot::Receiver<Vec<Value>> {
        let (sender, receiver) = oneshot::channel();
        lock(&self.inner.pending_acks).insert(id, sender);
        receiver
    }

    pub(crate) fn forget_ack(&self, id: u64) {
        lock(&self.inner.pending_acks).remove(&id);
    }

    pub(crate) async fn await_ack(
        &self,
        id: u64,
        reply: oneshot::Receiver<Vec<Value>>,
        timeout: Duration,
    ) -> Result<Vec<Value>, AckError> {
        match tokio::time::timeout(timeout, reply).await {
            Ok(Ok(arguments)) => Ok(arguments),
            // The socket dropped its pending acknowledgements: it disconnected.
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => {
                self.forget_ack(id);
                Err(AckError::Timeout)
            }
        }
    }

    /// The socket has left its namespace: it leaves its rooms, its pending acknowledgements
    /// fail, and its disconnect handlers run, once.
    pub(crate) fn left(&self, reason: DisconnectReason) {
        if !self.inner.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        let rooms = std::mem::take(&mut *lock(&self.inner.rooms));
        self.inner.namespace.remove_socket(&self.inner.id, &rooms);
        if let (Some(store), Some(pid)) = (self.inner.namespace.recovery(), self.pid()) {
            if is_recoverable(reason) {
                store.keep(RecoverySession {
                    sid: self.inner.id.clone(),
                    pid: pid.to_owned(),
                    rooms,
                });
            }
        }
        lock(&self.inner.pending_acks).clear();
        let handlers = std::mem::take(&mut *lock(&self.inner.on_disconnect));
        for handler in handlers {
            handler(self.clone(), reason);
        }
        // The handlers may hold clones of this socket; dropping the event handlers breaks
        // any cycle through them.
        write(&self.inner.events).clear();
    }
}

/// Refuses the names the protocol reserves: the client's decoder would close the connection.
pub(crate) fn check_event_name(event: &str) -> Result<(), EmitError> {
    if RESERVED_EVENTS.contains(&event) {
        return Err(EmitError::ReservedEvent {
            name: event.to_owned(),
        });
    }
    Ok(())
}

/// The acknowledgement the client asked for with an event. Sending consumes it, so an event
/// is acknowledged at most once (behaviors AK-04).
#[derive(Debug)]
pub struct Ack {
    socket: Socket,
    id: u64,
}

impl Ack {
    /// The acknowledgement id the client chose.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sends the acknowledgement with `arguments`: an ACK packet with the event's id, or a
    /// BINARY_ACK when the arguments hold binary values (behaviors AK-01, AK-10).
    pub fn send(self, arguments: Vec<Value>) -> Result<(), EmitError> {
        let namespace = self.socket.namespace().name().to_owned();
        self.socket
            .send(&Packet::ack(&namespace, self.id, arguments))
    }
}
