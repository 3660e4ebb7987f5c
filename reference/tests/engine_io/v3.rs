//! Engine.IO protocol 3 (`EIO=3`, socket.io 1.x and 2.x clients), served with
//! `Config::allow_eio3` (behaviors E3, HB-11 … HB-13): length-prefixed payloads, binary
//! payloads and frames, the heartbeat the client drives, upgrade and close.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use sio_reference::engine_io::{Data, ProtocolVersion};
use sio_reference::server::engine_io::{CloseReason, Config, Socket, TransportKind};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

/// The E3-05 binary payload: `4hello` as text, then a message with the bytes 1 2 3 4.
const HELLO_AND_1234: [u8; 17] = [
    0x00, 0x06, 0xff, 0x34, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x01, 0x05, 0xff, 0x04, 0x01, 0x02, 0x03,
    0x04,
];

/// Long timers, protocol 3 allowed.
fn v3_quiet() -> Config {
    Config {
        allow_eio3: true,
        ..quiet()
    }
}

/// The fixture contract's timers (pingInterval 300, pingTimeout 200), protocol 3 allowed.
fn v3_fast() -> Config {
    Config {
        allow_eio3: true,
        ..fast()
    }
}

fn v3_query(sid: &str) -> String {
    format!("EIO=3&transport=polling&sid={sid}")
}

fn v3_target(sid: &str) -> String {
    format!("/engine.io/?{}", v3_query(sid))
}

/// A v3 polling handshake; returns the sid.
async fn v3_handshake(address: SocketAddr) -> String {
    let response = get(address, "EIO=3&transport=polling").await;
    let body = payload(&response);
    let (length, open) = body.split_once(':').unwrap();
    assert_eq!(
        length.parse::<usize>().unwrap(),
        open.encode_utf16().count()
    );
    sid_of(open)
}

/// A server with one v3 polling session open: its address, the sid and the application's end.
async fn v3_session(config: Config) -> (SocketAddr, String, Socket) {
    let (address, mut sockets) = start_raw(config).await;
    let sid = v3_handshake(address).await;
    let socket = accept(&mut sockets).await;
    assert_eq!(socket.id(), sid);
    assert_eq!(socket.protocol(), ProtocolVersion::V3);
    (address, sid, socket)
}

async fn v3_poll(address: SocketAddr, sid: &str) -> HttpResponse {
    get(address, &v3_query(sid)).await
}

async fn v3_send(address: SocketAddr, sid: &str, body: &str) -> HttpResponse {
    post(address, &v3_query(sid), body).await
}

async fn v3_send_binary(address: SocketAddr, sid: &str, body: &[u8]) -> HttpResponse {
    let headers = [("Content-Type", "application/octet-stream")];
    request(address, "POST", &v3_target(sid), &headers, body).await
}

/// A v3 GET in the background, returned once the server holds it open.
async fn v3_held_poll(address: SocketAddr, sid: &str, socket: &Socket) -> JoinHandle<HttpResponse> {
    let mut activity = socket.activity();
    let held = activity.borrow().held_gets;
    let sid = sid.to_owned();
    let pending = tokio::spawn(async move { v3_poll(address, &sid).await });
    within(activity.wait_for(|activity| activity.held_gets > held))
        .await
        .unwrap();
    pending
}

/// Asserts the session is gone: a v3 request with its sid gets `400` code 1.
async fn assert_v3_gone(address: SocketAddr, sid: &str) {
    v3_poll(address, sid)
        .await
        .assert_error(1, "Session ID unknown");
}

fn binary(bytes: &[u8]) -> Data {
    Data::Binary(bytes.to_vec().into())
}

// ---- the handshake -------------------------------------------------------------------------

#[tokio::test]
async fn eio3_is_refused_unless_allowed() {
    // E3-01: the official server's answer without allowEIO3.
    let address = start(quiet()).await;
    get(address, "EIO=3&transport=polling")
        .await
        .assert_error(5, "Unsupported protocol version");
    assert_eq!(
        ws_connect(address, "EIO=3&transport=websocket").await.err(),
        Some(400)
    );
    // With it, v4 is still served.
    let address = start(v3_quiet()).await;
    let open = get(address, "EIO=4&transport=polling").await;
    assert!(payload(&open).starts_with("0{"), "{open:?}");
}

