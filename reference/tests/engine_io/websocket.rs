//! The WebSocket transport (behaviors WS, CL): one packet per frame, text and binary, invalid
//! packets, and both sides' closes.

use futures_util::{SinkExt, StreamExt};
use sio_reference::engine_io::Data;
use sio_reference::server::engine_io::{CloseReason, Config};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

#[tokio::test]
async fn text_messages_are_echoed() {
    let address = start(quiet()).await;
    let (mut ws, _) = ws_handshake(address).await;
    ws_send(&mut ws, "4hello").await;
    assert_eq!(next_text(&mut ws).await, "4hello");
    ws_send(&mut ws, "4").await;
    assert_eq!(next_text(&mut ws).await, "4");
}

#[tokio::test]
async fn binary_frames_are_raw_message_bytes() {
    let address = start(quiet()).await;
    let (mut ws, _) = ws_handshake(address).await;
    within(ws.send(Message::binary(vec![1_u8, 2, 3])))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut ws).await,
        Some(Message::binary(vec![1_u8, 2, 3]))
    );
    // A base64 text frame is a binary message too (WS-02).
    ws_send(&mut ws, "bBAU=").await;
    assert_eq!(
        next_frame(&mut ws).await,
        Some(Message::binary(vec![4_u8, 5]))
    );
}

#[tokio::test]
async fn each_packet_has_its_own_frame() {
    let (_, mut ws, socket) = ws_session(quiet()).await;
    socket.send(text("a")).unwrap();
    socket.send(text("b")).unwrap();
    assert_eq!(next_text(&mut ws).await, "4a");
    assert_eq!(next_text(&mut ws).await, "4b");
}

#[tokio::test]
async fn an_invalid_packet_closes_the_session() {
    let (_, mut ws, mut socket) = ws_session(quiet()).await;
    ws_send(&mut ws, "4before").await;
    ws_send(&mut ws, "abc").await;
    assert_closed(&mut ws).await;
    assert_eq!(recv(&mut socket).await, Some(text("before")));
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::ParseError));
}

#[tokio::test]
async fn a_close_packet_closes_the_session() {
    // SPEC-FAITHFUL: the official server ignores `1` over WebSocket (WS-06).
    let (_, mut ws, mut socket) = ws_session(quiet()).await;
    ws_send(&mut ws, "1").await;
    assert_closed(&mut ws).await;
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportClose));
}

#[tokio::test]
async fn a_server_close_sends_a_close_frame_without_status() {
    let (_, mut ws, socket) = ws_session(quiet()).await;
    socket.close();
    assert_eq!(next_frame(&mut ws).await, Some(Message::Close(None)));
    assert!(socket.send(text("gone")).is_err());
}

#[tokio::test]
async fn a_client_close_frame_closes_the_session() {
    let (_, mut ws, mut socket) = ws_session(quiet()).await;
    within(ws.close(None)).await.unwrap();
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportClose));
}

#[tokio::test]
async fn a_client_ping_closes_the_session() {
    let (_, mut ws, mut socket) = ws_session(quiet()).await;
    ws_send(&mut ws, "2").await;
    assert_closed(&mut ws).await;
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportError));
}

#[tokio::test]
async fn a_message_over_max_http_buffer_size_closes_the_session() {
    let (_, mut ws, mut socket) = ws_session(Config {
        max_http_buffer_size: 100,
        ..quiet()
    })
    .await;
    ws_send(&mut ws, &format!("4{}", "x".repeat(200))).await;
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportError));
    // The close frame says why, 1009 "Message Too Big", as the official server's does (WS-04).
    let close = loop {
        match within(ws.next()).await {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert_eq!(close.map(|frame| u16::from(frame.code)), Some(1009));
}

#[tokio::test]
async fn messages_up_to_max_http_buffer_size_arrive_whole() {
    // Far more than the WebSocket's read buffer, and exactly at the limit: the limit alone
    // decides what is accepted.
    let limit = 300_000;
    let (_, mut ws, mut socket) = ws_session(Config {
        max_http_buffer_size: limit,
        ..quiet()
    })
    .await;
    let body = "y".repeat(limit - 1);
    ws_send(&mut ws, &format!("4{body}")).await;
    assert_eq!(recv(&mut socket).await, Some(text(&body)));
    let bytes = vec![7_u8; limit];
    within(ws.send(Message::binary(bytes.clone())))
        .await
        .unwrap();
    assert_eq!(recv(&mut socket).await, Some(Data::Binary(bytes.into())));
    // One byte over is refused, as a single frame is.
    ws_send(&mut ws, &format!("4{body}z")).await;
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportError));
}

#[tokio::test]
async fn the_application_receives_binary_data() {
    let (_, mut ws, mut socket) = ws_session(quiet()).await;
    within(ws.send(Message::binary(vec![9_u8]))).await.unwrap();
    assert_eq!(recv(&mut socket).await, Some(Data::Binary(vec![9].into())));
}
