//! The steps of a scenario: what the engine sends and what it expects, on behalf of a named
//! actor. A step's [`Action`] names its layer first ([`SessionAction`], [`HttpAction`],
//! [`WsAction`]).
//!
//! Three layers, which a scenario may mix:
//!
//! - the abstract Engine.IO session (`open`, `send`, `receive`, `silence`, `closed`), which
//!   the engine maps onto the case's transport (polling, WebSocket, or polling upgraded to
//!   WebSocket), so that a behaviour above the transport is written once; and on it, the
//!   Socket.IO `connect` to a namespace (a CONNECT packet and the server's CONNECT answer);
//! - raw HTTP (`request`, `response`, `pending`, `abort`), for cases about the polling wire
//!   itself, including requests left running in the background to be awaited (or aborted)
//!   later, in a declared order;
//! - raw WebSocket (`websocket`, `ws_send`, `ws_ping`, `ws_receive`, `ws_silence`,
//!   `ws_close`, `ws_closed`), for cases about frames, control frames and the upgrade.
//!
//! And `wait`, a deliberate pause (for the server to do something the wire cannot show).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::duration::DurationExpr;
use super::metadata::Level;
use super::pattern::{decode_base64, decode_hex, Pattern};
use super::serving::{
    cue_from_yaml, AcceptStep, AnswerConnectStep, CloseHow, HttpStep, ServingAction, WsAcceptStep,
};
use super::shorthand::{deserialize_shorthand, OneOrMany, Shorthand};

/// The actor of steps that name none.
pub const DEFAULT_ACTOR: &str = "client";

/// One step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Who takes the step: each actor has its own session, connections and WebSockets.
    pub actor: String,
    /// The level of this step's check, when it differs from the scenario's.
    pub level: Option<Level>,
    /// A remark for readers.
    pub note: Option<String>,
    /// For steps that wait for something: when it must happen, counted from the step's start.
    pub within: Option<Window>,
    /// For `receive`: the packets may come in any order.
    pub any_order: bool,
    /// What the step does.
    pub action: Action,
}

/// What a step does, by layer: a new step joins its layer's enum, and [`Action`] stays as it
/// is.
///
/// Sending and receiving are the engine's: `send` is what the engine sends and `receive` what
/// it receives, to and from the peer under test.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A step on the abstract Engine.IO session (and Socket.IO on it).
    Session(SessionAction),
    /// A raw HTTP step.
    Http(HttpAction),
    /// A raw WebSocket step.
    Ws(WsAction),
    /// `wait`: a pause, for the peer to do something unobservable (scaled by the time scale).
    Wait(DurationExpr),
    /// A step of a client-role case only, where the engine plays the server.
    Serving(ServingAction),
}

/// The steps on the abstract session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionAction {
    /// `open`: opens the actor's Engine.IO session over the case's transport (for `upgrade`: a
    /// polling handshake, then the probe and the upgrade). Captures `${<actor>.sid}`.
    Open(OpenStep),
    /// `connect`: connects the actor to a Socket.IO namespace on its session (opened first if
    /// the actor has none): sends a CONNECT packet and expects the server's CONNECT answer,
    /// whose `sid` it captures.
    Connect(ConnectStep),
    /// `send`: the engine sends packets on the session (over polling, in one payload).
    Send(Vec<Data>),
    /// `receive`: the next packets the engine receives on the session.
    Receive(Vec<Pattern>),
    /// `silence`: the engine receives no packet for the duration (not scaled: it is part of
    /// what is checked).
    Silence(DurationExpr),
    /// `closed`: the peer closes the session next.
    Closed,
    /// `drop`: the engine, as a client whose network went away, ends the actor's session on
    /// its side without a close packet: over polling it stops polling and closes the
    /// connection of its pending GET, over WebSocket it ends the TCP connection without a
    /// close frame. The actor may `open` (or `connect`) a new session afterwards.
    Drop,
}