#[tokio::test]
async fn only_exactly_3_or_4_is_served() {
    // SPEC-FAITHFUL: the official server with allowEIO3 serves a missing or garbage EIO as
    // protocol 3 (HS-08).
    let address = start(v3_quiet()).await;
    for query in [
        "transport=polling",
        "EIO=03&transport=polling",
        "EIO=5&transport=polling",
        "EIO=abc&transport=polling",
        "EIO=&transport=polling",
    ] {
        get(address, query)
            .await
            .assert_error(5, "Unsupported protocol version");
    }
    assert_eq!(
        ws_connect(address, "transport=websocket").await.err(),
        Some(400)
    );
}

#[tokio::test]
async fn a_request_whose_eio_is_not_its_sessions_is_refused() {
    let (address, sid, socket) = v3_session(v3_quiet()).await;
    // A v3 session asked in protocol 4 ...
    get(address, &format!("EIO=4&transport=polling&sid={sid}"))
        .await
        .assert_error(5, "Unsupported protocol version");
    assert_eq!(
        ws_connect(address, &format!("EIO=4&transport=websocket&sid={sid}"))
            .await
            .err(),
        Some(400)
    );
    // ... and a v4 session in protocol 3, on the same server.
    let v4_sid = handshake(address).await;
    v3_poll(address, &v4_sid)
        .await
        .assert_error(5, "Unsupported protocol version");
    // Both sessions carry on.
    socket.send(text("still")).unwrap();
    assert_eq!(payload(&v3_poll(address, &sid).await), "6:4still");
    assert_ok(&send(address, &v4_sid, "4v4").await);
}

#[tokio::test]
async fn the_handshake_is_the_v4_open_packet_in_a_v3_payload() {
    let (address, mut sockets) = start_raw(v3_fast()).await;
    let response = get(address, "EIO=3&transport=polling").await;
    // E3-03: the same JSON as v4, maxPayload included, framed `<length>:`.
    let body = payload(&response);
    let socket = accept(&mut sockets).await;
    let expected = format!(
        r#"114:0{{"sid":"{}","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}}"#,
        socket.id()
    );
    assert_eq!(body, expected);
    assert_eq!(socket.protocol(), ProtocolVersion::V3);
    assert_eq!(socket.handle().protocol(), ProtocolVersion::V3);
}

// ---- polling -------------------------------------------------------------------------------

#[tokio::test]
async fn messages_travel_as_length_prefixed_payloads() {
    let (address, sid, mut socket) = v3_session(v3_quiet()).await;
    assert_ok(&v3_send(address, &sid, "6:4hello6:4world").await);
    let first = recv(&mut socket).await.unwrap();
    let second = recv(&mut socket).await.unwrap();
    assert_eq!((&first, &second), (&text("hello"), &text("world")));
    // The echo comes back batched in one GET (E3-02).
    socket.send(first).unwrap();
    socket.send(second).unwrap();
    let response = v3_poll(address, &sid).await;
    assert_eq!(payload(&response), "6:4hello6:4world");
}

#[tokio::test]
async fn a_get_is_held_until_something_is_queued() {
    let (address, sid, socket) = v3_session(v3_quiet()).await;
    let pending = v3_held_poll(address, &sid, &socket).await;
    socket.send(text("late")).unwrap();
    assert_eq!(payload(&within(pending).await.unwrap()), "5:4late");
}

#[tokio::test]
async fn lengths_count_utf16_code_units() {
    let (address, sid, mut socket) = v3_session(v3_quiet()).await;
    // `€` is one UTF-16 unit (three UTF-8 bytes), `😀` two (four bytes).
    assert_ok(&v3_send(address, &sid, "2:4€3:4😀").await);
    assert_eq!(recv(&mut socket).await, Some(text("€")));
    assert_eq!(recv(&mut socket).await, Some(text("😀")));
    socket.send(text("€")).unwrap();
    socket.send(text("😀")).unwrap();
    assert_eq!(payload(&v3_poll(address, &sid).await), "2:4€3:4😀");
}

