//! Events both ways: echo, order, size, volatile.

use crate::support::*;
use sio_reference::socket_io::Value;

#[tokio::test]
async fn echo_on_every_transport_mode() {
    let server = start().await;
    for (mode, transports) in modes() {
        let (socket, mut events) = builder(server.address)
            .transports(transports)
            .connect("/")
            .unwrap();
        connected(&mut events).await;
        socket
            .emit("message", vec![mode.into(), 1.into()])
            .await
            .unwrap();
        let back = arguments(event(&mut events, "message-back").await);
        assert_eq!(back, [Value::from(mode), 1.into()], "{mode}");
    }
}

#[tokio::test]
async fn five_hundred_messages_arrive_in_order() {
    let server = start().await;
    for (mode, transports) in modes() {
        let (socket, mut events) = builder(server.address)
            .transports(transports)
            .connect("/")
            .unwrap();
        connected(&mut events).await;
        for index in 0..500_i64 {
            socket.emit("message", vec![index.into()]).await.unwrap();
        }
        for index in 0..500_i64 {
            let back = arguments(event(&mut events, "message-back").await);
            assert_eq!(back, [Value::from(index)], "{mode}");
        }
    }
}

#[tokio::test]
async fn a_400_kb_payload_goes_both_ways() {
    let server = start().await;
    let big: String = "x".repeat(400 * 1024);
    for (mode, transports) in modes() {
        let (socket, mut events) = builder(server.address)
            .transports(transports)
            .connect("/")
            .unwrap();
        connected(&mut events).await;
        socket
            .emit("message", vec![big.as_str().into()])
            .await
            .unwrap();
        let back = arguments(event(&mut events, "message-back").await);
        assert_eq!(back, [Value::from(big.as_str())], "{mode}");
    }
}

#[tokio::test]
async fn emits_before_the_connection_are_sent_after_it_in_order() {
    let server = start().await;
    let (socket, mut events) = builder(server.address).connect("/").unwrap();
    // Not connected yet: these wait in the send buffer.
    for index in 0..5_i64 {
        socket.emit("message", vec![index.into()]).await.unwrap();
    }
    connected(&mut events).await;
    for index in 0..5_i64 {
        assert_eq!(
            arguments(event(&mut events, "message-back").await),
            [Value::from(index)]
        );
    }
}

#[tokio::test]
async fn a_volatile_emit_before_the_connection_is_dropped() {
    let server = start().await;
    let (socket, mut events) = builder(server.address).connect("/").unwrap();
    socket
        .emit_volatile("message", vec!["dropped".into()])
        .await
        .unwrap();
    connected(&mut events).await;
    socket
        .emit_volatile("message", vec!["sent".into()])
        .await
        .unwrap();
    assert_eq!(
        arguments(event(&mut events, "message-back").await),
        ["sent".into()]
    );
}

#[tokio::test]
async fn a_reserved_name_is_refused() {
    let server = start().await;
    let (socket, _events) = builder(server.address).connect("/").unwrap();
    assert!(socket.emit("connect", vec![]).await.is_err());
}
