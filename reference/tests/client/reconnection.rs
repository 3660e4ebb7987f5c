//! Reconnection: the server stopped and restarted mid-session, emits buffered meanwhile.

use std::time::Duration;

use crate::support::*;
use sio_reference::client::SocketEvent;
use sio_reference::socket_io::Value;

#[tokio::test]
async fn emits_made_while_the_server_is_down_arrive_after_the_reconnection() {
    for (mode, transports) in modes() {
        let server = start().await;
        let (socket, mut events) = builder(server.address)
            .transports(transports)
            .connect("/")
            .unwrap();
        connected(&mut events).await;
        let address = server.stop();
        loop {
            match next(&mut events).await {
                SocketEvent::Disconnect { reason } => {
                    assert!(reason.reconnects(), "{mode}: {reason}");
                    break;
                }
                SocketEvent::Event { .. } => {}
                other => panic!("{mode}: expected disconnect, got {other:?}"),
            }
        }
        for index in 0..3_i64 {
            socket.emit("message", vec![index.into()]).await.unwrap();
        }
        // Let an attempt or two fail before the server comes back.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let _server = start_on(&address.to_string()).await;
        let mut attempts = 0;
        loop {
            match next(&mut events).await {
                SocketEvent::ReconnectAttempt { attempt } => attempts = attempt,
                SocketEvent::Reconnect { attempt } => {
                    assert_eq!(attempt, attempts, "{mode}");
                    break;
                }
                SocketEvent::ConnectError { .. } => {}
                other => panic!("{mode}: expected reconnection, got {other:?}"),
            }
        }
        connected(&mut events).await;
        for index in 0..3_i64 {
            assert_eq!(
                arguments(event(&mut events, "message-back").await),
                [Value::from(index)],
                "{mode}"
            );
        }
    }
}

#[tokio::test]
async fn reconnect_failed_after_the_attempts() {
    let server = start().await;
    let (_socket, mut events) = builder(server.address)
        .reconnection_attempts(2)
        .connect("/")
        .unwrap();
    connected(&mut events).await;
    server.stop();
    let mut seen = Vec::new();
    loop {
        match next(&mut events).await {
            SocketEvent::ReconnectAttempt { attempt } => seen.push(attempt),
            SocketEvent::ReconnectFailed => break,
            SocketEvent::Disconnect { .. }
            | SocketEvent::ConnectError { .. }
            | SocketEvent::Event { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, [1, 2]);
}

#[tokio::test]
async fn namespaces_connect_again_in_the_order_they_became_active() {
    let (address, mut reports, close) = recorder().await;
    let names = ["/", "/n7", "/n3", "/n5", "/n1", "/n6", "/n2", "/n4", "/n0"];
    let client = builder(address)
        .transports([sio_reference::client::TransportKind::WebSocket])
        .build()
        .unwrap();
    let mut sockets = Vec::new();
    for name in names {
        let (socket, mut events) = client.connect(name, None).unwrap();
        connected(&mut events).await;
        sockets.push((socket, events));
    }
    // A socket disconnected and connected again subscribes anew: it goes last.
    let (n3, n3_events) = &mut sockets[2];
    n3.disconnect();
    assert!(matches!(
        next(n3_events).await,
        SocketEvent::Disconnect { .. }
    ));
    n3.connect();
    connected(n3_events).await;
    close.send(()).unwrap();
    let mut order = Vec::new();
    while order.len() < names.len() {
        let (session, text) = within(reports.recv()).await.unwrap();
        if session == 1 && text.starts_with('0') {
            order.push(text);
        }
    }
    let expected = [
        "0", "0/n7,", "0/n5,", "0/n1,", "0/n6,", "0/n2,", "0/n4,", "0/n0,", "0/n3,",
    ];
    assert_eq!(order, expected);
}

#[tokio::test]
async fn an_auth_function_gives_each_reconnection_its_own_payload() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let server = start().await;
    let counter = AtomicU64::new(0);
    let (_socket, mut events) = builder(server.address)
        .auth_with(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            json(&format!(r#"{{"token":"t{n}"}}"#))
        })
        .connect("/")
        .unwrap();
    connected(&mut events).await;
    assert_eq!(
        arguments(event(&mut events, "auth").await),
        [json(r#"{"token":"t0"}"#)]
    );
    // The server restarts on the same port: the reconnection's CONNECT asks the function
    // again.
    let address = server.stop();
    loop {
        if let SocketEvent::Disconnect { .. } = next(&mut events).await {
            break;
        }
    }
    let _server = start_on(&address.to_string()).await;
    connected(&mut events).await;
    assert_eq!(
        arguments(event(&mut events, "auth").await),
        [json(r#"{"token":"t1"}"#)]
    );
}
