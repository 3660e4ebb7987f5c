//! Events and their validation (behaviors EV): an EVENT reaches its handler with its
//! arguments, replies carry the namespace, and every invalid payload closes the whole
//! connection.

use sio_reference::server::socket_io::{DisconnectReason, EmitError, SocketIo};
use sio_reference::socket_io::Value;

use crate::sio_support::*;

/// What the handlers saw: each `message`, by namespace.
type Events = tokio::sync::mpsc::UnboundedReceiver<(String, Vec<Value>)>;
/// Each disconnect reason, by namespace.
type Reasons = tokio::sync::mpsc::UnboundedReceiver<(String, DisconnectReason)>;

/// A server whose `/` and `/custom` sockets report every `message` and answer it with
/// `message-back`, and report their disconnect reasons.
fn echo_server() -> (SocketIo, Events, Reasons) {
    let io = SocketIo::new(quiet());
    let (events, events_rx) = channel();
    let (reasons, reasons_rx) = channel();
    for name in ["/", "/custom"] {
        let events = events.clone();
        let reasons = reasons.clone();
        io.of(name).on_connection(move |socket| {
            let events = events.clone();
            socket.on("message", move |socket, arguments, _ack| {
                let _ = events.send((socket.namespace().name().to_owned(), arguments.clone()));
                let _ = socket.emit("message-back", arguments);
            });
            let reasons = reasons.clone();
            socket.on_disconnect(move |socket, reason| {
                let _ = reasons.send((socket.namespace().name().to_owned(), reason));
            });
        });
    }
    (io, events_rx, reasons_rx)
}

