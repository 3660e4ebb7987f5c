//! The client: one Engine.IO connection and the namespaces it has joined. Its task decodes
//! the client's packets and routes them, in arrival order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::engine_io::Data;
use crate::server::engine_io::{self, SocketHandle};
use crate::socket_io::{Decoder, Encoded, Packet, PacketType, ProtocolVersion, Value};

use super::error::EmitError;
use super::lock;
use super::namespace::Namespace;
use super::reason::DisconnectReason;
use super::recovery::Recovered;
use super::server::Shared;
use super::socket::{Handshake, Identity, Socket};
use super::v4;

/// What the client task shares with the sockets: the way out, and who is joined.
pub(crate) struct Client {
    engine: SocketHandle,
    /// The Socket.IO protocol the connection speaks: 4 over Engine.IO 3 (see [`v4`]), else 5.
    version: ProtocolVersion,
    joined: Mutex<HashMap<String, Socket>>,
    /// Held while a packet is queued, and while a new socket is registered and its CONNECT
    /// answered, so that no packet for the socket can come before its answer, while the socket
    /// is reachable as soon as the client has the answer (see [`join`]).
    sending: Mutex<()>,
}

impl Client {
    /// Encodes and sends a packet, its attachments right after it.
    pub(crate) fn send(&self, packet: &Packet) -> Result<(), EmitError> {
        let encoded = packet.encode();
        let _sending = lock(&self.sending);
        self.send_encoded(encoded)
    }

    /// Sends an encoded packet; the caller holds `sending`.
    fn send_encoded(&self, encoded: Encoded) -> Result<(), EmitError> {
        let messages = std::iter::once(Data::Text(encoded.text))
            .chain(encoded.attachments.into_iter().map(Data::Binary));
        self.engine
            .send_all(messages)
            .map_err(|_| EmitError::Disconnected)
    }

    pub(crate) fn leave(&self, namespace: &str) -> Option<Socket> {
        lock(&self.joined).remove(namespace)
    }

    /// Sends DISCONNECT for every joined namespace, then closes the connection.
    pub(crate) fn disconnect_all(&self) {
        let sockets: Vec<Socket> = lock(&self.joined)
            .drain()
            .map(|(_, socket)| socket)
            .collect();
        for socket in &sockets {
            let _ = socket.send(&Packet {
                namespace: socket.namespace().name().to_owned(),
                ..Packet::new(PacketType::Disconnect)
            });
        }
        for socket in sockets {
            socket.left(DisconnectReason::ServerNamespaceDisconnect);
        }
        self.engine.close();
    }

    fn joined(&self, namespace: &str) -> Option<Socket> {
        lock(&self.joined).get(namespace).cloned()
    }
}

/// Whether the connection goes on after a packet.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    /// The client broke the protocol: the whole connection closes.
    Close,
}

/// Runs one connection until it closes.
pub(crate) async fn run(mut engine: engine_io::Socket, shared: Arc<Shared>) {
    let version = match engine.protocol() {
        crate::engine_io::ProtocolVersion::V3 => ProtocolVersion::V4,
        crate::engine_io::ProtocolVersion::V4 => ProtocolVersion::V5,
    };
    let client = Arc::new(Client {
        engine: engine.handle(),
        version,
        joined: Mutex::default(),
        sending: Mutex::default(),
    });
    let mut decoder = Decoder::with_max_attachments(version, shared.config.max_attachments);
    // The connect timeout runs until the first namespace is joined and is never re-armed
    // (behaviors NS-09, NS-10).
    let connect_timeout = tokio::time::sleep(shared.config.connect_timeout);
    tokio::pin!(connect_timeout);
    let mut awaiting_first_connect = true;
    if version == ProtocolVersion::V4 {
        // Protocol 4: the client is joined to `/` without asking (behaviors V4-01).
        let implicit = Packet::new(PacketType::Connect);
        if handle(&client, &shared, implicit, &mut awaiting_first_connect).await == Flow::Close {
            engine.close();
        }
    }
    loop {
        let data = tokio::select! {
            data = engine.recv() => data,
            () = &mut connect_timeout, if awaiting_first_connect => {
                engine.close();
                break;
            }
        };
        let Some(data) = data else { break };
        let decoded = match data {
            Data::Text(text) => decoder.decode_text(&text),
            Data::Binary(bytes) => decoder.decode_binary(bytes),
        };
        let flow = match decoded {
            Ok(Some(packet)) => handle(&client, &shared, packet, &mut awaiting_first_connect).await,
            Ok(None) => Flow::Continue,
            // A packet that does not decode closes the whole connection (behaviors EV-11).
            Err(error) => {
                tracing::debug!(%error, "closing a connection after a packet that does not decode");
                Flow::Close
            }
        };
        if let Flow::Close = flow {
            engine.close();
            break;
        }
    }
    let reason = match engine.close_reason() {
        _ if shared.is_shutting_down() => DisconnectReason::ServerShuttingDown,
        Some(reason) => DisconnectReason::from(reason),
        None => DisconnectReason::ForcedClose,
    };
    let sockets: Vec<Socket> = lock(&client.joined)
        .drain()
        .map(|(_, socket)| socket)
        .collect();
    for socket in sockets {
        socket.left(reason);
    }
}