/// The raw HTTP steps.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpAction {
    /// `request`: a raw HTTP request (boxed: it is much larger than the others).
    Request(Box<RequestStep>),
    /// `response`: awaits a request started in the background.
    Response(ResponseStep),
    /// `pending`: a background request is still unanswered after a while.
    Pending(PendingStep),
    /// `abort`: aborts a background request that is still unanswered: closes its connection.
    Abort(AbortStep),
}

/// The raw WebSocket steps.
#[derive(Debug, Clone, PartialEq)]
pub enum WsAction {
    /// `websocket`: opens a raw WebSocket.
    Open(WebsocketStep),
    /// `ws_send`: the engine sends a frame on a raw WebSocket.
    Send(WsSendStep),
    /// `ws_ping`: the engine sends a ping control frame on a raw WebSocket.
    Ping(WsPingStep),
    /// `ws_receive`: the next frame the engine receives on a raw WebSocket.
    Receive(WsReceiveStep),
    /// `ws_silence`: the engine receives no frame on a raw WebSocket for the duration.
    Silence(WsSilenceStep),
    /// `ws_close`: the engine sends a close frame on a raw WebSocket.
    Close(WsCloseStep),
    /// `ws_closed`: the peer closes a raw WebSocket next (close frame or end of the
    /// connection).
    Closed(WsClosedStep),
}

impl Action {
    /// The step's key, as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            Action::Session(action) => action.keyword(),
            Action::Http(action) => action.keyword(),
            Action::Ws(action) => action.keyword(),
            Action::Wait(_) => "wait",
            Action::Serving(action) => action.keyword(),
        }
    }

    /// Whether the step uses the abstract session, and so needs a transport axis.
    pub fn uses_session(&self) -> bool {
        match self {
            Action::Session(_) => true,
            Action::Serving(action) => action.uses_session(),
            _ => false,
        }
    }

    /// Whether the step is one of a client-role case only.
    pub fn is_serving(&self) -> bool {
        matches!(self, Action::Serving(_))
    }

    /// Whether the step plays the client, and so belongs to a server-role case only (the
    /// role-neutral steps, `send`, `receive`, `silence`, `closed`, `wait` and the `ws_*` ones
    /// but `ws_ping`, belong to both).
    pub fn is_client_side(&self) -> bool {
        matches!(
            self,
            Action::Session(
                SessionAction::Open(_) | SessionAction::Connect(_) | SessionAction::Drop
            ) | Action::Http(_)
                | Action::Ws(WsAction::Open(_) | WsAction::Ping(_))
        )
    }

    /// Whether the step waits for something, so that `within` applies.
    pub fn waits(&self) -> bool {
        match self {
            Action::Session(action) => action.waits(),
            Action::Http(action) => action.waits(),
            Action::Ws(action) => action.waits(),
            Action::Wait(_) => false,
            Action::Serving(action) => action.waits(),
        }
    }
}

impl SessionAction {
    /// The step's key, as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            SessionAction::Open(_) => "open",
            SessionAction::Connect(_) => "connect",
            SessionAction::Send(_) => "send",
            SessionAction::Receive(_) => "receive",
            SessionAction::Silence(_) => "silence",
            SessionAction::Closed => "closed",
            SessionAction::Drop => "drop",
        }
    }

    /// Whether the step waits for something, so that `within` applies.
    pub fn waits(&self) -> bool {
        matches!(
            self,
            SessionAction::Receive(_) | SessionAction::Connect(_) | SessionAction::Closed
        )
    }
}

impl HttpAction {
    /// The step's key, as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            HttpAction::Request(_) => "request",
            HttpAction::Response(_) => "response",
            HttpAction::Pending(_) => "pending",
            HttpAction::Abort(_) => "abort",
        }
    }

    /// Whether the step waits for something, so that `within` applies.
    pub fn waits(&self) -> bool {
        matches!(self, HttpAction::Request(_) | HttpAction::Response(_))
    }
}

