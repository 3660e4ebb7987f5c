//! Broadcasting: one event to many sockets of a namespace, chosen by room.

use std::time::Duration;

use futures_util::future::join_all;

use super::error::{AckError, EmitError};
use super::namespace::Namespace;
use super::recovery::Audience;
use super::socket::check_event_name;
use crate::socket_io::{Packet, Value};

/// A selection of a namespace's sockets to emit to: all of them, or those in some rooms,
/// minus those in other rooms. Built by [`Namespace::to`], [`Socket::to`](super::Socket::to),
/// [`SocketIo::to`](super::SocketIo::to) and their kin.
///
/// ```
/// use sio_reference::server::socket_io::{Config, SocketIo};
///
/// let io = SocketIo::new(Config::default());
/// // Everyone in `news` or `sport`, except those in `muted`.
/// let _ = io.to("news").to("sport").except("muted").emit("headline", vec!["…".into()]);
/// ```
#[derive(Debug, Clone)]
pub struct BroadcastOperator {
    namespace: Namespace,
    rooms: Vec<String>,
    except: Vec<String>,
    exclude: Option<String>,
}

impl BroadcastOperator {
    pub(crate) fn new(namespace: Namespace) -> BroadcastOperator {
        BroadcastOperator {
            namespace,
            rooms: Vec::new(),
            except: Vec::new(),
            exclude: None,
        }
    }

    /// Adds `room`: the sockets in any of the chosen rooms receive the event.
    pub fn to(mut self, room: impl Into<String>) -> BroadcastOperator {
        self.rooms.push(room.into());
        self
    }

    /// Leaves out the sockets in `room`.
    pub fn except(mut self, room: impl Into<String>) -> BroadcastOperator {
        self.except.push(room.into());
        self
    }

    pub(crate) fn exclude(mut self, socket_id: String) -> BroadcastOperator {
        self.exclude = Some(socket_id);
        self
    }

    /// Emits `event` with `arguments` to every chosen socket. The packet is encoded once.
    /// With connection state recovery on, the event is logged first, its offset appended to
    /// its arguments, and it is replayed to any socket of the audience that comes back after
    /// missing it (behaviors CSR-03).
    pub fn emit(&self, event: &str, arguments: Vec<Value>) -> Result<(), EmitError> {
        check_event_name(event)?;
        let mut packet = Packet::event(self.namespace.name(), event, arguments);
        let targets = match self.namespace.recovery() {
            Some(store) => store.log(&mut packet, self.audience(), || self.targets()),
            None => self.targets(),
        };
        for socket in targets {
            // A socket that is leaving misses the broadcast, as it would a moment later.
            let _ = socket.send(&packet);
        }
        Ok(())
    }

    /// Emits `event` with an acknowledgement request to every chosen socket, all with the
    /// same id (behaviors AK-11), and waits up to `timeout` for all their answers, in the
    /// order of the sockets. Fails with [`AckError::Timeout`] when any is missing.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        arguments: Vec<Value>,
        timeout: Duration,
    ) -> Result<Vec<Vec<Value>>, AckError> {
        check_event_name(event)?;
        // Never logged for recovery: an acknowledgement cannot be awaited across connections
        // (behaviors AK-12).
        let id = self.namespace.next_ack_id();
        let packet = Packet {
            id: Some(id),
            ..Packet::event(self.namespace.name(), event, arguments)
        };
        let mut waiting = Vec::new();
        for socket in self.targets() {
            let reply = socket.expect_ack(id);
            if socket.send(&packet).is_ok() {
                waiting.push(async move { socket.await_ack(id, reply, timeout).await });
            } else {
                socket.forget_ack(id);
            }
        }
        join_all(waiting).await.into_iter().collect()
    }

    fn audience(&self) -> Audience {
        Audience {
            rooms: self.rooms.clone(),
            except: self.except.clone(),
            exclude: self.exclude.clone(),
        }
    }

    fn targets(&self) -> Vec<super::Socket> {
        self.namespace
            .select(&self.rooms, &self.except, self.exclude.as_deref())
    }
}
