//! The fixture server's contract (`sio_reference::fixture`), as a suite will rely on it: the
//! official test suite's server at `/socket.io/`, the extended handlers, and the Engine.IO
//! echoes at `/engine.io/` (protocol 4) and `/engine.io-v3/` (protocols 3 and 4).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use sio_reference::fixture::{Fixture, Options};
use tokio_tungstenite::tungstenite::Message;

use crate::sio_support::*;

async fn fixture(options: Options) -> SocketAddr {
    let (address, serving) = Fixture::new(options).listen("127.0.0.1:0").await.unwrap();
    tokio::spawn(serving);
    address
}

/// The contract's timers, announced in the open packet.
async fn the_open_packet_has_the_contract_timers(transport: Transport) {
    let address = fixture(Options::default()).await;
    let client = Client::open(address, transport).await;
    assert_eq!(client.open["pingInterval"], 300);
    assert_eq!(client.open["pingTimeout"], 200);
    assert_eq!(client.open["maxPayload"], 1_000_000);
}

/// On connection to `/` or `/custom`, `auth` is emitted with the CONNECT payload.
async fn auth_is_emitted_on_connection(transport: Transport) {
    let address = fixture(Options::default()).await;
    let mut client = Client::open(address, transport).await;
    client.send("40").await;
    client.expect_connect("/").await;
    client.expect(r#"42["auth",{}]"#).await;
    client.send(r#"40/custom,{"token":"abc"}"#).await;
    client.expect_connect("/custom").await;
    client.expect(r#"42/custom,["auth",{"token":"abc"}]"#).await;

    let mut other = Client::open(address, transport).await;
    other.send(r#"40{"token":"123"}"#).await;
    other.expect_connect("/").await;
    other.expect(r#"42["auth",{"token":"123"}]"#).await;
}

/// `message` comes back as `message-back`, binary included.
async fn message_is_echoed(transport: Transport) {
    let address = fixture(Options::default()).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.expect(r#"42["auth",{}]"#).await;
    client.send(r#"42["message",1,"2",{"3":[true]}]"#).await;
    client
        .expect(r#"42["message-back",1,"2",{"3":[true]}]"#)
        .await;
    client
        .send_all(vec![
            text(r#"451-["message",{"_placeholder":true,"num":0}]"#),
            binary(&[1, 2, 3]),
        ])
        .await;
    client
        .expect(r#"451-["message-back",{"_placeholder":true,"num":0}]"#)
        .await;
    client.expect_binary(&[1, 2, 3]).await;
}

/// `message-with-ack` is acknowledged with its arguments, binary included.
async fn message_with_ack_is_acknowledged(transport: Transport) {
    let address = fixture(Options::default()).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.expect(r#"42["auth",{}]"#).await;
    client
        .send(r#"42456["message-with-ack",1,"2",{"3":[false]}]"#)
        .await;
    client.expect(r#"43456[1,"2",{"3":[false]}]"#).await;
    client
        .send_all(vec![
            text(r#"451-789["message-with-ack",{"_placeholder":true,"num":0}]"#),
            binary(&[4, 5]),
        ])
        .await;
    client
        .expect(r#"461-789[{"_placeholder":true,"num":0}]"#)
        .await;
    client.expect_binary(&[4, 5]).await;
}

/// `emit-with-ack` is re-emitted with an ack id; what the client acknowledges comes back as
/// another `emit-with-ack`.
async fn emit_with_ack_round_trip(transport: Transport) {
    let address = fixture(Options::default()).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.expect(r#"42["auth",{}]"#).await;
    client.send(r#"42["emit-with-ack",1,"2"]"#).await;
    client.expect(r#"420["emit-with-ack",1,"2"]"#).await;
    client.send(r#"430[{"answer":42},"x"]"#).await;
    client
        .expect(r#"42["emit-with-ack",{"answer":42},"x"]"#)
        .await;
    client.send(r#"42["emit-with-ack"]"#).await;
    client.expect(r#"421["emit-with-ack"]"#).await;
    client.send("431[]").await;
    client.expect(r#"42["emit-with-ack"]"#).await;
}

/// With no answer within the fixture's ack timeout, nothing comes back.
#[tokio::test]
async fn emit_with_ack_unanswered_sends_nothing_back() {
    let address = fixture(Options {
        ack_timeout: Duration::from_millis(200),
        ..Options::default()
    })
    .await;
    let (mut client, _) = Client::connect(address, Transport::WebSocket).await;
    client.expect(r#"42["auth",{}]"#).await;
    client.send(r#"42["emit-with-ack","q"]"#).await;
    client.expect(r#"420["emit-with-ack","q"]"#).await;
    client.expect_silence(400).await;
    client.send(r#"430["late"]"#).await;
    client.expect_silence(100).await;
}

/// `/refused` is refused by a middleware with message and data; `/random` is unknown.
async fn refused_and_unknown_namespaces(transport: Transport) {
    let address = fixture(Options::default()).await;
    let mut client = Client::open(address, transport).await;
    client.send("40/refused,").await;
    client
        .expect(r#"44/refused,{"message":"refused","data":{"reason":"testing"}}"#)
        .await;
    client.send("40/random,").await;
    client
        .expect(r#"44/random,{"message":"Invalid namespace"}"#)
        .await;
    client.send("40").await;
    client.expect_connect("/").await;
    client.expect(r#"42["auth",{}]"#).await;
}

/// `/dynamic-<anything>` is created on its first CONNECT and behaves as `/custom`.
async fn dynamic_namespaces(transport: Transport) {
    let address = fixture(Options::default()).await;
    let mut client = Client::open(address, transport).await;
    client.send(r#"40/dynamic-x,{"k":1}"#).await;
    client.expect_connect("/dynamic-x").await;
    client.expect(r#"42/dynamic-x,["auth",{"k":1}]"#).await;
    client.send("40/dynamic-123").await;
    client.expect_connect("/dynamic-123").await;
    client.expect(r#"42/dynamic-123,["auth",{}]"#).await;
    client.send("40/dynamic,").await;
    client
        .expect(r#"44/dynamic,{"message":"Invalid namespace"}"#)
        .await;
}

/// The extended handlers: `disconnect-me`, `close-me`, `join` and `to-room`.
async fn extended_handlers(transport: Transport) {
    let address = fixture(Options::default()).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.expect(r#"42["auth",{}]"#).await;
    client.send(r#"42["disconnect-me"]"#).await;
    client.expect("41").await;
    client.send("40").await;
    client.expect_connect("/").await;
    client.expect(r#"42["auth",{}]"#).await;

    let (mut other, _) = Client::connect(address, transport).await;
    other.expect(r#"42["auth",{}]"#).await;
    client.send(r#"421["join","lobby"]"#).await;
    client.expect("431[]").await;
    other.send(r#"421["join","lobby"]"#).await;
    other.expect("431[]").await;
    other.send(r#"42["to-room","lobby","hi",1,"2"]"#).await;
    client.expect(r#"42["hi",1,"2"]"#).await;
    // Not to the sender: its next packet is the answer to this.
    other.send(r#"422["message-with-ack","next"]"#).await;
    other.expect(r#"432["next"]"#).await;

    client.send(r#"40/custom,"#).await;
    client.expect_connect("/custom").await;
    client.expect(r#"42/custom,["auth",{}]"#).await;
    client.send(r#"42["close-me"]"#).await;
    let mut sent = [client.recv_text().await, client.recv_text().await];
    sent.sort();
    assert_eq!(sent, ["41".to_owned(), "41/custom,".to_owned()]);
    client.expect_closed().await;
}

/// The contract's connect timeout: 1000 ms.
#[tokio::test]
async fn the_connect_timeout_is_one_second() {
    let address = fixture(Options::default()).await;
    let started = Instant::now();
    let mut client = Client::open(address, Transport::WebSocket).await;
    client.expect_closed().await;
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
}

/// `/engine.io/` is an Engine.IO echo, over polling and WebSocket, text and binary.
#[tokio::test]
async fn the_engine_io_echo() {
    let address = fixture(Options::default()).await;
    let response = request(
        address,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &[],
        b"",
    )
    .await;
    assert_eq!(response.status, 200);
    let open = json(response.text().strip_prefix('0').unwrap());
    assert_eq!(open["pingInterval"], 300);
    let sid = open["sid"].as_str().unwrap();
    let target = format!("/engine.io/?EIO=4&transport=polling&sid={sid}");
    let sent = request(
        address,
        "POST",
        &target,
        &[("Content-Type", "text/plain;charset=UTF-8")],
        "4hello\u{1e}bAQID".as_bytes(),
    )
    .await;
    assert_eq!((sent.status, sent.text()), (200, "ok"));
    let echoed = request(address, "GET", &target, &[], b"").await;
    assert_eq!(echoed.text(), "4hello\u{1e}bAQID");

    let url = format!("ws://{address}/engine.io/?EIO=4&transport=websocket");
    let (mut ws, _) = within(tokio_tungstenite::connect_async(url)).await.unwrap();
    let open = within(ws.next()).await.unwrap().unwrap();
    assert!(open.to_text().unwrap().starts_with("0{"));
    within(ws.send(Message::text("4hi"))).await.unwrap();
    assert_eq!(
        within(ws.next()).await.unwrap().unwrap(),
        Message::text("4hi")
    );
    within(ws.send(Message::binary(vec![9_u8, 8])))
        .await
        .unwrap();
    assert_eq!(
        within(ws.next()).await.unwrap().unwrap(),
        Message::binary(vec![9_u8, 8])
    );
}

/// `/engine.io-v3/` is the same echo serving protocol 3 too; `/engine.io/` refuses it, as a
/// server without `allowEIO3` does.
#[tokio::test]
async fn the_engine_io_v3_echo() {
    let address = fixture(Options::default()).await;
    request(
        address,
        "GET",
        "/engine.io/?EIO=3&transport=polling",
        &[],
        b"",
    )
    .await
    .assert_error(5, "Unsupported protocol version");
    let url = format!("ws://{address}/engine.io/?EIO=3&transport=websocket");
    let refused = within(tokio_tungstenite::connect_async(url)).await;
    assert!(refused.is_err(), "{refused:?}");

    let response = request(
        address,
        "GET",
        "/engine.io-v3/?EIO=3&transport=polling",
        &[],
        b"",
    )
    .await;
    assert_eq!(response.status, 200);
    let body = response.text();
    let open = json(body.strip_prefix("114:0").unwrap());
    assert_eq!(open["pingInterval"], 300);
    assert_eq!(open["maxPayload"], 1_000_000);
    let sid = open["sid"].as_str().unwrap();
    let target = format!("/engine.io-v3/?EIO=3&transport=polling&sid={sid}");
    let sent = request(
        address,
        "POST",
        &target,
        &[("Content-Type", "text/plain;charset=UTF-8")],
        "6:4hello10:b4AQIDBA==".as_bytes(),
    )
    .await;
    assert_eq!((sent.status, sent.text()), (200, "ok"));
    let echoed = request(address, "GET", &format!("{target}&b64=1"), &[], b"").await;
    assert_eq!(echoed.text(), "6:4hello10:b4AQIDBA==");

    let url = format!("ws://{address}/engine.io-v3/?EIO=3&transport=websocket");
    let (mut ws, _) = within(tokio_tungstenite::connect_async(url)).await.unwrap();
    let open = within(ws.next()).await.unwrap().unwrap();
    assert!(open.to_text().unwrap().starts_with("0{"));
    within(ws.send(Message::binary(vec![4_u8, 1, 2, 3])))
        .await
        .unwrap();
    assert_eq!(
        within(ws.next()).await.unwrap().unwrap(),
        Message::binary(vec![4_u8, 1, 2, 3])
    );
    within(ws.send(Message::text("2hi"))).await.unwrap();
    assert_eq!(
        within(ws.next()).await.unwrap().unwrap(),
        Message::text("3hi")
    );

    // Protocol 4 is served there too.
    let response = request(
        address,
        "GET",
        "/engine.io-v3/?EIO=4&transport=polling",
        &[],
        b"",
    )
    .await;
    assert!(response.text().starts_with("0{"), "{response:?}");
}

/// Anything outside `/socket.io/`, `/engine.io/` and `/engine.io-v3/` is 404.
#[tokio::test]
async fn other_paths_are_not_found() {
    let address = fixture(Options::default()).await;
    for target in [
        "/",
        "/other/?EIO=4&transport=polling",
        "/socket.iox?EIO=4&transport=polling",
        "/engine.io?EIO=4&transport=polling",
        "/engine.io-v3?EIO=3&transport=polling",
        "/engine.io-v2/?EIO=3&transport=polling",
    ] {
        let response = request(address, "GET", target, &[], b"").await;
        assert_eq!(response.status, 404, "{target}");
    }
}

on_both_transports!(
    the_open_packet_has_the_contract_timers,
    auth_is_emitted_on_connection,
    message_is_echoed,
    message_with_ack_is_acknowledged,
    emit_with_ack_round_trip,
    refused_and_unknown_namespaces,
    dynamic_namespaces,
    extended_handlers,
);

/// With credentialed origins, `/socket.io/` answers a listed page's polling handshake with its
/// origin and `Access-Control-Allow-Credentials: true` (what a browser's `withCredentials`
/// needs), and no CORS to another origin; with the session cookie, it sets `io=<sid>`.
#[tokio::test]
async fn credentialed_origins_and_the_session_cookie() {
    let page = "http://127.0.0.1:4567";
    let address = fixture(Options {
        credentialed_origins: vec![page.to_owned()],
        session_cookie: true,
        ..Options::default()
    })
    .await;
    let target = "/socket.io/?EIO=4&transport=polling";
    let listed = crate::support::request(address, "GET", target, &[("Origin", page)], b"").await;
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(listed.header("access-control-allow-origin"), Some(page));
    assert_eq!(
        listed.header("access-control-allow-credentials"),
        Some("true")
    );
    let body = String::from_utf8(listed.body.clone()).unwrap();
    let open: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
    let sid = open["sid"].as_str().unwrap();
    assert_eq!(
        listed.header("set-cookie"),
        Some(format!("io={sid}; Path=/; HttpOnly; SameSite=Lax").as_str())
    );
    let other = "http://127.0.0.1:9999";
    let unlisted = crate::support::request(address, "GET", target, &[("Origin", other)], b"").await;
    assert_eq!(
        unlisted.header("access-control-allow-origin"),
        None,
        "{unlisted:?}"
    );

    let contract = fixture(Options::default()).await;
    let any = crate::support::request(contract, "GET", target, &[("Origin", page)], b"").await;
    assert_eq!(
        any.header("access-control-allow-credentials"),
        None,
        "{any:?}"
    );
    assert_eq!(any.header("set-cookie"), None, "{any:?}");
}