impl WsAction {
    /// The step's key, as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            WsAction::Open(_) => "websocket",
            WsAction::Send(_) => "ws_send",
            WsAction::Ping(_) => "ws_ping",
            WsAction::Receive(_) => "ws_receive",
            WsAction::Silence(_) => "ws_silence",
            WsAction::Close(_) => "ws_close",
            WsAction::Closed(_) => "ws_closed",
        }
    }

    /// Whether the step waits for something, so that `within` applies.
    pub fn waits(&self) -> bool {
        matches!(
            self,
            WsAction::Open(_) | WsAction::Receive(_) | WsAction::Closed(_)
        )
    }
}

/// Data sent or received: a text packet or frame (with its type character), or binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// Text, such as `4hello`.
    Text(String),
    /// Binary bytes.
    Binary(Vec<u8>),
}

/// The full form of [`Data`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DataFields {
    text: Option<String>,
    base64: Option<String>,
    hex: Option<String>,
    repeat: Option<Repeat>,
}

/// Generated text: `text` written `times` times, after the data's own `text` (for bodies and
/// frames over a size limit, which no one writes out).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Repeat {
    text: String,
    times: usize,
}

/// The most bytes a `repeat` may generate.
const MOST_GENERATED_BYTES: usize = 64 * 1024 * 1024;

impl Repeat {
    fn after(self, prefix: String) -> Result<String, String> {
        let size = self.text.len().saturating_mul(self.times);
        if self.text.is_empty() || size > MOST_GENERATED_BYTES {
            return Err(format!(
                "`repeat` generates from 1 byte to {MOST_GENERATED_BYTES} bytes, not {size}"
            ));
        }
        Ok(prefix + &self.text.repeat(self.times))
    }
}

impl Shorthand for Data {
    type Full = DataFields;
    const EXPECTING: &'static str =
        "the text to send (such as \"4hello\"), or a map with one of `text`, `base64`, `hex` \
         (`text` may be followed by `repeat: {text, times}`)";

    fn from_text(text: String) -> Result<Data, String> {
        Ok(Data::Text(text))
    }

    fn from_full(fields: DataFields) -> Result<Data, String> {
        if let Some(repeat) = fields.repeat {
            return match (fields.base64, fields.hex) {
                (None, None) => repeat
                    .after(fields.text.unwrap_or_default())
                    .map(Data::Text),
                _ => Err("`repeat` goes with `text` only".to_owned()),
            };
        }
        match (fields.text, fields.base64, fields.hex) {
            (Some(text), None, None) => Ok(Data::Text(text)),
            (None, Some(base64), None) => decode_base64(&base64).map(Data::Binary),
            (None, None, Some(hex)) => decode_hex(&hex).map(Data::Binary),
            _ => Err("expected exactly one of `text`, `base64`, `hex`".to_owned()),
        }
    }
}

deserialize_shorthand!(Data);

/// When an awaited event must happen, counted from the start of the step. Written short, a
/// duration is the latest time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WindowFields {
    min: Option<DurationExpr>,
    max: Option<DurationExpr>,
}

/// A time window.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Not before this (never scaled: too early is wrong on any machine).
    pub min: Option<DurationExpr>,
    /// Not after this (scaled by the time scale).
    pub max: Option<DurationExpr>,
}

impl Shorthand for Window {
    type Full = WindowFields;
    const EXPECTING: &'static str = "the latest time (such as `pingInterval + 100ms`), or a map \
                                     with `min` and/or `max`";

    fn from_text(text: String) -> Result<Window, String> {
        Ok(Window {
            min: None,
            max: Some(DurationExpr::parse(&text)?),
        })
    }

    fn from_full(fields: WindowFields) -> Result<Window, String> {
        if fields.min.is_none() && fields.max.is_none() {
            return Err("a window needs `min`, `max` or both".to_owned());
        }
        Ok(Window {
            min: fields.min,
            max: fields.max,
        })
    }
}

deserialize_shorthand!(Window);

/// `open`: the Engine.IO handshake of the actor's session.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenStep {
    /// Extra query parameters for the handshake request, such as `foo=bar`.
    pub query: Option<String>,
    /// The JSON of the open packet, matched structurally; by default it must be an object
    /// with a string `sid` (and anything else).
    pub expect: Option<serde_json::Value>,
}

