//! The battery: one protocol behaviour per [`Item`], run by the reference client against one
//! server over one transport mode. Every wait is bounded by the client tests' `WAIT`; a
//! failure panics with what was expected and what came.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sio_reference::client::{ClientBuilder, Protocol, Socket, SocketEvent, SocketEvents};
use sio_reference::socket_io::Value;

use crate::servers::{ServerKind, ServerProcess};
use crate::session_probe::SessionProbe;
use crate::support::{builder, json, next, quiet_for};

/// What one test is given: the server, its address and the transports of the mode.
#[derive(Debug, Clone)]
pub struct Target {
    /// The server.
    pub kind: ServerKind,
    /// Its address (a shared server's, or unused by items that start their own).
    pub address: SocketAddr,
    /// The mode's name (`polling`, `websocket`, `upgrade`).
    pub mode: &'static str,
    /// The mode's transports.
    pub transports: Vec<sio_reference::client::TransportKind>,
}

impl Target {
    /// A client builder for `address` with the mode's transports and the server's protocol.
    fn client(&self, address: SocketAddr) -> ClientBuilder {
        builder(address)
            .transports(self.transports.clone())
            .protocol(self.kind.protocol())
    }

    fn is_v4(&self) -> bool {
        self.kind.protocol() == Protocol::V4
    }
}

/// One behaviour of the battery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// CONNECT with an auth payload; the server's `auth` event echoes it.
    ConnectWithAuth,
    /// `message` → `message-back` with the same arguments.
    Echo,
    /// `message-with-ack` acknowledged by the server, and `emit-with-ack`: the server asks the
    /// client for an ack and re-emits the ack's arguments.
    Acks,
    /// Binary attachments in events and acks, both ways.
    Binary,
    /// `/` and `/custom` over one Engine.IO session.
    TwoNamespaces,
    /// 500 messages, echoed in order.
    OrderedMessages,
    /// A 400 KB string and a 400 KB binary, echoed.
    LargePayload,
    /// Connected through more than five ping intervals with no disconnection.
    Heartbeat,
    /// The server killed and restarted on the same port; emits made meanwhile arrive after
    /// the reconnection, in order.
    ServerRestart,
}

impl Item {
    /// Every item, in the order of the test names.
    pub const ALL: [Item; 9] = [
        Item::ConnectWithAuth,
        Item::Echo,
        Item::Acks,
        Item::Binary,
        Item::TwoNamespaces,
        Item::OrderedMessages,
        Item::LargePayload,
        Item::Heartbeat,
        Item::ServerRestart,
    ];

