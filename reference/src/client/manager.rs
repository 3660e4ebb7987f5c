//! The Manager: one Engine.IO session per client, shared by its namespaces, and the
//! reconnection loop. It runs as one task that ends when every handle on it is dropped.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::api::{AckResponder, ClientEvent, SocketEvent};
use super::backoff::{Backoff, RandomSource};
use super::config::{Config, TransportKind};
use super::engine::query::QueryOptions;
use super::engine::{self, EngineCloseReason, EngineEvent, EngineHandle, EngineOptions};
use super::socket_state::{
    AckError, AckRequest, AckToken, Auth, DisconnectReason, EmitRequest, Output, SocketState,
};
use crate::engine_io::{Data, Packet as EnginePacket};
use crate::socket_io::{Decoder, Packet, Value};

/// What the handles ask of the Manager.
pub(crate) enum Command {
    Connect {
        namespace: String,
        auth: Option<Auth>,
        events: EventSink,
    },
    Reconnect {
        namespace: String,
    },
    Emit {
        namespace: String,
        request: EmitRequest,
        ack: Option<oneshot::Sender<Result<Vec<Value>, AckError>>>,
        refused: oneshot::Sender<Result<(), super::socket_state::EmitError>>,
    },
    Acknowledge {
        namespace: String,
        id: u64,
        arguments: Vec<Value>,
    },
    Disconnect {
        namespace: String,
    },
    Subscribe {
        events: mpsc::UnboundedSender<ClientEvent>,
    },
    Close,
}

/// Where a socket's events go.
pub(crate) enum EventSink {
    /// The socket's own stream.
    Own(mpsc::UnboundedSender<SocketEvent>),
    /// A stream shared with other sockets, each event with its namespace.
    Shared(mpsc::UnboundedSender<(String, SocketEvent)>),
}

impl EventSink {
    fn send(&self, namespace: &str, event: SocketEvent) {
        // A stream nobody reads any more is no error: the socket lives on without listeners.
        match self {
            EventSink::Own(sender) => {
                let _ = sender.send(event);
            }
            EventSink::Shared(sender) => {
                let _ = sender.send((namespace.to_owned(), event));
            }
        }
    }
}

struct Entry {
    state: SocketState,
    events: EventSink,
    /// When the socket last became active: the official Manager's sockets hear of a new
    /// session (and send their CONNECTs) in the order they subscribed to it, which is the
    /// order they were opened, a socket connected again after a disconnection going last.
    activated: u64,
}

enum Link {
    /// No session, and none wanted now.
    Idle,
    /// Waiting out the backoff before reconnection attempt `attempt`.
    Waiting { until: Instant, attempt: u32 },
    /// Opening a session; `attempt` is the reconnection attempt, if it is one.
    Opening {
        result:
            oneshot::Receiver<Result<(EngineHandle, mpsc::UnboundedReceiver<EngineEvent>), String>>,
        attempt: Option<u32>,
    },
    Open {
        engine: EngineHandle,
        events: mpsc::UnboundedReceiver<EngineEvent>,
    },
}

pub(crate) struct Manager {
    config: Config,
    commands: mpsc::UnboundedReceiver<Command>,
    sockets: HashMap<String, Entry>,
    /// The next [`Entry::activated`] stamp.
    next_activation: u64,
    acks: HashMap<AckToken, oneshot::Sender<Result<Vec<Value>, AckError>>>,
    next_token: AckToken,
    backoff: Backoff,
    link: Link,
    decoder: Decoder,
    websocket_succeeded: bool,
    subscribers: Vec<mpsc::UnboundedSender<ClientEvent>>,
    opener: tokio::task::JoinSet<()>,
    /// A sender that does not keep the Manager alive, for the ack responders it hands out.
    handle: mpsc::WeakUnboundedSender<Command>,
}

impl Manager {
    pub(crate) fn spawn(
        config: Config,
        random: Box<dyn RandomSource>,
    ) -> mpsc::UnboundedSender<Command> {
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let decoder =
            Decoder::with_max_attachments(config.protocol.socket_io(), config.max_attachments);
        let manager = Manager {
            backoff: Backoff::new(config.backoff, random),
            config,
            commands,
            sockets: HashMap::new(),
            next_activation: 0,
            acks: HashMap::new(),
            next_token: 0,
            link: Link::Idle,
            decoder,
            websocket_succeeded: false,
            subscribers: Vec::new(),
            opener: tokio::task::JoinSet::new(),
            handle: commands_tx.downgrade(),
        };
        tokio::spawn(manager.run());
        commands_tx
    }