/// `connect`: a Socket.IO CONNECT to a namespace. Written short, a string is the namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectStep {
    /// The namespace, `/` by default; written out (`40/admin,`) unless it is `/`.
    pub namespace: String,
    /// The CONNECT payload (the handshake's `auth`), sent as JSON after the namespace; none by
    /// default.
    pub auth: Option<serde_json::Value>,
    /// The JSON of the CONNECT answer's payload, matched structurally; by default an object
    /// with a string `sid` (and anything else), captured. A scenario that gives its own
    /// captures what it names with `$capture`.
    pub expect: Option<serde_json::Value>,
    /// The variable the answer's `sid` goes to (without `expect`); by default
    /// `<actor>.socket` for `/` and `<actor>.socket<namespace>` (`client.socket/custom`) for
    /// the others.
    pub name: Option<String>,
}

impl Default for ConnectStep {
    fn default() -> Self {
        ConnectStep {
            namespace: "/".to_owned(),
            auth: None,
            expect: None,
            name: None,
        }
    }
}

impl ConnectStep {
    /// The variable that receives the Socket.IO sid, for `actor`.
    pub fn variable(&self, actor: &str) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None if self.namespace == "/" => format!("{actor}.socket"),
            None => format!("{actor}.socket{}", self.namespace),
        }
    }
}

/// The full form of [`ConnectStep`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectFields {
    namespace: Option<String>,
    auth: Option<serde_json::Value>,
    expect: Option<serde_json::Value>,
    #[serde(rename = "as")]
    name: Option<String>,
}

impl Shorthand for ConnectStep {
    type Full = ConnectFields;
    const EXPECTING: &'static str =
        "the namespace (such as \"/custom\"), or a map with `namespace`, `auth`, `expect`, `as`";

    fn from_text(text: String) -> Result<ConnectStep, String> {
        ConnectStep::from_full(ConnectFields {
            namespace: Some(text),
            auth: None,
            expect: None,
            name: None,
        })
    }

    fn from_full(fields: ConnectFields) -> Result<ConnectStep, String> {
        let namespace = fields.namespace.unwrap_or_else(|| "/".to_owned());
        if !namespace.starts_with('/') || namespace.contains(',') {
            return Err(format!(
                "a namespace starts with `/` and has no `,`: {namespace:?}"
            ));
        }
        Ok(ConnectStep {
            namespace,
            auth: fields.auth,
            expect: fields.expect,
            name: fields.name,
        })
    }
}

deserialize_shorthand!(ConnectStep);

/// Whether a raw request opens its own TCP connection or reuses the actor's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionMode {
    /// A new connection for this request (the default).
    #[default]
    Fresh,
    /// The actor's kept-alive connection, opened on first use.
    Keep,
}

/// `request`: a raw HTTP request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestStep {
    /// The method; `GET` by default.
    #[serde(default = "default_method")]
    pub method: String,
    /// The path; the scenario's endpoint path (such as `/engine.io/`) by default.
    pub path: Option<String>,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// Extra headers (`Host` is set unless given here).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body.
    pub body: Option<Data>,
    /// The whole request as raw text, written as is on a fresh connection (for malformed
    /// HTTP); replaces every other field but `as` and `expect`.
    pub raw: Option<String>,
    /// Which connection carries it.
    #[serde(default)]
    pub connection: ConnectionMode,
    /// Runs the request in the background under this name, to be awaited by `response`.
    #[serde(rename = "as")]
    pub name: Option<String>,
    /// What the response must be (not with `as`).
    pub expect: Option<ResponseExpect>,
    /// Sends the request again, this long after each response that does not meet `expect`,
    /// until one does or the step's deadline passes: for a state the server reaches on its
    /// own time (a session closed after its client went away). Needs `expect`.
    pub retry: Option<DurationExpr>,
}

fn default_method() -> String {
    "GET".to_owned()
}

/// What an HTTP response must look like.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseExpect {
    /// The status, or the statuses accepted.
    pub status: Option<StatusExpect>,
    /// Headers by name (case-insensitive); `null` means the header must be absent.
    #[serde(default)]
    pub headers: BTreeMap<String, Option<Pattern>>,
    /// The body.
    pub body: Option<Pattern>,
}

