//! The step interpreter: runs a case's steps in order against a target, keeping the actors'
//! sessions, connections, background requests and WebSockets.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::clock::StepClock;
use super::error::{millis, StepError};
use super::expect::{
    check_headers, check_response, expect_close_frame, expect_closed, expect_connect_answer,
    expect_control, expect_data, expect_silence, expect_unordered, skip_close_packet, skip_noops,
    HeaderExpect,
};
use super::http::{self, HttpRequest, HttpResponse, KeptConnection};
use super::inbox::{Control, Inbox};
use super::session::rules::{AutoHeartbeat, PacketRules};
use super::session::{Session, SessionSetup};
use super::target::{RunOptions, Target};
use super::transcript::EventKind;
use super::vars::Vars;
use super::websocket::{self, Framing, WsConnection, WsOpen, WsRequest};
use super::wire::{AbortOnDrop, Wire};
use crate::protocol::socket_io::Packet;
use crate::scenario::{
    AbortStep, Action, Case, ConnectStep, ConnectionMode, Data, Endpoint, FrameExpect, Heartbeat,
    HttpAction, OpenStep, Pattern, PendingStep, RequestStep, ResponseStep, SessionAction, Step,
    TimingOptions, WebsocketExpect, WebsocketOutcome, WebsocketStep, WsAction, SWITCHING_PROTOCOLS,
};

/// A background request: running, or finished early (seen by `pending`).
struct Background {
    /// The transcript's name for its connection.
    channel: String,
    task: AbortOnDrop<Result<HttpResponse, StepError>>,
    finished: Option<Result<HttpResponse, StepError>>,
}

/// A raw WebSocket and its inbox.
struct RawSocket {
    connection: WsConnection,
    inbox: Inbox,
}

/// The state of one case run.
pub(crate) struct Execution<'a> {
    case: &'a Case,
    target: &'a Target,
    options: &'a RunOptions,
    wire: Wire,
    vars: Vars,
    sessions: HashMap<String, Session>,
    kept: HashMap<String, Option<KeptConnection>>,
    background: HashMap<String, Background>,
    sockets: HashMap<String, RawSocket>,
}

/// The step that failed and why.
pub(crate) type StepFailure = (usize, StepError);