async fn handle(
    client: &Arc<Client>,
    shared: &Shared,
    mut packet: Packet,
    awaiting_first_connect: &mut bool,
) -> Flow {
    if client.version == ProtocolVersion::V4 {
        // Protocol 4 writes a CONNECT's auth as a query after the namespace; the namespace of
        // every packet is the part before it, as on the official server (behaviors V4-03).
        let (name, query) = v4::split_namespace(&packet.namespace);
        let name = name.to_owned();
        if packet.packet_type == PacketType::Connect {
            packet.data = Some(v4::query_auth(query));
        }
        packet.namespace = name;
    }
    match packet.packet_type {
        PacketType::Connect => match connect(client, shared, packet).await {
            Some(joined) => {
                *awaiting_first_connect &= !joined;
                Flow::Continue
            }
            None => Flow::Close,
        },
        PacketType::Event | PacketType::BinaryEvent => with_socket(client, packet, event),
        PacketType::Ack | PacketType::BinaryAck => with_socket(client, packet, ack),
        PacketType::Disconnect => match client.leave(&packet.namespace) {
            // The server answers nothing, and the connection stays open (behaviors DC-01).
            Some(socket) => {
                socket.left(DisconnectReason::ClientNamespaceDisconnect);
                Flow::Continue
            }
            None => Flow::Close,
        },
        // Only servers send CONNECT_ERROR (behaviors NS-08).
        PacketType::ConnectError => Flow::Close,
    }
}

/// Runs `action` on the socket of a joined namespace; a packet for a namespace the client has
/// not joined closes the connection (behaviors NS-07).
fn with_socket(client: &Client, packet: Packet, action: fn(Socket, Packet)) -> Flow {
    match client.joined(&packet.namespace) {
        Some(socket) => {
            action(socket, packet);
            Flow::Continue
        }
        None => Flow::Close,
    }
}

/// Dispatches an event. The decoder has checked that the payload is an array whose first
/// element is a string or a number; a number is delivered as its text (behaviors EV-02).
fn event(socket: Socket, packet: Packet) {
    let Some(Value::Array(mut items)) = packet.data else {
        return;
    };
    if items.is_empty() {
        return;
    }
    let name = match items.remove(0) {
        Value::String(name) => name,
        other => other.to_json(),
    };
    socket.dispatch(&name, items, packet.id);
}