/// The expected status: one, or any of several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum StatusExpect {
    /// Exactly this status.
    One(u16),
    /// Any of these.
    AnyOf(Vec<u16>),
}

impl StatusExpect {
    /// Whether `status` is accepted.
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            StatusExpect::One(expected) => *expected == status,
            StatusExpect::AnyOf(expected) => expected.contains(&status),
        }
    }
}

/// `response`: awaits a background request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseStep {
    /// The name given with `as`.
    pub request: String,
    /// What the response must be.
    pub expect: Option<ResponseExpect>,
}

/// `pending`: a background request must still be unanswered.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingStep {
    /// The name given with `as`.
    pub request: String,
    /// How long it must stay unanswered (not scaled).
    #[serde(rename = "for")]
    pub duration: DurationExpr,
}

/// `abort`: closes the connection of a background request that is still unanswered, as a
/// client that gives up on it (a browser tab closed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbortStep {
    /// The name given with `as`.
    pub request: String,
}

/// `websocket`: opens a raw WebSocket.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebsocketStep {
    /// The path; the scenario's endpoint path by default.
    pub path: Option<String>,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// Extra headers for the upgrade request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The connection's name; the actor's name by default.
    #[serde(rename = "as")]
    pub name: Option<String>,
    /// Whether it must be accepted (the default) or rejected, or the response it must get.
    #[serde(default)]
    pub expect: WebsocketExpect,
    /// Ping and pong control frames from the server are queued with the data frames, so that
    /// `ws_receive` (`ping:`, `pong:`), `ws_silence` and `ws_closed` see them; by default they
    /// are only recorded in the transcript (RFC 6455 lets a peer send them at any time).
    #[serde(default)]
    pub control_frames: bool,
}

/// What must become of a WebSocket request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum WebsocketExpect {
    /// `accepted` or `rejected`.
    Outcome(WebsocketOutcome),
    /// The response: its status (101, accepted, by default) and headers.
    Response(WebsocketResponseExpect),
    /// `accepted` (the default when nothing is said).
    #[default]
    #[serde(skip)]
    Default,
}

/// The response to a WebSocket request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebsocketResponseExpect {
    /// The status: 101 (accepted, the default), or the status of a refusal.
    pub status: Option<u16>,
    /// Headers of that response by name (case-insensitive); `null`: absent.
    #[serde(default)]
    pub headers: BTreeMap<String, Option<Pattern>>,
}

/// The status of an accepted WebSocket request.
pub const SWITCHING_PROTOCOLS: u16 = 101;

/// The two outcomes of a WebSocket request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebsocketOutcome {
    /// `101 Switching Protocols`.
    Accepted,
    /// Refused with any non-101 status, or accepted and then closed before any data frame:
    /// either way the server closed the WebSocket connection.
    Rejected,
}

/// A raw WebSocket, by name; the actor's own by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsConnectionRef {
    /// The name given with `as` on `websocket`.
    pub on: Option<String>,
}

/// `ws_closed`: the server closes the WebSocket next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsClosedStep {
    /// The name given with `as` on `websocket`.
    pub on: Option<String>,
    /// An Engine.IO close packet `1` just before the close passes: for cases whose requirement
    /// is that the server closes, not how.
    #[serde(default)]
    pub allow_close_packet: bool,
    /// The close must be a close frame with this status code; 1005 is a close frame without
    /// one (RFC 6455 §7.1.5). A connection that ends without a close frame never meets it.
    pub code: Option<u16>,
}

/// `ws_send`: a frame. Written short, a string is a text frame on the actor's WebSocket.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WsSendFields {
    on: Option<String>,
    text: Option<String>,
    base64: Option<String>,
    hex: Option<String>,
    repeat: Option<Repeat>,
}

/// `ws_send`.
#[derive(Debug, Clone, PartialEq)]
pub struct WsSendStep {
    /// The WebSocket.
    pub on: Option<String>,
    /// The frame.
    pub data: Data,
}

