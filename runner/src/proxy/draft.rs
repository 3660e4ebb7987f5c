//! `--record DIR`: each observed session as draft scenarios, to edit into cases.
//!
//! Two files per session, named after its order among the sessions (`session-1`):
//!
//! - `DIR/recorded/session-1.yaml`, role `server`: the engine plays the observed client. The
//!   handshake is an `open:` step over the observed transport (`polling`, `websocket`, or
//!   `upgrade` for a session that upgraded); each client packet is a `send` (a binary packet
//!   and its attachments one list); each run of server packets one `receive` (in any order
//!   when it has several text packets); a session the server ended ends with `closed:`.
//! - `DIR/client/recorded/session-1.yaml`, role `client`: the engine plays the observed
//!   server. `accept:` answers the handshake, `answer_connect:` each CONNECT, the server's
//!   other packets are `send`s and the client's `receive`s.
//!
//! What changes from one session to the next is captured, not written: the sid becomes
//! `${client.sid}` (`${sid}` in the client draft); a namespace's socket id is captured from
//! the server's CONNECT answer (`$capture: socket`, `socket_admin` for `/admin`) and written
//! as that variable wherever it appears later; an ack id the server chose is captured from
//! its EVENT (`ack1`, …) and written as a variable in the client's ACK. Heartbeat packets,
//! probes, the upgrade packet and noops are left out: the engine's session deals with them
//! (`heartbeat: auto`). The drafts are `level: implementation` and cover the requirement of
//! the exchange they show; a reviewer replaces the title, level and `covers` with the
//! requirement a case is meant to check. A packet whose text contains `${` would be read as
//! a variable when the draft runs: it is kept as observed, for the reviewer to rewrite.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Map, Value};
use sio_suite::engine::WireData;
use sio_suite::protocol::socket_io::{self, PacketType as SioType};

use super::journal::{Entry, EntryKind, Side};
use super::monitor::SessionInfo;

/// A packet of the session as the drafts see it.
#[derive(Debug, Clone)]
struct Observed {
    from: Side,
    kind: String,
    wire: WireData,
}

/// The drafts of a session: the server-role and client-role scenario, as YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drafts {
    /// The server-role draft's id and YAML.
    pub server: (String, String),
    /// The client-role draft's id and YAML.
    pub client: (String, String),
}

/// Writes the drafts of every session under `dir`; returns the files written.
pub fn write_drafts(
    dir: &Path,
    sessions: &[SessionInfo],
    entries: &[Entry],
) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (index, session) in sessions.iter().enumerate() {
        let drafts = drafts(&format!("session-{}", index + 1), session, entries);
        for (id, yaml) in [drafts.server, drafts.client] {
            let path = dir.join(format!("{id}.yaml"));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, yaml)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// The drafts of one session, named `name`.
pub fn drafts(name: &str, session: &SessionInfo, entries: &[Entry]) -> Drafts {
    let packets: Vec<Observed> = entries
        .iter()
        .filter(|entry| entry.sid.as_deref() == Some(session.sid.as_str()))
        .filter_map(|entry| match (&entry.kind, entry.from) {
            (EntryKind::Packet { packet, wire }, Some(from)) => Some(Observed {
                from,
                kind: packet.clone(),
                wire: wire.clone(),
            }),
            _ => None,
        })
        .filter(|packet| !is_session_machinery(session, packet))
        .collect();
    let server_ended = server_ended(session, entries);
    let server_id = format!("recorded/{name}");
    let client_id = format!("client/recorded/{name}");
    Drafts {
        server: (
            server_id.clone(),
            to_yaml(&server_draft(&server_id, session, &packets, server_ended)),
        ),
        client: (
            client_id.clone(),
            to_yaml(&client_draft(&client_id, session, &packets, server_ended)),
        ),
    }
}

/// The packets the engine's session handles by itself: the open packet, the heartbeat, the
/// upgrade's probe, `5` and noops.
fn is_session_machinery(session: &SessionInfo, packet: &Observed) -> bool {
    let text = match &packet.wire {
        WireData::Text(text) => text.as_str(),
        WireData::Binary(_) => return false,
    };
    let pinger = if session.eio == 3 {
        Side::Client
    } else {
        Side::Server
    };
    match packet.kind.as_str() {
        "open" | "upgrade" | "noop" => true,
        "ping" => text == "2probe" || packet.from == pinger,
        "pong" => text == "3probe" || packet.from == pinger.peer(),
        _ => false,
    }
}

/// Whether the server ended the session: a close packet, or the close or end of its
/// WebSocket, before the client closed anything.
fn server_ended(session: &SessionInfo, entries: &[Entry]) -> bool {
    for entry in entries
        .iter()
        .filter(|entry| entry.sid.as_deref() == Some(session.sid.as_str()))
    {
        match (&entry.kind, entry.from) {
            (EntryKind::Packet { packet, .. }, Some(from)) if packet == "close" => {
                return from == Side::Server
            }
            (EntryKind::Close { .. } | EntryKind::Ended { .. }, Some(from)) => {
                return from == Side::Server
            }
            _ => {}
        }
    }
    false
}

fn transport(session: &SessionInfo) -> &'static str {
    if session.upgraded {
        "upgrade"
    } else if session.opened_over == "websocket" {
        "websocket"
    } else {
        "polling"
    }
}

