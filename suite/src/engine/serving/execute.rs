//! The client-role step interpreter: runs a case's steps in order with the engine as the
//! server, against the client program the target names.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::super::clock::StepClock;
use super::super::error::{millis, StepError};
use super::super::expect::{
    check_headers, expect_closed, expect_data, expect_silence, expect_unordered, matched,
};
use super::super::inbox::{Closure, Inbox, Incoming, Next};
use super::super::matching::{match_body, match_data};
use super::super::target::RunOptions;
use super::super::transcript::{EventKind, Recorder, WireData};
use super::super::vars::Vars;
use super::super::wire::{AbortOnDrop, ReadLimits};
use super::listener::{Arrival, Listener, Received, Reply, ServerStream, ACTOR};
use super::program::{describe_window, Backoff, ClientProgram, NextReport, Program};
use super::session::{accept_websocket, ServedSession, SessionConfig, UpgradeHandling};
use super::ServedOptions;
use crate::protocol::socket_io;
use crate::scenario::{
    AcceptStep, Action, AnswerConnectStep, Case, CloseHow, ConnectAnswer, Data, FrameExpect,
    HandshakeTransport, Heartbeat, HttpStep, Pattern, RequestExpect, Respond, ServingAction,
    SessionAction, Step, Transport, WsAcceptStep, WsAction,
};

/// The path the client under test is told to use (`SIO_PATH`).
const CLIENT_PATH: &str = "/socket.io/";

/// How much later than its backoff allows a reconnection may come: the time the client takes
/// to notice the end of its session, and a loaded machine's scheduling (a process start, a
/// burst of cases on two cores: 208 ms against 200 ms was seen with 100 ms of slack).
const BACKOFF_SLACK: Duration = Duration::from_millis(200);

/// How much sooner than its backoff allows a reconnection may seem to come: when the client
/// ends the session itself (a ping timeout), its timer starts before the engine sees the end.
const BACKOFF_EARLY_SLACK: Duration = Duration::from_millis(50);

/// The step that failed and why; `None` for a failure outside any step.
pub(crate) type ServingFailure = (Option<usize>, StepError);

/// Why a client-role case did not pass, beyond its step.
pub(crate) struct Outcome {
    /// The failure, if any.
    pub(crate) failure: Option<ServingFailure>,
    /// What the client reported it cannot do, if it did.
    pub(crate) unsupported: Option<String>,
}

/// Runs a client-role case: the engine serves, the client program connects.
pub(crate) async fn run(
    case: &Case,
    client: &ClientProgram,
    options: &RunOptions,
    recorder: &Recorder,
) -> Outcome {
    let limits = ReadLimits::for_max_payload(case.scenario.server.max_payload);
    let listener = match Listener::bind(recorder.clone(), limits).await {
        Ok(listener) => listener,
        Err(error) => {
            return Outcome {
                failure: Some((
                    None,
                    StepError::Invalid(format!("cannot listen on 127.0.0.1: {error}")),
                )),
                unsupported: None,
            }
        }
    };
    let settings = client_settings(case, &listener);
    let program = match Program::start(client, &settings, recorder) {
        Ok(program) => program,
        Err(error) => {
            return Outcome {
                failure: Some((None, error)),
                unsupported: None,
            }
        }
    };
    let mut serving = Serving::new(case, client, options, recorder.clone(), listener, program);
    let failure = serving
        .run()
        .await
        .err()
        .map(|(index, error)| (Some(index), error));
    let unsupported = serving.program.finish().await;
    Outcome {
        failure,
        unsupported,
    }
}

/// The `SIO_*` environment of the client program (`docs/client-contract.md`).
fn client_settings(case: &Case, listener: &Listener) -> Vec<(String, String)> {
    let client = &case.scenario.client;
    let transports = match (&client.transports, case.variant.transport) {
        (Some(list), _) => list
            .iter()
            .map(|transport| transport.as_str())
            .collect::<Vec<_>>()
            .join(","),
        (None, Some(Transport::Polling) | None) => "polling".to_owned(),
        (None, Some(Transport::Websocket)) => "websocket".to_owned(),
        (None, Some(Transport::Upgrade)) => "polling,websocket".to_owned(),
    };
    let mut settings = vec![
        ("SIO_URL".to_owned(), format!("http://{}", listener.address)),
        ("SIO_PATH".to_owned(), CLIENT_PATH.to_owned()),
        (
            "SIO_NAMESPACE".to_owned(),
            client.namespace.clone().unwrap_or_else(|| "/".to_owned()),
        ),
        ("SIO_TRANSPORTS".to_owned(), transports),
        (
            "SIO_OPTIONS".to_owned(),
            Value::Object(client.options.clone()).to_string(),
        ),
        ("SIO_CASE".to_owned(), case.id.clone()),
    ];
    if let Some(auth) = &client.auth {
        settings.push(("SIO_AUTH".to_owned(), auth.to_string()));
    }
    settings
}