#[tokio::test]
async fn binary_data_is_a_binary_payload_unless_b64_is_asked() {
    let (address, sid, socket) = v3_session(v3_quiet()).await;
    // E3-05: without b64, the whole body is a binary payload.
    for query in [v3_query(&sid), format!("{}&b64=", v3_query(&sid))] {
        socket.send(text("hello")).unwrap();
        socket.send(binary(&[1, 2, 3, 4])).unwrap();
        let response = get(address, &query).await;
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("content-type"),
            Some("application/octet-stream")
        );
        assert_eq!(response.header("cache-control"), Some("no-store"));
        assert_eq!(response.body, HELLO_AND_1234, "{query}");
    }
    // E3-04: any non-empty b64, `b64=0` included, asks for base64 text.
    for b64 in ["1", "0", "true"] {
        socket.send(text("hello")).unwrap();
        socket.send(binary(&[1, 2, 3, 4])).unwrap();
        let response = get(address, &format!("{}&b64={b64}", v3_query(&sid))).await;
        assert_eq!(payload(&response), "6:4hello10:b4AQIDBA==", "b64={b64}");
    }
    // E3-07: with no binary packet the payload stays text.
    socket.send(text("plain")).unwrap();
    assert_eq!(payload(&v3_poll(address, &sid).await), "6:4plain");
}

#[tokio::test]
async fn an_octet_stream_post_is_a_binary_payload() {
    let (address, sid, mut socket) = v3_session(v3_quiet()).await;
    // E3-06.
    assert_ok(&v3_send_binary(address, &sid, &HELLO_AND_1234).await);
    assert_eq!(recv(&mut socket).await, Some(text("hello")));
    assert_eq!(recv(&mut socket).await, Some(binary(&[1, 2, 3, 4])));
    // A text payload may carry base64 packets among text ones.
    assert_ok(&v3_send(address, &sid, "10:b4AQIDBA==2:4€").await);
    assert_eq!(recv(&mut socket).await, Some(binary(&[1, 2, 3, 4])));
    assert_eq!(recv(&mut socket).await, Some(text("€")));
}

#[tokio::test]
async fn a_malformed_post_delivers_the_packets_before_it_and_closes_the_session() {
    // SPEC-FAITHFUL: 400, where the official server answers 200 `ok` (PL-12, E3-09).
    let (address, mut sockets) = start_raw(v3_quiet()).await;
    let cases: [(&str, &[&str]); 4] = [
        // The length 5 takes `4hell`; the `o` left over is no length.
        ("5:4hello", &["hell"]),
        // A length longer than what follows.
        ("6:4hello9:4world", &["hello"]),
        ("6:4hello2:9x", &["hello"]),
        ("2:4x6:b4@@@@", &["x"]),
    ];
    for (body, delivered) in cases {
        let sid = v3_handshake(address).await;
        let mut socket = accept(&mut sockets).await;
        let response = v3_send(address, &sid, body).await;
        assert_eq!(response.status, 400, "{body}");
        for message in delivered {
            assert_eq!(recv(&mut socket).await, Some(text(message)), "{body}");
        }
        assert_eq!(recv(&mut socket).await, None, "{body}");
        assert_eq!(socket.close_reason(), Some(CloseReason::ParseError));
        assert_v3_gone(address, &sid).await;
    }
    for body in [
        &b""[..],
        b"abc",
        &[0x01, 0x09, 0xff, 0x04],
        &[0x00, 0x01, 0xff, 0x39],
    ] {
        let sid = v3_handshake(address).await;
        let _socket = accept(&mut sockets).await;
        let response = v3_send_binary(address, &sid, body).await;
        assert_eq!(response.status, 400, "{body:?}");
        assert_v3_gone(address, &sid).await;
    }
}

