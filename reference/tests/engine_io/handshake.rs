//! Engine.IO handshake (behaviors HS): the open packet over polling and WebSocket, the sid, and
//! every refusal with its official status, content type and JSON body.

use std::time::Duration;

use sio_reference::server::engine_io::{Config, TransportKind};

use crate::support::*;

fn assert_sid(sid: &str) {
    assert_eq!(sid.len(), 20, "{sid}");
    assert!(
        sid.bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'),
        "{sid}"
    );
}

#[test]
fn defaults_are_the_official_ones() {
    let config = Config::default();
    assert_eq!(config.path, "/engine.io/");
    assert_eq!(config.ping_interval, Duration::from_millis(25_000));
    assert_eq!(config.ping_timeout, Duration::from_millis(20_000));
    assert_eq!(config.upgrade_timeout, Duration::from_millis(10_000));
    assert_eq!(config.max_http_buffer_size, 1_000_000);
    assert_eq!(
        config.transports,
        vec![TransportKind::Polling, TransportKind::WebSocket]
    );
    assert!(config.allow_upgrades);
}

#[tokio::test]
async fn polling_handshake_answers_the_open_packet() {
    let address = start(Config::default()).await;
    let response = get(address, "EIO=4&transport=polling").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let body = response.text();
    assert_eq!(
        response.header("content-length"),
        Some(body.len().to_string().as_str())
    );
    let sid = sid_of(body);
    assert_sid(&sid);
    assert_eq!(
        body,
        format!(
            r#"0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#
        )
    );
}

#[tokio::test]
async fn open_packet_carries_the_configured_values() {
    let address = start(Config {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_http_buffer_size: 1234,
        allow_upgrades: false,
        ..Config::default()
    })
    .await;
    let response = get(address, "EIO=4&transport=polling").await;
    let body = payload(&response);
    let sid = sid_of(body);
    assert_eq!(
        body,
        format!(
            r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1234}}"#
        )
    );
}

#[tokio::test]
async fn sids_are_distinct() {
    let address = start(quiet()).await;
    let first = handshake(address).await;
    let second = handshake(address).await;
    assert_sid(&first);
    assert_sid(&second);
    assert_ne!(first, second);
}

#[tokio::test]
async fn the_application_receives_each_session() {
    let (address, mut sockets) = start_raw(quiet()).await;
    let sid = handshake(address).await;
    let socket = accept(&mut sockets).await;
    assert_eq!(socket.id(), sid);
    assert_eq!(socket.transport(), TransportKind::Polling);
}

#[tokio::test]
async fn websocket_handshake_sends_the_open_packet_first() {
    let (address, mut sockets) = start_raw(quiet()).await;
    let (_ws, open) = ws_handshake(address).await;
    let sid = sid_of(&open);
    assert_sid(&sid);
    assert_eq!(
        open,
        format!(
            r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":20000,"pingTimeout":10000,"maxPayload":1000000}}"#
        )
    );
    let socket = accept(&mut sockets).await;
    assert_eq!(socket.id(), sid);
    assert_eq!(socket.transport(), TransportKind::WebSocket);
}

#[tokio::test]
async fn missing_or_unknown_transport_is_code_0() {
    let address = start(quiet()).await;
    for query in [
        "EIO=4",
        "EIO=4&transport=abc",
        "EIO=4&transport=__proto__",
        "EIO=4&transport=webtransport",
    ] {
        get(address, query)
            .await
            .assert_error(0, "Transport unknown");
    }
}

#[tokio::test]
async fn disabled_transport_is_code_0() {
    let address = start(Config {
        transports: vec![TransportKind::WebSocket],
        ..quiet()
    })
    .await;
    get(address, "EIO=4&transport=polling")
        .await
        .assert_error(0, "Transport unknown");
}

#[tokio::test]
async fn unknown_sid_is_code_1() {
    let address = start(quiet()).await;
    poll(address, "AAAAAAAAAAAAAAAAAAAA")
        .await
        .assert_error(1, "Session ID unknown");
    send(address, "AAAAAAAAAAAAAAAAAAAA", "4hello")
        .await
        .assert_error(1, "Session ID unknown");
}

#[tokio::test]
async fn handshake_by_another_method_is_code_2() {
    let address = start(quiet()).await;
    for method in ["POST", "PUT", "OPTIONS"] {
        request(
            address,
            method,
            "/engine.io/?EIO=4&transport=polling",
            &[],
            b"",
        )
        .await
        .assert_error(2, "Bad handshake method");
    }
}

#[tokio::test]
async fn websocket_transport_without_upgrade_is_code_3() {
    let address = start(quiet()).await;
    get(address, "EIO=4&transport=websocket")
        .await
        .assert_error(3, "Bad request");
}

#[tokio::test]
async fn protocol_other_than_exactly_4_is_code_5() {
    let address = start(quiet()).await;
    for query in [
        "transport=polling",
        "EIO=3&transport=polling",
        "EIO=5&transport=polling",
        "EIO=04&transport=polling",
        "EIO=abc&transport=polling",
        "EIO=&transport=polling",
    ] {
        get(address, query)
            .await
            .assert_error(5, "Unsupported protocol version");
    }
}

#[tokio::test]
async fn errors_are_checked_in_the_official_order() {
    let address = start(quiet()).await;
    // Transport before protocol version.
    get(address, "EIO=3&transport=abc")
        .await
        .assert_error(0, "Transport unknown");
    // Sid before method.
    request(
        address,
        "PUT",
        "/engine.io/?EIO=4&transport=polling&sid=nope",
        &[],
        b"",
    )
    .await
    .assert_error(1, "Session ID unknown");
}

#[tokio::test]
async fn websocket_with_a_bad_protocol_version_is_refused_before_the_upgrade() {
    let address = start(quiet()).await;
    // SPEC-FAITHFUL: refused with 400 rather than accepted then dropped (HS-19).
    assert_eq!(
        ws_connect(address, "EIO=3&transport=websocket").await.err(),
        Some(400)
    );
    assert_eq!(
        ws_connect(address, "transport=websocket").await.err(),
        Some(400)
    );
}

#[tokio::test]
async fn websocket_with_an_unknown_sid_or_transport_is_refused() {
    let address = start(quiet()).await;
    assert_eq!(
        ws_connect(address, "EIO=4&transport=websocket&sid=nope")
            .await
            .err(),
        Some(400)
    );
    assert_eq!(
        ws_connect(address, "EIO=4&transport=abc").await.err(),
        Some(400)
    );
    // An upgrade request that names polling (WS-10).
    assert_eq!(
        ws_connect(address, "EIO=4&transport=polling").await.err(),
        Some(400)
    );
}

#[tokio::test]
async fn paths_outside_the_prefix_are_not_handled() {
    let address = start(quiet()).await;
    let response = request(
        address,
        "GET",
        "/engine.io?EIO=4&transport=polling",
        &[],
        b"",
    )
    .await;
    assert_eq!(response.status, 404);
    let response = request(address, "GET", "/other/?EIO=4&transport=polling", &[], b"").await;
    assert_eq!(response.status, 404);
    // The path is a prefix (HS-01).
    let response = request(
        address,
        "GET",
        "/engine.io/foo/bar?EIO=4&transport=polling",
        &[],
        b"",
    )
    .await;
    assert_eq!(response.status, 200);
}