/// A raw WebSocket the engine accepted.
struct RawSocket {
    channel: String,
    sink: Option<SplitSink<ServerStream, Message>>,
    inbox: Inbox,
    _reader: AbortOnDrop<()>,
}

/// The state of one client-role case.
struct Serving<'a> {
    case: &'a Case,
    options: &'a RunOptions,
    timing: ServedOptions,
    recorder: Recorder,
    listener: Listener,
    program: Program,
    vars: Vars,
    session: Option<ServedSession>,
    sockets: HashMap<String, RawSocket>,
    /// Front-door requests seen by `no_request`, kept for the next step.
    waiting: VecDeque<Arrival>,
    /// When the engine last ended the client's session or refused a request: what a
    /// reconnection delay is counted from.
    last_refusal: Option<Instant>,
    /// Ids handed out (sids, socket ids).
    issued: u64,
    /// The reconnection delay formula the client declares.
    backoff: Backoff,
    /// Whether the client has shown life yet (its first request or report): until then a
    /// step that waits on it also has the program's start allowance.
    started: bool,
    /// How long the client may take to make its first request, on top of the step's deadline.
    start_allowance: Duration,
    /// How the client program ended, once it has.
    exited: Option<String>,
}

impl<'a> Serving<'a> {
    fn new(
        case: &'a Case,
        client: &ClientProgram,
        options: &'a RunOptions,
        recorder: Recorder,
        listener: Listener,
        program: Program,
    ) -> Serving<'a> {
        let timing = ServedOptions(case.scenario.server);
        let mut vars = Vars::default();
        for (name, value) in [
            ("pingInterval", case.scenario.server.ping_interval),
            ("pingTimeout", case.scenario.server.ping_timeout),
            ("maxPayload", case.scenario.server.max_payload),
        ] {
            vars.set(name, Value::from(value));
        }
        vars.set("eio", Value::from(case.variant.eio));
        vars.set("path", Value::from(CLIENT_PATH));
        vars.set("host", Value::from(listener.address.to_string()));
        if let Some(transport) = case.variant.transport {
            vars.set("transport", Value::from(transport.as_str()));
        }
        Serving {
            case,
            options,
            timing,
            recorder,
            listener,
            program,
            vars,
            session: None,
            sockets: HashMap::new(),
            waiting: VecDeque::new(),
            last_refusal: None,
            issued: 0,
            backoff: client.backoff,
            started: false,
            start_allowance: client.start_timeout,
            exited: None,
        }
    }

    async fn run(&mut self) -> Result<(), (usize, StepError)> {
        for (index, step) in self.case.scenario.steps.iter().enumerate() {
            self.recorder.record(
                &step.actor,
                "step",
                EventKind::Step {
                    number: index + 1,
                    keyword: step.action.keyword().to_owned(),
                },
            );
            self.step(step).await.map_err(|error| (index, error))?;
        }
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> Result<(), StepError> {
        let clock = StepClock::start_in(self.options, &self.timing, step.within.as_ref());
        match &step.action {
            Action::Session(SessionAction::Send(packets)) => {
                let packets = packets
                    .iter()
                    .map(|packet| self.vars.substitute_data(packet))
                    .collect::<Result<Vec<_>, _>>()?;
                self.session()?.send(&packets).await
            }
            Action::Session(SessionAction::Receive(patterns)) => {
                let mut vars = std::mem::take(&mut self.vars);
                let result = match self.session.as_mut() {
                    None => Err(StepError::Invalid(
                        "no session: `accept` one first".to_owned(),
                    )),
                    Some(session) => {
                        let inbox = &mut session.inbox;
                        if step.any_order {
                            expect_unordered(inbox, patterns, &mut vars, &clock).await
                        } else {
                            expect_in_order(inbox, patterns, &mut vars, &clock).await
                        }
                    }
                };
                self.vars = vars;
                result?;
                clock.check_min()
            }
            Action::Session(SessionAction::Silence(duration)) => {
                let duration = duration.eval(&self.timing);
                expect_silence(&mut self.session_mut()?.inbox, duration, "packet").await
            }
            Action::Session(SessionAction::Closed) => {
                let result = expect_closed(
                    &mut self.session_mut()?.inbox,
                    &clock,
                    "the client closed the session",
                )
                .await;
                self.last_refusal = Some(Instant::now());
                result
            }
            Action::Wait(duration) => {
                tokio::time::sleep(self.options.scaled(duration.eval(&self.timing))).await;
                Ok(())
            }
            Action::Ws(WsAction::Send(send)) => {
                let data = self.vars.substitute_data(&send.data)?;
                let recorder = self.recorder.clone();
                let socket = self.socket_mut(step, send.on.as_ref())?;
                socket_send(socket, &data, &recorder, clock.deadline()).await
            }
            Action::Ws(WsAction::Receive(receive)) => {
                let FrameExpect::Data(pattern) = &receive.frame else {
                    return Err(StepError::Invalid(
                        "client-role cases expect data frames only".to_owned(),
                    ));
                };
                let name = socket_name(step, receive.on.as_ref());
                let mut vars = std::mem::take(&mut self.vars);
                let result = match self.sockets.get_mut(&name) {
                    Some(socket) => {
                        expect_data(&mut socket.inbox, pattern, &mut vars, &clock, "frame").await
                    }
                    None => Err(no_socket(&name)),
                };
                self.vars = vars;
                result
            }
            Action::Ws(WsAction::Silence(silence)) => {
                let duration = silence.duration.eval(&self.timing);
                let socket = self.socket_mut(step, silence.on.as_ref())?;
                expect_silence(&mut socket.inbox, duration, "frame").await
            }
            Action::Ws(WsAction::Close(close)) => {
                let recorder = self.recorder.clone();
                let socket = self.socket_mut(step, close.on.as_ref())?;
                socket_close(socket, close.code, &recorder).await;
                Ok(())
            }
            Action::Ws(WsAction::Closed(closed)) => {
                let socket = self.socket_mut(step, closed.on.as_ref())?;
                expect_closed(&mut socket.inbox, &clock, "the client closed the WebSocket").await
            }
            Action::Serving(serving) => self.serving_step(step, serving, &clock).await,
            other => Err(StepError::Invalid(format!(
                "`{}` plays the client, and the engine plays the server in this case",
                other.keyword()
            ))),
        }
    }

    async fn serving_step(
        &mut self,
        step: &Step,
        action: &ServingAction,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        match action {
            ServingAction::Accept(accept) => self.accept(accept, clock).await,
            ServingAction::AnswerConnect(connect) => self.answer_connect(connect, clock).await,
            ServingAction::Cue(cue) => {
                let cue = self.vars.substitute_json(cue)?;
                self.program.cue(&cue, clock.deadline()).await
            }
            ServingAction::Reports(reports) => {
                for report in reports {
                    self.expect_report(report, clock).await?;
                }
                clock.check_min()
            }
            ServingAction::Close(how) => {
                self.session()?.close(*how == CloseHow::Packet).await;
                self.last_refusal = Some(Instant::now());
                Ok(())
            }
            ServingAction::Http(http) => self.http(http, clock).await,
            ServingAction::WsAccept(accept) => self.ws_accept(step, accept, clock).await,
            ServingAction::NoRequest(duration) => {
                let duration = duration.eval(&self.timing);
                self.no_request(duration).await
            }
            ServingAction::HoldPosts(duration) => {
                let duration = self.options.scaled(duration.eval(&self.timing));
                self.session()?.hold_posts(duration);
                Ok(())
            }
            ServingAction::NoPoll(duration) => {
                let duration = self.options.scaled(duration.eval(&self.timing));
                self.session()?.no_poll(duration).await
            }
        }
    }

    fn session(&self) -> Result<&ServedSession, StepError> {
        self.session
            .as_ref()
            .ok_or_else(|| StepError::Invalid("no session: `accept` one first".to_owned()))
    }

    fn session_mut(&mut self) -> Result<&mut ServedSession, StepError> {
        self.session
            .as_mut()
            .ok_or_else(|| StepError::Invalid("no session: `accept` one first".to_owned()))
    }

    fn socket_mut(
        &mut self,
        step: &Step,
        on: Option<&String>,
    ) -> Result<&mut RawSocket, StepError> {
        let name = socket_name(step, on);
        self.sockets.get_mut(&name).ok_or_else(|| no_socket(&name))
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.issued += 1;
        format!("{prefix}{:0>18}", self.issued)
    }

    /// The next request at the front door, by `deadline`.
    async fn next_arrival(&mut self, deadline: Instant) -> Option<Arrival> {
        if let Some(arrival) = self.waiting.pop_front() {
            return Some(arrival);
        }
        let deadline = if self.started {
            deadline
        } else {
            deadline.max(Instant::now() + self.options.scaled(self.start_allowance))
        };
        let arrival = tokio::select! {
            arrival = tokio::time::timeout_at(deadline, self.listener.front.recv()) => {
                arrival.ok().flatten()
            }
            // A program that has ended makes no more requests (the ones it made are queued).
            status = self.program.ended(), if self.exited.is_none() => {
                self.exited = Some(status);
                self.listener.front.try_recv().ok()
            }
        };
        self.started |= arrival.is_some();
        arrival
    }

    /// No request came: because the client ended, or by the deadline.
    fn nothing(&self, expected: String, clock: &StepClock) -> StepError {
        match &self.exited {
            Some(status) => StepError::unmet(
                expected,
                format!(
                    "the client ended after {} ({status})",
                    millis(clock.waited())
                ),
            ),
            None => StepError::nothing_within(expected, clock.waited()),
        }
    }

    async fn accept(&mut self, accept: &AcceptStep, clock: &StepClock) -> Result<(), StepError> {
        let transport = self
            .case
            .variant
            .transport
            .ok_or_else(|| StepError::Invalid("`accept` needs a transport axis".to_owned()))?;
        let websocket = match accept.transport {
            Some(HandshakeTransport::Websocket) => true,
            Some(HandshakeTransport::Polling) => false,
            None => transport == Transport::Websocket,
        };
        let expected = format!(
            "the client's handshake ({} with EIO={})",
            if websocket {
                "a WebSocket"
            } else {
                "a polling GET"
            },
            self.case.variant.eio
        );
        let first = !self.started;
        let Some(arrival) = self.next_arrival(clock.deadline()).await else {
            return Err(self.nothing(expected, clock));
        };
        let arrived = clock.waited();
        // A first handshake may come after the step's deadline (the program's start is allowed
        // for), and a program still starting up takes its time to upgrade too: what follows
        // the first handshake gets the start allowance, a later one a step's time.
        let allowance = if first {
            self.start_allowance
        } else {
            self.options.step_timeout
        };
        let deadline = clock
            .deadline()
            .max(Instant::now() + self.options.scaled(allowance));
        if let Err(error) = self.check_handshake(&arrival.request, accept, websocket) {
            arrival.answer(Reply::text(
                400,
                "application/json",
                r#"{"code":3,"message":"Bad request"}"#,
            ));
            return Err(error);
        }
        if let Some(attempt) = accept.attempt {
            self.check_backoff(attempt, clock, arrived)?;
        }
        clock.check_min()?;
        let sid = self.next_id("eio");
        let config = self.session_config(&sid, accept, transport, websocket)?;
        let session = if websocket {
            ServedSession::websocket(
                arrival,
                &config,
                &self.listener.routes,
                &self.recorder,
                deadline,
            )
            .await?
        } else {
            ServedSession::polling(arrival, &config, &self.listener.routes, &self.recorder)
        };
        self.vars.set("sid", Value::from(sid));
        let session = self.session.insert(session);
        if config.upgrade == UpgradeHandling::Serve {
            session.await_upgrade(deadline).await?;
        }
        Ok(())
    }

    fn check_handshake(
        &mut self,
        request: &Received,
        accept: &AcceptStep,
        websocket: bool,
    ) -> Result<(), StepError> {
        let eio = self.case.variant.eio.to_string();
        let transport = if websocket { "websocket" } else { "polling" };
        let describe = request.describe();
        let unmet = |expected: String| Err(StepError::unmet(expected, describe.clone()));
        if request.websocket != websocket || request.method != "GET" {
            return unmet(format!("a {transport} handshake (GET)"));
        }
        if request.param("EIO") != Some(eio.as_str()) {
            return unmet(format!("a handshake with EIO={eio}"));
        }
        if request.param("transport") != Some(transport) {
            return unmet(format!("a handshake with transport={transport}"));
        }
        if request.param("sid").is_some() {
            return unmet("a handshake without a sid".to_owned());
        }
        if accept.expect.path.is_none() && request.path != CLIENT_PATH {
            return unmet(format!(
                "a handshake on the path it was given, {CLIENT_PATH}"
            ));
        }
        let mut vars = std::mem::take(&mut self.vars);
        let result = check_request(&accept.expect, request, &mut vars);
        self.vars = vars;
        result
    }

    fn check_backoff(
        &self,
        attempt: u32,
        clock: &StepClock,
        arrived: Duration,
    ) -> Result<(), StepError> {
        let options = &self.case.scenario.client.options;
        let number =
            |name: &str, default: f64| options.get(name).and_then(Value::as_f64).unwrap_or(default);
        let first = Duration::from_secs_f64(number("reconnectionDelay", 1000.0).max(0.0) / 1000.0);
        let cap = Duration::from_secs_f64(number("reconnectionDelayMax", 5000.0).max(0.0) / 1000.0);
        let factor = number("randomizationFactor", 0.5);
        let (low, high) = self.backoff().window(attempt, first, cap, factor);
        // Counted from when the engine ended the session or refused the last attempt.
        let since = self.last_refusal.unwrap_or(clock.started());
        let delay = (clock.started() + arrived).saturating_duration_since(since);
        let latest = high + self.options.scaled(BACKOFF_SLACK);
        let earliest = low.saturating_sub(self.options.scaled(BACKOFF_EARLY_SLACK));
        if delay < earliest || delay > latest {
            return Err(StepError::unmet(
                format!(
                    "reconnection attempt {attempt} {} after the end of the last (the {} backoff, with {} ms of slack before and {} ms after)",
                    describe_window(low, high),
                    self.backoff().as_str(),
                    BACKOFF_EARLY_SLACK.as_millis(),
                    BACKOFF_SLACK.as_millis()
                ),
                format!("it came after {}", millis(delay)),
            ));
        }
        Ok(())
    }

    fn backoff(&self) -> Backoff {
        self.backoff
    }

    fn session_config(
        &self,
        sid: &str,
        accept: &AcceptStep,
        transport: Transport,
        websocket: bool,
    ) -> Result<SessionConfig, StepError> {
        let server = &self.case.scenario.server;
        let eio = self.case.variant.eio;
        let offered = transport == Transport::Upgrade && !websocket;
        let upgrades: Vec<&str> = if offered {
            vec!["websocket"]
        } else {
            Vec::new()
        };
        let upgrade = match (offered, accept.upgrade) {
            (false, _) => UpgradeHandling::Refuse,
            (true, Some(false)) => UpgradeHandling::Steps,
            (true, _) => UpgradeHandling::Serve,
        };
        let open_packet = match &accept.open {
            Some(open) => self.vars.substitute(&open.replace("${sid}", sid))?,
            None => {
                let mut open = json!({
                    "sid": sid,
                    "upgrades": upgrades,
                    "pingInterval": server.ping_interval,
                    "pingTimeout": server.ping_timeout,
                });
                if eio == 4 {
                    open["maxPayload"] = Value::from(server.max_payload);
                }
                format!("0{open}")
            }
        };
        Ok(SessionConfig {
            sid: sid.to_owned(),
            eio,
            open_packet,
            ping_interval: Duration::from_millis(server.ping_interval),
            auto_heartbeat: self.case.scenario.heartbeat == Heartbeat::Auto,
            upgrade,
            max_payload: (eio == 4).then_some(server.max_payload),
            open_headers: accept
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        })
    }

    async fn answer_connect(
        &mut self,
        connect: &AnswerConnectStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let eio = self.case.variant.eio;
        let namespace = self.vars.substitute(&connect.namespace)?;
        // Socket.IO v4 (protocol 3): the client never CONNECTs to `/`; the server says it is
        // connected with a bare `40` as soon as the session is open.
        let implicit = eio == 3 && namespace == "/";
        if !implicit {
            self.await_connect(connect, &namespace, clock).await?;
        }
        let variable = if namespace == "/" {
            "socket".to_owned()
        } else {
            format!("socket{namespace}")
        };
        let connected =
            socket_io::Packet::new(socket_io::PacketType::Connect).in_namespace(&namespace);
        let answer = match &connect.answer {
            // Socket.IO v4 answers a CONNECT without a payload.
            ConnectAnswer::Accept if eio == 3 => Some(connected.to_message()),
            ConnectAnswer::Accept => {
                let id = self.next_id("sio");
                self.vars.set(variable, Value::from(id.clone()));
                Some(connected.with_data(json!({ "sid": id })).to_message())
            }
            ConnectAnswer::Refuse(payload) => {
                let payload = self.vars.substitute_json(payload)?;
                let refusal = socket_io::Packet::new(socket_io::PacketType::ConnectError)
                    .in_namespace(&namespace)
                    .with_data(payload);
                Some(refusal.to_message())
            }
            ConnectAnswer::Raw(raw) => Some(Data::Text(self.vars.substitute(raw)?)),
            ConnectAnswer::Silent => None,
        };
        if let Some(answer) = answer {
            self.session()?.send(&[answer]).await?;
        }
        Ok(())
    }

    /// The first CONNECT of the session for `namespace` must match; packets before it stay
    /// queued, in order, for the next steps.
    async fn await_connect(
        &mut self,
        connect: &AnswerConnectStep,
        namespace: &str,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let mut expected = json!({"type": 0, "nsp": namespace});
        match &connect.auth {
            Some(auth) => expected["data"] = auth.clone(),
            None => expected["$extra"] = Value::Bool(true),
        }
        let pattern = Pattern::Sio(expected);
        let description = format!("the client's CONNECT to {namespace} {pattern}");
        let mut vars = std::mem::take(&mut self.vars);
        let result = match self.session.as_mut() {
            None => Err(StepError::Invalid(
                "no session: `accept` one first".to_owned(),
            )),
            Some(session) => {
                let mut others = Vec::new();
                let result = loop {
                    match session.inbox.next(clock.deadline()).await {
                        Next::Item(Incoming::Data(data)) if is_connect_for(&data, namespace) => {
                            let actual = WireData::frame(&data).to_string();
                            break matched(
                                match_data(&pattern, &data, &mut vars),
                                description.clone(),
                                actual,
                            );
                        }
                        Next::Item(Incoming::Closed(closure)) => {
                            let detail = closure.detail.clone();
                            others.push(Incoming::Closed(closure));
                            break Err(StepError::unmet(description.clone(), detail));
                        }
                        Next::Item(other) => others.push(other),
                        Next::Timeout => {
                            break Err(StepError::nothing_within(
                                description.clone(),
                                clock.waited(),
                            ))
                        }
                    }
                };
                session.inbox.put_back(others);
                result
            }
        };
        self.vars = vars;
        result
    }

    async fn expect_report(
        &mut self,
        expected: &Value,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let kind = expected["event"].as_str().unwrap_or_default().to_owned();
        let mut pattern = expected.clone();
        if let Value::Object(object) = &mut pattern {
            object
                .entry("$extra".to_owned())
                .or_insert(Value::Bool(true));
        }
        let description = format!("a report {expected}");
        // A case that opens with a report (a client that makes no request) gives the
        // program its start allowance there, as `accept` does for a first handshake.
        let deadline = if self.started {
            clock.deadline()
        } else {
            clock
                .deadline()
                .max(Instant::now() + self.options.scaled(self.start_allowance))
        };
        match self.program.next_report(&kind, deadline).await {
            NextReport::Report(report) => {
                self.started = true;
                let line = report.value.to_string();
                let pattern = Pattern::Json {
                    prefix: String::new(),
                    value: pattern,
                };
                let mut vars = std::mem::take(&mut self.vars);
                let result = matched(
                    match_data(&pattern, &Data::Text(line.clone()), &mut vars),
                    description.clone(),
                    line,
                );
                self.vars = vars;
                result
            }
            NextReport::Timeout => Err(StepError::nothing_within(description, clock.waited())),
            NextReport::Ended(how) => Err(StepError::unmet(description, how)),
        }
    }

    async fn http(&mut self, http: &HttpStep, clock: &StepClock) -> Result<(), StepError> {
        let Some(arrival) = self.next_arrival(clock.deadline()).await else {
            return Err(self.nothing("a request from the client".to_owned(), clock));
        };
        let mut vars = std::mem::take(&mut self.vars);
        let checked = if arrival.request.websocket {
            Err(StepError::unmet(
                "a plain HTTP request",
                arrival.request.describe(),
            ))
        } else {
            check_request(&http.expect, &arrival.request, &mut vars)
        };
        self.vars = vars;
        let reply = match &http.respond {
            Respond::Drop => Reply::Drop,
            Respond::With(spec) => Reply::Http {
                status: spec.status.unwrap_or(200),
                headers: spec
                    .headers
                    .iter()
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect(),
                body: self
                    .vars
                    .substitute(spec.body.as_deref().unwrap_or(""))?
                    .into_bytes(),
            },
        };
        if matches!(reply, Reply::Drop | Reply::Http { status: 400.., .. }) {
            self.last_refusal = Some(Instant::now());
        }
        arrival.answer(reply);
        checked?;
        clock.check_min()
    }

    async fn ws_accept(
        &mut self,
        step: &Step,
        accept: &WsAcceptStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let Some(arrival) = self.next_arrival(clock.deadline()).await else {
            return Err(self.nothing("a WebSocket request from the client".to_owned(), clock));
        };
        let mut vars = std::mem::take(&mut self.vars);
        let checked = if arrival.request.websocket {
            check_request(&accept.expect, &arrival.request, &mut vars)
        } else {
            Err(StepError::unmet(
                "a WebSocket request",
                arrival.request.describe(),
            ))
        };
        self.vars = vars;
        if let Err(error) = checked {
            arrival.answer(Reply::text(400, "text/plain", "Bad request"));
            return Err(error);
        }
        match &accept.refuse {
            Some(Respond::Drop) => {
                self.last_refusal = Some(Instant::now());
                arrival.answer(Reply::Drop);
            }
            Some(Respond::With(spec)) => {
                self.last_refusal = Some(Instant::now());
                arrival.answer(Reply::text(
                    spec.status.unwrap_or(400),
                    "text/plain",
                    spec.body.clone().unwrap_or_default(),
                ));
            }
            None => {
                let channel = arrival.channel.clone();
                let stream = accept_websocket(arrival, clock.deadline()).await?;
                let name = accept.name.clone().unwrap_or_else(|| step.actor.clone());
                let socket = raw_socket(stream, channel, self.recorder.clone());
                self.sockets.insert(name, socket);
            }
        }
        clock.check_min()
    }

    async fn no_request(&mut self, duration: Duration) -> Result<(), StepError> {
        let started = Instant::now();
        let expected = format!("no new request from the client for {}", millis(duration));
        if let Some(arrival) = self.waiting.front() {
            return Err(StepError::unmet(expected, arrival.request.describe()));
        }
        match tokio::time::timeout(duration, self.listener.front.recv()).await {
            Err(_) | Ok(None) => Ok(()),
            Ok(Some(arrival)) => {
                let actual = format!(
                    "{} after {}",
                    arrival.request.describe(),
                    millis(started.elapsed())
                );
                self.waiting.push_back(arrival);
                Err(StepError::unmet(expected, actual))
            }
        }
    }
}