/// The metadata both drafts share.
fn metadata(id: &str, role: &str, session: &SessionInfo) -> Map<String, Value> {
    let mut scenario = Map::new();
    scenario.insert("id".into(), json!(id));
    scenario.insert(
        "title".into(),
        json!(format!(
            "Recorded {} exchange on {} (draft)",
            if session.socket_io {
                "Socket.IO"
            } else {
                "Engine.IO"
            },
            session.path
        )),
    );
    scenario.insert("level".into(), json!("implementation"));
    scenario.insert("role".into(), json!(role));
    let covers = if session.socket_io {
        "SIO5-EXCHANGE-AFTER-CONNECT"
    } else if session.eio == 3 {
        "EIO3-OPEN"
    } else {
        "EIO4-MESSAGE"
    };
    scenario.insert("covers".into(), json!([covers]));
    if session.socket_io {
        let endpoint = if session.path.contains("recovery") {
            "socket.io-recovery"
        } else {
            "socket.io"
        };
        scenario.insert("endpoint".into(), json!(endpoint));
    }
    if session.eio == 3 {
        scenario.insert("eio".into(), json!([3]));
    }
    scenario.insert("transports".into(), json!([transport(session)]));
    scenario.insert(
        "note".into(),
        json!(format!(
            "Recorded by `sio-conformance proxy` from one session on {} (Engine.IO {}, over {}). \
             A draft: name the requirement it checks in `covers`, and its level.",
            session.path,
            session.eio,
            transport(session)
        )),
    );
    scenario
}

/// The variables a draft writes instead of the session's changing values.
#[derive(Debug, Default)]
struct Substitutions {
    /// Value on the wire → `${name}`.
    values: Vec<(String, String)>,
    /// Server ack ids → the variable that captured them.
    server_acks: HashMap<u64, String>,
}

impl Substitutions {
    fn add(&mut self, value: &str, variable: &str) {
        if !value.is_empty() {
            self.values
                .push((value.to_owned(), format!("${{{variable}}}")));
            // Longer values first, so that one containing another is replaced whole.
            self.values
                .sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
        }
    }

    fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, variable) in &self.values {
            out = out.replace(value.as_str(), variable);
        }
        out
    }

    fn json(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(text)),
            Value::Array(items) => Value::Array(items.iter().map(|item| self.json(item)).collect()),
            Value::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(key, item)| (key.clone(), self.json(item)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The name of the variable of a namespace's socket id.
fn socket_variable(nsp: &str) -> String {
    if nsp == socket_io::MAIN_NAMESPACE {
        return "socket".to_owned();
    }
    let name: String = nsp
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("socket{name}")
}

fn data_value(wire: &WireData, substitutions: &Substitutions) -> Value {
    match wire {
        WireData::Text(text) => json!(substitutions.text(text)),
        WireData::Binary(bytes) => {
            json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) })
        }
    }
}

/// A Socket.IO packet of an Engine.IO message, when it is one.
fn socket_io_packet(wire: &WireData) -> Option<socket_io::Packet> {
    match wire {
        WireData::Text(text) => socket_io::decode_message(text).ok(),
        WireData::Binary(_) => None,
    }
}

/// Steps grouped: a run of packets from one side, split where a send starts anew.
fn runs(packets: &[Observed]) -> Vec<(Side, Vec<&Observed>)> {
    let mut runs: Vec<(Side, Vec<&Observed>)> = Vec::new();
    let mut attachments_due = 0u64;
    for packet in packets {
        let continues = match runs.last() {
            Some((side, _)) if *side != packet.from => false,
            Some((Side::Server, _)) => true,
            // A client's packets are one send each, with the attachments of a binary one.
            Some((Side::Client, _)) => {
                attachments_due > 0 && matches!(packet.wire, WireData::Binary(_))
            }
            None => false,
        };
        if matches!(packet.wire, WireData::Binary(_)) {
            attachments_due = attachments_due.saturating_sub(1);
        } else {
            attachments_due = socket_io_packet(&packet.wire)
                .and_then(|packet| packet.attachments)
                .unwrap_or(0);
        }
        match runs.last_mut() {
            Some((_, run)) if continues => run.push(packet),
            _ => runs.push((packet.from, vec![packet])),
        }
    }
    runs
}

