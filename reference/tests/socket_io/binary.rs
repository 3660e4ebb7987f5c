//! Binary attachments (behaviors BN, AK-10): a BINARY_EVENT or BINARY_ACK is a text packet
//! followed by its attachments, binary WebSocket frames or `b<base64>` records of a polling
//! payload; placeholders are resolved by `num` and renumbered in order on the way out; every
//! attachment mistake closes the connection.

use std::time::Duration;

use sio_reference::server::socket_io::{AckError, DisconnectReason, SocketIo};
use sio_reference::socket_io::Value;

use crate::sio_support::*;

/// A placeholder as written on the wire.
fn placeholder(num: usize) -> String {
    format!(r#"{{"_placeholder":true,"num":{num}}}"#)
}

fn bytes(data: &[u8]) -> Value {
    Value::Binary(data.to_vec().into())
}

/// A server whose `/` and `/custom` sockets report and echo `bin` as `bin-back`, acknowledge
/// `bin-ack` with its arguments, and report their disconnect reasons.
fn binary_server() -> (
    SocketIo,
    tokio::sync::mpsc::UnboundedReceiver<Vec<Value>>,
    tokio::sync::mpsc::UnboundedReceiver<DisconnectReason>,
) {
    let io = SocketIo::new(quiet());
    let (events, events_rx) = channel();
    let (reasons, reasons_rx) = channel();
    for name in ["/", "/custom"] {
        let events = events.clone();
        let reasons = reasons.clone();
        io.of(name).on_connection(move |socket| {
            let events = events.clone();
            socket.on("bin", move |socket, arguments, _ack| {
                let _ = events.send(arguments.clone());
                let _ = socket.emit("bin-back", arguments);
            });
            socket.on("bin-ack", |_socket, arguments, ack| {
                ack.unwrap().send(arguments).unwrap();
            });
            let reasons = reasons.clone();
            socket.on_disconnect(move |_socket, reason| {
                let _ = reasons.send(reason);
            });
        });
    }
    (io, events_rx, reasons_rx)
}

/// BN-01, BN-03: attachments follow their packet; placeholders are resolved by `num`, not by
/// position, and the echo numbers them in order of appearance, its attachments in that order.
async fn a_binary_event_is_reassembled_and_echoed(transport: Transport) {
    let (io, mut events, _) = binary_server();
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client
        .send_all(vec![
            text(&format!(
                r#"452-["bin",{},{{"nested":[{}]}},"text"]"#,
                placeholder(1),
                placeholder(0)
            )),
            binary(&[0, 1, 2]),
            binary(&[0xff]),
        ])
        .await;
    assert_eq!(
        next(&mut events).await,
        vec![
            bytes(&[0xff]),
            Value::Object(vec![(
                "nested".to_owned(),
                Value::Array(vec![bytes(&[0, 1, 2])])
            )]),
            "text".into(),
        ]
    );
    client
        .expect(&format!(
            r#"452-["bin-back",{},{{"nested":[{}]}},"text"]"#,
            placeholder(0),
            placeholder(1)
        ))
        .await;
    client.expect_binary(&[0xff]).await;
    client.expect_binary(&[0, 1, 2]).await;

    // The attachments may also come one message at a time (one POST each over polling), an
    // empty one included.
    client
        .send(&format!(
            r#"452-["bin",{},{}]"#,
            placeholder(0),
            placeholder(1)
        ))
        .await;
    client.send_binary(&[]).await;
    client.send_binary(b"\x01\x02\x03\x04").await;
    assert_eq!(
        next(&mut events).await,
        vec![bytes(&[]), bytes(&[1, 2, 3, 4])]
    );
    client
        .expect(&format!(
            r#"452-["bin-back",{},{}]"#,
            placeholder(0),
            placeholder(1)
        ))
        .await;
    client.expect_binary(&[]).await;
    client.expect_binary(&[1, 2, 3, 4]).await;
}

/// BN-01 in a namespace, with an ack id: `5<n>-/nsp,<id>[…]`.
async fn a_binary_event_in_a_namespace(transport: Transport) {
    let (io, mut events, _) = binary_server();
    let address = start(&io).await;
    let mut client = Client::open(address, transport).await;
    client.send("40/custom,").await;
    client.expect_connect("/custom").await;
    client
        .send_all(vec![
            text(&format!(r#"451-/custom,["bin",{}]"#, placeholder(0))),
            binary(b"abc"),
        ])
        .await;
    assert_eq!(next(&mut events).await, vec![bytes(b"abc")]);
    client
        .expect(&format!(r#"451-/custom,["bin-back",{}]"#, placeholder(0)))
        .await;
    client.expect_binary(b"abc").await;
    client
        .send_all(vec![
            text(&format!(r#"451-/custom,12["bin-ack",{}]"#, placeholder(0))),
            binary(b"xyz"),
        ])
        .await;
    client
        .expect(&format!(r#"461-/custom,12[{}]"#, placeholder(0)))
        .await;
    client.expect_binary(b"xyz").await;
}

/// BN-02: the server's binary values become attachments numbered depth-first in order of
/// appearance, sent right after the packet.
async fn server_attachments_are_numbered_depth_first(transport: Transport) {
    let io = SocketIo::new(quiet());
    io.on_connection(|socket| {
        socket
            .emit(
                "bins",
                vec![
                    bytes(&[1]),
                    Value::Object(vec![
                        ("a".to_owned(), bytes(&[2])),
                        ("b".to_owned(), Value::Array(vec![1.into(), bytes(&[3])])),
                    ]),
                    Value::Array(vec![bytes(&[4]), "x".into()]),
                ],
            )
            .unwrap();
        socket.emit("after", vec![]).unwrap();
    });
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client
        .expect(&format!(
            r#"454-["bins",{},{{"a":{},"b":[1,{}]}},[{},"x"]]"#,
            placeholder(0),
            placeholder(1),
            placeholder(2),
            placeholder(3)
        ))
        .await;
    for n in 1..=4 {
        client.expect_binary(&[n]).await;
    }
    client.expect(r#"42["after"]"#).await;
}

/// AK-10: `452-789[…]` with an ack id is answered `462-789[…]` and the two attachments.
async fn a_binary_ack(transport: Transport) {
    let (io, _, _) = binary_server();
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client
        .send_all(vec![
            text(&format!(
                r#"452-789["bin-ack",{},"middle",{}]"#,
                placeholder(0),
                placeholder(1)
            )),
            binary(&[1, 2]),
            binary(&[3, 4]),
        ])
        .await;
    client
        .expect(&format!(
            r#"462-789[{},"middle",{}]"#,
            placeholder(0),
            placeholder(1)
        ))
        .await;
    client.expect_binary(&[1, 2]).await;
    client.expect_binary(&[3, 4]).await;
    // With no binary in the answer, the ACK is plain.
    client.send(r#"42790["bin-ack","plain"]"#).await;
    client.expect(r#"43790["plain"]"#).await;
}

/// The client may answer the server's emit_with_ack with a BINARY_ACK.
async fn a_binary_ack_from_the_client(transport: Transport) {
    let io = SocketIo::new(quiet());
    let (replies, mut replies_rx) = channel::<Result<Vec<Value>, AckError>>();
    io.on_connection(move |socket| {
        let replies = replies.clone();
        tokio::spawn(async move {
            let reply = socket
                .emit_with_ack("send-me", vec![bytes(&[9])], Duration::from_secs(5))
                .await;
            let _ = replies.send(reply);
        });
    });
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client
        .expect(&format!(r#"451-0["send-me",{}]"#, placeholder(0)))
        .await;
    client.expect_binary(&[9]).await;
    client
        .send_all(vec![
            text(&format!(r#"461-0[{{"file":{}}},2]"#, placeholder(0))),
            binary(&[7, 7]),
        ])
        .await;
    assert_eq!(
        next(&mut replies_rx).await,
        Ok(vec![
            Value::Object(vec![("file".to_owned(), bytes(&[7, 7]))]),
            2.into()
        ])
    );
}

/// BN-07: ten attachments are accepted; eleven close the connection at once.
async fn more_than_ten_attachments_close(transport: Transport) {
    let (io, mut events, mut reasons) = binary_server();
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    let placeholders: Vec<String> = (0..10).map(placeholder).collect();
    let mut packets = vec![text(&format!(r#"4510-["bin",{}]"#, placeholders.join(",")))];
    packets.extend((0..10).map(|n| binary(&[n])));
    client.send_all(packets).await;
    assert_eq!(
        next(&mut events).await,
        (0..10).map(|n| bytes(&[n])).collect::<Vec<_>>()
    );
    client
        .expect(&format!(r#"4510-["bin-back",{}]"#, placeholders.join(",")))
        .await;
    for n in 0..10 {
        client.expect_binary(&[n]).await;
    }

    let (mut client, _) = Client::connect(address, transport).await;
    let placeholders: Vec<String> = (0..11).map(placeholder).collect();
    // The header alone is refused: no attachment need follow.
    client
        .send(&format!(r#"4511-["bin",{}]"#, placeholders.join(",")))
        .await;
    client.expect_closed().await;
    assert_eq!(next(&mut reasons).await, DisconnectReason::ForcedClose);
}

/// BN-04: a placeholder whose `num` is out of range, or not a number, closes the connection
/// once the last declared attachment arrives.
async fn a_bad_placeholder_closes(transport: Transport) {
    let (io, mut events, _) = binary_server();
    let address = start(&io).await;
    for header in [
        format!(r#"451-["bin",{}]"#, placeholder(1)),
        r#"451-["bin",{"_placeholder":true,"num":-1}]"#.to_owned(),
        r#"451-["bin",{"_placeholder":true,"num":"0"}]"#.to_owned(),
        r#"451-["bin",{"_placeholder":true}]"#.to_owned(),
        format!(r#"452-["bin",{},{}]"#, placeholder(0), placeholder(2)),
    ] {
        let (mut client, _) = Client::connect(address, transport).await;
        let count = if header.starts_with("452") { 2 } else { 1 };
        let mut packets = vec![text(&header)];
        packets.extend((0..count).map(|_| binary(&[1])));
        client.send_all(packets).await;
        client.expect_closed().await;
    }
    nothing_reported(&mut events, 50).await;
}

/// BN-05, BN-06: a binary message with no binary packet waiting for it closes the connection:
/// one more than declared, or one out of the blue; so does a text packet while attachments
/// are still expected.
async fn an_unexpected_attachment_closes(transport: Transport) {
    let (io, mut events, _) = binary_server();
    let address = start(&io).await;

    let (mut client, _) = Client::connect(address, transport).await;
    client.send_binary(&[1, 2, 3]).await;
    client.expect_closed().await;

    let (mut client, _) = Client::connect(address, transport).await;
    client
        .send_all(vec![
            text(&format!(r#"451-["bin",{}]"#, placeholder(0))),
            binary(&[1]),
            binary(&[2]),
        ])
        .await;
    // The declared one completes the event, which is delivered; the extra one closes.
    assert_eq!(next(&mut events).await, vec![bytes(&[1])]);
    client
        .expect(&format!(r#"451-["bin-back",{}]"#, placeholder(0)))
        .await;
    client.expect_binary(&[1]).await;
    client.expect_closed().await;

    let (mut client, _) = Client::connect(address, transport).await;
    client
        .send_all(vec![
            text(&format!(
                r#"452-["bin",{},{}]"#,
                placeholder(0),
                placeholder(1)
            )),
            binary(&[1]),
            text(r#"42["bin"]"#),
        ])
        .await;
    client.expect_closed().await;
    nothing_reported(&mut events, 50).await;
}

/// BN-08, BN-09: an attachment count that is malformed, or zero, closes the connection.
async fn a_bad_attachment_count_closes(transport: Transport) {
    let (io, mut events, _) = binary_server();
    let address = start(&io).await;
    for header in [
        r#"45-["bin"]"#,
        r#"45a-["bin"]"#,
        r#"451.5-["bin"]"#,
        r#"451["bin"]"#,
        r#"450-["bin"]"#,
        r#"46-1[]"#,
    ] {
        let (mut client, _) = Client::connect(address, transport).await;
        client.send_all(vec![text(header), binary(&[1])]).await;
        client.expect_closed().await;
    }
    nothing_reported(&mut events, 50).await;
}

/// BN-10: a plain EVENT that holds a placeholder-shaped object is passed through as it is.
async fn a_placeholder_in_a_plain_event_is_data(transport: Transport) {
    let (io, mut events, _) = binary_server();
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client
        .send(&format!(r#"42["bin",{}]"#, placeholder(0)))
        .await;
    assert_eq!(
        next(&mut events).await,
        vec![value(r#"{"_placeholder":true,"num":0}"#)]
    );
    client
        .expect(&format!(r#"42["bin-back",{}]"#, placeholder(0)))
        .await;
    client.expect_silence(100).await;
}

on_both_transports!(
    a_binary_event_is_reassembled_and_echoed,
    a_binary_event_in_a_namespace,
    server_attachments_are_numbered_depth_first,
    a_binary_ack,
    a_binary_ack_from_the_client,
    more_than_ten_attachments_close,
    a_bad_placeholder_closes,
    an_unexpected_attachment_closes,
    a_bad_attachment_count_closes,
    a_placeholder_in_a_plain_event_is_data,
);