/// Whether a packet is a Socket.IO CONNECT for `namespace`.
fn is_connect_for(data: &Data, namespace: &str) -> bool {
    match data {
        Data::Text(text) => socket_io::decode_message(text).is_ok_and(|packet| {
            packet.kind == socket_io::PacketType::Connect && packet.nsp == namespace
        }),
        Data::Binary(_) => false,
    }
}

/// A request must show what `expect` says.
fn check_request(
    expect: &RequestExpect,
    request: &Received,
    vars: &mut Vars,
) -> Result<(), StepError> {
    let describe = request.describe();
    if let Some(method) = &expect.method {
        if !method.eq_ignore_ascii_case(&request.method) {
            return Err(StepError::unmet(format!("a {method} request"), describe));
        }
    }
    if let Some(path) = &expect.path {
        matched(
            match_body(path, request.path.as_bytes(), vars),
            format!("the path {path}"),
            describe.clone(),
        )?;
    }
    for (name, pattern) in &expect.query {
        check_value(
            &format!("the query parameter {name}"),
            pattern.as_ref(),
            request.param(name),
            vars,
            &describe,
        )?;
    }
    check_headers(&expect.headers, &request.headers, vars)?;
    if let Some(body) = &expect.body {
        matched(
            match_body(body, &request.body, vars),
            format!("a body {body}"),
            WireData::body(&request.body).to_string(),
        )?;
    }
    Ok(())
}

