//! The conformance suite's client adapter for the `socket_io_client` crate 0.4 (its
//! `SocketIOClient`), following `docs/client-contract.md`.
//!
//! The runner starts this program once per case; it connects on its own from its environment,
//! mirrors what the server sends, obeys the cues on standard input and reports on standard output,
//! one JSON object a line, binary values as `{"$binary": "<base64>"}`.
//!
//! What socket_io_client 0.4 lets an application see and do, and so what this adapter can do:
//!
//! - The endpoint is always `<SIO_URL>/socket.io/`: another `SIO_PATH` is `unsupported` ("path").
//!   Every session opens with a polling handshake, then upgrades to WebSocket when the server
//!   offers it (`set_allow_upgrade(false)`: never): `SIO_TRANSPORTS=websocket` is `unsupported`
//!   ("transport websocket") and runs as an upgrade.
//! - The crate keeps `/` among its namespaces whatever else is set, and sends a CONNECT for each
//!   at every connection: with `SIO_NAMESPACE=/admin` both `/` and `/admin` are connected.
//! - Events are dispatched by name only (no catch-all handler): the adapter registers `echo`, and
//!   the names in the optional `SIO_EVENTS` (comma-separated; not part of the contract); an event
//!   with any other name is dropped by the crate unseen. Such an event with an ack id is
//!   acknowledged with its arguments (`send_ack`, JSON only: an event with binary is reported
//!   but not acknowledged, the crate's ack carries no attachments).
//! - Binary arrives as the crate's `{"binary": "<base64>"}` objects, which the adapter reports as
//!   `{"$binary": …}`; it leaves with `emit_binary*`, whose attachments follow the JSON arguments,
//!   so an emit cue whose binary arguments are not all at its end (or are inside another value)
//!   is `unsupported` ("mixed binary").
//! - `emit_with_ack` takes exactly one JSON argument: an ack cue with another number of
//!   arguments and no binary is `unsupported` ("ack arguments"). Ack timeouts are the crate's
//!   (`ack timeout`); without one in the cue or `ackTimeout`, a year.
//! - `connect` reports have no `id` (the crate keeps the sid private), `disconnect` reports no
//!   reason (the crate has none). `reconnect_attempt`, `reconnect` and `reconnect_failed` are the
//!   crate's own events. The reconnection delay is a fixed number of whole seconds.

use std::collections::HashSet;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine};
use futures::FutureExt;
use serde_json::{json, Map, Value};
use socket_io_client::socket_io_client::{
    SYS_CLOSED, SYS_CONNECT, SYS_CONNECT_ERROR, SYS_DISCONNECT, SYS_ERROR, SYS_RECONNECT,
    SYS_RECONNECT_ATTEMPT,
};
use socket_io_client::{IncomingEvent, SocketIOClient};
use tokio::io::AsyncBufReadExt;
use tokio::task::JoinHandle;

/// The ack timeout of an emit whose cue names none: the crate always needs one.
const NO_ACK_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);
/// The only path the crate requests.
const CRATE_PATH: &str = "/socket.io/";

