//! `sio-reference-client`: the reference client as a client under test, following the
//! client-under-test contract (`docs/client-contract.md`): settings from the environment
//! (`SIO_URL`, `SIO_PATH`, `SIO_NAMESPACE`, `SIO_AUTH`, `SIO_TRANSPORTS`, `SIO_OPTIONS`), the
//! mirror behaviours (`echo` → `echo-back`, every ack request answered with the event's
//! arguments), cues on standard input and JSON-line reports on standard output. Binary data
//! crosses the pipes as `{"$binary": "<base64>"}`.
//!
//! One argument: `--eio 4` (the default) speaks Engine.IO 4 and Socket.IO 5, to socket.io 3.x
//! and later servers; `--eio 3` speaks Engine.IO 3 and Socket.IO 4, to socket.io 2.x servers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use clap::Parser;
use serde_json::{json, Map, Value as Json};
use sio_reference::client::{
    Client, ClientBuilder, ClientEvent, Protocol, SharedEvents, SharedEventsSender, Socket,
    SocketEvent, TransportKind,
};
use sio_reference::socket_io::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

/// How long the program waits, after standard input ends, for the close to leave.
const CLOSE_GRACE: Duration = Duration::from_millis(300);

type Reports = mpsc::UnboundedSender<Json>;

/// The command line: the protocol only; every other setting comes from the environment.
#[derive(Debug, Parser)]
#[command(about = "The reference client as a client under test (docs/client-contract.md)")]
struct Args {
    /// The Engine.IO protocol to speak: 4 (with Socket.IO 5) or 3 (with Socket.IO 4, for
    /// socket.io 2.x servers).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(3..=4))]
    eio: u8,
}

impl Args {
    fn protocol(&self) -> Protocol {
        if self.eio == 3 {
            Protocol::V4
        } else {
            Protocol::V5
        }
    }
}

/// The program's sockets by namespace, shared by the cue loop and the report loop (which
/// emits `echo-back` on them).
#[derive(Clone, Default)]
struct Sockets(Arc<Mutex<HashMap<String, Socket>>>);

impl Sockets {
    fn get(&self, namespace: &str) -> Option<Socket> {
        self.lock().get(namespace).cloned()
    }

    fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Socket>> {
        // The map stays consistent whatever panicked while holding it.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn main() {
    // A bad argument is refused here, on standard error with exit code 2.
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sio-reference-client: no runtime: {error}");
            std::process::exit(2);
        }
    };
    runtime.block_on(run(args.protocol()));
}

async fn run(protocol: Protocol) {
    let (reports, mut lines) = mpsc::unbounded_channel::<Json>();
    let printer = tokio::spawn(async move {
        use std::io::Write as _;
        while let Some(line) = lines.recv().await {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{line}");
            let _ = stdout.flush();
        }
    });
    let client = match build(protocol, &reports) {
        Ok(client) => client,
        Err(message) => {
            eprintln!("sio-reference-client: {message}");
            let _ = reports.send(json!({"event": "connect_error", "namespace": namespace_setting(), "message": message, "data": null}));
            wait_for_end_of_input().await;
            drop(reports);
            let _ = printer.await;
            return;
        }
    };
    if let Ok(mut manager_events) = client.events() {
        let reports = reports.clone();
        tokio::spawn(async move {
            while let Some(event) = manager_events.recv().await {
                let _ = reports.send(match event {
                    ClientEvent::ReconnectAttempt { attempt } => {
                        json!({"event": "reconnect_attempt", "attempt": attempt})
                    }
                    ClientEvent::Reconnect { attempt } => {
                        json!({"event": "reconnect", "attempt": attempt})
                    }
                    ClientEvent::ReconnectFailed => json!({"event": "reconnect_failed"}),
                });
            }
        });
    }
    // One report loop for every socket, so that reports of different namespaces keep the
    // client's order.
    let sockets = Sockets::default();
    let (events, shared_events) = SharedEvents::channel();
    tokio::spawn(report_events(
        sockets.clone(),
        shared_events,
        reports.clone(),
    ));
    let namespace = namespace_setting();
    let auth = std::env::var("SIO_AUTH")
        .ok()
        .and_then(|text| serde_json::from_str::<Json>(&text).ok());
    connect(
        &client,
        &sockets,
        &events,
        &namespace,
        auth.map(from_json),
        &reports,
    );
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = stdin.next_line().await {
        let Ok(cue) = serde_json::from_str::<Json>(&line) else {
            eprintln!("sio-reference-client: not a JSON cue: {line}");
            continue;
        };
        on_cue(&client, &sockets, &events, &cue, &reports).await;
    }
    client.close();
    tokio::time::sleep(CLOSE_GRACE).await;
    sockets.clear();
    drop(events);
    drop(client);
    drop(reports);
    let _ = tokio::time::timeout(CLOSE_GRACE, printer).await;
}

async fn wait_for_end_of_input() {
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(_)) = stdin.next_line().await {}
}

fn namespace_setting() -> String {
    std::env::var("SIO_NAMESPACE").unwrap_or_else(|_| "/".to_owned())
}

