//! The steps of a client-role case, where the engine plays the server against a client under
//! test (`docs/client-contract.md`). They add to the role-neutral steps (`send`, `receive`,
//! `silence`, `closed`, `wait`, and `ws_send`, `ws_receive`, `ws_silence`, `ws_close`,
//! `ws_closed` on a WebSocket the engine accepted), which mean the same from the engine's
//! side whichever role it plays: the engine sends, the engine receives.
//!
//! - `accept`: the client's Engine.IO handshake over the case's transport, answered with the
//!   open packet (and, for `upgrade`, the client's upgrade served);
//! - `answer_connect`: the client's Socket.IO CONNECT to a namespace, answered (or refused,
//!   or left unanswered);
//! - `cue` and `reports`: the client program's standard input and output;
//! - `close`: the engine ends the session;
//! - `http`, `ws_accept`, `no_request`: the raw wire, for cases about the requests themselves.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::duration::DurationExpr;
use super::pattern::Pattern;
use super::shorthand::{deserialize_shorthand, Shorthand};

/// What the client under test is told when the engine starts it (its `SIO_*` settings,
/// `docs/client-contract.md`), for a client-role scenario.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// The namespace it connects at start (`SIO_NAMESPACE`); `/` by default.
    pub namespace: Option<String>,
    /// The CONNECT payload at start (`SIO_AUTH`); none by default.
    pub auth: Option<Value>,
    /// Further options in the official client's names (`SIO_OPTIONS`).
    #[serde(default)]
    pub options: Map<String, Value>,
    /// The transports it is told (`SIO_TRANSPORTS`), in place of the variant's: for cases
    /// about the list itself, such as an empty one.
    pub transports: Option<Vec<HandshakeTransport>>,
}

/// The options the engine serves a client-role case with, announced in its open packet; by
/// default those of the server fixture contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerSettings {
    /// `pingInterval`, in ms.
    #[serde(default = "default_ping_interval")]
    pub ping_interval: u64,
    /// `pingTimeout`, in ms.
    #[serde(default = "default_ping_timeout")]
    pub ping_timeout: u64,
    /// `maxPayload`, in bytes (protocol 4 only).
    #[serde(default = "default_max_payload")]
    pub max_payload: u64,
}

fn default_ping_interval() -> u64 {
    300
}

fn default_ping_timeout() -> u64 {
    200
}

fn default_max_payload() -> u64 {
    1_000_000
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            ping_interval: default_ping_interval(),
            ping_timeout: default_ping_timeout(),
            max_payload: default_max_payload(),
        }
    }
}

/// What a client-role step does.
#[derive(Debug, Clone, PartialEq)]
pub enum ServingAction {
    /// Awaits the client's handshake on the case's transport and answers it with the open
    /// packet; for `upgrade`, also serves the client's upgrade. Captures `${sid}`.
    Accept(AcceptStep),
    /// Awaits the client's CONNECT to a namespace and answers it.
    AnswerConnect(AnswerConnectStep),
    /// Writes a cue on the client program's standard input.
    Cue(Value),
    /// Expects the client program's next reports of the given kinds, in order.
    Reports(Vec<Value>),
    /// Ends the session from the server's side.
    Close(CloseHow),
    /// Awaits the client's next request that belongs to no session, checks it, answers it.
    Http(HttpStep),
    /// Awaits the client's next WebSocket request that belongs to no session, checks it, and
    /// accepts or refuses it.
    WsAccept(WsAcceptStep),
    /// Expects no request that belongs to no session (a new handshake) for the duration.
    NoRequest(DurationExpr),
    /// From now on the session answers each polling POST that long after it arrives (its
    /// packets are taken at once); a POST that comes while another is unanswered breaks
    /// "a client MUST NOT have more than one active POST request" and ends the session.
    HoldPosts(DurationExpr),
    /// Expects no polling GET in the session for the duration: a client that paused its
    /// polling for an upgrade.
    NoPoll(DurationExpr),
}

impl ServingAction {
    /// The step's key, as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            ServingAction::Accept(_) => "accept",
            ServingAction::AnswerConnect(_) => "answer_connect",
            ServingAction::Cue(_) => "cue",
            ServingAction::Reports(_) => "reports",
            ServingAction::Close(_) => "close",
            ServingAction::Http(_) => "http",
            ServingAction::WsAccept(_) => "ws_accept",
            ServingAction::NoRequest(_) => "no_request",
            ServingAction::HoldPosts(_) => "hold_posts",
            ServingAction::NoPoll(_) => "no_poll",
        }
    }

    /// Whether the step uses the abstract session, and so needs a transport axis.
    pub fn uses_session(&self) -> bool {
        matches!(
            self,
            ServingAction::Accept(_)
                | ServingAction::AnswerConnect(_)
                | ServingAction::Close(_)
                | ServingAction::HoldPosts(_)
                | ServingAction::NoPoll(_)
        )
    }

    /// Whether the step waits for something, so that `within` applies.
    pub fn waits(&self) -> bool {
        matches!(
            self,
            ServingAction::Accept(_)
                | ServingAction::AnswerConnect(_)
                | ServingAction::Reports(_)
                | ServingAction::Http(_)
                | ServingAction::WsAccept(_)
        )
    }
}