#[tokio::test]
async fn a_body_over_max_http_buffer_size_is_413() {
    let (address, sid, mut socket) = v3_session(Config {
        max_http_buffer_size: 100,
        ..v3_quiet()
    })
    .await;
    let big = format!("201:4{}", "x".repeat(200));
    assert_eq!(v3_send(address, &sid, &big).await.status, 413);
    // The session stays open (PL-11).
    assert_ok(&v3_send(address, &sid, "6:4small").await);
    assert_eq!(recv(&mut socket).await, Some(text("small")));
}

#[tokio::test]
async fn a_second_get_is_refused_and_the_first_gets_the_close_packet() {
    // E3-10: as in v4.
    let (address, sid, mut socket) = v3_session(v3_quiet()).await;
    let first = v3_held_poll(address, &sid, &socket).await;
    let second = v3_poll(address, &sid).await;
    assert_eq!(second.status, 400);
    assert_eq!(payload(&within(first).await.unwrap()), "1:1");
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportError));
}

// ---- the heartbeat -------------------------------------------------------------------------

#[tokio::test]
async fn a_ping_is_answered_with_a_pong_carrying_its_data() {
    // SPEC-FAITHFUL: the official server answers a bare `3` (HB-11).
    let (address, sid, socket) = v3_session(v3_quiet()).await;
    assert_ok(&v3_send(address, &sid, "3:2hi").await);
    assert_eq!(payload(&v3_poll(address, &sid).await), "3:3hi");
    assert_ok(&v3_send(address, &sid, "1:2").await);
    assert_eq!(payload(&v3_poll(address, &sid).await), "1:3");
    // A pending GET is released by the pong.
    let pending = v3_held_poll(address, &sid, &socket).await;
    assert_ok(&v3_send(address, &sid, "6:2probe").await);
    assert_eq!(payload(&within(pending).await.unwrap()), "6:3probe");
}

#[tokio::test]
async fn the_server_never_pings() {
    let (address, sid, socket) = v3_session(v3_fast()).await;
    let started = Instant::now();
    // With the v4 heartbeat a ping `2` would come after 300 ms; in v3 the held GET waits for
    // the ping timeout, 500 ms, and gets the close packet (HB-12).
    let pending = v3_held_poll(address, &sid, &socket).await;
    assert_eq!(payload(&within(pending).await.unwrap()), "1:1");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(480), "{elapsed:?}");
    assert_eq!(socket.close_reason(), Some(CloseReason::PingTimeout));
    released(&socket).await;
    assert_v3_gone(address, &sid).await;
}

#[tokio::test]
async fn any_packet_keeps_the_session_alive() {
    // SPEC-FAITHFUL: the official server counts only pings (HB-12); the spec says "any data".
    let (address, sid, mut socket) = v3_session(v3_fast()).await;
    let started = Instant::now();
    // A message every 200 ms for well over pingInterval + pingTimeout (500 ms): the subject is
    // the time that passes, so the test waits it out.
    while started.elapsed() < Duration::from_millis(1200) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_ok(&v3_send(address, &sid, "6:4alive").await);
        assert_eq!(recv(&mut socket).await, Some(text("alive")));
    }
    assert_eq!(socket.close_reason(), None);
    // Then silence: it times out.
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::PingTimeout));
}

#[tokio::test]
async fn pings_keep_the_session_alive() {
    let (address, sid, socket) = v3_session(v3_fast()).await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1200) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_ok(&v3_send(address, &sid, "1:2").await);
        assert_eq!(payload(&v3_poll(address, &sid).await), "1:3");
    }
    assert_eq!(socket.close_reason(), None);
}

#[tokio::test]
async fn a_pong_from_the_client_closes_the_session() {
    // HB-13: the heartbeat's direction is client to server.
    let (address, sid, mut socket) = v3_session(v3_quiet()).await;
    assert_ok(&v3_send(address, &sid, "1:3").await);
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportError));
    assert_v3_gone(address, &sid).await;
}

// ---- close ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_close_packet_releases_the_pending_get_with_a_noop() {
    // E3-12, CL-01.
    let (address, sid, mut socket) = v3_session(v3_quiet()).await;
    let pending = v3_held_poll(address, &sid, &socket).await;
    assert_ok(&v3_send(address, &sid, "1:1").await);
    assert_eq!(payload(&within(pending).await.unwrap()), "1:6");
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportClose));
    assert_v3_gone(address, &sid).await;
}