    async fn run(mut self) {
        loop {
            let ack_deadline = self
                .sockets
                .values()
                .filter_map(|entry| entry.state.next_deadline())
                .min()
                .map(Instant::from_std);
            tokio::select! {
                command = self.commands.recv() => match command {
                    None | Some(Command::Close) => break,
                    Some(command) => self.on_command(command),
                },
                activity = link_activity(&mut self.link) => match activity {
                    Activity::Engine(event) => self.on_engine_event(event),
                    Activity::Opened(opened) => self.on_opened(opened),
                    Activity::Attempt(attempt) => self.start_open(Some(attempt)),
                },
                () = sleep_until_option(ack_deadline) => self.on_ack_timeouts(),
            }
        }
        self.close_all();
    }

    fn emit_client_event(&mut self, event: ClientEvent) {
        self.subscribers
            .retain(|subscriber| subscriber.send(event.clone()).is_ok());
        for namespace in self.namespaces_in_order() {
            if let Some(entry) = self.sockets.get(&namespace) {
                if entry.state.is_active() {
                    entry
                        .events
                        .send(&namespace, SocketEvent::from_client_event(&event));
                }
            }
        }
    }

    /// The namespaces in the order they became active (see [`Entry::activated`]).
    fn namespaces_in_order(&self) -> Vec<String> {
        let mut namespaces: Vec<(&String, u64)> = self
            .sockets
            .iter()
            .map(|(namespace, entry)| (namespace, entry.activated))
            .collect();
        namespaces.sort_by_key(|&(_, activated)| activated);
        namespaces
            .into_iter()
            .map(|(namespace, _)| namespace.clone())
            .collect()
    }

    fn activation_stamp(&mut self) -> u64 {
        let stamp = self.next_activation;
        self.next_activation += 1;
        stamp
    }

    fn engine_options(&self) -> EngineOptions {
        let mut transports = self.config.transports.clone();
        if self.config.remember_upgrade && self.websocket_succeeded {
            if let Some(index) = transports
                .iter()
                .position(|&t| t == TransportKind::WebSocket)
            {
                let websocket = transports.remove(index);
                transports.insert(0, websocket);
            }
        }
        EngineOptions {
            endpoint: engine::Endpoint {
                authority: self.config.authority.clone(),
                path: self.config.path.clone(),
                query: QueryOptions {
                    extra: self.config.query.clone(),
                    timestamp_requests: self.config.timestamp_requests,
                    force_base64: self.config.force_base64,
                },
                headers: self.config.extra_headers.clone(),
                version: self.config.protocol.engine_io(),
                request_timeout: self.config.request_timeout,
                // A jar per attempt, as the official client has one per Engine.IO socket.
                cookies: self.config.with_credentials.then(engine::CookieJar::shared),
            },
            transports,
            upgrade: self.config.upgrade,
            try_all_transports: self.config.try_all_transports,
        }
    }

    fn start_open(&mut self, attempt: Option<u32>) {
        if let Some(attempt) = attempt {
            self.emit_client_event(ClientEvent::ReconnectAttempt { attempt });
        }
        let options = self.engine_options();
        let timeout = self.config.timeout;
        let (report, result) = oneshot::channel();
        self.opener.spawn(async move {
            let opened = match tokio::time::timeout(timeout, engine::open(&options)).await {
                Err(_) => Err("timeout".to_owned()),
                Ok(Err(error)) => Err(open_error_message(&options, &error)),
                Ok(Ok(opened)) => Ok(opened),
            };
            let _ = report.send(opened);
        });
        self.link = Link::Opening { result, attempt };
    }

    fn wants_link(&self) -> bool {
        self.sockets.values().any(|entry| entry.state.is_active())
    }

    fn ensure_link(&mut self) {
        if matches!(self.link, Link::Idle) && self.wants_link() {
            self.start_open(None);
        }
    }