/// What a request of the client must look like. Query parameters and headers are matched by
/// name; `null` means absent.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestExpect {
    /// The method.
    pub method: Option<String>,
    /// The path.
    pub path: Option<Pattern>,
    /// Query parameters by name.
    #[serde(default)]
    pub query: BTreeMap<String, Option<Pattern>>,
    /// Headers by case-insensitive name.
    #[serde(default)]
    pub headers: BTreeMap<String, Option<Pattern>>,
    /// The body.
    pub body: Option<Pattern>,
}

/// `accept`: the client's handshake.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptStep {
    /// More that the handshake request must show; by default it must carry `EIO` (the case's
    /// protocol), `transport` (the case's first transport), no `sid`, and go to the client's
    /// configured path.
    #[serde(default)]
    pub expect: RequestExpect,
    /// The open packet to answer with, as written (`0{…}`); by default the engine's, with a
    /// fresh sid, the upgrades the variant offers and the scenario's `server` options.
    pub open: Option<String>,
    /// The handshake is the client's reconnection attempt number `n` (from 1): it must come
    /// within the delay the client's declared backoff gives that attempt, counted from the
    /// step's start, with the scenario's `client.options`.
    pub attempt: Option<u32>,
    /// The transport the handshake must use, when it is not the variant's first one (a
    /// client that falls back to WebSocket after its polling handshake was refused).
    pub transport: Option<HandshakeTransport>,
    /// Whether the engine serves the client's upgrade (`upgrade` variant): `false` leaves the
    /// upgrade's WebSocket to the steps (`ws_accept`, then `ws_receive: 2probe`, …), for
    /// cases about the upgrade itself.
    pub upgrade: Option<bool>,
    /// Headers added to the answer of a polling handshake (a `Set-Cookie`, say); the answer
    /// of a WebSocket handshake carries none.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// The transport of a handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HandshakeTransport {
    /// A polling GET.
    Polling,
    /// A WebSocket.
    Websocket,
}

impl HandshakeTransport {
    /// The name, as in `SIO_TRANSPORTS`.
    pub fn as_str(self) -> &'static str {
        match self {
            HandshakeTransport::Polling => "polling",
            HandshakeTransport::Websocket => "websocket",
        }
    }
}

/// `answer_connect`: written short, a string is the namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerConnectStep {
    /// The namespace, `/` by default.
    pub namespace: String,
    /// The CONNECT's payload must match this JSON; any payload (or none) when absent.
    pub auth: Option<Value>,
    /// How to answer.
    pub answer: ConnectAnswer,
}

/// How the engine answers a CONNECT.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectAnswer {
    /// `40{"sid":"…"}` with a fresh socket id, captured as `${socket}` (`/`) or
    /// `${socket/admin}`; in protocol 3 (Socket.IO v4) a bare `40` / `40/admin,`.
    Accept,
    /// `44{…}`: the CONNECT_ERROR payload given (`{"message": …, "data": …}`).
    Refuse(Value),
    /// This exact text (such as `40` to a v5 client, as a 2.x server answers).
    Raw(String),
    /// No answer.
    Silent,
}

/// The full form of [`AnswerConnectStep`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerConnectFields {
    namespace: Option<String>,
    auth: Option<Value>,
    refuse: Option<Value>,
    answer: Option<String>,
    #[serde(default)]
    silent: bool,
}

impl Default for AnswerConnectStep {
    fn default() -> Self {
        AnswerConnectStep {
            namespace: "/".to_owned(),
            auth: None,
            answer: ConnectAnswer::Accept,
        }
    }
}

impl Shorthand for AnswerConnectStep {
    type Full = AnswerConnectFields;
    const EXPECTING: &'static str = "the namespace (such as \"/admin\"), or a map with \
                                     `namespace`, `auth`, and at most one of `refuse`, \
                                     `answer`, `silent`";

    fn from_text(text: String) -> Result<AnswerConnectStep, String> {
        AnswerConnectStep::from_full(AnswerConnectFields {
            namespace: Some(text),
            auth: None,
            refuse: None,
            answer: None,
            silent: false,
        })
    }

    fn from_full(fields: AnswerConnectFields) -> Result<AnswerConnectStep, String> {
        let namespace = fields.namespace.unwrap_or_else(|| "/".to_owned());
        if !namespace.starts_with('/') || namespace.contains(',') {
            return Err(format!(
                "a namespace starts with `/` and has no `,`: {namespace:?}"
            ));
        }
        let answer = match (fields.refuse, fields.answer, fields.silent) {
            (None, None, false) => ConnectAnswer::Accept,
            (Some(refusal), None, false) => ConnectAnswer::Refuse(refusal),
            (None, Some(raw), false) => ConnectAnswer::Raw(raw),
            (None, None, true) => ConnectAnswer::Silent,
            _ => return Err("at most one of `refuse`, `answer`, `silent`".to_owned()),
        };
        Ok(AnswerConnectStep {
            namespace,
            auth: fields.auth,
            answer,
        })
    }
}