/// The client from the settings; options the client has no counterpart for are reported
/// `unsupported`.
fn build(protocol: Protocol, reports: &Reports) -> Result<Client, String> {
    let url = std::env::var("SIO_URL").map_err(|_| "SIO_URL is not set".to_owned())?;
    let mut builder: ClientBuilder = Client::builder(&url).protocol(protocol);
    let mut path = std::env::var("SIO_PATH").unwrap_or_else(|_| "/socket.io/".to_owned());
    if let Ok(transports) = std::env::var("SIO_TRANSPORTS") {
        let kinds: Vec<TransportKind> = transports
            .split(',')
            .filter_map(|name| TransportKind::from_name(name.trim()))
            .collect();
        builder = builder.transports(kinds);
    }
    let options = std::env::var("SIO_OPTIONS")
        .ok()
        .and_then(|text| serde_json::from_str::<Map<String, Json>>(&text).ok())
        .unwrap_or_default();
    let millis = |value: &Json| value.as_u64().map(Duration::from_millis);
    for (name, value) in &options {
        builder = match (name.as_str(), value) {
            ("reconnection", Json::Bool(on)) => builder.reconnection(*on),
            ("reconnectionAttempts", value) if value.as_u64().is_some() => builder
                .reconnection_attempts(
                    value
                        .as_u64()
                        .map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX)),
                ),
            ("reconnectionDelay", value) if millis(value).is_some() => {
                builder.reconnection_delay(millis(value).unwrap_or_default())
            }
            ("reconnectionDelayMax", value) if millis(value).is_some() => {
                builder.reconnection_delay_max(millis(value).unwrap_or_default())
            }
            ("randomizationFactor", value) if value.as_f64().is_some() => {
                builder.randomization_factor(value.as_f64().unwrap_or(0.5))
            }
            ("timeout", value) if millis(value).is_some() => {
                builder.timeout(millis(value).unwrap_or_default())
            }
            ("requestTimeout", value) if millis(value).is_some() => {
                builder.request_timeout(millis(value).unwrap_or_default())
            }
            ("ackTimeout", value) if millis(value).is_some() => {
                builder.ack_timeout(millis(value).unwrap_or_default())
            }
            ("retries", value) if value.as_u64().is_some() => builder.retries(
                value
                    .as_u64()
                    .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            ),
            ("upgrade", Json::Bool(on)) => builder.upgrade(*on),
            ("rememberUpgrade", Json::Bool(on)) => builder.remember_upgrade(*on),
            ("tryAllTransports", Json::Bool(on)) => builder.try_all_transports(*on),
            ("forceBase64", Json::Bool(on)) => builder.force_base64(*on),
            ("withCredentials", Json::Bool(on)) => builder.with_credentials(*on),
            ("timestampRequests", Json::Bool(on)) => builder.timestamp_requests(*on),
            ("addTrailingSlash", Json::Bool(keep)) => {
                if !keep && path.len() > 1 {
                    path = path.trim_end_matches('/').to_owned();
                }
                builder
            }
            ("query", Json::Object(pairs)) => {
                pairs.iter().fold(builder, |builder, (key, value)| {
                    builder.query(key, &plain(value))
                })
            }
            ("extraHeaders", Json::Object(pairs)) => {
                pairs.iter().fold(builder, |builder, (key, value)| {
                    builder.extra_header(key, &plain(value))
                })
            }
            (other, _) => {
                let _ = reports.send(json!({"event": "unsupported", "what": other}));
                builder
            }
        };
    }
    builder
        .path(&path)
        .build()
        .map_err(|error| error.to_string())
}