impl Shorthand for WsSendStep {
    type Full = WsSendFields;
    const EXPECTING: &'static str =
        "the text frame to send, or a map with `on` and one of `text`, `base64`, `hex`";

    fn from_text(text: String) -> Result<WsSendStep, String> {
        Ok(WsSendStep {
            on: None,
            data: Data::Text(text),
        })
    }

    fn from_full(fields: WsSendFields) -> Result<WsSendStep, String> {
        let data = Data::from_full(DataFields {
            text: fields.text,
            base64: fields.base64,
            hex: fields.hex,
            repeat: fields.repeat,
        })?;
        Ok(WsSendStep {
            on: fields.on,
            data,
        })
    }
}

deserialize_shorthand!(WsSendStep);

/// The most application data a control frame may carry (RFC 6455 §5.5).
pub const MOST_CONTROL_PAYLOAD: usize = 125;

/// `ws_ping`: written short, a string is the text of the ping's application data.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WsPingFields {
    on: Option<String>,
    text: Option<String>,
    base64: Option<String>,
    hex: Option<String>,
}

/// `ws_ping`: a ping control frame (RFC 6455 §5.5.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WsPingStep {
    /// The WebSocket.
    pub on: Option<String>,
    /// The application data, at most 125 bytes; none by default.
    pub payload: Vec<u8>,
}

impl Shorthand for WsPingStep {
    type Full = WsPingFields;
    const EXPECTING: &'static str = "the text of the ping's application data, or a map with `on` \
                                     and at most one of `text`, `base64`, `hex`";

    fn from_text(text: String) -> Result<WsPingStep, String> {
        WsPingStep::from_full(WsPingFields {
            text: Some(text),
            ..WsPingFields::default()
        })
    }

    fn from_full(fields: WsPingFields) -> Result<WsPingStep, String> {
        let payload = match (fields.text, fields.base64, fields.hex) {
            (None, None, None) => Vec::new(),
            (Some(text), None, None) => text.into_bytes(),
            (None, Some(base64), None) => decode_base64(&base64)?,
            (None, None, Some(hex)) => decode_hex(&hex)?,
            _ => return Err("expected at most one of `text`, `base64`, `hex`".to_owned()),
        };
        if payload.len() > MOST_CONTROL_PAYLOAD {
            return Err(format!(
                "a control frame carries at most {MOST_CONTROL_PAYLOAD} bytes (RFC 6455 §5.5), \
                 not {}",
                payload.len()
            ));
        }
        Ok(WsPingStep {
            on: fields.on,
            payload,
        })
    }
}

deserialize_shorthand!(WsPingStep);

/// `ws_receive`: written short, the pattern of a frame on the actor's WebSocket.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WsReceiveFields {
    on: Option<String>,
    frame: Option<Pattern>,
    ping: Option<Pattern>,
    pong: Option<Pattern>,
    #[serde(default)]
    skip_noops: bool,
}

/// What `ws_receive` expects next: a data frame, or a control frame.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameExpect {
    /// A text or binary frame matching the pattern (binary patterns expect a binary frame).
    Data(Pattern),
    /// A ping control frame whose application data matches.
    Ping(Pattern),
    /// A pong control frame whose application data matches.
    Pong(Pattern),
}

impl FrameExpect {
    /// Whether it expects a control frame.
    pub fn is_control(&self) -> bool {
        !matches!(self, FrameExpect::Data(_))
    }
}

/// `ws_receive`.
#[derive(Debug, Clone, PartialEq)]
pub struct WsReceiveStep {
    /// The WebSocket.
    pub on: Option<String>,
    /// The frame expected.
    pub frame: FrameExpect,
    /// Noop packets `6` before the frame are let pass: for a case whose requirement is not
    /// about noops, since the spec forbids no noop on a WebSocket.
    pub skip_noops: bool,
}

impl Shorthand for WsReceiveStep {
    type Full = WsReceiveFields;
    const EXPECTING: &'static str = "the exact text of the frame, or a map with `on` and one of \
                                     `frame`, `ping`, `pong` (a matcher)";