/// The server-role draft: the engine plays the client.
fn server_draft(
    id: &str,
    session: &SessionInfo,
    packets: &[Observed],
    server_ended: bool,
) -> Value {
    let mut scenario = metadata(id, "server", session);
    let mut substitutions = Substitutions::default();
    substitutions.add(&session.sid, "client.sid");
    let mut steps = vec![json!({ "open": null })];
    let mut acks = 0;
    for (side, run) in runs(packets) {
        match side {
            Side::Client => {
                let items: Vec<Value> = run
                    .iter()
                    .map(|packet| client_send(packet, &substitutions))
                    .collect();
                steps.push(json!({ "send": one_or_list(items) }));
            }
            Side::Server => {
                let mut matchers = Vec::new();
                for packet in &run {
                    if server_ended && packet.kind == "close" {
                        continue;
                    }
                    matchers.push(server_matcher(packet, &mut substitutions, &mut acks));
                }
                if !matchers.is_empty() {
                    steps.push(receive_step(matchers, &run));
                }
            }
        }
    }
    if server_ended {
        steps.push(json!({ "closed": null }));
    }
    scenario.insert("steps".into(), Value::Array(steps));
    Value::Object(scenario)
}

/// What the client sent, as a `send` item: its text (with the server's ack ids as the
/// variables that captured them), or its bytes.
fn client_send(packet: &Observed, substitutions: &Substitutions) -> Value {
    if let (WireData::Text(text), Some(sio)) = (&packet.wire, socket_io_packet(&packet.wire)) {
        if let (SioType::Ack | SioType::BinaryAck, Some(id)) = (sio.kind, sio.id) {
            if let Some(variable) = substitutions.server_acks.get(&id) {
                if let Some(rewritten) = replace_id(text, &sio, &format!("${{{variable}}}")) {
                    return json!(substitutions.text(&rewritten));
                }
            }
        }
    }
    data_value(&packet.wire, substitutions)
}

/// `text` (an Engine.IO message carrying `packet`) with its ack id written as `id`.
fn replace_id(text: &str, packet: &socket_io::Packet, id: &str) -> Option<String> {
    let mut start = 2; // `4` and the Socket.IO type.
    if let Some(count) = packet.attachments {
        start += count.to_string().len() + 1;
    }
    if packet.nsp != socket_io::MAIN_NAMESPACE {
        start += packet.nsp.len() + 1;
    }
    let digits = packet.id?.to_string();
    let rest = text.get(start..)?.strip_prefix(digits.as_str())?;
    Some(format!("{}{id}{rest}", text.get(..start)?))
}

/// What the server sent, as a matcher: exact text, except a CONNECT answer (its socket id
/// captured) and an EVENT asking for an ack (its id captured).
fn server_matcher(packet: &Observed, substitutions: &mut Substitutions, acks: &mut usize) -> Value {
    let Some(sio) = socket_io_packet(&packet.wire) else {
        return data_value(&packet.wire, substitutions);
    };
    let mut fields = Map::new();
    fields.insert("type".into(), json!(sio.kind.number()));
    if let Some(count) = sio.attachments {
        fields.insert("attachments".into(), json!(count));
    }
    if sio.nsp != socket_io::MAIN_NAMESPACE {
        fields.insert("nsp".into(), json!(sio.nsp));
    }
    match (sio.kind, &sio.data) {
        (SioType::Connect, Some(Value::Object(data)))
            if data.get("sid").is_some_and(Value::is_string) =>
        {
            let variable = socket_variable(&sio.nsp);
            let mut matcher = Map::new();
            for (key, value) in data {
                if key == "sid" {
                    matcher.insert(
                        key.clone(),
                        json!({ "$capture": variable, "$match": "$string" }),
                    );
                } else {
                    matcher.insert(key.clone(), json!(type_wildcard(value)));
                }
            }
            matcher.insert("$extra".into(), json!(true));
            if let Some(socket) = data.get("sid").and_then(Value::as_str) {
                substitutions.add(socket, &variable);
            }
            fields.insert("data".into(), Value::Object(matcher));
        }
        (SioType::Event | SioType::BinaryEvent, data) if sio.id.is_some() => {
            *acks += 1;
            let variable = format!("ack{acks}");
            if let Some(id) = sio.id {
                substitutions.server_acks.insert(id, variable.clone());
            }
            fields.insert(
                "id".into(),
                json!({ "$capture": variable, "$match": "$integer" }),
            );
            if let Some(data) = data {
                fields.insert("data".into(), substitutions.json(data));
            }
        }
        _ => return data_value(&packet.wire, substitutions),
    }
    json!({ "sio": Value::Object(fields) })
}

