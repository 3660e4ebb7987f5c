//! The conformance suite's fixture server, served by socketioxide 0.18.
//!
//! The contract (docs/server-contract.md, runner/README.md):
//!
//! - It listens on 127.0.0.1, on the port in `PORT` (default 0: a port the OS picks), and once it
//!   accepts connections prints exactly one line to stdout: `listening on http://127.0.0.1:<port>`.
//! - `/socket.io/` is socketioxide, with `pingInterval` 300 ms, `pingTimeout` 200 ms, `maxPayload`
//!   1 000 000, `connectTimeout` 1000 ms, `upgradeTimeout` 10 000 ms, acks awaited 1000 ms:
//!   - on connection to `/` or `/custom`, emit `auth` with the CONNECT payload;
//!   - on `/`: `message` → `message-back` with the same arguments; `message-with-ack` →
//!     acknowledged with its arguments; `emit-with-ack` → re-emitted with an ack request, and the
//!     client's ack arguments come back as another `emit-with-ack`;
//!   - any other namespace is refused with socketioxide's own `Invalid namespace`.
//! - Extended handlers, as far as socketioxide 0.18 can express them (on `/`):
//!   - `disconnect-me`: `SocketRef::disconnect`, a DISCONNECT packet for `/`;
//!   - `close-me`: the official server's `disconnect(true)` sends a DISCONNECT for every
//!     namespace, then closes the Engine.IO connection. socketioxide 0.18 has no public way to
//!     close the Engine.IO connection from a socket (`Socket::close_underlying_transport` is
//!     crate-private; `SocketIo::close` closes every connection of the server), so this handler
//!     does the part it can: it disconnects the client from every namespace it joined, and the
//!     Engine.IO session stays open;
//!   - `join` with a room name: the socket joins the room, and the event is acknowledged with no
//!     arguments when an ack was asked;
//!   - `to-room` with (room, event, ...args): the event goes to the room's other sockets;
//!   - `/refused`: a connect middleware refuses every CONNECT with the message `refused`.
//!     socketioxide sends a middleware error as `{"message": <its Display>}` only: the `data`
//!     member (`{"reason":"testing"}` in the contract) cannot be expressed;
//!   - `/dynamic-<anything>`: dynamic namespaces (`SocketIo::dyn_ns`), behaving like `/custom`.
//! - `/engine.io/` is a raw engineioxide server (same options) that echoes every message, text or
//!   binary, over Engine.IO protocol 4 and, with engineioxide's `v3` feature, protocol 3 (the
//!   suite's eio3 cases use it as their v3 endpoint: engineioxide cannot serve the versions at
//!   two paths apart).
//! - Any other path: 404 (engineioxide's `NotFoundService`).
//! - CORS for any origin: socketioxide has none built in, so tower-http's `CorsLayer` wraps the
//!   whole service (`Access-Control-Allow-Origin: *`, like Node's `cors: { origin: "*" }`).
//!
//! The tokio runtime is the multi-threaded one `#[tokio::main]` gives (socketioxide's examples and
//! its own e2e fixture use it), unless `SIO_FIXTURE_RUNTIME=current-thread`. socketioxide spawns
//! a task per incoming event, so on several worker threads the handlers of back-to-back events
//! run concurrently and their answers can go out in another order; on one thread they run in
//! arrival order.
//!
//! Nothing is logged in normal operation; only a failure to serve is reported on stderr.

use std::fmt;
use std::io::Write;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use engineioxide::config::EngineIoConfig;
use engineioxide::handler::EngineIoHandler;
use engineioxide::service::EngineIoService;
use engineioxide::{DisconnectReason, Socket as EioSocket, Str};
use hyper::http::Method;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rmpv::Value;
use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeTuple, Serializer};
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;
use tokio::net::TcpListener;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};
use tower_layer::Layer;

/// The fixture contract's options.
const PING_INTERVAL: Duration = Duration::from_millis(300);
const PING_TIMEOUT: Duration = Duration::from_millis(200);
const UPGRADE_TIMEOUT: Duration = Duration::from_millis(10_000);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
const ACK_TIMEOUT: Duration = Duration::from_millis(1000);
/// `maxHttpBufferSize` in Node terms. engineioxide's default is only 100 kB.
const MAX_PAYLOAD: u64 = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Variadic event arguments
// ---------------------------------------------------------------------------------------------

