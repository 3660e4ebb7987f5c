//! The application closing a polling session (behaviors CL-04, CL-05, CL-06): at once for a
//! pending GET; otherwise deferred to the next GET, which receives `6\x1e1`, within the close
//! timeout.

use std::time::{Duration, Instant};

use sio_reference::server::engine_io::{CloseReason, Config};

use crate::support::*;

#[tokio::test]
async fn with_no_get_pending_the_next_get_receives_noop_then_close() {
    let (address, sid, mut socket) = polling_session(quiet()).await;
    socket.close();
    // The application sees the session closed at once.
    assert_eq!(socket.close_reason(), Some(CloseReason::ForcedClose));
    assert!(socket.send(text("too late")).is_err());
    assert_eq!(recv(&mut socket).await, None);
    // The client learns it on its next GET (CL-05) ...
    let response = poll(address, &sid).await;
    assert_eq!(payload(&response), "6\x1e1");
    assert_eq!(response.header("content-length"), Some("3"));
    // ... which ends the session.
    released(&socket).await;
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn packets_queued_before_the_close_come_first() {
    let (address, sid, socket) = polling_session(quiet()).await;
    socket.send(text("a")).unwrap();
    socket.send(text("b")).unwrap();
    socket.close();
    // CL-06: the queued packets on one GET, the close on the next.
    assert_eq!(payload(&poll(address, &sid).await), "4a\x1e4b");
    assert_eq!(payload(&poll(address, &sid).await), "6\x1e1");
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn a_held_get_receives_the_close_at_once() {
    let (address, sid, socket) = polling_session(quiet()).await;
    let pending = held_poll(address, &sid, &socket).await;
    socket.close();
    // CL-04: no noop before it.
    assert_eq!(payload(&within(pending).await.unwrap()), "1");
    released(&socket).await;
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn without_a_get_the_session_is_dropped_after_the_close_timeout() {
    let close_timeout = Duration::from_millis(300);
    let (address, sid, socket) = polling_session(Config {
        close_timeout,
        ..quiet()
    })
    .await;
    let closed_at = Instant::now();
    socket.close();
    // Meanwhile the session is still there: a POST is read and answered, its message dropped.
    assert_ok(&send(address, &sid, "4ignored").await);
    released(&socket).await;
    let waited = closed_at.elapsed();
    assert!(waited >= close_timeout, "dropped after {waited:?}");
    assert_session_gone(address, &sid).await;
}

#[test]
fn the_default_close_timeout_is_the_official_30_seconds() {
    assert_eq!(Config::default().close_timeout, Duration::from_secs(30));
}

#[tokio::test]
async fn a_close_packet_from_the_client_ends_the_wait() {
    let (address, sid, socket) = polling_session(quiet()).await;
    socket.close();
    // Messages before the close packet are dropped; the close packet is still read.
    assert_ok(&send(address, &sid, "4dropped\x1e1").await);
    released(&socket).await;
    assert_session_gone(address, &sid).await;
    assert_eq!(socket.close_reason(), Some(CloseReason::ForcedClose));
}

#[tokio::test]
async fn a_closing_session_cannot_be_upgraded() {
    let (address, sid, socket) = polling_session(quiet()).await;
    socket.close();
    assert_eq!(
        ws_connect(address, &upgrade_query(&sid)).await.err(),
        Some(400)
    );
    assert_eq!(payload(&poll(address, &sid).await), "6\x1e1");
}

#[tokio::test]
async fn a_close_during_the_probe_closes_the_probe_and_defers_for_polling() {
    let (address, sid, socket) = polling_session(quiet()).await;
    let mut ws = ws_connect(address, &upgrade_query(&sid)).await.unwrap();
    ws_send(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    socket.close();
    assert_closed(&mut ws).await;
    assert_eq!(payload(&poll(address, &sid).await), "6\x1e1");
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn a_websocket_session_is_closed_at_once() {
    let (_, mut ws, socket) = ws_session(quiet()).await;
    socket.handle().close();
    assert_closed(&mut ws).await;
    released(&socket).await;
}
