//! The Socket.IO server mounted in an axum application with `SocketIo::layer`.

use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use sio_reference::server::socket_io::{Config, SocketIo};

use crate::support::*;

/// An axum app with one route and the Socket.IO layer, on 127.0.0.1:0; the server greets
/// each socket with `hello`.
async fn start_app() -> SocketAddr {
    let io = SocketIo::new(Config::default());
    io.on_connection(|socket| {
        let _ = socket.emit("hello", vec!["from the layer".into()]);
    });
    let app = Router::new()
        .route("/", get(|| async { "the application" }))
        .layer(io.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

#[tokio::test]
async fn the_apps_routes_pass_through() {
    let address = start_app().await;
    let response = request(address, "GET", "/", &[], b"").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "the application");
    // The Engine.IO path of the Socket.IO server is /socket.io/, not /engine.io/.
    let elsewhere = request(
        address,
        "GET",
        "/engine.io/?EIO=4&transport=polling",
        &[],
        b"",
    )
    .await;
    assert_eq!(elsewhere.status, 404);
}

#[tokio::test]
async fn a_socket_connects_over_websocket_through_the_layer() {
    let address = start_app().await;
    let (mut ws, _) = ws_connect_with(address, "/socket.io/?EIO=4&transport=websocket", &[])
        .await
        .unwrap();
    let open = next_text(&mut ws).await;
    assert!(open.starts_with(r#"0{"sid":""#), "{open}");
    ws_send(&mut ws, "40").await;
    let connected = next_text(&mut ws).await;
    assert!(connected.starts_with(r#"40{"sid":""#), "{connected}");
    assert_eq!(next_text(&mut ws).await, r#"42["hello","from the layer"]"#);
}

#[tokio::test]
async fn a_socket_connects_over_polling_through_the_layer() {
    let address = start_app().await;
    let open = request(
        address,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[],
        b"",
    )
    .await;
    assert_eq!(open.status, 200);
    let sid = sid_of(open.text());
    let target = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let posted = request(address, "POST", &target, &[], b"40").await;
    assert_eq!(posted.text(), "ok");
    // The two packets may come in one response or in two, as the GET races the server.
    let mut packets: Vec<String> = Vec::new();
    while packets.len() < 2 {
        let answer = request(address, "GET", &target, &[], b"").await;
        assert_eq!(answer.status, 200);
        packets.extend(answer.text().split('\x1e').map(str::to_owned));
    }
    assert_eq!(packets.len(), 2, "{packets:?}");
    assert!(packets[0].starts_with(r#"40{"sid":""#), "{packets:?}");
    assert_eq!(packets[1], r#"42["hello","from the layer"]"#);
}
