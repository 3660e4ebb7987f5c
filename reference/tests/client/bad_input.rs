//! Bad input from the server: a scripted Engine.IO server (the reference Engine.IO server with
//! a test application that writes raw Socket.IO text) answers CONNECT, then sends something
//! that does not decode. The client closes with "parse error" and reconnects.

use bytes::Bytes;
use sio_reference::client::{DisconnectReason, SocketEvent};
use sio_reference::engine_io::Data;
use sio_reference::server::engine_io::{Config, EngineIo};

use crate::support::*;

/// A server at `/socket.io/` that answers each CONNECT with a sid and then sends `bad`.
async fn scripted(bad: Vec<Data>) -> std::net::SocketAddr {
    let (server, mut sockets) = EngineIo::new(Config {
        path: "/socket.io/".to_owned(),
        ..Config::default()
    });
    let (address, serving) = server.listen("127.0.0.1:0").await.unwrap();
    tokio::spawn(serving);
    tokio::spawn(async move {
        while let Some(mut socket) = sockets.accept().await {
            let bad = bad.clone();
            tokio::spawn(async move {
                while let Some(data) = socket.recv().await {
                    if data == Data::Text("0".to_owned()) {
                        let _ = socket.send(Data::Text(r#"0{"sid":"scripted"}"#.to_owned()));
                        for data in bad.clone() {
                            let _ = socket.send(data);
                        }
                    }
                }
            });
        }
    });
    address
}

async fn closes_with_parse_error_and_reconnects(bad: Vec<Data>) {
    for (mode, transports) in modes() {
        let address = scripted(bad.clone()).await;
        let (_socket, mut events) = builder(address)
            .transports(transports)
            .connect("/")
            .unwrap();
        connected(&mut events).await;
        match next(&mut events).await {
            SocketEvent::Disconnect { reason } => {
                assert_eq!(reason, DisconnectReason::ParseError, "{mode}: {bad:?}")
            }
            other => panic!("{mode}: expected disconnect, got {other:?}"),
        }
        match next(&mut events).await {
            SocketEvent::ReconnectAttempt { attempt } => assert_eq!(attempt, 1),
            other => panic!("{mode}: expected a reconnection, got {other:?}"),
        }
        // The reconnection opens a new session and connects again.
        connected(&mut events).await;
    }
}

#[tokio::test]
async fn malformed_json_is_a_parse_error() {
    closes_with_parse_error_and_reconnects(vec![Data::Text(r#"2["unterminated"#.to_owned())]).await;
}

#[tokio::test]
async fn an_absurd_attachment_count_is_a_parse_error() {
    let text = r#"51000000-["x",{"_placeholder":true,"num":0}]"#;
    closes_with_parse_error_and_reconnects(vec![Data::Text(text.to_owned())]).await;
}

#[tokio::test]
async fn a_stray_binary_message_is_a_parse_error() {
    closes_with_parse_error_and_reconnects(vec![Data::Binary(Bytes::from_static(b"\x01\x02"))])
        .await;
}

#[tokio::test]
async fn an_unknown_packet_type_is_a_parse_error() {
    closes_with_parse_error_and_reconnects(vec![Data::Text("9".to_owned())]).await;
}
