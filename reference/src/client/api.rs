//! The public handles: [`Client`] (a Manager: one connection, many namespaces), [`Socket`]
//! (one namespace), the [`SocketEvent`]s a socket reports and the [`AckResponder`] that
//! answers a server's acknowledgement request.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::backoff::{RandomSource, SystemRandom};
use super::config::{Config, Protocol, TransportKind};
use super::manager::{Command, EventSink, Manager};
use super::socket_state::{AckError, AckRequest, Auth, DisconnectReason, EmitError, EmitRequest};
use crate::socket_io::Value;

/// Why the client could not be built or a call could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The URL is not `http://host[:port]` (or `ws://`): only plain-text connections are built.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The emit was refused.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// The client is closed: its Manager task has ended.
    #[error("the client is closed")]
    Closed,
}

/// What a socket reports, in order.
#[derive(Debug)]
pub enum SocketEvent {
    /// `connect`: the namespace is connected.
    Connect {
        /// The socket id the server gave.
        id: String,
        /// Whether the server recovered the previous session.
        recovered: bool,
    },
    /// `connect_error`: the server refused the CONNECT (no reconnection of this namespace
    /// follows), or the connection failed to open (the client retries if reconnection is on).
    ConnectError {
        /// The message: the server's, or the official client's words for a failed open
        /// (`xhr poll error`, `websocket error`, `timeout`).
        message: String,
        /// The server's data, if any.
        data: Option<Value>,
    },
    /// `disconnect`, with the official client's reason.
    Disconnect {
        /// Why.
        reason: DisconnectReason,
    },
    /// An event from the server.
    Event {
        /// The event name.
        name: String,
        /// Its arguments.
        arguments: Vec<Value>,
        /// Present when the server asked for an acknowledgement.
        ack: Option<AckResponder>,
    },
    /// `reconnect_attempt`: a reconnection attempt starts (counted from 1).
    ReconnectAttempt {
        /// The attempt's number.
        attempt: u32,
    },
    /// `reconnect`: a reconnection attempt succeeded.
    Reconnect {
        /// The attempt's number.
        attempt: u32,
    },
    /// `reconnect_failed`: the client gave up after `reconnection_attempts`.
    ReconnectFailed,
}

/// The Manager's own events, also delivered to every active socket as [`SocketEvent`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A reconnection attempt starts.
    ReconnectAttempt {
        /// The attempt's number, from 1.
        attempt: u32,
    },
    /// A reconnection succeeded.
    Reconnect {
        /// The attempt's number.
        attempt: u32,
    },
    /// The client gave up reconnecting.
    ReconnectFailed,
}

impl SocketEvent {
    pub(crate) fn from_client_event(event: &ClientEvent) -> SocketEvent {
        match *event {
            ClientEvent::ReconnectAttempt { attempt } => SocketEvent::ReconnectAttempt { attempt },
            ClientEvent::Reconnect { attempt } => SocketEvent::Reconnect { attempt },
            ClientEvent::ReconnectFailed => SocketEvent::ReconnectFailed,
        }
    }
}

/// Answers a server's acknowledgement request, once (it is consumed).
#[derive(Debug)]
pub struct AckResponder {
    namespace: String,
    id: u64,
    manager: mpsc::WeakUnboundedSender<Command>,
}

impl AckResponder {
    pub(crate) fn new(
        namespace: String,
        id: u64,
        manager: mpsc::WeakUnboundedSender<Command>,
    ) -> AckResponder {
        AckResponder {
            namespace,
            id,
            manager,
        }
    }

    /// The acknowledgement id the server gave.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sends the acknowledgement with these arguments (binary ones make it a BINARY_ACK).
    pub fn send(self, arguments: Vec<Value>) -> Result<(), ClientError> {
        let manager = self.manager.upgrade().ok_or(ClientError::Closed)?;
        manager
            .send(Command::Acknowledge {
                namespace: self.namespace,
                id: self.id,
                arguments,
            })
            .map_err(|_| ClientError::Closed)
    }
}