impl<'a> Execution<'a> {
    pub(crate) fn new(
        case: &'a Case,
        target: &'a Target,
        options: &'a RunOptions,
        wire: Wire,
    ) -> Execution<'a> {
        Execution {
            vars: initial_vars(case, target),
            case,
            target,
            options,
            wire,
            sessions: HashMap::new(),
            kept: HashMap::new(),
            background: HashMap::new(),
            sockets: HashMap::new(),
        }
    }

    /// Runs every step; stops at the first that fails.
    pub(crate) async fn run(&mut self) -> Result<(), StepFailure> {
        for (index, step) in self.case.scenario.steps.iter().enumerate() {
            self.wire.recorder.record(
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
        let clock = StepClock::start(self.options, self.target, step.within.as_ref());
        match &step.action {
            Action::Session(SessionAction::Open(open)) => self.open(step, open, &clock).await,
            Action::Session(SessionAction::Connect(connect)) => {
                self.connect(step, connect, &clock).await
            }
            Action::Session(SessionAction::Send(packets)) => {
                let packets = self.substitute_data(packets)?;
                self.session(step)?.send(&packets, clock.deadline()).await
            }
            Action::Session(SessionAction::Receive(patterns)) => {
                self.receive(step, patterns, &clock).await
            }
            Action::Session(SessionAction::Silence(duration)) => {
                let duration = duration.eval(&self.target.options);
                let inbox = &mut self.session_mut(step)?.inbox;
                expect_silence(inbox, duration, "packet").await
            }
            Action::Session(SessionAction::Closed) => {
                let inbox = &mut self.session_mut(step)?.inbox;
                expect_closed(inbox, &clock, "the session closed").await
            }
            Action::Wait(duration) => {
                let duration = self.options.scaled(duration.eval(&self.target.options));
                tokio::time::sleep(duration).await;
                Ok(())
            }
            Action::Http(HttpAction::Request(request)) => self.request(step, request, &clock).await,
            Action::Http(HttpAction::Response(response)) => self.response(response, &clock).await,
            Action::Http(HttpAction::Pending(pending)) => self.pending(pending).await,
            Action::Http(HttpAction::Abort(abort)) => self.abort(step, abort).await,
            Action::Ws(WsAction::Open(websocket)) => self.websocket(step, websocket, &clock).await,
            Action::Ws(WsAction::Send(send)) => {
                let data = self.substitute_one(&send.data)?;
                let socket = self.socket(step, send.on.as_ref())?;
                socket.connection.send(&data, clock.deadline()).await
            }
            Action::Ws(WsAction::Ping(ping)) => {
                let socket = self.socket(step, ping.on.as_ref())?;
                socket
                    .connection
                    .ping(&ping.payload, clock.deadline())
                    .await
            }
            Action::Ws(WsAction::Receive(receive)) => {
                let name = socket_name(step, receive.on.as_ref());
                let mut vars = std::mem::take(&mut self.vars);
                let result = match self.sockets.get_mut(&name) {
                    Some(socket) => {
                        if receive.skip_noops {
                            skip_noops(&mut socket.inbox, &clock).await;
                        }
                        let inbox = &mut socket.inbox;
                        match &receive.frame {
                            FrameExpect::Data(pattern) => {
                                expect_data(inbox, pattern, &mut vars, &clock, "frame").await
                            }
                            FrameExpect::Ping(pattern) => {
                                expect_control(inbox, Control::Ping, pattern, &mut vars, &clock)
                                    .await
                            }
                            FrameExpect::Pong(pattern) => {
                                expect_control(inbox, Control::Pong, pattern, &mut vars, &clock)
                                    .await
                            }
                        }
                    }
                    None => Err(no_socket(&name)),
                };
                self.vars = vars;
                result
            }
            Action::Ws(WsAction::Silence(silence)) => {
                let duration = silence.duration.eval(&self.target.options);
                let socket = self.socket_mut(step, silence.on.as_ref())?;
                expect_silence(&mut socket.inbox, duration, "frame").await
            }
            Action::Ws(WsAction::Close(close)) => {
                let socket = self.socket(step, close.on.as_ref())?;
                socket.connection.close(close.code, clock.deadline()).await
            }
            Action::Ws(WsAction::Closed(closed)) => {
                let socket = self.socket_mut(step, closed.on.as_ref())?;
                if closed.allow_close_packet {
                    skip_close_packet(&mut socket.inbox, &clock).await;
                }
                match closed.code {
                    None => expect_closed(&mut socket.inbox, &clock, "the WebSocket closed").await,
                    Some(code) => expect_close_frame(&mut socket.inbox, &clock, code).await,
                }
            }
        }
    }

    async fn open(
        &mut self,
        step: &Step,
        open: &OpenStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let Some(transport) = self.case.variant.transport else {
            return Err(StepError::Invalid(
                "`open` needs a transport axis".to_owned(),
            ));
        };
        let options = &self.target.options;
        let poll_timeout = self
            .options
            .scaled(options.ping_interval + options.ping_timeout + self.options.step_timeout);
        let extra_query = open
            .query
            .as_deref()
            .map(|query| self.vars.substitute(query))
            .transpose()?;
        let path = self.endpoint_path().to_owned();
        let setup = SessionSetup {
            actor: &step.actor,
            path: &path,
            eio: self.case.variant.eio,
            transport,
            auto_heartbeat: self.case.scenario.heartbeat == Heartbeat::Auto,
            ping_interval: options.ping_interval,
            extra_query,
            open_json: open
                .expect
                .clone()
                .unwrap_or_else(|| json!({"sid": "$string", "$extra": true})),
            poll_timeout,
            deadline: clock.deadline(),
        };
        let session = Session::open(&self.wire, &setup, &mut self.vars).await?;
        self.vars.set(
            format!("{}.sid", step.actor),
            Value::from(session.sid.clone()),
        );
        self.sessions.insert(step.actor.clone(), session);
        clock.check_min()
    }

    /// A CONNECT to a namespace and the server's CONNECT answer; opens the session first when
    /// the actor has none.
    async fn connect(
        &mut self,
        step: &Step,
        connect: &ConnectStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        if !self.sessions.contains_key(&step.actor) {
            self.open(step, &OpenStep::default(), clock).await?;
        }
        let namespace = self.vars.substitute(&connect.namespace)?;
        let auth = connect
            .auth
            .as_ref()
            .map(|auth| self.vars.substitute_json(auth))
            .transpose()?;
        let packet = Packet::connect(&namespace, auth).to_message();
        self.session(step)?
            .send(&[packet], clock.deadline())
            .await?;
        let variable = connect.variable(&step.actor);
        let data = connect.expect.clone().unwrap_or_else(
            || json!({"sid": {"$capture": variable, "$match": "$string"}, "$extra": true}),
        );
        let pattern = Pattern::Sio(json!({"type": 0, "nsp": namespace, "data": data}));
        let mut vars = std::mem::take(&mut self.vars);
        let result = match self.sessions.get_mut(&step.actor) {
            Some(session) => {
                expect_connect_answer(&mut session.inbox, &namespace, &pattern, &mut vars, clock)
                    .await
            }
            None => Err(no_session(&step.actor)),
        };
        self.vars = vars;
        result?;
        clock.check_min()
    }

    async fn receive(
        &mut self,
        step: &Step,
        patterns: &[Pattern],
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let mut vars = std::mem::take(&mut self.vars);
        let result = match self.sessions.get_mut(&step.actor) {
            None => Err(no_session(&step.actor)),
            Some(session) if step.any_order => {
                expect_unordered(&mut session.inbox, patterns, &mut vars, clock).await
            }
            Some(session) => {
                let mut result = Ok(());
                for pattern in patterns {
                    result =
                        expect_data(&mut session.inbox, pattern, &mut vars, clock, "packet").await;
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
        };
        self.vars = vars;
        result?;
        clock.check_min()
    }

    async fn request(
        &mut self,
        step: &Step,
        request: &RequestStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        if let Some(name) = &request.name {
            let wire = self.wire.clone();
            let actor = step.actor.clone();
            let channel = wire.channel("http");
            let task_channel = channel.clone();
            let built = self.build_request(request)?;
            // A background request may be held as long as a poll.
            let options = &self.target.options;
            let deadline = Instant::now()
                + self.options.scaled(
                    options.ping_interval + options.ping_timeout + self.options.step_timeout,
                );
            let task = tokio::spawn(async move {
                let channel = task_channel.as_str();
                match built {
                    Built::Http(request) => {
                        http::send_fresh_on(&wire, &actor, channel, &request, deadline).await
                    }
                    Built::Raw(raw) => {
                        http::send_raw_on(&wire, &actor, channel, &raw, deadline).await
                    }
                }
            });
            self.background.insert(
                name.clone(),
                Background {
                    channel,
                    task: AbortOnDrop(task),
                    finished: None,
                },
            );
            return Ok(());
        }
        let mut sent = 0_usize;
        // The last response's shortfall, for a retry that runs out of time.
        let mut last: Option<(String, String)> = None;
        loop {
            let response = match self.send_request(step, request, clock).await {
                Ok(response) => response,
                // A retry cut short by the deadline: the last response is the answer.
                Err(StepError::Unmet { .. })
                    if Instant::now() >= clock.deadline() && last.is_some() =>
                {
                    let (expected, actual) = last.unwrap_or_default();
                    return Err(retried(expected, actual, sent, clock));
                }
                Err(error) => return Err(error),
            };
            sent += 1;
            let Some(expect) = &request.expect else {
                break;
            };
            let mut trial = self.vars.clone();
            match check_response(expect, &response, &mut trial) {
                Ok(()) => {
                    self.vars = trial;
                    break;
                }
                Err(StepError::Unmet { expected, actual }) => {
                    let retry = request
                        .retry
                        .as_ref()
                        .map(|retry| retry.eval(&self.target.options).max(MIN_RETRY));
                    match retry {
                        Some(retry) if Instant::now() + retry < clock.deadline() => {
                            last = Some((expected, actual));
                            tokio::time::sleep(retry).await;
                        }
                        Some(_) => return Err(retried(expected, actual, sent, clock)),
                        None => return Err(StepError::Unmet { expected, actual }),
                    }
                }
                Err(other) => return Err(other),
            }
        }
        clock.check_min()
    }

    /// Sends a request in the foreground and reads its response.
    async fn send_request(
        &mut self,
        step: &Step,
        request: &RequestStep,
        clock: &StepClock,
    ) -> Result<HttpResponse, StepError> {
        match self.build_request(request)? {
            Built::Raw(raw) => {
                http::send_raw(&self.wire, &step.actor, &raw, clock.deadline()).await
            }
            Built::Http(built) => match request.connection {
                ConnectionMode::Fresh => {
                    http::send_fresh(&self.wire, &step.actor, &built, clock.deadline()).await
                }
                ConnectionMode::Keep => {
                    let kept = self.kept.entry(step.actor.clone()).or_default();
                    http::send_kept(&self.wire, &step.actor, kept, &built, clock.deadline()).await
                }
            },
        }
    }

    /// A request target: the path (the endpoint's by default) and the query, variables
    /// substituted.
    fn target(&self, path: Option<&String>, query: Option<&String>) -> Result<String, StepError> {
        let path = match path {
            Some(path) => self.vars.substitute(path)?,
            None => self.endpoint_path().to_owned(),
        };
        Ok(match query {
            Some(query) => format!("{path}?{}", self.vars.substitute(query)?),
            None => path,
        })
    }

    /// Headers with their values' variables substituted.
    fn substituted_headers(
        &self,
        headers: &BTreeMap<String, String>,
    ) -> Result<Vec<(String, String)>, StepError> {
        headers
            .iter()
            .map(|(name, value)| Ok((name.clone(), self.vars.substitute(value)?)))
            .collect()
    }

    fn build_request(&self, request: &RequestStep) -> Result<Built, StepError> {
        if let Some(raw) = &request.raw {
            return Ok(Built::Raw(self.vars.substitute(raw)?.into_bytes()));
        }
        let target = self.target(request.path.as_ref(), request.query.as_ref())?;
        let headers = self.substituted_headers(&request.headers)?;
        let body = match &request.body {
            None => Vec::new(),
            Some(data) => match self.substitute_one(data)? {
                Data::Text(text) => text.into_bytes(),
                Data::Binary(bytes) => bytes,
            },
        };
        Ok(Built::Http(HttpRequest {
            method: request.method.clone(),
            target,
            headers,
            body,
        }))
    }

    async fn response(
        &mut self,
        response: &ResponseStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let Some(mut background) = self.background.remove(&response.request) else {
            return Err(StepError::Invalid(format!(
                "the request {:?} was already awaited",
                response.request
            )));
        };
        let started = Instant::now();
        let result = match background.finished.take() {
            Some(result) => result,
            None => match tokio::time::timeout_at(clock.deadline(), &mut background.task.0).await {
                Ok(Ok(result)) => result,
                Ok(Err(join_error)) => Err(StepError::Invalid(format!(
                    "the request task failed: {join_error}"
                ))),
                Err(_) => Err(StepError::nothing_within(
                    format!("a response to {:?}", response.request),
                    started.elapsed(),
                )),
            },
        };
        let http_response = result?;
        if let Some(expect) = &response.expect {
            check_response(expect, &http_response, &mut self.vars)?;
        }
        clock.check_min()
    }

    async fn pending(&mut self, pending: &PendingStep) -> Result<(), StepError> {
        let duration = pending.duration.eval(&self.target.options);
        let Some(background) = self.background.get_mut(&pending.request) else {
            return Err(StepError::Invalid(format!(
                "the request {:?} was already awaited",
                pending.request
            )));
        };
        if background.finished.is_some() {
            return Err(StepError::unmet(
                format!("{:?} still unanswered", pending.request),
                "it was answered",
            ));
        }
        let started = Instant::now();
        match tokio::time::timeout(duration, &mut background.task.0).await {
            Err(_) => Ok(()),
            Ok(joined) => {
                let result = joined.unwrap_or_else(|error| {
                    Err(StepError::Invalid(format!(
                        "the request task failed: {error}"
                    )))
                });
                let actual = match &result {
                    Ok(response) => format!(
                        "answered after {}: {}",
                        millis(started.elapsed()),
                        response.describe()
                    ),
                    Err(error) => format!("ended after {}: {error:?}", millis(started.elapsed())),
                };
                background.finished = Some(result);
                Err(StepError::unmet(
                    format!(
                        "{:?} still unanswered after {}",
                        pending.request,
                        millis(duration)
                    ),
                    actual,
                ))
            }
        }
    }

    /// Closes the connection of a background request that is still unanswered.
    async fn abort(&mut self, step: &Step, abort: &AbortStep) -> Result<(), StepError> {
        let Some(mut background) = self.background.remove(&abort.request) else {
            return Err(StepError::Invalid(format!(
                "the request {:?} was already awaited or aborted",
                abort.request
            )));
        };
        let expected = format!("{:?} still unanswered, to abort it", abort.request);
        if let Some(result) = background.finished.take() {
            return Err(StepError::unmet(expected, describe_result(&result)));
        }
        background.task.0.abort();
        // The task drops its connection when it is cancelled; a task that had finished gives
        // its result instead.
        match tokio::time::timeout(ABORT_GRACE, &mut background.task.0).await {
            Ok(Ok(result)) => Err(StepError::unmet(expected, describe_result(&result))),
            Ok(Err(_)) | Err(_) => {
                self.wire.recorder.record(
                    &step.actor,
                    &background.channel,
                    EventKind::Note {
                        text: format!(
                            "aborted {:?}: the connection is closed unanswered",
                            abort.request
                        ),
                    },
                );
                Ok(())
            }
        }
    }

    async fn websocket(
        &mut self,
        step: &Step,
        websocket: &WebsocketStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let name = websocket.name.clone().unwrap_or_else(|| step.actor.clone());
        let target = self.target(websocket.path.as_ref(), websocket.query.as_ref())?;
        let headers = self.substituted_headers(&websocket.headers)?;
        let request = WsRequest {
            actor: &step.actor,
            channel: format!("ws:{name}"),
            target,
            headers,
            // A raw WebSocket answers pings `2` under the automatic heartbeat, whatever the
            // protocol: raw steps see the frames as they are, and a v3 server never pings.
            rules: PacketRules::raw(if self.case.scenario.heartbeat == Heartbeat::Auto {
                AutoHeartbeat::AnswerPings
            } else {
                AutoHeartbeat::Off
            }),
            framing: Framing::AsIs,
            control_frames: websocket.control_frames,
        };
        let (sender, inbox) = Inbox::new();
        let opened = websocket::open(&self.wire, request, sender, clock.deadline()).await?;
        let connection = match &websocket.expect {
            WebsocketExpect::Default | WebsocketExpect::Outcome(WebsocketOutcome::Accepted) => {
                accepted(opened)?
            }
            WebsocketExpect::Outcome(WebsocketOutcome::Rejected) => {
                return rejected(opened, inbox, clock).await;
            }
            WebsocketExpect::Response(expect) => {
                let status = expect.status.unwrap_or(SWITCHING_PROTOCOLS);
                if status != SWITCHING_PROTOCOLS {
                    return refused_with(opened, status, &expect.headers, &mut self.vars);
                }
                let connection = accepted(opened)?;
                check_headers(&expect.headers, connection.headers(), &mut self.vars)?;
                connection
            }
        };
        self.sockets.insert(name, RawSocket { connection, inbox });
        clock.check_min()
    }

    fn endpoint_path(&self) -> &str {
        match self.case.scenario.endpoint {
            Endpoint::EngineIo => self.target.engine_io_path_for(self.case.variant.eio),
            Endpoint::SocketIo => &self.target.socket_io_path,
        }
    }

    fn session(&self, step: &Step) -> Result<&Session, StepError> {
        self.sessions
            .get(&step.actor)
            .ok_or_else(|| no_session(&step.actor))
    }

    fn session_mut(&mut self, step: &Step) -> Result<&mut Session, StepError> {
        self.sessions
            .get_mut(&step.actor)
            .ok_or_else(|| no_session(&step.actor))
    }

    fn socket(&self, step: &Step, on: Option<&String>) -> Result<&RawSocket, StepError> {
        let name = socket_name(step, on);
        self.sockets.get(&name).ok_or_else(|| no_socket(&name))
    }

    fn socket_mut(
        &mut self,
        step: &Step,
        on: Option<&String>,
    ) -> Result<&mut RawSocket, StepError> {
        let name = socket_name(step, on);
        self.sockets.get_mut(&name).ok_or_else(|| no_socket(&name))
    }

    fn substitute_one(&self, data: &Data) -> Result<Data, StepError> {
        match data {
            Data::Text(text) => Ok(Data::Text(self.vars.substitute(text)?)),
            Data::Binary(bytes) => Ok(Data::Binary(bytes.clone())),
        }
    }

    fn substitute_data(&self, packets: &[Data]) -> Result<Vec<Data>, StepError> {
        packets
            .iter()
            .map(|data| self.substitute_one(data))
            .collect()
    }
}

/// A request ready to go.
enum Built {
    Http(HttpRequest),
    Raw(Vec<u8>),
}

fn initial_vars(case: &Case, target: &Target) -> Vars {
    let mut vars = Vars::default();
    let options = &target.options;
    for name in crate::scenario::OptionName::ALL {
        let millis = options.option(name).as_millis();
        vars.set(
            name.as_str(),
            Value::from(u64::try_from(millis).unwrap_or(u64::MAX)),
        );
    }
    vars.set("maxPayload", Value::from(options.max_payload));
    vars.set("eio", Value::from(case.variant.eio));
    vars.set(
        "eioPath",
        Value::from(target.engine_io_path_for(case.variant.eio).to_owned()),
    );
    vars.set("sioPath", Value::from(target.socket_io_path.clone()));
    vars.set("host", Value::from(target.address.to_string()));
    if let Some(transport) = case.variant.transport {
        vars.set("transport", Value::from(transport.as_str()));
    }
    vars
}

fn socket_name(step: &Step, on: Option<&String>) -> String {
    on.cloned().unwrap_or_else(|| step.actor.clone())
}

fn no_session(actor: &str) -> StepError {
    StepError::Invalid(format!("{actor} has no session: `open` it first"))
}

fn no_socket(name: &str) -> StepError {
    StepError::Invalid(format!("no open WebSocket {name:?}"))
}

fn describe_result(result: &Result<HttpResponse, StepError>) -> String {
    match result {
        Ok(response) => format!("answered: {}", response.describe()),
        Err(error) => format!("ended: {error:?}"),
    }
}

/// A `request` with `retry` whose every response fell short: the last one says how.
fn retried(expected: String, actual: String, sent: usize, clock: &StepClock) -> StepError {
    let actual = format!(
        "{actual} (the last of {sent} requests, within {})",
        millis(clock.waited())
    );
    StepError::Unmet { expected, actual }
}

/// The shortest pause between two tries of a `request` with `retry`.
const MIN_RETRY: Duration = Duration::from_millis(1);

/// How long `abort` waits for the cancelled request's task to drop its connection.
const ABORT_GRACE: Duration = Duration::from_secs(1);

fn accepted(opened: WsOpen) -> Result<WsConnection, StepError> {
    match opened {
        WsOpen::Accepted(connection) => Ok(connection),
        WsOpen::Refused(status, detail, _) => Err(StepError::unmet(
            "the WebSocket accepted (101)",
            format!("refused: {} {detail}", describe_status(status)),
        )),
    }
}

fn refused_with(
    opened: WsOpen,
    expected: u16,
    headers: &HeaderExpect,
    vars: &mut Vars,
) -> Result<(), StepError> {
    match opened {
        WsOpen::Refused(Some(status), _, received) if status == expected => {
            check_headers(headers, &received, vars)
        }
        WsOpen::Refused(status, detail, _) => Err(StepError::unmet(
            format!("the WebSocket refused with {expected}"),
            format!("refused: {} {detail}", describe_status(status)),
        )),
        WsOpen::Accepted(_) => Err(StepError::unmet(
            format!("the WebSocket refused with {expected}"),
            "accepted (101)",
        )),
    }
}

/// Refused, or accepted and then closed before any data frame: the server closed it.
async fn rejected(opened: WsOpen, mut inbox: Inbox, clock: &StepClock) -> Result<(), StepError> {
    match opened {
        WsOpen::Refused(..) => Ok(()),
        WsOpen::Accepted(connection) => {
            let expected = "the WebSocket refused, or closed before any data frame";
            let result = expect_closed(&mut inbox, clock, expected).await;
            drop(connection);
            result
        }
    }
}

fn describe_status(status: Option<u16>) -> String {
    status.map_or_else(
        || "(no HTTP status)".to_owned(),
        |status| status.to_string(),
    )
}
