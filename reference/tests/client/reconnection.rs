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