    fn from_text(text: String) -> Result<WsReceiveStep, String> {
        Ok(WsReceiveStep {
            on: None,
            frame: FrameExpect::Data(Pattern::Text(text)),
            skip_noops: false,
        })
    }

    fn from_full(fields: WsReceiveFields) -> Result<WsReceiveStep, String> {
        let frame = match (fields.frame, fields.ping, fields.pong) {
            (Some(pattern), None, None) => FrameExpect::Data(pattern),
            (None, Some(pattern), None) => FrameExpect::Ping(pattern),
            (None, None, Some(pattern)) => FrameExpect::Pong(pattern),
            _ => return Err("expected exactly one of `frame`, `ping`, `pong`".to_owned()),
        };
        Ok(WsReceiveStep {
            on: fields.on,
            frame,
            skip_noops: fields.skip_noops,
        })
    }
}

deserialize_shorthand!(WsReceiveStep);

/// `ws_silence`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsSilenceStep {
    /// The WebSocket.
    pub on: Option<String>,
    /// How long no frame may arrive (not scaled).
    #[serde(rename = "for")]
    pub duration: DurationExpr,
}

/// `ws_close`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsCloseStep {
    /// The WebSocket.
    pub on: Option<String>,
    /// The close code; none by default.
    pub code: Option<u16>,
}

/// A step as written: common keys, and exactly one action key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepFields {
    actor: Option<String>,
    level: Option<Level>,
    note: Option<String>,
    within: Option<Window>,
    any_order: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    open: Option<OpenStep>,
    #[serde(default, deserialize_with = "present")]
    connect: Option<ConnectStep>,
    send: Option<OneOrMany<Data>>,
    receive: Option<OneOrMany<Pattern>>,
    silence: Option<DurationExpr>,
    #[serde(default, deserialize_with = "present")]
    closed: Option<Empty>,
    #[serde(default, deserialize_with = "present")]
    drop: Option<Empty>,
    wait: Option<DurationExpr>,
    request: Option<RequestStep>,
    response: Option<ResponseStep>,
    pending: Option<PendingStep>,
    abort: Option<AbortStep>,
    websocket: Option<WebsocketStep>,
    ws_send: Option<WsSendStep>,
    #[serde(default, deserialize_with = "present")]
    ws_ping: Option<WsPingStep>,
    ws_receive: Option<WsReceiveStep>,
    ws_silence: Option<WsSilenceStep>,
    #[serde(default, deserialize_with = "present")]
    ws_close: Option<WsCloseStep>,
    #[serde(default, deserialize_with = "present")]
    ws_closed: Option<WsClosedStep>,
    #[serde(default, deserialize_with = "present")]
    accept: Option<AcceptStep>,
    #[serde(default, deserialize_with = "present")]
    answer_connect: Option<AnswerConnectStep>,
    cue: Option<serde_json::Value>,
    reports: Option<serde_json::Value>,
    close: Option<CloseHow>,
    http: Option<HttpStep>,
    #[serde(default, deserialize_with = "present")]
    ws_accept: Option<WsAcceptStep>,
    no_request: Option<DurationExpr>,
    hold_posts: Option<DurationExpr>,
    no_poll: Option<DurationExpr>,
}

/// An action that takes no argument (`- closed:`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empty {}

/// A key that is present, even with no value (`- open:`), is `Some`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Ok(Some(
        Option::<T>::deserialize(deserializer)?.unwrap_or_default(),
    ))
}

/// Every action key, for errors.
const ACTION_KEYS: &str =
    "open, connect, send, receive, silence, closed, drop, wait, request, response, \
                           pending, abort, websocket, ws_send, ws_ping, ws_receive, ws_silence, \
                           ws_close, ws_closed; for client-role cases: accept, answer_connect, \
                           cue, reports, close, http, ws_accept, no_request, hold_posts, no_poll";

impl TryFrom<StepFields> for Step {
    type Error = String;