/// The receiving end of a socket's events.
#[derive(Debug)]
pub struct SocketEvents {
    receiver: mpsc::UnboundedReceiver<SocketEvent>,
}

impl SocketEvents {
    /// The next event; `None` once the client is gone.
    pub async fn next(&mut self) -> Option<SocketEvent> {
        self.receiver.recv().await
    }
}

/// One stream for the events of several sockets ([`Client::connect_shared`]), each with its
/// namespace, in the order the client produced them.
#[derive(Debug)]
pub struct SharedEvents {
    receiver: mpsc::UnboundedReceiver<(String, SocketEvent)>,
}

/// The sending end of [`SharedEvents`], handed to [`Client::connect_shared`].
#[derive(Debug, Clone)]
pub struct SharedEventsSender {
    sender: mpsc::UnboundedSender<(String, SocketEvent)>,
}

impl SharedEvents {
    /// A shared stream and the sender that connects sockets to it.
    pub fn channel() -> (SharedEventsSender, SharedEvents) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (SharedEventsSender { sender }, SharedEvents { receiver })
    }

    /// The next event and its socket's namespace; `None` once the sender and every socket
    /// connected with it are gone.
    pub async fn next(&mut self) -> Option<(String, SocketEvent)> {
        self.receiver.recv().await
    }
}

/// Builds a [`Client`]: the official client's options, with its defaults.
pub struct ClientBuilder {
    url: String,
    config: Result<Config, ClientError>,
    auth: Option<Auth>,
    random: Box<dyn RandomSource>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ClientBuilder")
            .field("url", &self.url)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn authority_of(url: &str) -> Result<String, ClientError> {
    let invalid = |reason| ClientError::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    let uri: http::Uri = url.parse().map_err(|_| invalid("not a URL"))?;
    match uri.scheme_str() {
        Some("http") | Some("ws") => {}
        _ => return Err(invalid("the scheme must be http or ws")),
    }
    let host = uri.host().ok_or_else(|| invalid("no host"))?;
    let port = uri.port_u16().unwrap_or(80);
    Ok(format!("{host}:{port}"))
}

macro_rules! option {
    ($(#[$doc:meta])* $name:ident, $field:ident: $type:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $type) -> ClientBuilder {
            if let Ok(config) = &mut self.config {
                config.$field = value.into();
            }
            self
        }
    };
}

impl ClientBuilder {
    /// A builder for the server at `url` (`http://host:port`).
    pub fn new(url: &str) -> ClientBuilder {
        ClientBuilder {
            url: url.to_owned(),
            config: authority_of(url).map(Config::new),
            auth: None,
            random: Box::new(SystemRandom::default()),
        }
    }

    option!(
        /// `path`: the HTTP path of the endpoint. Default `/socket.io/`.
        path, path: &str
    );
    option!(
        /// The protocol: [`Protocol::V5`] (default) or [`Protocol::V4`] for socket.io 2.x servers.
        protocol, protocol: Protocol
    );
    option!(
        /// `upgrade`: upgrade from polling when the server offers WebSocket. Default true.
        upgrade, upgrade: bool
    );
    option!(
        /// `rememberUpgrade`: open later sessions over WebSocket once one succeeded. Default false.
        remember_upgrade, remember_upgrade: bool
    );
    option!(
        /// `tryAllTransports`: try the next transport when one fails to open. Default false.
        try_all_transports, try_all_transports: bool
    );
    option!(
        /// `timestampRequests`: `true` puts the `t` parameter on every request, the WebSocket
        /// handshake included; `false` on none. Left unset, polling requests only carry it.
        timestamp_requests, timestamp_requests: bool
    );
    option!(
        /// `forceBase64`: send `b64=1`. Default false.
        force_base64, force_base64: bool
    );
    option!(
        /// `reconnection`: reconnect after the connection is lost. Default true.
        reconnection, reconnection: bool
    );
    option!(
        /// `timeout`: how long opening a session may take. Default 20 s.
        timeout, timeout: Duration
    );
    option!(
        /// The bound on any one HTTP request or WebSocket handshake. Default 60 s.
        request_timeout, request_timeout: Duration
    );
    option!(
        /// `withCredentials`: keep the cookies the server sets (a load balancer's sticky
        /// session) and send them back on the session's later requests, the upgrade's
        /// WebSocket handshake included. Default false.
        with_credentials, with_credentials: bool
    );
    option!(
        /// The most attachments a server packet may announce. Default 10.
        max_attachments, max_attachments: usize
    );