/// The arguments of an event or an ack, however many there are, binary ones kept as bytes.
///
/// socketioxide spreads a value over several Socket.IO arguments only when serde sees a *tuple*:
/// a `Vec` would be ONE argument (an array), and a non-tuple extractor type receives only the
/// FIRST argument. So this list goes through `serialize_tuple` / `deserialize_tuple`, which makes
/// a list of any length behave like a tuple. Each argument is an `rmpv::Value`, whose `Binary`
/// variant keeps attachments as bytes (a `serde_json::Value` would turn them into numbers).
#[derive(Debug, Default)]
struct Args(Vec<Value>);

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArgsVisitor;

        impl<'de> Visitor<'de> for ArgsVisitor {
            type Value = Args;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of event arguments")
            }

            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Args, S::Error> {
                let mut arguments = Vec::new();
                while let Some(argument) = seq.next_element::<Value>()? {
                    arguments.push(argument);
                }
                Ok(Args(arguments))
            }
        }

        // The length is only a hint for self-describing formats such as JSON.
        deserializer.deserialize_tuple(usize::MAX, ArgsVisitor)
    }
}

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for argument in &self.0 {
            tuple.serialize_element(argument)?;
        }
        tuple.end()
    }
}

// ---------------------------------------------------------------------------------------------
// The Socket.IO handlers
// ---------------------------------------------------------------------------------------------

/// On connection to `/custom` and the dynamic namespaces: emit `auth` with the CONNECT payload.
/// socketioxide decodes a CONNECT without payload as `{}`, as Node reports it.
async fn emit_auth(socket: SocketRef, TryData(auth): TryData<Value>) {
    if let Ok(auth) = auth {
        // One argument: a `Value` is not a tuple, so it is not spread.
        let _ = socket.emit("auth", &auth);
    }
}

/// On connection to `/`: emit `auth`, then listen to the contract's events.
async fn on_main_connection(socket: SocketRef, auth: TryData<Value>) {
    emit_auth(socket.clone(), auth).await;

    socket.on(
        "message",
        async |socket: SocketRef, Data::<Args>(arguments)| {
            let _ = socket.emit("message-back", &arguments);
        },
    );

    // Without an ack request, `AckSender::send` sends nothing.
    socket.on(
        "message-with-ack",
        async |Data::<Args>(arguments), ack: AckSender| {
            let _ = ack.send(&arguments);
        },
    );

    // Re-emit with an ack request (answered within the configured ack timeout, 1000 ms), then
    // emit the client's ack arguments.
    socket.on(
        "emit-with-ack",
        async |socket: SocketRef, Data::<Args>(arguments)| {
            let Ok(reply) = socket.emit_with_ack::<_, Args>("emit-with-ack", &arguments) else {
                return;
            };
            if let Ok(reply) = reply.await {
                let _ = socket.emit("emit-with-ack", &reply);
            }
        },
    );

    socket.on("disconnect-me", async |socket: SocketRef| {
        let _ = socket.disconnect();
    });

    // What socketioxide can express of Node's `socket.disconnect(true)`: a DISCONNECT for every
    // namespace the client joined. The Engine.IO connection itself cannot be closed from here.
    socket.on("close-me", async |socket: SocketRef, io: SocketIo| {
        for namespace in io.nsps() {
            if let Some(joined) = namespace.get_socket(socket.id) {
                let _ = joined.disconnect();
            }
        }
    });

    socket.on(
        "join",
        async |socket: SocketRef, Data::<Args>(arguments), ack: AckSender| {
            if let Some(room) = arguments.0.first().and_then(Value::as_str) {
                socket.join(room.to_owned());
            }
            let _ = ack.send(&Args::default());
        },
    );

    // `SocketRef::to` broadcasts to the room except the sender itself.
    socket.on(
        "to-room",
        async |socket: SocketRef, Data::<Args>(mut arguments)| {
            if arguments.0.len() < 2 {
                return;
            }
            let rest = Args(arguments.0.split_off(2));
            if let (Some(room), Some(event)) = (arguments.0[0].as_str(), arguments.0[1].as_str()) {
                let _ = socket.to(room.to_owned()).emit(event, &rest).await;
            }
        },
    );
}

/// The `/refused` namespace's middleware: refuses every CONNECT. socketioxide answers
/// `44/refused,{"message":"refused"}`; it has no way to add the contract's `data`.
async fn refuse() -> Result<(), &'static str> {
    Err("refused")
}