/// EV-01: an event reaches its handler with its arguments; the reply is encoded the same
/// way, with `/custom,` outside the main namespace.
async fn an_event_reaches_its_handler(transport: Transport) {
    let (io, mut events, _) = echo_server();
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.send(r#"42["message",1,"2",{"3":[true]}]"#).await;
    assert_eq!(
        next(&mut events).await,
        ("/".to_owned(), values(r#"[1,"2",{"3":[true]}]"#))
    );
    client
        .expect(r#"42["message-back",1,"2",{"3":[true]}]"#)
        .await;
    client.send("40/custom,").await;
    client.expect_connect("/custom").await;
    client
        .send(r#"42/custom,["message",null,-1.5,"é\"\n",[]]"#)
        .await;
    assert_eq!(
        next(&mut events).await,
        ("/custom".to_owned(), values(r#"[null,-1.5,"é\"\n",[]]"#))
    );
    client
        .expect(r#"42/custom,["message-back",null,-1.5,"é\"\n",[]]"#)
        .await;
    // No arguments at all.
    client.send(r#"42["message"]"#).await;
    assert_eq!(next(&mut events).await, ("/".to_owned(), vec![]));
    client.expect(r#"42["message-back"]"#).await;
}

/// Events are handled in the order they arrive, also several in one polling payload; an event
/// with no handler is dropped and the connection stays.
async fn events_are_handled_in_order(transport: Transport) {
    let (io, mut events, _) = echo_server();
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client
        .send_all(vec![
            text(r#"42["message",1]"#),
            text(r#"42["nobody-listens",0]"#),
            text(r#"42["message",2]"#),
            text(r#"42["message",3]"#),
        ])
        .await;
    for n in 1..=3 {
        assert_eq!(
            next(&mut events).await,
            ("/".to_owned(), values(&format!("[{n}]")))
        );
        client.expect(&format!(r#"42["message-back",{n}]"#)).await;
    }
}

/// EV-02: the first element may be a number, delivered as the event name written out.
async fn a_numeric_event_name_is_accepted(transport: Transport) {
    let io = SocketIo::new(quiet());
    let (events, mut events_rx) = channel();
    io.on_connection(move |socket| {
        for name in ["7", "-2.5"] {
            let events = events.clone();
            socket.on(name, move |_socket, arguments, _ack| {
                let _ = events.send((name, arguments));
            });
        }
    });
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.send(r#"42[7,"x"]"#).await;
    assert_eq!(next(&mut events_rx).await, ("7", values(r#"["x"]"#)));
    client.send(r#"42[-2.5]"#).await;
    assert_eq!(next(&mut events_rx).await, ("-2.5", vec![]));
    client.expect_silence(100).await;
}

/// EV-09: `error` is not reserved: it reaches its handler and the connection stays.
async fn error_is_an_ordinary_event_name(transport: Transport) {
    let io = SocketIo::new(quiet());
    let (events, mut events_rx) = channel();
    io.on_connection(move |socket| {
        let events = events.clone();
        socket.on("error", move |socket, arguments, _ack| {
            let _ = events.send(arguments);
            let _ = socket.emit("error", vec!["back".into()]);
        });
    });
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.send(r#"42["error","boom"]"#).await;
    assert_eq!(next(&mut events_rx).await, values(r#"["boom"]"#));
    client.expect(r#"42["error","back"]"#).await;
}

/// Sends each packet on a fresh connection joined to `/` and `/custom`, and checks that the
/// whole connection closes, both sockets with the reason `forced close` (EV-11).
async fn each_closes_the_connection(transport: Transport, packets: &[&str]) {
    let (io, mut events, mut reasons) = echo_server();
    let address = start(&io).await;
    for packet in packets {
        let (mut client, _) = Client::connect(address, transport).await;
        client.send("40/custom,").await;
        client.expect_connect("/custom").await;
        client.send(packet).await;
        client.expect_closed().await;
        let mut got = [next(&mut reasons).await, next(&mut reasons).await];
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            [
                ("/".to_owned(), DisconnectReason::ForcedClose),
                ("/custom".to_owned(), DisconnectReason::ForcedClose)
            ],
            "after {packet:?}"
        );
    }
    nothing_reported(&mut events, 50).await;
}

/// EV-03: a first element that is not a string or a number closes the connection.
async fn an_invalid_event_name_closes(transport: Transport) {
    each_closes_the_connection(
        transport,
        &[
            "42[true]",
            r#"42[null,"x"]"#,
            r#"42[{"toString":"foo"}]"#,
            r#"42[["message"]]"#,
            r#"42/custom,[false,"x"]"#,
        ],
    )
    .await;
}

/// EV-04: the reserved names close the connection, in any namespace.
async fn a_reserved_event_name_closes(transport: Transport) {
    each_closes_the_connection(
        transport,
        &[
            r#"42["connect"]"#,
            r#"42["connect_error",{}]"#,
            r#"42["disconnect","x"]"#,
            r#"42["disconnecting"]"#,
            r#"42["newListener"]"#,
            r#"42/custom,["removeListener"]"#,
            r#"421["disconnect"]"#,
        ],
    )
    .await;
}

/// EV-05, EV-06: the payload must be a non-empty array. An EVENT with no payload at all also
/// closes: SPEC-FAITHFUL ("The payload is mandatory"), where the official server dispatches an
/// event with no name (EV-06).
async fn a_payload_that_is_not_a_non_empty_array_closes(transport: Transport) {
    each_closes_the_connection(
        transport,
        &[
            "42[]",
            "42{}",
            r#"42"x""#,
            "421",
            "42",
            "42/custom,",
            "42/custom,{}",
        ],
    )
    .await;
}

/// EV-07: an unknown Socket.IO packet type closes the connection.
async fn an_unknown_packet_type_closes(transport: Transport) {
    each_closes_the_connection(transport, &["47", r#"48["message"]"#, "4a", "4abc", "4-"]).await;
}

/// EV-08: malformed JSON closes the connection.
async fn malformed_json_closes(transport: Transport) {
    each_closes_the_connection(
        transport,
        &[
            r#"42["message""#,
            r#"42["message",]"#,
            "42[message]",
            r#"42/custom,["message"}"#,
        ],
    )
    .await;
}

/// EV-10: an Engine.IO message with no data is no Socket.IO packet: the connection closes.
async fn an_empty_message_closes(transport: Transport) {
    each_closes_the_connection(transport, &["4"]).await;
}

/// The server refuses to emit a reserved name (the client's decoder would close the
/// connection) and sends nothing.
#[tokio::test]
async fn the_server_does_not_emit_reserved_names() {
    let io = SocketIo::new(quiet());
    let (results, mut results_rx) = channel();
    io.on_connection(move |socket| {
        for name in ["connect", "disconnect", "newListener"] {
            let _ = results.send(socket.emit(name, vec![]));
        }
        let _ = results.send(socket.to("room").emit("disconnecting", vec![]));
        let _ = results.send(socket.emit("fine", vec![]));
    });
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, Transport::WebSocket).await;
    for name in ["connect", "disconnect", "newListener", "disconnecting"] {
        assert_eq!(
            next(&mut results_rx).await,
            Err(EmitError::ReservedEvent {
                name: name.to_owned()
            })
        );
    }
    assert_eq!(next(&mut results_rx).await, Ok(()));
    client.expect(r#"42["fine"]"#).await;
    client.expect_silence(100).await;
}

on_both_transports!(
    an_event_reaches_its_handler,
    events_are_handled_in_order,
    a_numeric_event_name_is_accepted,
    error_is_an_ordinary_event_name,
    an_invalid_event_name_closes,
    a_reserved_event_name_closes,
    a_payload_that_is_not_a_non_empty_array_closes,
    an_unknown_packet_type_closes,
    malformed_json_closes,
    an_empty_message_closes,
);
