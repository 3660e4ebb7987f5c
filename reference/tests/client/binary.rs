//! Binary attachments both ways.

use std::time::Duration;

use bytes::Bytes;

use crate::support::*;
use sio_reference::socket_io::Value;

#[tokio::test]
async fn binary_goes_both_ways_on_every_transport_mode() {
    let server = start().await;
    for (mode, transports) in modes() {
        let (socket, mut events) = builder(server.address)
            .transports(transports)
            .connect("/")
            .unwrap();
        connected(&mut events).await;
        let payload = vec![
            Value::Binary(Bytes::from_static(&[0, 1, 2, 255])),
            json(r#"{"nested":true}"#),
            Value::Binary(Bytes::from_static(b"second")),
        ];
        socket.emit("message", payload.clone()).await.unwrap();
        assert_eq!(
            arguments(event(&mut events, "message-back").await),
            payload,
            "{mode}"
        );
        let ack = socket
            .emit_with_ack(
                "message-with-ack",
                payload.clone(),
                Some(Duration::from_secs(5)),
            )
            .await
            .unwrap();
        assert_eq!(ack, Ok(payload), "{mode}");
    }
}

#[tokio::test]
async fn forced_base64_still_carries_binary() {
    let server = start().await;
    let (socket, mut events) = builder(server.address)
        .transports([sio_reference::client::TransportKind::Polling])
        .force_base64(true)
        .connect("/")
        .unwrap();
    connected(&mut events).await;
    let payload = vec![Value::Binary(Bytes::from_static(&[9, 8, 7]))];
    socket.emit("message", payload.clone()).await.unwrap();
    assert_eq!(arguments(event(&mut events, "message-back").await), payload);
}