fn check_value(
    what: &str,
    pattern: Option<&Pattern>,
    value: Option<&str>,
    vars: &mut Vars,
    describe: &str,
) -> Result<(), StepError> {
    match (pattern, value) {
        (None, None) => Ok(()),
        (None, Some(value)) => Err(StepError::unmet(
            format!("no {what}"),
            format!("{what} is {value:?}: {describe}"),
        )),
        (Some(pattern), None) => Err(StepError::unmet(
            format!("{what} {pattern}"),
            format!("none: {describe}"),
        )),
        (Some(pattern), Some(value)) => matched(
            match_body(pattern, value.as_bytes(), vars),
            format!("{what} {pattern}"),
            format!("{value:?}"),
        ),
    }
}

fn socket_name(step: &Step, on: Option<&String>) -> String {
    on.cloned().unwrap_or_else(|| step.actor.clone())
}

fn no_socket(name: &str) -> StepError {
    StepError::Invalid(format!(
        "no accepted WebSocket {name:?}: `ws_accept` it first"
    ))
}

/// The next packets, in order, must match `patterns`.
async fn expect_in_order(
    inbox: &mut Inbox,
    patterns: &[Pattern],
    vars: &mut Vars,
    clock: &StepClock,
) -> Result<(), StepError> {
    for pattern in patterns {
        expect_data(inbox, pattern, vars, clock, "packet").await?;
    }
    Ok(())
}