#[tokio::test]
async fn a_server_close_writes_the_close_packet_to_the_pending_get() {
    let (address, sid, socket) = v3_session(v3_quiet()).await;
    let pending = v3_held_poll(address, &sid, &socket).await;
    socket.close();
    assert_eq!(payload(&within(pending).await.unwrap()), "1:1");
    assert_v3_gone(address, &sid).await;
}

#[tokio::test]
async fn a_deferred_server_close_sends_noop_then_close() {
    let (address, sid, socket) = v3_session(v3_quiet()).await;
    socket.send(text("last")).unwrap();
    socket.close();
    assert_eq!(payload(&v3_poll(address, &sid).await), "5:4last");
    assert_eq!(payload(&v3_poll(address, &sid).await), "1:61:1");
    assert_v3_gone(address, &sid).await;
}

// ---- WebSocket -----------------------------------------------------------------------------

#[tokio::test]
async fn websocket_frames_carry_the_packet_type_in_binary_too() {
    let (address, mut sockets) = start_raw(v3_quiet()).await;
    tokio::spawn(async move {
        while let Some(mut socket) = sockets.accept().await {
            assert_eq!(socket.protocol(), ProtocolVersion::V3);
            tokio::spawn(async move {
                while let Some(data) = socket.recv().await {
                    let _ = socket.send(data);
                }
            });
        }
    });
    let mut ws = ws_connect(address, "EIO=3&transport=websocket")
        .await
        .unwrap();
    let open = next_text(&mut ws).await;
    assert!(open.starts_with(r#"0{"sid":""#), "{open}");
    assert!(open.contains(r#""upgrades":[],"#), "{open}");
    ws_send(&mut ws, "4hello").await;
    assert_eq!(next_text(&mut ws).await, "4hello");
    // E3-08: a binary frame is the type byte, then the data ...
    within(ws.send(Message::binary(vec![4_u8, 1, 2, 3])))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut ws).await,
        Some(Message::binary(vec![4_u8, 1, 2, 3]))
    );
    // ... and a base64 text frame carries the type after the `b`.
    ws_send(&mut ws, "b4AQID").await;
    assert_eq!(
        next_frame(&mut ws).await,
        Some(Message::binary(vec![4_u8, 1, 2, 3]))
    );
    // The heartbeat: the client pings, the pong carries the data.
    ws_send(&mut ws, "2hi").await;
    assert_eq!(next_text(&mut ws).await, "3hi");
}

#[tokio::test]
async fn websocket_binary_frames_reach_the_application_without_the_type_byte() {
    let (address, mut sockets) = start_raw(v3_quiet()).await;
    let mut ws = ws_connect(address, "EIO=3&transport=websocket")
        .await
        .unwrap();
    let _open = next_text(&mut ws).await;
    let mut socket = accept(&mut sockets).await;
    within(ws.send(Message::binary(vec![4_u8, 9])))
        .await
        .unwrap();
    assert_eq!(recv(&mut socket).await, Some(binary(&[9])));
    // A binary frame whose first byte is no packet type does not decode.
    within(ws.send(Message::binary(vec![9_u8, 9])))
        .await
        .unwrap();
    assert_closed(&mut ws).await;
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::ParseError));
}

#[tokio::test]
async fn websocket_pong_from_the_client_closes_the_session() {
    let (address, mut sockets) = start_raw(v3_quiet()).await;
    let mut ws = ws_connect(address, "EIO=3&transport=websocket")
        .await
        .unwrap();
    let _open = next_text(&mut ws).await;
    let mut socket = accept(&mut sockets).await;
    ws_send(&mut ws, "3").await;
    assert_closed(&mut ws).await;
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::TransportError));
}

