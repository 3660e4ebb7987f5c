//! HTTP long-polling (behaviors PL, CL): GET and POST, batching, and each refusal.

use sio_reference::engine_io::Data;
use sio_reference::server::engine_io::{CloseReason, Config};

use crate::support::*;

#[tokio::test]
async fn post_is_answered_ok_and_the_message_echoed() {
    let address = start(quiet()).await;
    let sid = handshake(address).await;
    let response = send(address, &sid, "4hello").await;
    assert_ok(&response);
    assert_eq!(response.header("content-length"), Some("2"));
    assert_eq!(payload(&poll(address, &sid).await), "4hello");
}

#[tokio::test]
async fn a_post_delivers_every_packet_in_order() {
    let (address, sid, mut socket) = polling_session(quiet()).await;
    assert_ok(&send(address, &sid, "4a\x1e4\x1ebAQID\x1e4é").await);
    assert_eq!(recv(&mut socket).await, Some(text("a")));
    assert_eq!(recv(&mut socket).await, Some(text("")));
    assert_eq!(
        recv(&mut socket).await,
        Some(Data::Binary(vec![1, 2, 3].into()))
    );
    assert_eq!(recv(&mut socket).await, Some(text("é")));
}

#[tokio::test]
async fn a_get_returns_everything_queued_in_one_payload() {
    let (address, sid, socket) = polling_session(quiet()).await;
    socket.send(text("a")).unwrap();
    socket.send(text("")).unwrap();
    socket.send(Data::Binary(vec![1, 2, 3].into())).unwrap();
    assert_eq!(payload(&poll(address, &sid).await), "4a\x1e4\x1ebAQID");
}

#[tokio::test]
async fn a_get_is_held_until_something_is_queued() {
    let (address, sid, socket) = polling_session(quiet()).await;
    // The server holds the GET, with nothing to send.
    let pending = held_poll(address, &sid, &socket).await;
    assert!(
        !pending.is_finished(),
        "the GET was answered with nothing queued"
    );
    socket.send(text("late")).unwrap();
    assert_eq!(payload(&within(pending).await.unwrap()), "4late");
}

#[tokio::test]
async fn a_held_get_abandoned_by_the_client_closes_the_session() {
    let (address, sid, mut socket) = polling_session(quiet()).await;
    let pending = held_poll(address, &sid, &socket).await;
    // Dropping the client's task closes its connection, as a closed browser tab does (PL-17).
    pending.abort();
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportError));
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn a_second_get_is_refused_and_closes_the_session() {
    let (address, sid, mut socket) = polling_session(quiet()).await;
    let first = held_poll(address, &sid, &socket).await;
    let second = poll(address, &sid).await;
    assert_eq!(second.status, 400);
    assert!(second.body.is_empty());
    assert_eq!(payload(&within(first).await.unwrap()), "1");
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportError));
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn a_second_post_is_refused_and_closes_the_session() {
    let (address, sid, socket) = polling_session(quiet()).await;
    // A first POST whose body never completes.
    let _first = stalled_post(address, &sid, &socket).await;
    let second = send(address, &sid, "4b").await;
    assert_eq!(second.status, 400);
    assert!(second.body.is_empty());
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn an_invalid_packet_delivers_those_before_it_and_closes_the_session() {
    let (address, sid, mut socket) = polling_session(quiet()).await;
    // SPEC-FAITHFUL: 400, where the official server answers 200 `ok` (PL-12).
    let response = send(address, &sid, "4a\x1e9zz\x1e4b").await;
    assert_eq!(response.status, 400);
    assert_eq!(recv(&mut socket).await, Some(text("a")));
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::ParseError));
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn malformed_payloads_are_refused() {
    let address = start(quiet()).await;
    for body in ["", "abc", "4a\x1e", "bAQ=Z"] {
        let sid = handshake(address).await;
        let response = send(address, &sid, body).await;
        assert_eq!(response.status, 400, "{body:?}");
        assert_session_gone(address, &sid).await;
    }
}

