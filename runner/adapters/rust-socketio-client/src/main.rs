//! The conformance suite's client adapter for the `rust_socketio` crate 0.6 (its `async` API),
//! following `docs/client-contract.md`.
//!
//! The runner starts this program once per case. It connects on its own from the settings in its
//! environment (see [`settings`]), mirrors what the server sends, obeys the cues that arrive on
//! standard input (one JSON object a line) and reports on standard output (one JSON object a
//! line), binary values as `{"$binary": "<base64>"}` (see [`pipe`]).
//!
//! What rust_socketio 0.6 lets an application see and do, and so what this adapter can report:
//!
//! - `connect`: the crate's `Connect` callback, on the server's CONNECT. It carries no socket id
//!   (the crate drops the CONNECT's payload), so the report has no `id`.
//! - `connect_error`: the crate's `Error` callback with `Received an ConnectError frame: <JSON>`
//!   for a refused CONNECT (message and data are taken from that JSON); a failed first connection
//!   is the error `ClientBuilder::connect` returns (the crate does not retry it).
//! - `disconnect`: the crate's `Close` callback, which it calls for the server's DISCONNECT only
//!   (reason `io server disconnect`); after a successful `disconnect()` of a cue the adapter
//!   reports `io client disconnect`. A lost transport has no callback of its own: the crate's
//!   `Error` callback tells it, and the adapter reports it as `disconnect` with reason
//!   `transport error` when the namespace was connected.
//! - `reconnect_attempt`: the crate calls `on_reconnect` at the start of each attempt; `reconnect`:
//!   the next `Connect` after an attempt; `reconnect_failed`: the crate's reconnection loop logs
//!   "Max reconnect attempts reached without success" (a `log` record, which a logger of this
//!   program watches for).
//! - `event`: the crate's `on_any` callback (events named `message` included). An event with
//!   binary gets the crate's reading of it: its first attachment alone as the only argument, and
//!   a name made of the packet's other text. The crate drops an event's ack id, so the report has
//!   no `ack` flag, and the mirror behaviour "acknowledge an event that asks for it" cannot be
//!   carried out (the profile does not declare `server-acks`).
//! - `ack` / `ack_error`: `emit_with_ack` always has a timeout in the crate, and the crate drops a
//!   late ack silently; the adapter reports `ack_error` when the timeout passes without the
//!   callback. Without a timeout in the cue or `ackTimeout`, the adapter gives one of a year.
//! - One namespace per client, each with its own Engine.IO connection: a `connect` cue for another
//!   namespace is `unsupported`; one for the adapter's namespace after it was disconnected builds
//!   a new client, as the official Manager opens a new connection once its last socket left.
//! - Emits: the crate's payload is a list of JSON values or one binary attachment, so a cue with
//!   binary among other arguments (or inside one) is `unsupported` (`what: "mixed binary"`), as is
//!   `volatile`, and so is an auth with binary (`what: "binary auth"`): the crate's auth is JSON
//!   text.

mod pipe;
mod settings;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use rust_socketio::asynchronous::{Client, ClientBuilder, ReconnectSettings};
use rust_socketio::{Event, Payload};
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;
use tokio::sync::{mpsc, Mutex};

use pipe::{log, report, unsupported};
use settings::Settings;

/// The message rust_socketio's reconnection loop logs when it gives up.
const GIVING_UP: &str = "Max reconnect attempts reached without success";
/// The ack timeout of an emit whose cue names none: the crate always needs one.
const NO_ACK_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);
/// How long the program waits for a polite disconnect once standard input ended.
const EXIT_GRACE: Duration = Duration::from_millis(200);

/// What the callbacks and the cue loop share.
struct Shared {
    settings: Settings,
    /// The reconnection attempt in progress, counted from 1 (0: none).
    attempt: AtomicU32,
    /// Whether the namespace is connected (a `Connect` came, no disconnect since).
    connected: AtomicBool,
    /// The current client, once `ClientBuilder::connect` returned one.
    client: Mutex<Option<Client>>,
}

/// A `log` logger that turns the crate's "giving up" record into `reconnect_failed` and passes
/// warnings and errors to standard error.
struct CrateLog;

static CRATE_LOG: CrateLog = CrateLog;
/// Set by the logger when the reconnection loop gave up, read by `on_reconnect` to count anew.
static GAVE_UP: AtomicBool = AtomicBool::new(false);

impl log::Log for CrateLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.target().starts_with("rust_socketio") || metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record) {
        if record.target().starts_with("rust_socketio") && record.args().to_string() == GIVING_UP {
            GAVE_UP.store(true, Ordering::SeqCst);
            report(json!({"event": "reconnect_failed"}));
        } else if record.level() <= log::Level::Warn {
            eprintln!("[{}] {}", record.target(), record.args());
        }
    }

    fn flush(&self) {}
}

impl Shared {
    fn namespace(&self) -> &str {
        &self.settings.namespace
    }