    fn on_command(&mut self, command: Command) {
        let now = std::time::Instant::now();
        match command {
            Command::Connect {
                namespace,
                auth,
                events,
            } => {
                let mut state = SocketState::new(
                    &namespace,
                    self.config.protocol,
                    auth,
                    self.config.retries,
                    self.config.ack_timeout,
                );
                let outputs = match &self.link {
                    Link::Open { engine, .. } => state.on_open(&engine.sid),
                    _ => Vec::new(),
                };
                let activated = self.activation_stamp();
                self.sockets.insert(
                    namespace.clone(),
                    Entry {
                        state,
                        events,
                        activated,
                    },
                );
                self.carry_out(&namespace, outputs);
                self.ensure_link();
            }
            Command::Reconnect { namespace } => {
                let open = matches!(self.link, Link::Open { .. });
                let stamp = self.activation_stamp();
                if let Some(entry) = self.sockets.get_mut(&namespace) {
                    if !entry.state.is_active() {
                        entry.activated = stamp;
                    }
                    let outputs = entry.state.connect(open);
                    self.carry_out(&namespace, outputs);
                }
                self.ensure_link();
            }
            Command::Emit {
                namespace,
                mut request,
                ack,
                refused,
            } => {
                let Some(entry) = self.sockets.get_mut(&namespace) else {
                    let _ = refused.send(Ok(()));
                    return;
                };
                if let Some(ack) = ack {
                    let token = self.next_token;
                    self.next_token += 1;
                    self.acks.insert(token, ack);
                    if let Some(request_ack) = &mut request.ack {
                        request_ack.token = token;
                    } else {
                        request.ack = Some(AckRequest {
                            token,
                            timeout: None,
                        });
                    }
                }
                match entry.state.emit(request, now) {
                    Ok(outputs) => {
                        let _ = refused.send(Ok(()));
                        self.carry_out(&namespace, outputs);
                    }
                    Err(error) => {
                        let _ = refused.send(Err(error));
                    }
                }
            }
            Command::Acknowledge {
                namespace,
                id,
                arguments,
            } => {
                if let Some(entry) = self.sockets.get(&namespace) {
                    let output = entry.state.acknowledge(id, arguments);
                    self.carry_out(&namespace, vec![output]);
                }
            }
            Command::Disconnect { namespace } => {
                if let Some(entry) = self.sockets.get_mut(&namespace) {
                    let outputs = entry.state.disconnect(now);
                    self.carry_out(&namespace, outputs);
                }
                self.release_link_if_unused();
            }
            Command::Subscribe { events } => self.subscribers.push(events),
            Command::Close => {}
        }
    }

    /// No namespace uses the session any more: it closes, and no reconnection follows.
    fn release_link_if_unused(&mut self) {
        if self.wants_link() {
            return;
        }
        if let Link::Open { engine, .. } = &self.link {
            engine.close();
        }
        self.link = Link::Idle;
    }