    fn try_from(fields: StepFields) -> Result<Step, String> {
        use Action::{Http, Session, Ws};
        let candidates = [
            fields.open.map(|open| Session(SessionAction::Open(open))),
            fields
                .connect
                .map(|connect| Session(SessionAction::Connect(connect))),
            fields.send.map(|data| Session(SessionAction::Send(data.0))),
            fields
                .receive
                .map(|patterns| Session(SessionAction::Receive(patterns.0))),
            fields
                .silence
                .map(|duration| Session(SessionAction::Silence(duration))),
            fields.closed.map(|_| Session(SessionAction::Closed)),
            fields.drop.map(|_| Session(SessionAction::Drop)),
            fields.wait.map(Action::Wait),
            fields
                .request
                .map(|request| Http(HttpAction::Request(Box::new(request)))),
            fields
                .response
                .map(|response| Http(HttpAction::Response(response))),
            fields
                .pending
                .map(|pending| Http(HttpAction::Pending(pending))),
            fields.abort.map(|abort| Http(HttpAction::Abort(abort))),
            fields
                .websocket
                .map(|websocket| Ws(WsAction::Open(websocket))),
            fields.ws_send.map(|send| Ws(WsAction::Send(send))),
            fields.ws_ping.map(|ping| Ws(WsAction::Ping(ping))),
            fields
                .ws_receive
                .map(|receive| Ws(WsAction::Receive(receive))),
            fields
                .ws_silence
                .map(|silence| Ws(WsAction::Silence(silence))),
            fields.ws_close.map(|close| Ws(WsAction::Close(close))),
            fields.ws_closed.map(|closed| Ws(WsAction::Closed(closed))),
            fields
                .accept
                .map(|step| Action::Serving(ServingAction::Accept(step))),
            fields
                .answer_connect
                .map(|step| Action::Serving(ServingAction::AnswerConnect(step))),
            fields
                .cue
                .map(|cue| cue_from_yaml(cue).map(|cue| Action::Serving(ServingAction::Cue(cue))))
                .transpose()?,
            fields
                .reports
                .map(|reports| check_reports(reports).map(ServingAction::Reports))
                .transpose()?
                .map(Action::Serving),
            fields
                .close
                .map(|how| Action::Serving(ServingAction::Close(how))),
            fields
                .http
                .map(|step| Action::Serving(ServingAction::Http(step))),
            fields
                .ws_accept
                .map(|step| Action::Serving(ServingAction::WsAccept(step))),
            fields
                .no_request
                .map(|duration| Action::Serving(ServingAction::NoRequest(duration))),
            fields
                .hold_posts
                .map(|duration| Action::Serving(ServingAction::HoldPosts(duration))),
            fields
                .no_poll
                .map(|duration| Action::Serving(ServingAction::NoPoll(duration))),
        ];
        let mut actions: Vec<Action> = candidates.into_iter().flatten().collect();
        if actions.len() != 1 {
            return Err(format!(
                "a step has exactly one of: {ACTION_KEYS} (found {})",
                actions.len()
            ));
        }
        let action = actions.remove(0);
        if fields.within.is_some() && !action.waits() {
            return Err(format!("`within` does not apply to `{}`", action.keyword()));
        }
        let any_order = fields.any_order.unwrap_or(false);
        if any_order && !matches!(action, Action::Session(SessionAction::Receive(_))) {
            return Err("`any_order` applies to `receive` only".to_owned());
        }
        Ok(Step {
            actor: fields.actor.unwrap_or_else(|| DEFAULT_ACTOR.to_owned()),
            level: fields.level,
            note: fields.note,
            within: fields.within,
            any_order,
            action,
        })
    }
}

/// Each expected report is a JSON object naming its kind with a string `event`.
fn check_reports(reports: serde_json::Value) -> Result<Vec<serde_json::Value>, String> {
    let reports = match reports {
        serde_json::Value::Array(reports) => reports,
        one => vec![one],
    };
    for report in &reports {
        if !report
            .get("event")
            .is_some_and(serde_json::Value::is_string)
        {
            return Err(format!(
                "a report is a map with a string `event` (connect, disconnect, ...): {report}"
            ));
        }
    }
    Ok(reports)
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = StepFields::deserialize(deserializer)?;
        Step::try_from(fields).map_err(serde::de::Error::custom)
    }
}