#[tokio::test]
async fn a_body_over_max_http_buffer_size_is_413() {
    let address = start(Config {
        max_http_buffer_size: 100,
        ..quiet()
    })
    .await;
    let sid = handshake(address).await;
    let response = send(address, &sid, &format!("4{}", "x".repeat(200))).await;
    assert_eq!(response.status, 413);
    assert!(response.body.is_empty());
    // The session stays open (PL-11).
    assert_ok(&send(address, &sid, "4small").await);
    assert_eq!(payload(&poll(address, &sid).await), "4small");
}

#[tokio::test]
async fn a_body_refused_by_its_content_length_is_read_to_its_end() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = start(Config {
        max_http_buffer_size: 100,
        ..quiet()
    })
    .await;
    let sid = handshake(address).await;
    let length = 4 * 1024 * 1024;
    let headers = [("Content-Type", "text/plain;charset=UTF-8")];
    let target = session_target(&sid);
    let mut stream = send_head(address, "POST", &target, &headers, Some(length), b"4").await;
    // The body goes on after the answer: a server that closed with it unread would reset the
    // connection, and these writes (more than any socket buffer holds) would fail.
    let chunk = vec![b'x'; 64 * 1024];
    let mut written = 1;
    while written < length {
        let part = &chunk[..chunk.len().min(length - written)];
        within(stream.write_all(part))
            .await
            .expect("the server reads the refused body");
        written += part.len();
    }
    let mut raw = Vec::new();
    within(stream.read_to_end(&mut raw))
        .await
        .expect("a clean end of the connection, not a reset");
    assert!(
        raw.starts_with(b"HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
}

#[tokio::test]
async fn an_octet_stream_post_is_refused_and_closes_the_session() {
    let address = start(quiet()).await;
    let sid = handshake(address).await;
    let response = request(
        address,
        "POST",
        &session_target(&sid),
        &[("Content-Type", "application/octet-stream")],
        b"4hello",
    )
    .await;
    assert_eq!(response.status, 400);
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn other_methods_on_a_session_get_500_as_on_the_official_server() {
    let address = start(quiet()).await;
    let sid = handshake(address).await;
    let refused = request(address, "PUT", &session_target(&sid), &[], b"").await;
    // The spec is silent; the official server answers 500 with an empty body (PL-10).
    assert_eq!(refused.status, 500);
    assert!(refused.body.is_empty(), "{:?}", refused.body);
    // The session stays open.
    assert_ok(&send(address, &sid, "4still").await);
}

#[tokio::test]
async fn a_close_packet_releases_the_pending_get_with_a_noop() {
    let (address, sid, mut socket) = polling_session(quiet()).await;
    let pending = held_poll(address, &sid, &socket).await;
    // Packets after the close are ignored (CL-03).
    assert_ok(&send(address, &sid, "1\x1e4ignored").await);
    assert_eq!(payload(&within(pending).await.unwrap()), "6");
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportClose));
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn a_close_packet_without_a_pending_get_closes_the_session() {
    let address = start(quiet()).await;
    let sid = handshake(address).await;
    assert_ok(&send(address, &sid, "1").await);
    send(address, &sid, "4late")
        .await
        .assert_error(1, "Session ID unknown");
}

#[tokio::test]
async fn a_server_close_writes_1_to_the_pending_get() {
    let (address, sid, socket) = polling_session(quiet()).await;
    let pending = held_poll(address, &sid, &socket).await;
    socket.close();
    assert_eq!(payload(&within(pending).await.unwrap()), "1");
    assert!(socket.send(text("gone")).is_err());
    assert_session_gone(address, &sid).await;
}

#[tokio::test]
async fn open_upgrade_and_noop_packets_are_ignored() {
    let (address, sid, mut socket) = polling_session(quiet()).await;
    assert_ok(&send(address, &sid, "0\x1e5\x1e6\x1e4after").await);
    assert_eq!(recv(&mut socket).await, Some(text("after")));
}