/// A raw WebSocket: a reader task queues every data frame (recorded) and the close.
fn raw_socket(stream: ServerStream, channel: String, recorder: Recorder) -> RawSocket {
    let (sink, mut stream) = stream.split();
    let (sender, inbox): (mpsc::UnboundedSender<Incoming>, Inbox) = Inbox::new();
    let reader_channel = channel.clone();
    let reader = tokio::spawn(async move {
        while let Some(message) = stream.next().await {
            let data = match message {
                Ok(Message::Text(text)) => Data::Text(text.as_str().to_owned()),
                Ok(Message::Binary(bytes)) => Data::Binary(bytes.to_vec()),
                Ok(Message::Close(frame)) => {
                    let code = frame.map(|frame| u16::from(frame.code));
                    recorder.record(ACTOR, &reader_channel, EventKind::CloseReceived { code });
                    let _ = sender.send(Incoming::Closed(Closure {
                        detail: format!("the client closed the WebSocket (code {code:?})"),
                        code: Some(code.unwrap_or(1005)),
                    }));
                    return;
                }
                Ok(_) => continue,
                Err(error) => {
                    let _ = sender.send(Incoming::closed(format!("the WebSocket failed: {error}")));
                    return;
                }
            };
            recorder.record(
                ACTOR,
                &reader_channel,
                EventKind::FrameReceived {
                    frame: WireData::frame(&data),
                },
            );
            let _ = sender.send(Incoming::Data(data));
        }
        let _ = sender.send(Incoming::closed("the client's WebSocket ended"));
    });
    RawSocket {
        channel,
        sink: Some(sink),
        inbox,
        _reader: AbortOnDrop(reader),
    }
}