/// A query or header value as text: strings as they are, anything else as JSON.
fn plain(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn connect(
    client: &Client,
    sockets: &Sockets,
    events: &SharedEventsSender,
    namespace: &str,
    auth: Option<Value>,
    reports: &Reports,
) {
    if let Some(socket) = sockets.get(namespace) {
        socket.connect();
        return;
    }
    // The map stays locked until the socket is in it: the report loop, on another thread,
    // may see this namespace's first event before this thread would otherwise have gone on.
    let mut map = sockets.lock();
    match client.connect_shared(namespace, auth, events) {
        Ok(socket) => {
            map.insert(namespace.to_owned(), socket);
        }
        Err(error) => {
            let _ = reports.send(json!({"event": "connect_error", "namespace": namespace, "message": error.to_string(), "data": null}));
        }
    }
}

/// Reports the sockets' events and carries out the mirror behaviours.
async fn report_events(sockets: Sockets, mut events: SharedEvents, reports: Reports) {
    while let Some((namespace, event)) = events.next().await {
        let report = match event {
            SocketEvent::Connect { id, recovered } => {
                let mut report = json!({"event": "connect", "namespace": namespace, "id": id});
                if recovered {
                    report["recovered"] = Json::Bool(true);
                }
                report
            }
            SocketEvent::ConnectError { message, data } => json!({
                "event": "connect_error", "namespace": namespace, "message": message,
                "data": data.as_ref().map_or(Json::Null, to_json),
            }),
            SocketEvent::Disconnect { reason } => {
                json!({"event": "disconnect", "namespace": namespace, "reason": reason.as_str()})
            }
            SocketEvent::Event {
                name,
                arguments,
                ack,
            } => {
                let mut report = json!({
                    "event": "event", "namespace": namespace, "name": name,
                    "args": arguments.iter().map(to_json).collect::<Vec<_>>(),
                });
                if ack.is_some() {
                    report["ack"] = Json::Bool(true);
                }
                let _ = reports.send(report);
                if name == "echo" {
                    if let Some(socket) = sockets.get(&namespace) {
                        // Handed to the client now; only its verdict is waited for apart.
                        let sent = socket.emit("echo-back", arguments.clone());
                        tokio::spawn(sent);
                    }
                }
                if let Some(ack) = ack {
                    let _ = ack.send(arguments);
                }
                continue;
            }
            // The Manager's events are reported once, from the client's own stream.
            SocketEvent::ReconnectAttempt { .. }
            | SocketEvent::Reconnect { .. }
            | SocketEvent::ReconnectFailed => continue,
        };
        let _ = reports.send(report);
    }
}

async fn on_cue(
    client: &Client,
    sockets: &Sockets,
    events: &SharedEventsSender,
    cue: &Json,
    reports: &Reports,
) {
    let namespace = cue
        .get("namespace")
        .and_then(Json::as_str)
        .unwrap_or("/")
        .to_owned();
    let id = cue.get("id").cloned().unwrap_or(Json::Null);
    match cue.get("cue").and_then(Json::as_str) {
        Some("emit") => emit(sockets, &namespace, cue, id, reports).await,
        Some("connect") => {
            let auth = cue.get("auth").cloned().map(from_json);
            connect(client, sockets, events, &namespace, auth, reports);
        }
        Some("disconnect") => {
            if let Some(socket) = sockets.get(&namespace) {
                socket.disconnect();
            }
        }
        Some("close") => client.close(),
        other => {
            let _ = reports.send(
                json!({"event": "unsupported", "what": other.unwrap_or("cue without a name")}),
            );
        }
    }
}

async fn emit(sockets: &Sockets, namespace: &str, cue: &Json, id: Json, reports: &Reports) {
    let Some(socket) = sockets.get(namespace) else {
        let _ = reports.send(json!({"event": "cue_error", "cue": id, "message": format!("no socket for {namespace}")}));
        return;
    };
    let name = cue
        .get("event")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned();
    let arguments: Vec<Value> = cue
        .get("args")
        .and_then(Json::as_array)
        .map(|items| items.iter().cloned().map(from_json).collect())
        .unwrap_or_default();
    let wants_ack = cue.get("ack").and_then(Json::as_bool).unwrap_or(false);
    let volatile = cue.get("volatile").and_then(Json::as_bool).unwrap_or(false);
    let timeout = cue
        .get("timeout")
        .and_then(Json::as_u64)
        .map(Duration::from_millis);
    if wants_ack {
        if volatile {
            let _ = reports.send(json!({"event": "unsupported", "what": "volatile with ack"}));
        }
        // Handed to the client now, in the cues' order; only the wait runs on its own.
        let acknowledged = socket.emit_with_ack(&name, arguments, timeout);
        let reports = reports.clone();
        tokio::spawn(async move {
            let report = match acknowledged.await {
                Ok(Ok(arguments)) => {
                    json!({"event": "ack", "cue": id, "args": arguments.iter().map(to_json).collect::<Vec<_>>()})
                }
                Ok(Err(error)) => {
                    json!({"event": "ack_error", "cue": id, "message": error.to_string()})
                }
                Err(error) => {
                    json!({"event": "cue_error", "cue": id, "message": error.to_string()})
                }
            };
            let _ = reports.send(report);
        });
        return;
    }
    let sent = if volatile {
        socket.emit_volatile(&name, arguments).await
    } else {
        socket.emit(&name, arguments).await
    };
    if let Err(error) = sent {
        let _ =
            reports.send(json!({"event": "cue_error", "cue": id, "message": error.to_string()}));
    }
}

/// A value from the pipes: `{"$binary": "<base64>"}` is binary data.
fn from_json(json: Json) -> Value {
    match json {
        Json::Object(entries) if entries.len() == 1 && entries.contains_key("$binary") => {
            match entries
                .get("$binary")
                .and_then(Json::as_str)
                .map(|text| BASE64.decode(text))
            {
                Some(Ok(bytes)) => Value::Binary(bytes.into()),
                _ => Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k, from_json(v)))
                        .collect(),
                ),
            }
        }
        Json::Object(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k, from_json(v)))
                .collect(),
        ),
        Json::Array(items) => Value::Array(items.into_iter().map(from_json).collect()),
        other => Value::from(other),
    }
}

/// A value for the pipes: binary data as `{"$binary": "<base64>"}`.
fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(flag) => Json::Bool(*flag),
        Value::Number(number) => Json::Number(number.clone()),
        Value::String(text) => Json::String(text.clone()),
        Value::Binary(bytes) => json!({"$binary": BASE64.encode(bytes)}),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Object(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
    }
}
