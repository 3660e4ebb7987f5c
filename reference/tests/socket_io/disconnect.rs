//! Disconnection (behaviors DC): the client's DISCONNECT leaves one namespace, the server's
//! `disconnect` and `close_connection`, the server's shutdown, and the reasons the
//! application's disconnect handlers receive.

use std::collections::HashSet;

use sio_reference::server::socket_io::{DisconnectReason, EmitError, Socket, SocketIo};
use sio_reference::socket_io::Value;

use crate::sio_support::*;

type Reasons = tokio::sync::mpsc::UnboundedReceiver<(String, DisconnectReason)>;

/// A server with `/` and `/custom` whose sockets report their disconnect reasons, answer
/// `ping-me` with `pong-you`, leave on `leave-me` and close the connection on `close-me`; each
/// socket is also handed to the test.
fn server(
    config: sio_reference::server::socket_io::Config,
) -> (
    SocketIo,
    Reasons,
    tokio::sync::mpsc::UnboundedReceiver<Socket>,
) {
    let io = SocketIo::new(config);
    let (reasons, reasons_rx) = channel();
    let (sockets, sockets_rx) = channel();
    for name in ["/", "/custom"] {
        let reasons = reasons.clone();
        let sockets = sockets.clone();
        io.of(name).on_connection(move |socket| {
            let reasons = reasons.clone();
            socket.on_disconnect(move |socket, reason| {
                assert!(!socket.connected());
                let _ = reasons.send((socket.namespace().name().to_owned(), reason));
            });
            socket.on("ping-me", |socket, arguments, _ack| {
                let _ = socket.emit("pong-you", arguments);
            });
            socket.on("leave-me", |socket, _arguments, _ack| socket.disconnect());
            socket.on("close-me", |socket, _arguments, _ack| {
                socket.close_connection()
            });
            let _ = sockets.send(socket);
        });
    }
    (io, reasons_rx, sockets_rx)
}

/// Joins `/` and `/custom` on one connection.
async fn both_namespaces(address: std::net::SocketAddr, transport: Transport) -> Client {
    let (mut client, _) = Client::connect(address, transport).await;
    client.send("40/custom,").await;
    client.expect_connect("/custom").await;
    client
}