    /// The builder of a client for the adapter's namespace, with every callback the reports need.
    fn builder(self: &Arc<Self>, auth: Option<Value>) -> ClientBuilder {
        let s = &self.settings;
        let mut builder = ClientBuilder::new(s.address.clone())
            .namespace(s.namespace.clone())
            .transport_type(s.transport.clone());
        if let Some(auth) = auth {
            builder = builder.auth(auth);
        }
        if let Some(reconnect) = s.reconnect {
            builder = builder.reconnect(reconnect);
        }
        if let Some(attempts) = s.max_reconnect_attempts {
            builder = builder.max_reconnect_attempts(attempts);
        }
        if let Some((min, max)) = s.reconnect_delay {
            builder = builder.reconnect_delay(min, max);
        }
        for (name, value) in &s.headers {
            builder = builder.opening_header(name.clone(), value.clone());
        }

        let shared = Arc::clone(self);
        builder = builder.on(Event::Connect, move |_payload, _client| {
            let shared = Arc::clone(&shared);
            async move { shared.on_connect() }.boxed()
        });
        let shared = Arc::clone(self);
        builder = builder.on(Event::Close, move |_payload, _client| {
            let shared = Arc::clone(&shared);
            async move { shared.on_disconnect("io server disconnect") }.boxed()
        });
        let shared = Arc::clone(self);
        builder = builder.on(Event::Error, move |payload, _client| {
            let shared = Arc::clone(&shared);
            async move { shared.on_error(&payload) }.boxed()
        });
        let shared = Arc::clone(self);
        builder = builder.on_any(move |event, payload, client| {
            let shared = Arc::clone(&shared);
            async move { shared.on_event(event, payload, client).await }.boxed()
        });
        let shared = Arc::clone(self);
        builder.on_reconnect(move || {
            let shared = Arc::clone(&shared);
            async move {
                if GAVE_UP.swap(false, Ordering::SeqCst) {
                    shared.attempt.store(0, Ordering::SeqCst);
                }
                let attempt = shared.attempt.fetch_add(1, Ordering::SeqCst) + 1;
                report(json!({"event": "reconnect_attempt", "attempt": attempt}));
                ReconnectSettings::new()
            }
            .boxed()
        })
    }

    fn on_connect(&self) {
        self.connected.store(true, Ordering::SeqCst);
        report(json!({"event": "connect", "namespace": self.namespace()}));
        let attempt = self.attempt.swap(0, Ordering::SeqCst);
        if attempt > 0 {
            report(json!({"event": "reconnect", "attempt": attempt}));
        }
    }

    fn on_disconnect(&self, reason: &str) {
        if self.connected.swap(false, Ordering::SeqCst) {
            report(json!({"event": "disconnect", "namespace": self.namespace(), "reason": reason}));
        }
    }

    fn on_error(&self, payload: &Payload) {
        let text = match pipe::payload_args(payload).as_slice() {
            [Value::String(text)] => text.clone(),
            other => Value::Array(other.to_vec()).to_string(),
        };
        if let Some((message, data)) = pipe::refusal_fields(&text) {
            self.connected.store(false, Ordering::SeqCst);
            report(
                json!({"event": "connect_error", "namespace": self.namespace(),
                          "message": message, "data": data}),
            );
        } else {
            log(&format!("rust_socketio error: {text}"));
            // The crate's only sign of a lost transport while connected.
            self.on_disconnect("transport error");
        }
    }

    async fn on_event(&self, event: Event, payload: Payload, client: Client) {
        let args = pipe::payload_args(&payload);
        let name = event.as_str().to_owned();
        report(
            json!({"event": "event", "namespace": self.namespace(), "name": name, "args": args}),
        );
        if name == "echo" {
            if let Err(error) = client.emit("echo-back", payload).await {
                log(&format!("echo-back failed: {error}"));
            }
        }
    }

    /// Connects a new client (at start, or for a `connect` cue once the namespace left).
    async fn open(self: &Arc<Self>, auth: Option<Value>) {
        if auth.as_ref().is_some_and(pipe::contains_binary) {
            // The crate's auth is JSON text in the CONNECT packet: binary cannot be carried.
            unsupported("binary auth");
            return;
        }
        match self.builder(auth).connect().await {
            Ok(client) => *self.client.lock().await = Some(client),
            Err(error) => report(
                json!({"event": "connect_error", "namespace": self.namespace(),
                                        "message": error.to_string(), "data": null}),
            ),
        }
    }