    /// `transports`, in order. Default polling then WebSocket.
    pub fn transports(
        mut self,
        transports: impl IntoIterator<Item = TransportKind>,
    ) -> ClientBuilder {
        if let Ok(config) = &mut self.config {
            config.transports = transports.into_iter().collect();
        }
        self
    }

    /// `reconnectionAttempts`. Default: no limit.
    pub fn reconnection_attempts(mut self, attempts: u32) -> ClientBuilder {
        if let Ok(config) = &mut self.config {
            config.reconnection_attempts = Some(attempts);
        }
        self
    }

    /// `reconnectionDelay`. Default 1000 ms.
    pub fn reconnection_delay(mut self, delay: Duration) -> ClientBuilder {
        if let Ok(config) = &mut self.config {
            config.backoff.reconnection_delay = delay;
        }
        self
    }

    /// `reconnectionDelayMax`. Default 5000 ms.
    pub fn reconnection_delay_max(mut self, delay: Duration) -> ClientBuilder {
        if let Ok(config) = &mut self.config {
            config.backoff.reconnection_delay_max = delay;
        }
        self
    }

    /// `randomizationFactor`, 0 to 1. Default 0.5.
    pub fn randomization_factor(mut self, factor: f64) -> ClientBuilder {
        if let Ok(config) = &mut self.config {
            config.backoff.randomization_factor = factor;
        }
        self
    }

    /// `ackTimeout`: the timeout of acknowledgements that give none. Default none.
    pub fn ack_timeout(mut self, timeout: Duration) -> ClientBuilder {
        if let Ok(config) = &mut self.config {
            config.ack_timeout = Some(timeout);
        }
        self
    }

    /// `retries`: send unacknowledged emits again, one in flight at a time. Default off.
    pub fn retries(mut self, retries: u32) -> ClientBuilder {
        if let Ok(config) = &mut self.config {
            config.retries = Some(retries);
        }
        self
    }

    /// `query`: an extra query parameter on every request.
    pub fn query(mut self, key: &str, value: &str) -> ClientBuilder {
        if let Ok(config) = &mut self.config {
            config.query.push((key.to_owned(), value.to_owned()));
        }
        self
    }