// ---------------------------------------------------------------------------------------------
// The Engine.IO echo endpoint
// ---------------------------------------------------------------------------------------------

/// A raw Engine.IO handler that sends every message back, text as text, binary as binary.
#[derive(Debug)]
struct Echo;

impl EngineIoHandler for Echo {
    type Data = ();

    fn on_connect(self: Arc<Self>, _socket: Arc<EioSocket<()>>) {}

    fn on_disconnect(&self, _socket: Arc<EioSocket<()>>, _reason: DisconnectReason) {}

    fn on_message(self: &Arc<Self>, message: Str, socket: Arc<EioSocket<()>>) {
        let _ = socket.emit(message);
    }

    fn on_binary(self: &Arc<Self>, data: Bytes, socket: Arc<EioSocket<()>>) {
        let _ = socket.emit_binary(data);
    }
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// The listening port: `PORT`, or 0 for one the OS picks.
fn port() -> Result<u16, String> {
    match std::env::var("PORT") {
        Ok(value) if !value.is_empty() => value
            .parse()
            .map_err(|_| format!("PORT is not a port number: {value:?}")),
        _ => Ok(0),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The runtime: see the module documentation.
    let mut runtime = match std::env::var("SIO_FIXTURE_RUNTIME").as_deref() {
        Err(_) | Ok("") | Ok("multi-thread") => tokio::runtime::Builder::new_multi_thread(),
        Ok("current-thread") => tokio::runtime::Builder::new_current_thread(),
        Ok(other) => {
            return Err(format!(
                "SIO_FIXTURE_RUNTIME is {other:?}: expected multi-thread or current-thread"
            )
            .into())
        }
    };
    runtime.enable_all().build()?.block_on(serve())
}

/// Builds the services and serves HTTP/1.1 connections until the process is killed.
async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    // `/engine.io/`: the echo server, with the contract's options. Anything outside its path
    // goes to engineioxide's NotFoundService: 404.
    let echo_config = EngineIoConfig::builder()
        .req_path("/engine.io/")
        .ping_interval(PING_INTERVAL)
        .ping_timeout(PING_TIMEOUT)
        .upgrade_timeout(UPGRADE_TIMEOUT)
        .max_payload(MAX_PAYLOAD)
        // Node applies maxHttpBufferSize to WebSocket messages too (ws's maxPayload).
        .ws_max_message_size(MAX_PAYLOAD as usize)
        .build();
    let echo = EngineIoService::with_config(Arc::new(Echo), echo_config);

    // `/socket.io/`: socketioxide, with the echo server as its inner service.
    let (socket_io, io) = SocketIo::builder()
        .req_path("/socket.io/")
        .ping_interval(PING_INTERVAL)
        .ping_timeout(PING_TIMEOUT)
        .upgrade_timeout(UPGRADE_TIMEOUT)
        .max_payload(MAX_PAYLOAD)
        .ws_max_message_size(MAX_PAYLOAD as usize)
        .connect_timeout(CONNECT_TIMEOUT)
        .ack_timeout(ACK_TIMEOUT)
        .build_with_inner_svc(echo);

    io.ns("/", on_main_connection);
    io.ns("/custom", emit_auth);
    io.ns("/refused", (async || {}).with(refuse));
    // `/dynamic-<anything>`: one segment, or more (a catch-all after it).
    io.dyn_ns("/dynamic-{name}", emit_auth)?;
    io.dyn_ns("/dynamic-{name}/{*rest}", emit_auth)?;

    // CORS for any origin, as Node's `cors: { origin: "*" }` (the `cors` package's defaults:
    // these methods, the requested headers mirrored).
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::PATCH,
            Method::POST,
            Method::DELETE,
        ])
        .allow_headers(AllowHeaders::mirror_request());
    let service = TowerToHyperService::new(cors.layer(socket_io));

    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port()?)).await?;
    let address = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{address}")?;
        stdout.flush()?;
    }

    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                // Out of file descriptors or the like: wait a little rather than spin.
                eprintln!("socketioxide-fixture: accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Node's HTTP server disables Nagle's algorithm (`noDelay`); so does this one, so that
        // small packets are not held back by the timing-sensitive cases.
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        tokio::spawn(async move {
            // A client that goes away mid-request is not worth a log line.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}