    async fn emit(self: &Arc<Self>, cue: &Value) {
        let cue_id = cue.get("id").cloned().unwrap_or(Value::Null);
        let namespace = cue.get("namespace").and_then(Value::as_str).unwrap_or("/");
        let event = cue
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if namespace != self.namespace() {
            report(json!({"event": "cue_error", "cue": cue_id,
                          "message": format!("no socket for namespace {namespace}")}));
            return;
        }
        if cue.get("volatile").and_then(Value::as_bool) == Some(true) {
            unsupported("volatile");
            return;
        }
        let args = cue
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let payload = match pipe::cue_payload(&args) {
            Ok(payload) => payload,
            Err(pipe::PayloadError::MixedBinary) => {
                unsupported("mixed binary");
                return;
            }
        };
        let Some(client) = self.client.lock().await.clone() else {
            report(json!({"event": "cue_error", "cue": cue_id, "message": "not connected"}));
            return;
        };
        let timeout = cue
            .get("timeout")
            .and_then(Value::as_u64)
            .map(Duration::from_millis)
            .or(self.settings.ack_timeout);
        let wants_ack = cue.get("ack").and_then(Value::as_bool) == Some(true) || timeout.is_some();
        if !wants_ack {
            if let Err(error) = client.emit(event, payload).await {
                report(json!({"event": "cue_error", "cue": cue_id, "message": error.to_string()}));
            }
            return;
        }
        // The callback holds the sender; the crate drops the callback once the ack was handled
        // (or came too late), which closes the channel.
        let (sender, receiver) = mpsc::unbounded_channel::<Payload>();
        let callback = move |payload: Payload, _client: Client| {
            let _ = sender.send(payload);
            async {}.boxed()
        };
        let sent = client
            .emit_with_ack(event, payload, timeout.unwrap_or(NO_ACK_TIMEOUT), callback)
            .await;
        if let Err(error) = sent {
            report(json!({"event": "cue_error", "cue": cue_id, "message": error.to_string()}));
            return;
        }
        tokio::spawn(await_ack(cue_id, receiver, timeout));
    }

    async fn connect_cue(self: &Arc<Self>, cue: &Value) {
        let namespace = cue.get("namespace").and_then(Value::as_str).unwrap_or("/");
        if namespace != self.namespace() {
            // One namespace per client and per Engine.IO connection: no multiplexing.
            unsupported("connect");
            return;
        }
        if self.connected.load(Ordering::SeqCst) {
            return;
        }
        let auth = cue
            .get("auth")
            .cloned()
            .or_else(|| self.settings.auth.clone());
        let shared = Arc::clone(self);
        tokio::spawn(async move { shared.open(auth).await });
    }

    async fn disconnect(&self) {
        let client = self.client.lock().await.take();
        if let Some(client) = client {
            match client.disconnect().await {
                Ok(()) => self.on_disconnect("io client disconnect"),
                Err(error) => log(&format!("disconnect failed: {error}")),
            }
        }
    }

    async fn handle(self: &Arc<Self>, line: &str) {
        let cue: Value = match serde_json::from_str(line) {
            Ok(cue @ Value::Object(_)) => cue,
            _ => {
                log(&format!("not a cue, ignored: {line}"));
                return;
            }
        };
        match cue.get("cue").and_then(Value::as_str) {
            Some("emit") => self.emit(&cue).await,
            Some("connect") => self.connect_cue(&cue).await,
            Some("disconnect") => {
                let namespace = cue.get("namespace").and_then(Value::as_str).unwrap_or("/");
                if namespace == self.namespace() {
                    self.disconnect().await;
                }
            }
            Some("close") => self.disconnect().await,
            other => unsupported(&format!("cue {}", other.unwrap_or("(none)"))),
        }
    }
}

/// Reports a cued emit's ack, or its failure once the timeout passed without it.
async fn await_ack(
    cue_id: Value,
    mut receiver: mpsc::UnboundedReceiver<Payload>,
    timeout: Option<Duration>,
) {
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut payloads = Vec::new();
    loop {
        let next = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(next) => next,
                Err(_) if payloads.is_empty() => {
                    report(json!({"event": "ack_error", "cue": cue_id,
                                  "message": "operation has timed out"}));
                    return;
                }
                Err(_) => None,
            },
            None => receiver.recv().await,
        };
        match next {
            Some(payload) => payloads.push(payload),
            None => break,
        }
    }
    if payloads.is_empty() {
        // The crate dropped the callback uncalled: the ack came after its timeout.
        report(json!({"event": "ack_error", "cue": cue_id, "message": "operation has timed out"}));
    } else {
        report(json!({"event": "ack", "cue": cue_id, "args": pipe::ack_args(&payloads)}));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if log::set_logger(&CRATE_LOG).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
    log(&format!(
        "rust_socketio 0.6 async client adapter, case {}",
        std::env::var("SIO_CASE").unwrap_or_default()
    ));
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            log(&error.to_string());
            std::process::exit(2);
        }
    };
    let shared = Arc::new(Shared {
        attempt: AtomicU32::new(0),
        connected: AtomicBool::new(false),
        client: Mutex::new(None),
        settings,
    });

    let opener = Arc::clone(&shared);
    tokio::spawn(async move {
        let auth = opener.settings.auth.clone();
        opener.open(auth).await;
    });

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) if line.trim().is_empty() => {}
            Ok(Some(line)) => shared.handle(line.trim()).await,
            // The end of standard input (or a broken pipe): the case is over.
            Ok(None) | Err(_) => break,
        }
    }
    let _ = tokio::time::timeout(EXIT_GRACE, shared.disconnect()).await;
    // The crate's tasks may still wait on the network: leave without waiting for them.
    std::process::exit(0);
}