    fn carry_out(&mut self, namespace: &str, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Send(packet) => self.send(packet),
                Output::AckResolved { token, result } => {
                    if let Some(ack) = self.acks.remove(&token) {
                        let _ = ack.send(result);
                    }
                }
                other => {
                    let Some(entry) = self.sockets.get(namespace) else {
                        continue;
                    };
                    let event = match other {
                        Output::Connected { id, recovered } => {
                            SocketEvent::Connect { id, recovered }
                        }
                        Output::ConnectError { message, data } => {
                            SocketEvent::ConnectError { message, data }
                        }
                        Output::Disconnected(reason) => SocketEvent::Disconnect { reason },
                        Output::Event {
                            name,
                            arguments,
                            ack_id,
                        } => SocketEvent::Event {
                            name,
                            arguments,
                            ack: ack_id.map(|id| {
                                AckResponder::new(namespace.to_owned(), id, self.self_sender())
                            }),
                        },
                        Output::Send(_) | Output::AckResolved { .. } => continue,
                    };
                    entry.events.send(namespace, event);
                }
            }
        }
    }

    fn self_sender(&self) -> mpsc::WeakUnboundedSender<Command> {
        self.handle.clone()
    }

    fn send(&mut self, packet: Packet) {
        let Link::Open { engine, .. } = &self.link else {
            return;
        };
        let encoded = packet.encode();
        let mut packets = vec![EnginePacket::text(
            crate::engine_io::PacketType::Message,
            encoded.text,
        )];
        packets.extend(encoded.attachments.into_iter().map(EnginePacket::binary));
        engine.send(packets);
    }

    fn on_opened(
        &mut self,
        opened: Result<(EngineHandle, mpsc::UnboundedReceiver<EngineEvent>), String>,
    ) {
        let attempt = match &self.link {
            Link::Opening { attempt, .. } => *attempt,
            _ => None,
        };
        match opened {
            Ok((engine, events)) => {
                if !self.wants_link() {
                    engine.close();
                    self.link = Link::Idle;
                    return;
                }
                self.decoder = Decoder::with_max_attachments(
                    self.config.protocol.socket_io(),
                    self.config.max_attachments,
                );
                let sid = engine.sid.clone();
                self.link = Link::Open { engine, events };
                if let Some(attempt) = attempt {
                    self.backoff.reset();
                    self.emit_client_event(ClientEvent::Reconnect { attempt });
                }
                let namespaces = self.namespaces_in_order();
                for namespace in namespaces {
                    if let Some(entry) = self.sockets.get_mut(&namespace) {
                        let outputs = entry.state.on_open(&sid);
                        self.carry_out(&namespace, outputs);
                    }
                }
            }
            Err(message) => {
                self.link = Link::Idle;
                for namespace in self.namespaces_in_order() {
                    let Some(entry) = self.sockets.get(&namespace) else {
                        continue;
                    };
                    if entry.state.is_active() && entry.state.id().is_none() {
                        entry.events.send(
                            &namespace,
                            SocketEvent::ConnectError {
                                message: message.clone(),
                                data: None,
                            },
                        );
                    }
                }
                self.reconnect();
            }
        }
    }

    /// Schedules the next reconnection attempt, or gives up.
    fn reconnect(&mut self) {
        if !self.config.reconnection || !self.wants_link() {
            self.link = Link::Idle;
            return;
        }
        if let Some(limit) = self.config.reconnection_attempts {
            if self.backoff.attempts() >= limit {
                self.backoff.reset();
                self.link = Link::Idle;
                self.emit_client_event(ClientEvent::ReconnectFailed);
                return;
            }
        }
        let delay = self.backoff.next_delay();
        self.link = Link::Waiting {
            until: Instant::now() + delay,
            attempt: self.backoff.attempts(),
        };
    }

    fn on_engine_event(&mut self, event: Option<EngineEvent>) {
        match event {
            Some(EngineEvent::Message(data)) => {
                let decoded = match data {
                    Data::Text(text) => self.decoder.decode_text(&text),
                    Data::Binary(bytes) => self.decoder.decode_binary(bytes),
                };
                match decoded {
                    Ok(Some(packet)) => self.on_packet(packet),
                    Ok(None) => {}
                    Err(_) => self.on_link_closed(DisconnectReason::ParseError),
                }
            }
            Some(EngineEvent::Closed(reason)) => self.on_link_closed(match reason {
                EngineCloseReason::TransportClose => DisconnectReason::TransportClose,
                EngineCloseReason::TransportError => DisconnectReason::TransportError,
                EngineCloseReason::PingTimeout => DisconnectReason::PingTimeout,
            }),
            None => self.on_link_closed(DisconnectReason::TransportClose),
        }
    }

    fn on_packet(&mut self, packet: Packet) {
        let namespace = packet.namespace.clone();
        let now = std::time::Instant::now();
        let Some(entry) = self.sockets.get_mut(&namespace) else {
            return;
        };
        let outputs = entry.state.on_packet(packet, now);
        self.carry_out(&namespace, outputs);
        self.release_link_if_unused();
    }

    fn on_link_closed(&mut self, reason: DisconnectReason) {
        if let Link::Open { engine, .. } = &self.link {
            if engine.on_websocket.load(Ordering::SeqCst) {
                self.websocket_succeeded = true;
            }
            engine.close();
        }
        self.link = Link::Idle;
        let now = std::time::Instant::now();
        let namespaces = self.namespaces_in_order();
        for namespace in namespaces {
            if let Some(entry) = self.sockets.get_mut(&namespace) {
                let outputs = entry.state.on_close(reason, now);
                self.carry_out(&namespace, outputs);
            }
        }
        self.backoff.reset();
        self.reconnect();
    }

    fn on_ack_timeouts(&mut self) {
        let now = std::time::Instant::now();
        let namespaces = self.namespaces_in_order();
        for namespace in namespaces {
            if let Some(entry) = self.sockets.get_mut(&namespace) {
                let outputs = entry.state.poll_timeouts(now);
                self.carry_out(&namespace, outputs);
            }
        }
    }

    /// The client is closing: every connected namespace disconnects, the session closes.
    fn close_all(&mut self) {
        let now = std::time::Instant::now();
        let namespaces = self.namespaces_in_order();
        for namespace in namespaces {
            if let Some(entry) = self.sockets.get_mut(&namespace) {
                let mut outputs = entry.state.disconnect(now);
                outputs.extend(entry.state.abandon());
                self.carry_out(&namespace, outputs);
            }
        }
        for (_, ack) in self.acks.drain() {
            let _ = ack.send(Err(AckError::Closed));
        }
        if let Link::Open { engine, .. } = &self.link {
            engine.close();
        }
        self.link = Link::Idle;
    }
}

/// The connection error's message, in the official client's words.
fn open_error_message(options: &EngineOptions, error: &engine::TransportError) -> String {
    match (options.transports.first(), error) {
        (_, engine::TransportError::NoTransports) => "No transports available".to_owned(),
        (Some(TransportKind::WebSocket), _) => "websocket error".to_owned(),
        _ => "xhr poll error".to_owned(),
    }
}

type Opened = Result<(EngineHandle, mpsc::UnboundedReceiver<EngineEvent>), String>;

/// What the link did.
enum Activity {
    Engine(Option<EngineEvent>),
    Opened(Opened),
    Attempt(u32),
}

async fn link_activity(link: &mut Link) -> Activity {
    match link {
        Link::Open { events, .. } => Activity::Engine(events.recv().await),
        Link::Opening { result, .. } => Activity::Opened(
            result
                .await
                .unwrap_or_else(|_| Err("the opening task ended".to_owned())),
        ),
        Link::Waiting { until, attempt } => {
            tokio::time::sleep_until(*until).await;
            Activity::Attempt(*attempt)
        }
        Link::Idle => std::future::pending().await,
    }
}

async fn sleep_until_option(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