async fn socket_send(
    socket: &mut RawSocket,
    data: &Data,
    recorder: &Recorder,
    deadline: Instant,
) -> Result<(), StepError> {
    let message = match data {
        Data::Text(text) => Message::text(text.clone()),
        Data::Binary(bytes) => Message::binary(bytes.clone()),
    };
    let Some(sink) = socket.sink.as_mut() else {
        return Err(StepError::unmet("an open WebSocket", "it is closed"));
    };
    match tokio::time::timeout_at(deadline, sink.send(message)).await {
        Ok(Ok(())) => {
            recorder.record(
                ACTOR,
                &socket.channel,
                EventKind::FrameSent {
                    frame: WireData::frame(data),
                },
            );
            Ok(())
        }
        Ok(Err(error)) => Err(StepError::unmet("the frame sent", error.to_string())),
        Err(_) => Err(StepError::unmet(
            "the frame sent",
            "the client did not read it in time",
        )),
    }
}

async fn socket_close(socket: &mut RawSocket, code: Option<u16>, recorder: &Recorder) {
    if let Some(mut sink) = socket.sink.take() {
        let frame = code.map(|code| CloseFrame {
            code: CloseCode::from(code),
            reason: "".into(),
        });
        if sink.send(Message::Close(frame)).await.is_ok() {
            recorder.record(ACTOR, &socket.channel, EventKind::CloseSent { code });
        }
    }
}