deserialize_shorthand!(AnswerConnectStep);

/// The cues of the contract, and the key each is written with in a scenario.
const CUES: [(&str, &str); 4] = [
    ("emit", "event"),
    ("connect", "namespace"),
    ("disconnect", "namespace"),
    ("close", ""),
];

/// Turns a scenario's cue (`{emit: hello, args: [1], ack: true}`, `{disconnect: /}`,
/// `close`) into the contract's JSON line (`{"cue":"emit","event":"hello",…}`).
pub(crate) fn cue_from_yaml(value: Value) -> Result<Value, String> {
    let expecting = "a cue: `close`, or a map with one of `emit`, `connect`, `disconnect`";
    let mut fields = match value {
        Value::String(name) if name == "close" => return Ok(serde_json::json!({"cue": "close"})),
        Value::Object(fields) => fields,
        _ => return Err(expecting.to_owned()),
    };
    let found: Vec<_> = CUES
        .iter()
        .filter(|(name, _)| fields.contains_key(*name))
        .collect();
    let [(name, argument)] = found.as_slice() else {
        return Err(expecting.to_owned());
    };
    let mut cue = Map::new();
    cue.insert("cue".to_owned(), Value::from(*name));
    let value = fields.remove(*name).unwrap_or(Value::Null);
    if !argument.is_empty() {
        if !value.is_string() {
            return Err(format!("`{name}` takes the {argument}, a string"));
        }
        cue.insert((*argument).to_owned(), value);
    }
    let allowed: &[&str] = match *name {
        "emit" => &["args", "ack", "timeout", "volatile", "namespace", "id"],
        "connect" => &["auth"],
        _ => &[],
    };
    for (key, value) in fields {
        if !allowed.contains(&key.as_str()) {
            return Err(format!(
                "`{key}` does not go with `{name}` (it takes: {})",
                allowed.join(", ")
            ));
        }
        cue.insert(key, value);
    }
    if *name == "emit" && cue.get("ack") == Some(&Value::Bool(true)) && !cue.contains_key("id") {
        return Err("an emit with `ack` names itself with `id`, for its report".to_owned());
    }
    Ok(Value::Object(cue))
}

/// How the engine ends a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CloseHow {
    /// A close packet `1`, then the end of the transport.
    Packet,
    /// The end of the transport without a close packet: the held GET's connection ends
    /// without an answer, or the WebSocket's connection ends; later requests for the
    /// session get HTTP 400.
    Drop,
}

/// How the engine answers a raw request.
#[derive(Debug, Clone, PartialEq)]
pub enum Respond {
    /// An HTTP response.
    With(ResponseSpec),
    /// The connection ends without an answer.
    Drop,
}

/// An HTTP response to send.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    /// The status; 200 by default.
    pub status: Option<u16>,
    /// Headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body, as text.
    pub body: Option<String>,
}

impl<'de> Deserialize<'de> for Respond {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Word(String),
            Spec(ResponseSpec),
        }
        match Written::deserialize(deserializer)? {
            Written::Word(word) if word == "drop" => Ok(Respond::Drop),
            Written::Word(other) => Err(serde::de::Error::custom(format!(
                "`respond` is `drop` or a map with `status`, `headers`, `body`, not {other:?}"
            ))),
            Written::Spec(spec) => Ok(Respond::With(spec)),
        }
    }
}

/// `http`: the client's next request outside any session.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpStep {
    /// What it must look like.
    #[serde(default)]
    pub expect: RequestExpect,
    /// The answer.
    pub respond: Respond,
}

/// `ws_accept`: the client's next WebSocket request outside any session.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsAcceptStep {
    /// What the upgrade request must look like.
    #[serde(default)]
    pub expect: RequestExpect,
    /// Refuses it with this response instead of accepting it, or drops it.
    pub refuse: Option<Respond>,
    /// The WebSocket's name for `ws_*` steps; the actor's by default.
    #[serde(rename = "as")]
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cues_become_contract_lines() {
        assert_eq!(
            cue_from_yaml(json!({"emit": "hi", "args": [1], "ack": true, "id": "c1"})),
            Ok(json!({"cue": "emit", "event": "hi", "args": [1], "ack": true, "id": "c1"}))
        );
        assert_eq!(
            cue_from_yaml(json!({"disconnect": "/admin"})),
            Ok(json!({"cue": "disconnect", "namespace": "/admin"}))
        );
        assert_eq!(cue_from_yaml(json!("close")), Ok(json!({"cue": "close"})));
        assert!(cue_from_yaml(json!({"emit": "hi", "ack": true})).is_err());
        assert!(cue_from_yaml(json!({"emit": "hi", "auth": {}})).is_err());
        assert!(cue_from_yaml(json!({"emit": "a", "disconnect": "/"})).is_err());
    }
}