#[tokio::test]
async fn websocket_session_times_out_without_packets() {
    let (address, mut sockets) = start_raw(v3_fast()).await;
    let mut ws = ws_connect(address, "EIO=3&transport=websocket")
        .await
        .unwrap();
    let _open = next_text(&mut ws).await;
    let mut socket = accept(&mut sockets).await;
    let started = Instant::now();
    // No ping from the server, only the close after pingInterval + pingTimeout (HB-12).
    match next_frame(&mut ws).await {
        None | Some(Message::Close(None)) => {}
        other => panic!("expected the close, got {other:?}"),
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert_eq!(recv(&mut socket).await, None);
    assert_eq!(socket.close_reason(), Some(CloseReason::PingTimeout));
}

#[tokio::test]
async fn the_upgrade_releases_the_pending_get_with_a_v3_noop() {
    // E3-11.
    let (address, sid, mut socket) = v3_session(v3_quiet()).await;
    let pending = v3_held_poll(address, &sid, &socket).await;
    let upgrade = format!("EIO=3&transport=websocket&sid={sid}");
    let mut ws = ws_connect(address, &upgrade).await.unwrap();
    ws_send(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    assert_eq!(payload(&within(pending).await.unwrap()), "1:6");
    // A GET during the upgrade is released at once too.
    assert_eq!(payload(&v3_poll(address, &sid).await), "1:6");
    socket.send(binary(&[7])).unwrap();
    ws_send(&mut ws, "5").await;
    // What was queued meanwhile comes over the WebSocket, v3-framed.
    assert_eq!(
        next_frame(&mut ws).await,
        Some(Message::binary(vec![4_u8, 7]))
    );
    ws_send(&mut ws, "4over websocket").await;
    assert_eq!(recv(&mut socket).await, Some(text("over websocket")));
    assert_eq!(socket.transport(), TransportKind::WebSocket);
    ws_send(&mut ws, "2").await;
    assert_eq!(next_text(&mut ws).await, "3");
    // Polling is over for this session (UP-10).
    v3_poll(address, &sid).await.assert_error(3, "Bad request");
}

#[tokio::test]
async fn packets_on_the_probing_websocket_keep_the_session_alive() {
    // pingInterval + pingTimeout is 500 ms: the probe 300 ms after the handshake, the upgrade
    // 300 ms after the probe and a message 300 ms after the upgrade each come before it runs
    // out only if the packet before counted.
    let (address, sid, mut socket) = v3_session(Config {
        upgrade_timeout: Duration::from_millis(5_000),
        ..v3_fast()
    })
    .await;
    let opened = Instant::now();
    let upgrade = format!("EIO=3&transport=websocket&sid={sid}");
    let mut ws = ws_connect(address, &upgrade).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300).saturating_sub(opened.elapsed())).await;
    let probed = Instant::now();
    ws_send(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    tokio::time::sleep(Duration::from_millis(300).saturating_sub(probed.elapsed())).await;
    let upgraded = Instant::now();
    ws_send(&mut ws, "5").await;
    tokio::time::sleep(Duration::from_millis(300).saturating_sub(upgraded.elapsed())).await;
    ws_send(&mut ws, "4upgraded").await;
    assert_eq!(recv(&mut socket).await, Some(text("upgraded")));
    assert_eq!(socket.transport(), TransportKind::WebSocket);
}

// ---- Socket.IO -----------------------------------------------------------------------------

/// With `allow_eio3`, the Socket.IO server serves a protocol 3 handshake (Socket.IO v4 runs
/// on it: `tests/socket_io/v4.rs`); without it, `tests/socket_io/v4.rs` checks the refusal.
#[tokio::test]
async fn the_socket_io_server_serves_eio3_when_its_engine_options_allow_it() {
    use sio_reference::server::socket_io::{Config as SioConfig, SocketIo};
    let mut config = SioConfig::default();
    config.engine.allow_eio3 = true;
    let (address, serving) = SocketIo::new(config).listen("127.0.0.1:0").await.unwrap();
    tokio::spawn(serving);
    let target = "/socket.io/?EIO=3&transport=polling";
    let response = request(address, "GET", target, &[], b"").await;
    assert_eq!(response.status, 200);
    assert!(
        response.text().contains(":0{\"sid\":"),
        "{}",
        response.text()
    );
}