fn ack(socket: Socket, packet: Packet) {
    let (Some(id), arguments) = (packet.id, packet.data) else {
        return;
    };
    let arguments = match arguments {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    socket.acknowledged(id, arguments);
}

/// Handles a CONNECT: `Some(true)` when the namespace was joined, `Some(false)` when it was
/// refused with a CONNECT_ERROR, `None` when the connection must close.
async fn connect(client: &Arc<Client>, shared: &Shared, packet: Packet) -> Option<bool> {
    let name = packet.namespace;
    // A second CONNECT to a joined namespace closes the connection (behaviors NS-06).
    if client.joined(&name).is_some() {
        return None;
    }
    let Some(namespace) = shared.namespaces.for_connect(&name) else {
        let payload = match client.version {
            // Protocol 4's ERROR carries a string, as the spec's example does (behaviors V4-04).
            ProtocolVersion::V4 => Value::from("Invalid namespace"),
            ProtocolVersion::V5 => Value::Object(vec![message("Invalid namespace")]),
        };
        refuse(client, &name, payload);
        return Some(false);
    };
    let handshake = Handshake {
        namespace: name.clone(),
        auth: packet.data.unwrap_or(Value::Object(Vec::new())),
        engine_id: client.engine.id().to_owned(),
    };
    // Protocol 4 has no recovery: its auth is a namespace's query, not a CONNECT payload.
    let recovered = match client.version {
        ProtocolVersion::V4 => None,
        ProtocolVersion::V5 => recover(&namespace, &handshake.auth),
    };
    let skip_middlewares = recovered.is_some()
        && namespace
            .recovery()
            .is_some_and(|store| store.skips_middlewares());
    if !skip_middlewares {
        for middleware in namespace.middlewares() {
            if let Err(refusal) = middleware(handshake.clone()).await {
                give_back(&namespace, recovered);
                let payload = match client.version {
                    // Protocol 4: the string payload of an ERROR, the middleware's message.
                    ProtocolVersion::V4 => Value::from(refusal.message.as_str()),
                    ProtocolVersion::V5 => refusal.payload(),
                };
                refuse(client, &name, payload);
                return Some(false);
            }
        }
    }
    // The connection may have closed while the middlewares ran: then nothing is sent
    // (behaviors NS-18).
    if client.engine.close_reason().is_some() {
        give_back(&namespace, recovered);
        return None;
    }
    Some(join(client, &namespace, handshake, recovered).is_some())
}

/// The session a CONNECT asks to recover, taken from the namespace's store: only with
/// recovery on, and only when the payload has a string `pid` and a string `offset`
/// (behaviors CSR-04, CSR-06).
fn recover(namespace: &Namespace, auth: &Value) -> Option<Recovered> {
    let store = namespace.recovery()?;
    let pid = auth.get("pid")?.as_str()?;
    let offset = auth.get("offset")?.as_str()?;
    store.take(pid, offset)
}

fn give_back(namespace: &Namespace, recovered: Option<Recovered>) {
    if let (Some(store), Some(recovered)) = (namespace.recovery(), recovered) {
        store.give_back(recovered);
    }
}

fn message(text: &str) -> (String, Value) {
    ("message".to_owned(), Value::from(text))
}

/// Answers a CONNECT with a CONNECT_ERROR; the connection stays open (behaviors NS-04, NS-14).
fn refuse(client: &Client, namespace: &str, payload: Value) {
    let _ = client.send(&Packet {
        namespace: namespace.to_owned(),
        data: Some(payload),
        ..Packet::new(PacketType::ConnectError)
    });
}

/// Creates the socket, answers the CONNECT with its id, then runs the connection handlers, so
/// that the answer precedes anything they emit (behaviors NS-01, NS-16).
///
/// The socket joins the client, its namespace and the room of its id before the answer is
/// queued, under the client's send lock: as on the official server, which adds the socket and
/// joins its room before it writes the answer in the same tick, a client that has its answer
/// can be reached by any broadcast made afterwards, and a broadcast that finds the socket
/// waits for the lock, so it cannot come before the answer. (Answering first and registering
/// after left a window in which a broadcast made after the client had its answer missed it.)
///
/// With connection state recovery on, the answer carries the socket's private session id as
/// well, `{"sid":…,"pid":…}` (behaviors CSR-02); a recovered socket takes the id, the `pid`
/// and the rooms of its session back, and the events it missed go before the answer
/// (behaviors CSR-05, CSR-08). In protocol 4 the answer has no payload ("It does not contain
/// any payload") and the id is derived from the session's (behaviors V4-02, V4-06); the
/// reference has no recovery in protocol 4.
fn join(
    client: &Arc<Client>,
    namespace: &Namespace,
    handshake: Handshake,
    recovered: Option<Recovered>,
) -> Option<Socket> {
    let identity = match (&recovered, client.version) {
        (_, ProtocolVersion::V4) => Identity {
            id: v4::socket_id(namespace.name(), client.engine.id()),
            pid: None,
            recovered: false,
        },
        (Some(recovered), ProtocolVersion::V5) => Identity {
            id: recovered.session.sid.clone(),
            pid: Some(recovered.session.pid.clone()),
            recovered: true,
        },
        (None, ProtocolVersion::V5) => Identity {
            id: engine_io::generate_sid()?,
            pid: match namespace.recovery() {
                Some(_) => Some(engine_io::generate_sid()?),
                None => None,
            },
            recovered: false,
        },
    };
    let answer_data = match client.version {
        ProtocolVersion::V4 => None,
        ProtocolVersion::V5 => {
            let mut fields = vec![("sid".to_owned(), Value::from(identity.id.as_str()))];
            if let Some(pid) = &identity.pid {
                fields.push(("pid".to_owned(), Value::from(pid.as_str())));
            }
            Some(Value::Object(fields))
        }
    };
    let answer = Packet {
        namespace: namespace.name().to_owned(),
        data: answer_data,
        ..Packet::new(PacketType::Connect)
    }
    .encode();
    let socket = Socket::new(identity, namespace.clone(), handshake, Arc::clone(client));
    {
        let _sending = lock(&client.sending);
        let register = || {
            lock(&client.joined).insert(namespace.name().to_owned(), socket.clone());
            namespace.add_socket(&socket);
            socket.join(socket.id().to_owned());
            for room in recovered
                .iter()
                .flat_map(|recovered| &recovered.session.rooms)
            {
                socket.join(room.clone());
            }
        };
        let missed = match (namespace.recovery(), &recovered) {
            (Some(store), Some(recovered)) => store.replay(recovered, register),
            _ => {
                register();
                Vec::new()
            }
        };
        let sent = missed
            .iter()
            .try_for_each(|packet| client.send_encoded(packet.encode()))
            .and_then(|()| client.send_encoded(answer));
        if sent.is_err() {
            // The connection closed meanwhile: the socket never joined.
            lock(&client.joined).remove(namespace.name());
            socket.left(DisconnectReason::TransportClose);
            return None;
        }
    }
    for handler in namespace.connection_handlers() {
        handler(socket.clone());
    }
    Some(socket)
}
