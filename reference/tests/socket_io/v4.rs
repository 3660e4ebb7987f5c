//! Socket.IO protocol 4 over Engine.IO 3 (behaviors V4), for socket.io 2.x clients: served
//! when the engine options allow protocol 3, refused without. Over WebSocket, where a frame is
//! a packet, so the tests read the wire as written.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use sio_reference::server::socket_io::{Config, ConnectError, SocketIo};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::sio_support::*;

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

fn allowing_eio3() -> Config {
    let mut config = quiet();
    config.engine.allow_eio3 = true;
    config
}

/// A protocol 3 WebSocket session on `/socket.io/`: the socket and the Engine.IO sid.
async fn open_v3(address: SocketAddr) -> (Ws, String) {
    let url = format!("ws://{address}/socket.io/?EIO=3&transport=websocket");
    let (mut ws, _) = within(tokio_tungstenite::connect_async(url)).await.unwrap();
    let open = next_text(&mut ws).await;
    let open = json(open.strip_prefix('0').unwrap());
    (ws, open["sid"].as_str().unwrap().to_owned())
}

async fn next_text(ws: &mut Ws) -> String {
    match within(ws.next()).await.unwrap().unwrap() {
        Message::Text(text) => text.to_string(),
        other => panic!("a text frame, not {other:?}"),
    }
}

async fn send(ws: &mut Ws, text: &str) {
    within(ws.send(Message::text(text))).await.unwrap();
}

/// Without `allow_eio3`, a socket.io 2.x client is refused, as by the official server.
#[tokio::test]
async fn eio3_is_refused_without_allow_eio3() {
    let address = start(&SocketIo::new(quiet())).await;
    let response = request(
        address,
        "GET",
        "/socket.io/?EIO=3&transport=polling",
        &[],
        b"",
    )
    .await;
    response.assert_error(5, "Unsupported protocol version");
}

/// V4-01, V4-06: the client is joined to `/` unasked with a bare `40`, before anything the
/// handler emits; the socket's id is the Engine.IO sid, its auth `{}`.
#[tokio::test]
async fn the_main_namespace_is_joined_implicitly() {
    let io = SocketIo::new(allowing_eio3());
    let (seen, mut seen_rx) = channel();
    io.on_connection(move |socket| {
        let _ = socket.emit("hello", vec![]);
        let _ = seen.send((socket.id().to_owned(), socket.handshake().auth.to_json()));
    });
    let address = start(&io).await;
    let (mut ws, sid) = open_v3(address).await;
    assert_eq!(next_text(&mut ws).await, "40");
    assert_eq!(next_text(&mut ws).await, r#"42["hello"]"#);
    assert_eq!(next(&mut seen_rx).await, (sid, "{}".to_owned()));
}

/// V4-02, V4-03, V4-06: `40/admin?token=a+b&x=1,` joins `/admin`, answered `40/admin,` with no
/// payload; the query is the auth, the id `/admin#<sid>`; later packets name `/admin`.
#[tokio::test]
async fn a_namespace_query_is_the_auth() {
    let io = SocketIo::new(allowing_eio3());
    let (seen, mut seen_rx) = channel();
    io.of("/admin").on_connection(move |socket| {
        let _ = seen.send((socket.id().to_owned(), socket.handshake().auth.to_json()));
        socket.on("ping-me", |socket, arguments, _ack| {
            let _ = socket.emit("pong-you", arguments);
        });
    });
    let address = start(&io).await;
    let (mut ws, sid) = open_v3(address).await;
    assert_eq!(next_text(&mut ws).await, "40");
    send(&mut ws, "40/admin?token=a+b&x=1,").await;
    assert_eq!(next_text(&mut ws).await, "40/admin,");
    assert_eq!(
        next(&mut seen_rx).await,
        (
            format!("/admin#{sid}"),
            r#"{"token":"a b","x":"1"}"#.to_owned()
        )
    );
    send(&mut ws, r#"42/admin,["ping-me",1]"#).await;
    assert_eq!(next_text(&mut ws).await, r#"42/admin,["pong-you",1]"#);
}

/// V4-04, V4-05 as the v4 spec writes an ERROR: a string payload, for an unknown namespace and
/// for a middleware's refusal (its message; the data has no place in a string); the
/// connection stays.
#[tokio::test]
async fn refusals_carry_a_string() {
    let io = SocketIo::new(allowing_eio3());
    io.of("/refused")
        .use_middleware(|_handshake| async { Err(ConnectError::new("no").with_data(1)) });
    let address = start(&io).await;
    let (mut ws, _) = open_v3(address).await;
    assert_eq!(next_text(&mut ws).await, "40");
    send(&mut ws, "40/random,").await;
    assert_eq!(next_text(&mut ws).await, r#"44/random,"Invalid namespace""#);
    send(&mut ws, "40/refused,").await;
    assert_eq!(next_text(&mut ws).await, r#"44/refused,"no""#);
}