    /// `extraHeaders`: an extra header on every HTTP request and WebSocket handshake.
    pub fn extra_header(mut self, name: &str, value: &str) -> ClientBuilder {
        if let Ok(config) = &mut self.config {
            config
                .extra_headers
                .push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// `auth`: the CONNECT payload of the namespace [`ClientBuilder::connect`] opens.
    pub fn auth(mut self, auth: Value) -> ClientBuilder {
        self.auth = Some(Auth::Value(auth));
        self
    }

    /// `auth` as a function: called for every CONNECT of the namespace
    /// [`ClientBuilder::connect`] opens, the first and each after a reconnection, as the
    /// official client calls an `auth` callback.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use sio_reference::client::Client;
    ///
    /// let token = AtomicU64::new(0);
    /// let builder = Client::builder("http://127.0.0.1:3000").auth_with(move || {
    ///     // A fresh token for every CONNECT.
    ///     serde_json::json!({ "token": token.fetch_add(1, Ordering::Relaxed) }).into()
    /// });
    /// # drop(builder);
    /// ```
    pub fn auth_with(mut self, auth: impl Fn() -> Value + Send + Sync + 'static) -> ClientBuilder {
        self.auth = Some(Auth::function(auth));
        self
    }

    /// The random source of the backoff's jitter (for deterministic tests).
    pub fn random_source(mut self, random: impl RandomSource) -> ClientBuilder {
        self.random = Box::new(random);
        self
    }

    /// Builds the client; its Manager task starts now (call from a tokio runtime) and opens
    /// the connection with the first namespace.
    pub fn build(self) -> Result<Client, ClientError> {
        // An empty transport list is not refused here: as in the official client, every
        // attempt then fails with `No transports available`, and reconnection goes on.
        let config = self.config?;
        Ok(Client {
            manager: Manager::spawn(config, self.random),
        })
    }

    /// Builds the client and connects `namespace` with the builder's auth.
    pub fn connect(self, namespace: &str) -> Result<(Socket, SocketEvents), ClientError> {
        let auth = self.auth.clone();
        let client = self.build()?;
        let (events, receiver) = mpsc::unbounded_channel();
        let socket = client.connect_with(namespace, auth, EventSink::Own(events))?;
        Ok((socket, SocketEvents { receiver }))
    }
}

/// A client: one Engine.IO connection (the official Manager), shared by its namespaces.
///
/// It lives while any [`Client`] or [`Socket`] handle does; when the last is dropped, or
/// [`Client::close`] is called, every namespace disconnects and the connection closes.
#[derive(Debug, Clone)]
pub struct Client {
    manager: mpsc::UnboundedSender<Command>,
}

impl Client {
    /// A builder for the server at `url` (`http://host:port`).
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    /// Connects a namespace over this client's connection, with a CONNECT payload. A namespace
    /// already connected is replaced by a new socket.
    pub fn connect(
        &self,
        namespace: &str,
        auth: Option<Value>,
    ) -> Result<(Socket, SocketEvents), ClientError> {
        self.connect_with_auth(namespace, auth.map(Auth::Value))
    }

    /// Connects a namespace as [`Client::connect`] does, with an [`Auth`]: a value, or a
    /// function called for every CONNECT.
    pub fn connect_with_auth(
        &self,
        namespace: &str,
        auth: Option<Auth>,
    ) -> Result<(Socket, SocketEvents), ClientError> {
        let (events, receiver) = mpsc::unbounded_channel();
        let socket = self.connect_with(namespace, auth, EventSink::Own(events))?;
        Ok((socket, SocketEvents { receiver }))
    }

    /// Connects a namespace as [`Client::connect`] does, its events going to a stream shared
    /// with other sockets: there, the events of every namespace keep the order the client
    /// produced them in (the official client's events are emitted synchronously, in one
    /// order), which separate [`SocketEvents`] read from different tasks cannot tell.
    pub fn connect_shared(
        &self,
        namespace: &str,
        auth: Option<Value>,
        events: &SharedEventsSender,
    ) -> Result<Socket, ClientError> {
        self.connect_with(
            namespace,
            auth.map(Auth::Value),
            EventSink::Shared(events.sender.clone()),
        )
    }

    fn connect_with(
        &self,
        namespace: &str,
        auth: Option<Auth>,
        events: EventSink,
    ) -> Result<Socket, ClientError> {
        let namespace = if namespace.starts_with('/') {
            namespace.to_owned()
        } else {
            format!("/{namespace}")
        };
        self.manager
            .send(Command::Connect {
                namespace: namespace.clone(),
                auth,
                events,
            })
            .map_err(|_| ClientError::Closed)?;
        Ok(Socket {
            namespace,
            manager: self.manager.clone(),
        })
    }

    /// The Manager's events: reconnection attempts, reconnections, giving up.
    pub fn events(&self) -> Result<mpsc::UnboundedReceiver<ClientEvent>, ClientError> {
        let (events, receiver) = mpsc::unbounded_channel();
        self.manager
            .send(Command::Subscribe { events })
            .map_err(|_| ClientError::Closed)?;
        Ok(receiver)
    }

    /// Disconnects every namespace and closes the connection.
    pub fn close(&self) {
        let _ = self.manager.send(Command::Close);
    }
}

/// One namespace's socket.
#[derive(Debug, Clone)]
pub struct Socket {
    namespace: String,
    manager: mpsc::UnboundedSender<Command>,
}

impl Socket {
    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The client the socket belongs to, to connect more namespaces over its connection.
    pub fn client(&self) -> Client {
        Client {
            manager: self.manager.clone(),
        }
    }

    /// Hands the emit to the Manager now, and gives back the wait for its verdict.
    fn emit_request(
        &self,
        request: EmitRequest,
        ack: Option<oneshot::Sender<Result<Vec<Value>, AckError>>>,
    ) -> impl Future<Output = Result<(), ClientError>> + Send + 'static {
        let (refused, verdict) = oneshot::channel();
        let handed = self
            .manager
            .send(Command::Emit {
                namespace: self.namespace.clone(),
                request,
                ack,
                refused,
            })
            .map_err(|_| ClientError::Closed);
        async move {
            handed?;
            verdict.await.map_err(|_| ClientError::Closed)??;
            Ok(())
        }
    }

    /// Emits an event; while the namespace is not connected it waits in the send buffer.
    ///
    /// The emit is handed to the client when this is called, not when the future is first
    /// polled, so that emits keep the order of the calls, as the official client's
    /// synchronous `emit` does; the future tells whether the emit was refused.
    pub fn emit(
        &self,
        name: &str,
        arguments: Vec<Value>,
    ) -> impl Future<Output = Result<(), ClientError>> + Send + 'static {
        let request = EmitRequest {
            name: name.to_owned(),
            arguments,
            ack: None,
            volatile: false,
        };
        self.emit_request(request, None)
    }

