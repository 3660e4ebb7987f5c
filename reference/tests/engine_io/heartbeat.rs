//! The heartbeat (behaviors HB): the server pings after each interval, the client pongs within
//! the timeout, and a client ping breaks the heartbeat's direction.

use std::time::{Duration, Instant};

use sio_reference::server::engine_io::CloseReason;

use crate::support::*;

#[tokio::test]
async fn the_first_ping_comes_after_one_ping_interval() {
    let address = start(fast()).await;
    let started = Instant::now();
    let sid = handshake(address).await;
    assert_eq!(payload(&poll(address, &sid).await), "2");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(280), "{elapsed:?}");
}

#[tokio::test]
async fn pongs_keep_the_session_open() {
    let address = start(fast()).await;
    let sid = handshake(address).await;
    for _ in 0..3 {
        assert_eq!(payload(&poll(address, &sid).await), "2");
        assert_ok(&send(address, &sid, "3").await);
    }
    assert_ok(&send(address, &sid, "4alive").await);
    assert_eq!(payload(&poll(address, &sid).await), "4alive");
}

#[tokio::test]
async fn no_pong_within_ping_timeout_closes_the_session() {
    let (address, sid, mut socket) = polling_session(fast()).await;
    assert_eq!(payload(&poll(address, &sid).await), "2");
    let started = Instant::now();
    // The next GET is released with the close packet when the timeout strikes.
    assert_eq!(payload(&poll(address, &sid).await), "1");
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::PingTimeout));
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn a_client_ping_over_polling_closes_the_session() {
    let (address, sid, mut socket) = polling_session(fast()).await;
    assert_ok(&send(address, &sid, "2").await);
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportError));
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn websocket_pings_and_pongs() {
    let address = start(fast()).await;
    let (mut ws, _) = ws_handshake(address).await;
    for _ in 0..3 {
        assert_eq!(next_text(&mut ws).await, "2");
        ws_send(&mut ws, "3").await;
    }
    ws_send(&mut ws, "4alive").await;
    assert_eq!(next_text(&mut ws).await, "4alive");
}

#[tokio::test]
async fn websocket_without_pong_is_closed() {
    let (_, mut ws, mut socket) = ws_session(fast()).await;
    assert_eq!(next_text(&mut ws).await, "2");
    assert_closed(&mut ws).await;
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::PingTimeout));
}

#[tokio::test]
async fn unsolicited_pongs_rearm_the_interval() {
    let address = start(fast()).await;
    let (mut ws, _) = ws_handshake(address).await;
    let started = Instant::now();
    // A pong every 150 ms, for 600 ms: with a 300 ms interval, no ping comes in that time
    // (HB-04).
    for _ in 0..4 {
        assert_silent(&mut ws, Duration::from_millis(150)).await;
        ws_send(&mut ws, "3").await;
    }
    assert_eq!(next_text(&mut ws).await, "2");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(850), "{elapsed:?}");
}