    /// The name in test names.
    pub fn name(self) -> &'static str {
        match self {
            Item::ConnectWithAuth => "connect_with_auth",
            Item::Echo => "echo",
            Item::Acks => "acks",
            Item::Binary => "binary",
            Item::TwoNamespaces => "two_namespaces_one_session",
            Item::OrderedMessages => "ordered_500_messages",
            Item::LargePayload => "large_payload_400kb",
            Item::Heartbeat => "heartbeat",
            Item::ServerRestart => "server_restart",
        }
    }

    /// Whether the item starts a server of its own instead of using the shared one.
    pub fn needs_own_server(self) -> bool {
        self == Item::ServerRestart
    }

    /// Runs the item; panics on a failure.
    pub async fn run(self, target: Target) {
        match self {
            Item::ConnectWithAuth => connect_with_auth(&target).await,
            Item::Echo => echo(&target).await,
            Item::Acks => acks(&target).await,
            Item::Binary => binary(&target).await,
            Item::TwoNamespaces => two_namespaces(&target).await,
            Item::OrderedMessages => ordered_messages(&target).await,
            Item::LargePayload => large_payload(&target).await,
            Item::Heartbeat => heartbeat(&target).await,
            Item::ServerRestart => server_restart(&target).await,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Event helpers, stricter than the client tests': a disconnection or an error while waiting
// for an event fails at once instead of being skipped until the deadline.
// ---------------------------------------------------------------------------------------

/// Waits for `connect`, skipping nothing else; returns the socket id.
async fn connected(events: &mut SocketEvents) -> String {
    match next(events).await {
        SocketEvent::Connect { id, .. } => id,
        other => panic!("expected connect, got {other:?}"),
    }
}

/// The next event named `wanted`, skipping other events (such as `auth`); any other socket
/// event fails.
async fn event(events: &mut SocketEvents, wanted: &str) -> SocketEvent {
    loop {
        match next(events).await {
            SocketEvent::Event { ref name, .. } if name != wanted => {}
            event @ SocketEvent::Event { .. } => return event,
            other => panic!("waiting for {wanted:?}: got {other:?}"),
        }
    }
}

/// The arguments of the next event named `wanted`.
async fn arguments_of(events: &mut SocketEvents, wanted: &str) -> Vec<Value> {
    match event(events, wanted).await {
        SocketEvent::Event { arguments, .. } => arguments,
        _ => unreachable!("event() returns events"),
    }
}

/// Connects `/` and takes its `auth` event.
async fn connect_main(target: &Target) -> (Socket, SocketEvents) {
    let (socket, mut events) = target.client(target.address).connect("/").unwrap();
    connected(&mut events).await;
    arguments_of(&mut events, "auth").await;
    (socket, events)
}

/// Emits `message` and expects `message-back` with the same arguments.
async fn expect_echo(socket: &Socket, events: &mut SocketEvents, arguments: Vec<Value>) {
    socket.emit("message", arguments.clone()).await.unwrap();
    let back = arguments_of(events, "message-back").await;
    assert!(back == arguments, "echo: sent {arguments:?}, got {back:?}");
}

fn bytes(length: usize) -> Bytes {
    (0..length).map(|index| (index % 251) as u8).collect()
}

// ---------------------------------------------------------------------------------------
// The items
// ---------------------------------------------------------------------------------------

async fn connect_with_auth(target: &Target) {
    let auth = json(r#"{"token":"abc","n":1}"#);
    if target.is_v4() {
        // Protocol 4 has no CONNECT payload: `/` is joined with the handshake (the fixture
        // echoes its query, empty here), and another namespace's CONNECT carries the auth's
        // values as a query, which socket.io 2.x reads as strings.
        let (socket, mut events) = target.client(target.address).connect("/").unwrap();
        connected(&mut events).await;
        assert_eq!(arguments_of(&mut events, "auth").await, [json("{}")]);
        let (_custom, mut custom_events) = socket.client().connect("/custom", Some(auth)).unwrap();
        connected(&mut custom_events).await;
        assert_eq!(
            arguments_of(&mut custom_events, "auth").await,
            [json(r#"{"token":"abc","n":"1"}"#)]
        );
    } else {
        let (_socket, mut events) = target
            .client(target.address)
            .auth(auth.clone())
            .connect("/")
            .unwrap();
        connected(&mut events).await;
        assert_eq!(arguments_of(&mut events, "auth").await, [auth]);
    }
}

async fn echo(target: &Target) {
    let (socket, mut events) = connect_main(target).await;
    let arguments = vec![
        1.into(),
        "2".into(),
        json(r#"{"3":[true],"4":null}"#),
        json("[1.5,-2]"),
    ];
    expect_echo(&socket, &mut events, arguments).await;
}

async fn acks(target: &Target) {
    let (socket, mut events) = connect_main(target).await;
    let arguments = vec![1.into(), "2".into(), json(r#"{"3":[false]}"#)];
    let ack = socket
        .emit_with_ack(
            "message-with-ack",
            arguments.clone(),
            Some(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert_eq!(ack, Ok(arguments), "the server's ack");
    server_asks_for_an_ack(
        &socket,
        &mut events,
        vec![1.into(), "2".into()],
        vec![json(r#"{"answer":42}"#), "ok".into()],
    )
    .await;
}

/// `emit-with-ack` with `arguments`: the server asks for an ack with them, the client answers
/// `reply`, and the server sends `reply` back as a plain `emit-with-ack`.
async fn server_asks_for_an_ack(
    socket: &Socket,
    events: &mut SocketEvents,
    arguments: Vec<Value>,
    reply: Vec<Value>,
) {
    socket
        .emit("emit-with-ack", arguments.clone())
        .await
        .unwrap();
    let SocketEvent::Event {
        arguments: asked,
        ack,
        ..
    } = event(events, "emit-with-ack").await
    else {
        unreachable!("event() returns events")
    };
    assert_eq!(asked, arguments, "the server's request");
    let ack = ack.expect("the server asked for an acknowledgement");
    ack.send(reply.clone()).unwrap();
    let SocketEvent::Event {
        arguments: echoed,
        ack,
        ..
    } = event(events, "emit-with-ack").await
    else {
        unreachable!("event() returns events")
    };
    assert!(ack.is_none(), "the echo of the ack asks for none");
    assert_eq!(echoed, reply, "the client's ack, as the server received it");
}

async fn binary(target: &Target) {
    let (socket, mut events) = connect_main(target).await;
    let payload = vec![
        Value::Binary(Bytes::from_static(&[0, 1, 2, 255])),
        Value::Object(vec![
            (
                "nested".to_owned(),
                Value::Binary(Bytes::from_static(b"in")),
            ),
            ("n".to_owned(), 1.into()),
        ]),
        "text".into(),
        Value::Binary(Bytes::from_static(b"second")),
    ];
    expect_echo(&socket, &mut events, payload.clone()).await;
    let ack = socket
        .emit_with_ack(
            "message-with-ack",
            payload.clone(),
            Some(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert_eq!(ack, Ok(payload.clone()), "a binary ack from the server");
    server_asks_for_an_ack(
        &socket,
        &mut events,
        payload,
        vec![Value::Binary(Bytes::from_static(&[9, 8, 7])), 1.into()],
    )
    .await;
}

async fn two_namespaces(target: &Target) {
    let probe = SessionProbe::start(target.address).await.unwrap();
    let (main, mut main_events) = target.client(probe.address()).connect("/").unwrap();
    let main_id = connected(&mut main_events).await;
    arguments_of(&mut main_events, "auth").await;
    let auth = json(r#"{"token":"custom"}"#);
    let (_custom, mut custom_events) = main
        .client()
        .connect("/custom", Some(auth.clone()))
        .unwrap();
    let custom_id = connected(&mut custom_events).await;
    assert_eq!(arguments_of(&mut custom_events, "auth").await, [auth]);
    assert_ne!(main_id, custom_id, "each namespace has its own socket id");
    // Traffic on `/` after `/custom` joined: still the same session.
    expect_echo(&main, &mut main_events, vec!["after".into()]).await;

    let requests = probe.requests();
    let handshakes = requests
        .iter()
        .filter(|request| request.sid.is_none())
        .count();
    assert_eq!(handshakes, 1, "one Engine.IO handshake: {requests:?}");
    let mut sids: Vec<&String> = requests.iter().filter_map(|r| r.sid.as_ref()).collect();
    sids.dedup();
    assert!(sids.len() <= 1, "one session id: {requests:?}");
    if target.mode != "websocket" {
        assert!(!sids.is_empty(), "polling names its session: {requests:?}");
    }
    if target.mode == "upgrade" {
        // The upgrade's WebSocket names the session too: it is the same session, moved.
        assert!(
            requests
                .iter()
                .any(|r| r.transport.as_deref() == Some("websocket") && r.sid.is_some()),
            "the upgrade's WebSocket: {requests:?}"
        );
    }
}

async fn ordered_messages(target: &Target) {
    const COUNT: i64 = 500;
    let (socket, mut events) = connect_main(target).await;
    for index in 0..COUNT {
        socket.emit("message", vec![index.into()]).await.unwrap();
    }
    for index in 0..COUNT {
        let back = arguments_of(&mut events, "message-back").await;
        assert_eq!(back, [Value::from(index)], "message {index} of {COUNT}");
    }
}

async fn large_payload(target: &Target) {
    const SIZE: usize = 400 * 1024;
    let (socket, mut events) = connect_main(target).await;
    let text: String = "0123456789abcdef".repeat(SIZE / 16);
    expect_echo(&socket, &mut events, vec![text.into()]).await;
    expect_echo(&socket, &mut events, vec![Value::Binary(bytes(SIZE))]).await;
}

async fn heartbeat(target: &Target) {
    // The contract's pingInterval; every server of the battery runs with it.
    const PING_INTERVAL_MS: u64 = 300;
    let (socket, mut events) = connect_main(target).await;
    // Nothing at all may happen for more than five intervals: no disconnection, no reconnection.
    quiet_for(&mut events, PING_INTERVAL_MS * 6).await;
    expect_echo(&socket, &mut events, vec!["still here".into()]).await;
}

async fn server_restart(target: &Target) {
    const BUFFERED: i64 = 5;
    let server = ServerProcess::start(target.kind, 0).await.unwrap();
    let address = SocketAddr::from(([127, 0, 0, 1], server.port()));
    let (socket, mut events) = target.client(address).connect("/").unwrap();
    connected(&mut events).await;
    expect_echo(&socket, &mut events, vec!["before".into()]).await;
    // A second namespace over the same connection comes back with it, its auth sent again.
    let auth = json(r#"{"token":"custom"}"#);
    let (_custom, mut custom_events) = socket
        .client()
        .connect("/custom", Some(auth.clone()))
        .unwrap();
    connected(&mut custom_events).await;
    assert_eq!(
        arguments_of(&mut custom_events, "auth").await,
        std::slice::from_ref(&auth)
    );

    let port = server.kill().await.unwrap();
    match next(&mut events).await {
        SocketEvent::Disconnect { reason } => {
            assert!(
                reason.reconnects(),
                "a lost server is reconnected: {reason}"
            );
        }
        other => panic!("expected disconnect, got {other:?}"),
    }
    for index in 0..BUFFERED {
        socket.emit("message", vec![index.into()]).await.unwrap();
    }
    // One attempt fails against the dead port before the server comes back.
    loop {
        match next(&mut events).await {
            SocketEvent::ReconnectAttempt { .. } => {}
            SocketEvent::ConnectError { .. } => break,
            other => panic!("expected a failed reconnection attempt, got {other:?}"),
        }
    }
    let _restarted = ServerProcess::start(target.kind, port).await.unwrap();
    loop {
        match next(&mut events).await {
            SocketEvent::ReconnectAttempt { .. } | SocketEvent::ConnectError { .. } => {}
            SocketEvent::Reconnect { .. } => break,
            other => panic!("expected the reconnection, got {other:?}"),
        }
    }
    connected(&mut events).await;
    for index in 0..BUFFERED {
        let back = arguments_of(&mut events, "message-back").await;
        assert_eq!(back, [Value::from(index)], "buffered message {index}");
    }
    // Each buffered emit was sent once: no echo comes twice.
    quiet_for(&mut events, 300).await;
    // `/custom` saw the disconnection and the reconnection too, and joined again.
    match next(&mut custom_events).await {
        SocketEvent::Disconnect { reason } => assert!(reason.reconnects(), "/custom: {reason}"),
        other => panic!("/custom: expected disconnect, got {other:?}"),
    }
    loop {
        match next(&mut custom_events).await {
            SocketEvent::ReconnectAttempt { .. }
            | SocketEvent::ConnectError { .. }
            | SocketEvent::Reconnect { .. } => {}
            SocketEvent::Connect { .. } => break,
            other => panic!("/custom: expected the reconnection, got {other:?}"),
        }
    }
    assert_eq!(
        arguments_of(&mut custom_events, "auth").await,
        [auth],
        "/custom's auth, again"
    );
}