    /// Emits a volatile event: dropped unless the namespace is connected. Handed to the client
    /// when called, as [`Socket::emit`].
    pub fn emit_volatile(
        &self,
        name: &str,
        arguments: Vec<Value>,
    ) -> impl Future<Output = Result<(), ClientError>> + Send + 'static {
        let request = EmitRequest {
            name: name.to_owned(),
            arguments,
            ack: None,
            volatile: true,
        };
        self.emit_request(request, None)
    }

    /// Emits an event that asks for an acknowledgement and waits for it, at most `timeout`
    /// (`None`: the client's `ack_timeout`, or no limit).
    ///
    /// The emit is handed to the client when this is called, as [`Socket::emit`]: the future
    /// only waits for the acknowledgement, so it may be awaited later, or in another task,
    /// without letting later emits overtake this one.
    pub fn emit_with_ack(
        &self,
        name: &str,
        arguments: Vec<Value>,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<Result<Vec<Value>, AckError>, ClientError>> + Send + 'static
    {
        let (ack, answer) = oneshot::channel();
        let request = EmitRequest {
            name: name.to_owned(),
            arguments,
            ack: Some(AckRequest { token: 0, timeout }),
            volatile: false,
        };
        let handed = self.emit_request(request, Some(ack));
        async move {
            handed.await?;
            Ok(answer.await.unwrap_or(Err(AckError::Closed)))
        }
    }

    /// Disconnects the namespace (`41`); it does not reconnect until [`Socket::connect`].
    pub fn disconnect(&self) {
        let _ = self.manager.send(Command::Disconnect {
            namespace: self.namespace.clone(),
        });
    }

    /// Connects the namespace again after a disconnection or a refusal.
    pub fn connect(&self) {
        let _ = self.manager.send(Command::Reconnect {
            namespace: self.namespace.clone(),
        });
    }
}