fn report(line: Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn unsupported(what: &str) {
    report(json!({"event": "unsupported", "what": what}));
}

fn log(message: &str) {
    eprintln!("[adapter] {message}");
}

/// `{"$binary": b64}` → the bytes, or `None`.
fn pipe_binary(value: &Value) -> Option<Vec<u8>> {
    let object = value.as_object()?;
    if object.len() != 1 {
        return None;
    }
    STANDARD.decode(object.get("$binary")?.as_str()?).ok()
}

fn contains_binary(value: &Value) -> bool {
    pipe_binary(value).is_some()
        || match value {
            Value::Array(items) => items.iter().any(contains_binary),
            Value::Object(members) => members.values().any(contains_binary),
            _ => false,
        }
}

/// The crate's `{"binary": b64}` objects (its form of an attachment) → `{"$binary": b64}`.
fn to_pipe(value: &Value) -> Value {
    match value {
        Value::Object(members) => {
            if let (1, Some(Value::String(b64))) = (members.len(), members.get("binary")) {
                return json!({"$binary": b64});
            }
            Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), to_pipe(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(to_pipe).collect()),
        other => other.clone(),
    }
}

/// A cue's arguments as the crate's `emit_binary*` wants them: JSON arguments, then attachments.
/// `None` when a binary argument is not at the end, or is inside another value.
fn split_binary(args: &[Value]) -> Option<(Vec<Value>, Vec<Vec<u8>>)> {
    let first_binary = args
        .iter()
        .position(|a| pipe_binary(a).is_some())
        .unwrap_or(args.len());
    let (json_args, binary_args) = args.split_at(first_binary);
    if json_args.iter().any(contains_binary) {
        return None;
    }
    let attachments: Option<Vec<Vec<u8>>> = binary_args.iter().map(pipe_binary).collect();
    Some((json_args.to_vec(), attachments?))
}

/// The arguments of an event as the crate delivers them (`data` is their array).
fn event_args(event: &IncomingEvent) -> Vec<Value> {
    match &event.data {
        Value::Array(items) => items.iter().map(to_pipe).collect(),
        Value::Null => Vec::new(),
        other => vec![to_pipe(other)],
    }
}

/// The settings of the environment, mapped for the crate.
struct Settings {
    origin: String,
    namespace: String,
    auth: Option<Value>,
    events: Vec<String>,
    allow_upgrade: bool,
    reconnection: bool,
    retry_count: Option<usize>,
    reconnect_interval_secs: Option<u64>,
    ack_timeout: Option<Duration>,
}

impl Settings {
    fn from_env() -> Result<Self, String> {
        let url = std::env::var("SIO_URL").map_err(|_| "SIO_URL is not set".to_owned())?;
        let path = std::env::var("SIO_PATH").unwrap_or_else(|_| CRATE_PATH.to_owned());
        if path != CRATE_PATH {
            unsupported("path");
        }
        let namespace = std::env::var("SIO_NAMESPACE")
            .ok()
            .filter(|n| !n.is_empty());
        let auth = match std::env::var("SIO_AUTH") {
            Ok(text) if !text.trim().is_empty() => {
                Some(serde_json::from_str(&text).map_err(|e| format!("SIO_AUTH: {e}"))?)
            }
            _ => None,
        };
        let transports = std::env::var("SIO_TRANSPORTS").unwrap_or_default();
        let transports: Vec<&str> = transports
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        for t in &transports {
            if *t != "polling" && *t != "websocket" {
                unsupported(&format!("transport {t}"));
            }
        }
        if transports.first() == Some(&"websocket") {
            unsupported("transport websocket");
        }
        let mut allow_upgrade = transports.is_empty() || transports.contains(&"websocket");
        let options: Map<String, Value> = match std::env::var("SIO_OPTIONS") {
            Ok(text) if !text.trim().is_empty() => {
                match serde_json::from_str(&text).map_err(|e| format!("SIO_OPTIONS: {e}"))? {
                    Value::Object(members) => members,
                    _ => Map::new(),
                }
            }
            _ => Map::new(),
        };
        let mut settings = Settings {
            origin: url.trim_end_matches('/').to_owned(),
            namespace: namespace.unwrap_or_else(|| "/".to_owned()),
            auth,
            events: std::env::var("SIO_EVENTS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect(),
            allow_upgrade: true,
            reconnection: true,
            retry_count: None,
            reconnect_interval_secs: None,
            ack_timeout: None,
        };
        let ms = |v: &Value| v.as_f64().filter(|ms| *ms >= 0.0);
        let delay = options.get("reconnectionDelay").and_then(ms);
        for (name, value) in &options {
            match name.as_str() {
                "reconnection" => settings.reconnection = value.as_bool() != Some(false),
                "reconnectionAttempts" => settings.retry_count = value.as_u64().map(|n| n as usize),
                // A fixed interval of whole seconds.
                "reconnectionDelay" => match ms(value) {
                    Some(ms) if ms % 1000.0 == 0.0 => {
                        settings.reconnect_interval_secs = Some((ms / 1000.0) as u64)
                    }
                    _ => unsupported(name),
                },
                // The interval is fixed: the cap means nothing unless it is the delay itself.
                "reconnectionDelayMax" => {
                    if ms(value) != delay {
                        unsupported(name);
                    }
                }
                "randomizationFactor" => {
                    if ms(value) != Some(0.0) {
                        unsupported(name);
                    }
                }
                "ackTimeout" => {
                    settings.ack_timeout = ms(value).map(|ms| Duration::from_millis(ms as u64))
                }
                "upgrade" => {
                    if value.as_bool() == Some(false) {
                        allow_upgrade = false;
                    }
                }
                // What the crate does: no `t` parameter, no remembered upgrade, binary as binary.
                "timestampRequests" | "rememberUpgrade" | "tryAllTransports" | "forceBase64" => {
                    if value.as_bool() == Some(true) {
                        unsupported(name);
                    }
                }
                "addTrailingSlash" => {
                    if value.as_bool() == Some(false) {
                        unsupported(name);
                    }
                }
                // timeout, retries, query, extraHeaders, and anything unknown.
                _ => unsupported(name),
            }
        }
        settings.allow_upgrade = allow_upgrade;
        Ok(settings)
    }
}

/// The client, its reconnection loop, and what the adapter knows of its namespaces.
struct Adapter {
    settings: Settings,
    client: SocketIOClient,
    runner: StdMutex<Option<JoinHandle<()>>>,
    /// Namespaces with handlers registered.
    registered: StdMutex<HashSet<String>>,
    /// Namespaces connected (a CONNECT came, no disconnect since).
    connected: Arc<StdMutex<HashSet<String>>>,
}

impl Adapter {
    fn new(settings: Settings) -> Self {
        let mut client = SocketIOClient::new(&settings.origin);
        client.set_allow_upgrade(settings.allow_upgrade);
        if let Some(count) = settings.retry_count {
            client.set_retry_count(count);
        }
        if let Some(secs) = settings.reconnect_interval_secs {
            client.set_reconnect_interval(secs);
        }
        if settings.namespace != "/" {
            client.set_namespace(&settings.namespace);
        }
        if let Some(auth) = settings.auth.clone() {
            client.set_auth(&settings.namespace, auth);
        }
        Adapter {
            settings,
            client,
            runner: StdMutex::new(None),
            registered: StdMutex::new(HashSet::new()),
            connected: Arc::new(StdMutex::new(HashSet::new())),
        }
    }

    /// Registers the handlers the reports need on a namespace (once).
    fn register(&self, ns: &str, lifecycle_of_the_connection: bool) {
        if !self
            .registered
            .lock()
            .map(|mut r| r.insert(ns.to_owned()))
            .unwrap_or(false)
        {
            return;
        }
        let mut client = self.client.clone();
        let connected = Arc::clone(&self.connected);
        client.on_ns(ns, SYS_CONNECT, move |e: IncomingEvent| {
            if let Ok(mut c) = connected.lock() {
                c.insert(e.namespace.clone());
            }
            report(json!({"event": "connect", "namespace": e.namespace}));
            async {}.boxed()
        });
        let connected = Arc::clone(&self.connected);
        client.on_ns(ns, SYS_DISCONNECT, move |e: IncomingEvent| {
            let was = connected
                .lock()
                .map(|mut c| c.remove(&e.namespace))
                .unwrap_or(false);
            if was {
                report(json!({"event": "disconnect", "namespace": e.namespace}));
            }
            async {}.boxed()
        });
        client.on_ns(ns, SYS_CONNECT_ERROR, |e: IncomingEvent| {
            let (message, data) = match &e.data {
                Value::Object(m) => (
                    m.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    m.get("data").cloned().unwrap_or(Value::Null),
                ),
                Value::String(s) => (s.clone(), Value::Null),
                other => (other.to_string(), Value::Null),
            };
            report(json!({"event": "connect_error", "namespace": e.namespace,
                          "message": message, "data": to_pipe(&data)}));
            async {}.boxed()
        });
        client.on_ns(ns, SYS_ERROR, |e: IncomingEvent| {
            log(&format!(
                "socket_io_client error on {}: {}",
                e.namespace, e.data
            ));
            async {}.boxed()
        });
        if lifecycle_of_the_connection {
            // The crate sends these to every namespace with a handler: one namespace reports them.
            client.on_ns(ns, SYS_RECONNECT_ATTEMPT, |e: IncomingEvent| {
                report(json!({"event": "reconnect_attempt", "attempt": e.data}));
                async {}.boxed()
            });
            client.on_ns(ns, SYS_RECONNECT, |e: IncomingEvent| {
                report(json!({"event": "reconnect", "attempt": e.data}));
                async {}.boxed()
            });
            client.on_ns(ns, SYS_CLOSED, |_e: IncomingEvent| {
                report(json!({"event": "reconnect_failed"}));
                async {}.boxed()
            });
        }
        let mut names: Vec<String> = vec!["echo".to_owned()];
        for name in &self.settings.events {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        for name in names {
            let sender = self.client.clone();
            let event_name = name.clone();
            client.on_ns(ns, &name, move |e: IncomingEvent| {
                let sender = sender.clone();
                let name = event_name.clone();
                async move { on_event(&sender, &name, e).await }.boxed()
            });
        }
    }

    fn start(&self) {
        if self.settings.auth.as_ref().is_some_and(contains_binary) {
            unsupported("binary auth");
            return;
        }
        self.register(&self.settings.namespace, true);
        if self.settings.namespace != "/" {
            // The crate connects `/` too: its reports come as well.
            self.register("/", false);
        }
        let mut client = self.client.clone();
        let reconnection = self.settings.reconnection;
        let handle = tokio::spawn(async move {
            if reconnection {
                client.run_with_reconnect().await;
            } else if let Err(error) = client.connect().await {
                report(json!({"event": "connect_error", "namespace": "/",
                              "message": error.to_string(), "data": null}));
            }
        });
        if let Ok(mut runner) = self.runner.lock() {
            *runner = Some(handle);
        }
    }

    async fn emit(&self, cue: &Value) {
        let cue_id = cue.get("id").cloned().unwrap_or(Value::Null);
        let ns = cue
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("/")
            .to_owned();
        let event = cue
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if cue.get("volatile").and_then(Value::as_bool) == Some(true) {
            unsupported("volatile");
            return;
        }
        let args = cue
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some((json_args, attachments)) = split_binary(&args) else {
            unsupported("mixed binary");
            return;
        };
        let timeout = cue
            .get("timeout")
            .and_then(Value::as_u64)
            .map(Duration::from_millis)
            .or(self.settings.ack_timeout);
        let wants_ack = cue.get("ack").and_then(Value::as_bool) == Some(true) || timeout.is_some();
        let client = self.client.clone();
        if !wants_ack {
            let sent = if attachments.is_empty() {
                client.emit_args_ns(&ns, &event, json_args).await
            } else {
                client
                    .emit_binary_ns(&ns, &event, json_args, attachments)
                    .await
            };
            if let Err(error) = sent {
                report(json!({"event": "cue_error", "cue": cue_id, "message": error.to_string()}));
            }
            return;
        }
        if attachments.is_empty() && json_args.len() != 1 {
            unsupported("ack arguments");
            return;
        }
        let timeout = timeout.unwrap_or(NO_ACK_TIMEOUT);
        tokio::spawn(async move {
            let answer = if attachments.is_empty() {
                let only = json_args.into_iter().next().unwrap_or(Value::Null);
                client.emit_with_ack_ns(&ns, &event, only, timeout).await
            } else {
                client
                    .emit_binary_with_ack_ns(&ns, &event, json_args, attachments, timeout)
                    .await
            };
            match answer {
                Ok(Value::Array(args)) => report(json!({"event": "ack", "cue": cue_id,
                                  "args": args.iter().map(to_pipe).collect::<Vec<_>>()})),
                Ok(other) => {
                    report(json!({"event": "ack", "cue": cue_id, "args": [to_pipe(&other)]}))
                }
                Err(error) => report(
                    json!({"event": "ack_error", "cue": cue_id, "message": error.to_string()}),
                ),
            }
        });
    }

    async fn handle(&self, line: &str) {
        let cue: Value = match serde_json::from_str(line) {
            Ok(cue @ Value::Object(_)) => cue,
            _ => {
                log(&format!("not a cue, ignored: {line}"));
                return;
            }
        };
        let ns = cue
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("/")
            .to_owned();
        match cue.get("cue").and_then(Value::as_str) {
            Some("emit") => self.emit(&cue).await,
            Some("connect") => {
                let is_connected = self
                    .connected
                    .lock()
                    .map(|c| c.contains(&ns))
                    .unwrap_or(false);
                if is_connected {
                    return;
                }
                let auth = cue.get("auth").cloned();
                if auth.as_ref().is_some_and(contains_binary) {
                    unsupported("binary auth");
                    return;
                }
                self.register(&ns, false);
                if let Err(error) = self.client.connect_additional_ns(&ns, auth).await {
                    report(json!({"event": "cue_error", "cue": cue.get("id"),
                                  "message": error.to_string()}));
                }
            }
            Some("disconnect") => {
                if let Err(error) = self.client.disconnect_ns(&ns).await {
                    log(&format!("disconnect of {ns} failed: {error}"));
                }
            }
            Some("close") => self.close().await,
            other => unsupported(&format!("cue {}", other.unwrap_or("(none)"))),
        }
    }

    /// Stops the reconnection loop, leaves every connected namespace (a DISCONNECT each, as
    /// the contract's "closes every socket"), then closes the connection (the crate's close()).
    async fn close(&self) {
        if let Some(runner) = self.runner.lock().ok().and_then(|mut r| r.take()) {
            runner.abort();
        }
        let namespaces: Vec<String> = self
            .connected
            .lock()
            .map(|mut c| c.drain().collect())
            .unwrap_or_default();
        for ns in &namespaces {
            if let Err(error) = self.client.disconnect_ns(ns).await {
                log(&format!("disconnect_ns({ns}) failed: {error}"));
            }
        }
        let _ = self.client.close().await;
        for ns in namespaces {
            report(
                json!({"event": "disconnect", "namespace": ns, "reason": "io client disconnect"}),
            );
        }
    }
}

/// An event the adapter registered: reported, echoed when it is `echo`, acknowledged when asked.
async fn on_event(client: &SocketIOClient, name: &str, event: IncomingEvent) {
    let args = event_args(&event);
    let mut line =
        json!({"event": "event", "namespace": event.namespace, "name": name, "args": args});
    if event.ack_id.is_some() {
        line["ack"] = Value::Bool(true);
    }
    report(line);
    if name == "echo" {
        match split_binary(&args) {
            Some((json_args, attachments)) if attachments.is_empty() => {
                let _ = client
                    .emit_args_ns(&event.namespace, "echo-back", json_args)
                    .await;
            }
            Some((json_args, attachments)) => {
                let _ = client
                    .emit_binary_ns(&event.namespace, "echo-back", json_args, attachments)
                    .await;
            }
            None => log("echo-back: its binary arguments are not all at the end, not sent"),
        }
    }
    if let Some(id) = event.ack_id {
        if args.iter().any(contains_binary) {
            log("the crate's ack carries no binary: not acknowledged");
        } else if let Err(error) = client
            .send_ack(&event.namespace, id, Value::Array(args))
            .await
        {
            log(&format!("ack failed: {error}"));
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    log(&format!(
        "socket_io_client 0.4 adapter, case {}",
        std::env::var("SIO_CASE").unwrap_or_default()
    ));
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            log(&error);
            std::process::exit(2);
        }
    };
    let adapter = Adapter::new(settings);
    adapter.start();
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) if line.trim().is_empty() => {}
            Ok(Some(line)) => adapter.handle(line.trim()).await,
            Ok(None) | Err(_) => break,
        }
    }
    let _ = tokio::time::timeout(Duration::from_millis(200), adapter.close()).await;
    std::process::exit(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_arguments_must_close_the_list() {
        let bin = json!({"$binary": "AQI="});
        let (json_args, attachments) = split_binary(&[json!(1), bin.clone()]).expect("trailing");
        assert_eq!((json_args, attachments), (vec![json!(1)], vec![vec![1, 2]]));
        assert!(split_binary(&[bin.clone(), json!(1)]).is_none());
        assert!(split_binary(&[json!({"nested": bin})]).is_none());
    }

    #[test]
    fn the_crate_s_binary_objects_become_the_pipe_s() {
        assert_eq!(
            to_pipe(&json!([{"binary": "AQI="}, {"binary": 1}])),
            json!([{"$binary": "AQI="}, {"binary": 1}])
        );
    }
}
