//! Connecting: auth, namespaces over one session, refusals.

use crate::support::*;
use sio_reference::client::SocketEvent;

#[tokio::test]
async fn connect_with_auth_reaches_the_server() {
    let server = start().await;
    let (_socket, mut events) = builder(server.address)
        .auth(json(r#"{"token":"abc"}"#))
        .connect("/")
        .unwrap();
    let id = connected(&mut events).await;
    assert!(!id.is_empty());
    // The fixture emits `auth` with the CONNECT payload on connection.
    let auth = arguments(event(&mut events, "auth").await);
    assert_eq!(auth, [json(r#"{"token":"abc"}"#)]);
}

#[tokio::test]
async fn no_auth_is_an_empty_payload_for_the_server() {
    let server = start().await;
    let (_socket, mut events) = builder(server.address).connect("/").unwrap();
    connected(&mut events).await;
    assert_eq!(arguments(event(&mut events, "auth").await), [json("{}")]);
}

#[tokio::test]
async fn two_namespaces_share_one_session() {
    let server = start().await;
    let (report, mut engine_ids) = tokio::sync::mpsc::unbounded_channel();
    for namespace in ["/", "/custom"] {
        let report = report.clone();
        server
            .fixture
            .socket_io()
            .of(namespace)
            .on_connection(move |socket| {
                let _ = report.send(socket.handshake().engine_id.clone());
            });
    }
    let (main, mut main_events) = builder(server.address).connect("/").unwrap();
    let main_id = connected(&mut main_events).await;
    let (custom, mut custom_events) = main.client().connect("/custom", None).unwrap();
    let custom_id = connected(&mut custom_events).await;
    assert_ne!(main_id, custom_id);
    // Each namespace gets its own events: `auth` on `/custom`, `message-back` on `/`.
    assert_eq!(
        arguments(event(&mut custom_events, "auth").await),
        [json("{}")]
    );
    main.emit("message", vec!["on main".into()]).await.unwrap();
    assert_eq!(
        arguments(event(&mut main_events, "message-back").await),
        ["on main".into()]
    );
    drop(custom);
    // One Engine.IO session: both namespaces joined over the same one.
    let first = within(engine_ids.recv()).await.unwrap();
    let second = within(engine_ids.recv()).await.unwrap();
    assert_eq!(first, second);
}

#[tokio::test]
async fn a_connect_error_carries_data_and_is_not_retried() {
    let server = start().await;
    let (_socket, mut events) = builder(server.address).connect("/refused").unwrap();
    match next(&mut events).await {
        SocketEvent::ConnectError { message, data } => {
            assert_eq!(message, "refused");
            assert_eq!(data, Some(json(r#"{"reason":"testing"}"#)));
        }
        other => panic!("expected connect_error, got {other:?}"),
    }
    quiet_for(&mut events, 800).await;
}

#[tokio::test]
async fn an_unknown_namespace_is_refused() {
    let server = start().await;
    let (_socket, mut events) = builder(server.address).connect("/nowhere").unwrap();
    match next(&mut events).await {
        SocketEvent::ConnectError { message, .. } => assert_eq!(message, "Invalid namespace"),
        other => panic!("expected connect_error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_disconnect_is_not_followed_by_a_reconnection() {
    let server = start().await;
    let (socket, mut events) = builder(server.address).connect("/").unwrap();
    connected(&mut events).await;
    socket.emit("disconnect-me", vec![]).await.unwrap();
    loop {
        match next(&mut events).await {
            SocketEvent::Disconnect { reason } => {
                assert_eq!(reason.as_str(), "io server disconnect");
                break;
            }
            SocketEvent::Event { .. } => {}
            other => panic!("expected disconnect, got {other:?}"),
        }
    }
    quiet_for(&mut events, 800).await;
}

#[tokio::test]
async fn a_client_disconnect_reports_its_reason() {
    let server = start().await;
    let (socket, mut events) = builder(server.address).connect("/").unwrap();
    connected(&mut events).await;
    socket.disconnect();
    loop {
        match next(&mut events).await {
            SocketEvent::Disconnect { reason } => {
                assert_eq!(reason.as_str(), "io client disconnect");
                break;
            }
            SocketEvent::Event { .. } => {}
            other => panic!("expected disconnect, got {other:?}"),
        }
    }
    quiet_for(&mut events, 500).await;
}

#[tokio::test]
async fn a_shared_stream_keeps_the_order_of_every_namespace_s_events() {
    let (address, mut reports, close) = recorder().await;
    let client = builder(address)
        .transports([sio_reference::client::TransportKind::WebSocket])
        .build()
        .unwrap();
    let (sender, mut shared) = sio_reference::client::SharedEvents::channel();
    let names = ["/", "/n7", "/n3", "/n5", "/n1", "/n6", "/n2", "/n4", "/n0"];
    let _sockets: Vec<_> = names
        .iter()
        .map(|name| client.connect_shared(name, None, &sender).unwrap())
        .collect();
    // The connects of the first session, then, after the server closes it, those of the
    // second: each time in the order the CONNECT answers came, which is the sockets' order.
    for session in 0..2 {
        let mut connected = Vec::new();
        while connected.len() < names.len() {
            match within(shared.next()).await.unwrap() {
                (namespace, SocketEvent::Connect { id, .. }) => {
                    assert_eq!(id, format!("s{session}"));
                    connected.push(namespace);
                }
                (_, SocketEvent::Disconnect { .. } | SocketEvent::ReconnectAttempt { .. }) => {}
                (_, SocketEvent::Reconnect { .. }) => {}
                (namespace, other) => panic!("{namespace}: unexpected {other:?}"),
            }
        }
        assert_eq!(connected, names);
        close.send(()).unwrap();
    }
    // The recorder saw the CONNECTs of both sessions.
    let mut connects = 0;
    while connects < 2 * names.len() {
        if within(reports.recv()).await.unwrap().1.starts_with('0') {
            connects += 1;
        }
    }
}