/// The wildcard of a value's JSON type (`$string`, `$number`, …), for the parts of a CONNECT
/// answer that change from session to session (a recovery `pid`).
fn type_wildcard(value: &Value) -> &'static str {
    match value {
        Value::Null => "$null",
        Value::Bool(_) => "$boolean",
        Value::Number(_) => "$number",
        Value::String(_) => "$string",
        Value::Array(_) => "$array",
        Value::Object(_) => "$object",
    }
}

fn one_or_list(mut items: Vec<Value>) -> Value {
    if items.len() == 1 {
        items.remove(0)
    } else {
        Value::Array(items)
    }
}

/// A `receive` of several packets is in order when it has binary data (attachments follow
/// their packet), in any order otherwise (a server's packets of one moment may race).
fn receive_step(matchers: Vec<Value>, run: &[&Observed]) -> Value {
    let several = matchers.len() > 1;
    let binary = run
        .iter()
        .any(|packet| matches!(packet.wire, WireData::Binary(_)));
    let mut step = Map::new();
    step.insert("receive".into(), one_or_list(matchers));
    if several && !binary {
        step.insert("any_order".into(), json!(true));
    }
    Value::Object(step)
}

/// The client-role draft: the engine plays the server.
fn client_draft(
    id: &str,
    session: &SessionInfo,
    packets: &[Observed],
    server_ended: bool,
) -> Value {
    let mut scenario = metadata(id, "client", session);
    let mut server = Map::new();
    for (name, value) in [
        ("pingInterval", session.ping_interval),
        ("pingTimeout", session.ping_timeout),
        ("maxPayload", session.max_payload),
    ] {
        if let Some(value) = value {
            server.insert(name.into(), json!(value));
        }
    }
    let mut substitutions = Substitutions::default();
    substitutions.add(&session.sid, "sid");
    let mut steps = vec![json!({ "accept": null })];
    let mut first_namespace = None;
    for (side, run) in runs(packets) {
        match side {
            Side::Client => {
                let mut items = Vec::new();
                for packet in run {
                    match socket_io_packet(&packet.wire) {
                        Some(sio) if sio.kind == SioType::Connect => {
                            first_namespace.get_or_insert_with(|| sio.nsp.clone());
                            if !items.is_empty() {
                                steps.push(
                                    json!({ "receive": one_or_list(std::mem::take(&mut items)) }),
                                );
                            }
                            steps.push(json!({ "answer_connect": sio.nsp }));
                        }
                        _ => items.push(data_value(&packet.wire, &substitutions)),
                    }
                }
                if !items.is_empty() {
                    steps.push(json!({ "receive": one_or_list(items) }));
                }
            }
            Side::Server => {
                let mut items = Vec::new();
                for packet in run {
                    let sio = socket_io_packet(&packet.wire);
                    if let Some(sio) = sio.filter(|sio| sio.kind == SioType::Connect) {
                        // `answer_connect` answered it, with a socket id of its own.
                        if let Some(socket) = sio
                            .data
                            .as_ref()
                            .and_then(|data| data.get("sid"))
                            .and_then(Value::as_str)
                        {
                            let variable = if sio.nsp == socket_io::MAIN_NAMESPACE {
                                "socket".to_owned()
                            } else {
                                format!("socket{}", sio.nsp)
                            };
                            substitutions.add(socket, &variable);
                        }
                        continue;
                    }
                    if server_ended && packet.kind == "close" {
                        continue;
                    }
                    items.push(data_value(&packet.wire, &substitutions));
                }
                if !items.is_empty() {
                    steps.push(json!({ "send": one_or_list(items) }));
                }
            }
        }
    }
    if server_ended {
        steps.push(json!({ "close": "packet" }));
    }
    if session.socket_io {
        if let Some(namespace) = first_namespace {
            scenario.insert("client".into(), json!({ "namespace": namespace }));
        }
    }
    if !server.is_empty() {
        scenario.insert("server".into(), Value::Object(server));
    }
    scenario.insert("steps".into(), Value::Array(steps));
    Value::Object(scenario)
}

fn to_yaml(value: &Value) -> String {
    let body = yaml_serde::to_string(value)
        .unwrap_or_else(|error| format!("# cannot write the draft: {error}\n"));
    format!("# A draft recorded by `sio-conformance proxy --record`: review before use.\n{body}")
}