/// Asserts `/` still answers on the connection.
async fn main_namespace_answers(client: &mut Client) {
    client.send(r#"42["ping-me",1]"#).await;
    client.expect(r#"42["pong-you",1]"#).await;
}

/// DC-01: the client's `41` leaves the main namespace with `client namespace disconnect`;
/// nothing is sent back and the connection stays open, heartbeats and all.
async fn a_client_disconnect_leaves_the_main_namespace(transport: Transport) {
    let (io, mut reasons, _sockets) = server(fast());
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.send("41").await;
    assert_eq!(
        next(&mut reasons).await,
        ("/".to_owned(), DisconnectReason::ClientNamespaceDisconnect)
    );
    assert!(io.main_namespace().sockets().is_empty());
    // Over several ping intervals: nothing but pings (answered), no close.
    client.expect_silence(800).await;
    client.send("40").await;
    client.expect_connect("/").await;
    main_namespace_answers(&mut client).await;
}

/// DC-02: `41/custom,` (or `41/custom`) leaves only `/custom`; `/` carries on.
async fn a_client_disconnect_leaves_only_its_namespace(transport: Transport) {
    let (io, mut reasons, _sockets) = server(quiet());
    let address = start(&io).await;
    for disconnect in ["41/custom,", "41/custom"] {
        let mut client = both_namespaces(address, transport).await;
        client.send(disconnect).await;
        assert_eq!(
            next(&mut reasons).await,
            (
                "/custom".to_owned(),
                DisconnectReason::ClientNamespaceDisconnect
            )
        );
        client.expect_silence(100).await;
        main_namespace_answers(&mut client).await;
        // `/custom` is no longer joined: a packet for it closes the connection (NS-07).
        client.send(r#"42/custom,["ping-me"]"#).await;
        client.expect_closed().await;
        assert_eq!(
            next(&mut reasons).await,
            ("/".to_owned(), DisconnectReason::ForcedClose)
        );
    }
}

/// DC-03: the server's `socket.disconnect()` sends `41/custom,` (or `41`) with the reason
/// `server namespace disconnect`; the connection stays open for the other namespaces.
async fn a_server_disconnect_sends_disconnect(transport: Transport) {
    let (io, mut reasons, _sockets) = server(quiet());
    let address = start(&io).await;
    let mut client = both_namespaces(address, transport).await;
    client.send(r#"42/custom,["leave-me"]"#).await;
    client.expect("41/custom,").await;
    assert_eq!(
        next(&mut reasons).await,
        (
            "/custom".to_owned(),
            DisconnectReason::ServerNamespaceDisconnect
        )
    );
    main_namespace_answers(&mut client).await;
    client.send(r#"42["leave-me"]"#).await;
    client.expect("41").await;
    assert_eq!(
        next(&mut reasons).await,
        ("/".to_owned(), DisconnectReason::ServerNamespaceDisconnect)
    );
    // The engine connection is still open: the client may join again.
    client.send("40").await;
    client.expect_connect("/").await;
    main_namespace_answers(&mut client).await;
}

/// A socket that has left cannot emit, and a second disconnect sends nothing.
async fn a_socket_that_left_sends_nothing(transport: Transport) {
    let (io, mut reasons, mut sockets) = server(quiet());
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    let socket = next(&mut sockets).await;
    assert!(socket.connected());
    socket.disconnect();
    client.expect("41").await;
    assert_eq!(
        next(&mut reasons).await,
        ("/".to_owned(), DisconnectReason::ServerNamespaceDisconnect)
    );
    assert!(!socket.connected());
    assert_eq!(socket.emit("late", vec![]), Err(EmitError::Disconnected));
    socket.disconnect();
    socket.close_connection();
    client.expect_silence(100).await;
    nothing_reported(&mut reasons, 10).await;
}

/// DC-04: `close_connection()` sends a DISCONNECT for every namespace joined, then closes the
/// connection; every socket leaves with `server namespace disconnect`.
async fn close_connection_disconnects_every_namespace(transport: Transport) {
    let (io, mut reasons, _sockets) = server(quiet());
    let address = start(&io).await;
    let mut client = both_namespaces(address, transport).await;
    client.send(r#"42["close-me"]"#).await;
    let sent: HashSet<String> = [client.recv_text().await, client.recv_text().await].into();
    assert_eq!(
        sent,
        HashSet::from(["41".to_owned(), "41/custom,".to_owned()])
    );
    client.expect_closed().await;
    let got: HashSet<_> = [next(&mut reasons).await, next(&mut reasons).await].into();
    assert_eq!(
        got,
        HashSet::from([
            ("/".to_owned(), DisconnectReason::ServerNamespaceDisconnect),
            (
                "/custom".to_owned(),
                DisconnectReason::ServerNamespaceDisconnect
            ),
        ])
    );
}

/// DC-05: a DISCONNECT with a payload is invalid: the connection closes (`forced close`).
async fn a_disconnect_with_a_payload_closes(transport: Transport) {
    let (io, mut reasons, _sockets) = server(quiet());
    let address = start(&io).await;
    for packet in ["41{}", "41/custom,{}", r#"41["x"]"#] {
        let mut client = both_namespaces(address, transport).await;
        client.send(packet).await;
        client.expect_closed().await;
        let got: HashSet<_> = [next(&mut reasons).await, next(&mut reasons).await].into();
        assert_eq!(
            got,
            HashSet::from([
                ("/".to_owned(), DisconnectReason::ForcedClose),
                ("/custom".to_owned(), DisconnectReason::ForcedClose),
            ]),
            "after {packet:?}"
        );
    }
}

/// DC-06: `SocketIo::close()` sends no DISCONNECT: every connection closes, every socket
/// leaves with `server shutting down`.
async fn closing_the_server_sends_no_disconnect(transport: Transport) {
    let (io, mut reasons, _sockets) = server(quiet());
    let address = start(&io).await;
    let mut first = both_namespaces(address, transport).await;
    let (mut second, _) = Client::connect(address, transport).await;
    io.close();
    first.expect_closed().await;
    second.expect_closed().await;
    let got: Vec<_> = [
        next(&mut reasons).await,
        next(&mut reasons).await,
        next(&mut reasons).await,
    ]
    .into();
    assert!(
        got.iter()
            .all(|(_, reason)| *reason == DisconnectReason::ServerShuttingDown),
        "{got:?}"
    );
    assert_eq!(
        got.iter()
            .filter(|(namespace, _)| namespace == "/custom")
            .count(),
        1
    );
}

/// DC-09: the client closing the Engine.IO connection is `transport close` for every socket.
async fn a_transport_close_is_reported(transport: Transport) {
    let (io, mut reasons, _sockets) = server(quiet());
    let address = start(&io).await;
    let mut client = both_namespaces(address, transport).await;
    client.close().await;
    let got: HashSet<_> = [next(&mut reasons).await, next(&mut reasons).await].into();
    assert_eq!(
        got,
        HashSet::from([
            ("/".to_owned(), DisconnectReason::TransportClose),
            ("/custom".to_owned(), DisconnectReason::TransportClose),
        ])
    );
}

/// DC-09: a client that stops answering pings is `ping timeout`.
async fn a_ping_timeout_is_reported(transport: Transport) {
    let (io, mut reasons, _sockets) = server(fast());
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.stop_pongs();
    assert_eq!(
        next(&mut reasons).await,
        ("/".to_owned(), DisconnectReason::PingTimeout)
    );
    client.expect_closed().await;
}

/// DC-09: an Engine.IO packet that does not decode is `parse error` for every socket.
async fn a_parse_error_is_reported(transport: Transport) {
    let (io, mut reasons, _sockets) = server(quiet());
    let address = start(&io).await;
    let mut client = both_namespaces(address, transport).await;
    // Not an Engine.IO packet type. Over polling the POST is refused (400) and the session
    // closes.
    let _ = client.try_send_all(vec![text("9")]).await;
    client.expect_closed().await;
    let got: HashSet<_> = [next(&mut reasons).await, next(&mut reasons).await].into();
    assert_eq!(
        got,
        HashSet::from([
            ("/".to_owned(), DisconnectReason::ParseError),
            ("/custom".to_owned(), DisconnectReason::ParseError),
        ])
    );
}

/// DC-09: an application's emit on a socket whose connection closed fails; the handler saw
/// the reason once.
async fn events_after_the_close_are_refused(transport: Transport) {
    let (io, mut reasons, mut sockets) = server(quiet());
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    let socket = next(&mut sockets).await;
    client.close().await;
    assert_eq!(
        next(&mut reasons).await,
        ("/".to_owned(), DisconnectReason::TransportClose)
    );
    assert_eq!(
        socket.emit("late", vec![Value::Null]),
        Err(EmitError::Disconnected)
    );
    nothing_reported(&mut reasons, 50).await;
}

on_both_transports!(
    a_client_disconnect_leaves_the_main_namespace,
    a_client_disconnect_leaves_only_its_namespace,
    a_server_disconnect_sends_disconnect,
    a_socket_that_left_sends_nothing,
    close_connection_disconnects_every_namespace,
    a_disconnect_with_a_payload_closes,
    closing_the_server_sends_no_disconnect,
    a_transport_close_is_reported,
    a_ping_timeout_is_reported,
    a_parse_error_is_reported,
    events_after_the_close_are_refused,
);
