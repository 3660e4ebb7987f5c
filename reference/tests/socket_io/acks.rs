//! Acknowledgements (behaviors AK): the client's events acknowledged by the server, at most
//! once; the server's `emit_with_ack`, its ids, its timeout; and broadcasts with an ack.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sio_reference::server::socket_io::{AckError, DisconnectReason, Socket, SocketIo};
use sio_reference::socket_io::Value;

use crate::sio_support::*;

/// A server whose `/` and `/custom` sockets acknowledge `message-with-ack` with its
/// arguments, `empty-ack` with none, and report whether each event came with an ack.
fn ack_server() -> (SocketIo, tokio::sync::mpsc::UnboundedReceiver<Option<u64>>) {
    let io = SocketIo::new(quiet());
    let (asked, asked_rx) = channel();
    for name in ["/", "/custom"] {
        let asked = asked.clone();
        io.of(name).on_connection(move |socket| {
            let asked = asked.clone();
            socket.on("message-with-ack", move |_socket, arguments, ack| {
                let _ = asked.send(ack.as_ref().map(|ack| ack.id()));
                if let Some(ack) = ack {
                    ack.send(arguments).unwrap();
                }
            });
            socket.on("empty-ack", |_socket, _arguments, ack| {
                ack.unwrap().send(vec![]).unwrap();
            });
        });
    }
    (io, asked_rx)
}

/// AK-01: `42456["message-with-ack",1,"2"]` is answered `43456[1,"2"]`.
async fn an_event_is_acknowledged_with_its_id(transport: Transport) {
    let (io, mut asked) = ack_server();
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.send(r#"42456["message-with-ack",1,"2"]"#).await;
    client.expect(r#"43456[1,"2"]"#).await;
    assert_eq!(next(&mut asked).await, Some(456));
    client
        .send(r#"420["message-with-ack",{"3":[false]},null]"#)
        .await;
    client.expect(r#"430[{"3":[false]},null]"#).await;
    assert_eq!(next(&mut asked).await, Some(0));
    // The largest id a JavaScript peer can represent exactly.
    client
        .send(r#"429007199254740991["message-with-ack"]"#)
        .await;
    client.expect("439007199254740991[]").await;
    assert_eq!(next(&mut asked).await, Some(9_007_199_254_740_991));
    // Without an id the handler gets no ack, and nothing is sent.
    client.send(r#"42["message-with-ack",1]"#).await;
    assert_eq!(next(&mut asked).await, None);
    client.expect_silence(100).await;
}

/// AK-02: in a namespace, `42/custom,7["x"]` is answered `43/custom,7["x"]`.
async fn an_event_in_a_namespace_is_acknowledged(transport: Transport) {
    let (io, _asked) = ack_server();
    let address = start(&io).await;
    let mut client = Client::open(address, transport).await;
    client.send("40/custom,").await;
    client.expect_connect("/custom").await;
    client.send(r#"42/custom,7["message-with-ack","x"]"#).await;
    client.expect(r#"43/custom,7["x"]"#).await;
}

/// AK-03: an ack with no arguments is `43<id>[]`.
async fn an_empty_ack_is_an_empty_array(transport: Transport) {
    let (io, _asked) = ack_server();
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.send(r#"4212["empty-ack",1,2]"#).await;
    client.expect("4312[]").await;
    client.send("40/custom,").await;
    client.expect_connect("/custom").await;
    client.send(r#"42/custom,13["empty-ack"]"#).await;
    client.expect("43/custom,13[]").await;
}

/// AK-04: an event is acknowledged at most once. [`Ack::send`] consumes the ack, so a second
/// answer does not compile; here the ack is sent later, from another task, and exactly one
/// ACK goes out.
///
/// [`Ack::send`]: sio_reference::server::socket_io::Ack::send
async fn an_event_is_acknowledged_once(transport: Transport) {
    let io = SocketIo::new(quiet());
    io.on_connection(|socket| {
        socket.on("later", |_socket, arguments, ack| {
            let ack = ack.unwrap();
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                ack.send(arguments).unwrap();
            });
        });
    });
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.send(r#"425["later","a"]"#).await;
    client.expect(r#"435["a"]"#).await;
    client.expect_silence(200).await;
}

/// AK-05: an ACK for an id the server never used, or one already answered, is ignored and
/// the connection kept.
async fn an_unknown_ack_id_is_ignored(transport: Transport) {
    let (io, _asked) = ack_server();
    let (replies, mut replies_rx) = channel();
    io.of("/custom").on_connection(move |socket| {
        let replies = replies.clone();
        tokio::spawn(async move {
            let reply = socket
                .emit_with_ack("question", vec![], Duration::from_secs(5))
                .await;
            let _ = replies.send(reply);
        });
    });
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    client.send(r#"43999["x"]"#).await;
    client.send("43[]").await;
    client.send("40/custom,").await;
    client.expect_connect("/custom").await;
    client.expect(r#"42/custom,0["question"]"#).await;
    client.send(r#"43/custom,0["answer"]"#).await;
    assert_eq!(next(&mut replies_rx).await, Ok(values(r#"["answer"]"#)));
    // A second answer to the same id is no longer expected: ignored.
    client.send(r#"43/custom,0["again"]"#).await;
    client
        .send(r#"42/custom,1["message-with-ack","still here"]"#)
        .await;
    client.expect(r#"43/custom,1["still here"]"#).await;
    client.send(r#"421["message-with-ack","and here"]"#).await;
    client.expect(r#"431["and here"]"#).await;
}

/// AK-06, AK-07: an ACK whose payload is not an array closes the connection, as does an id
/// that is not a number (read as an invalid payload). An ACK with no payload also closes:
/// SPEC-FAITHFUL ("The payload is mandatory"), where the official server accepts `431`.
async fn an_invalid_ack_closes(transport: Transport) {
    let (io, _asked) = ack_server();
    let address = start(&io).await;
    for packet in [
        "431{}",
        r#"431"x""#,
        "431null",
        "4312",
        "431",
        r#"42abc["message-with-ack"]"#,
        r#"431["x""#,
    ] {
        let (mut client, _) = Client::connect(address, transport).await;
        client.send(packet).await;
        client.expect_closed().await;
    }
}

/// Reports each emit_with_ack result of a test.
type Replies = tokio::sync::mpsc::UnboundedSender<Result<Vec<Value>, AckError>>;

fn ask(socket: &Socket, event: &'static str, timeout: Duration, replies: &Replies) {
    let socket = socket.clone();
    let replies = replies.clone();
    tokio::spawn(async move {
        let reply = socket
            .emit_with_ack(event, vec!["q".into(), 1.into()], timeout)
            .await;
        let _ = replies.send(reply);
    });
}

/// AK-08: the server's ack ids come from one counter per namespace, from 0, shared by every
/// socket of the namespace; the client's ACK resolves the emit with its arguments.
async fn server_ack_ids_count_per_namespace(transport: Transport) {
    let io = SocketIo::new(quiet());
    let (sockets, mut sockets_rx) = channel();
    for name in ["/", "/custom"] {
        let sockets = sockets.clone();
        io.of(name).on_connection(move |socket| {
            let _ = sockets.send(socket);
        });
    }
    let (replies, mut replies_rx) = channel();
    let address = start(&io).await;
    let (mut first, _) = Client::connect(address, transport).await;
    let first_socket = next(&mut sockets_rx).await;
    let (mut second, _) = Client::connect(address, transport).await;
    let second_socket = next(&mut sockets_rx).await;
    second.send("40/custom,").await;
    second.expect_connect("/custom").await;
    let custom_socket = next(&mut sockets_rx).await;
    let long = Duration::from_secs(5);

    ask(&first_socket, "question", long, &replies);
    first.expect(r#"420["question","q",1]"#).await;
    ask(&second_socket, "question", long, &replies);
    second.expect(r#"421["question","q",1]"#).await;
    ask(&first_socket, "question", long, &replies);
    first.expect(r#"422["question","q",1]"#).await;
    // Another namespace counts on its own.
    ask(&custom_socket, "question", long, &replies);
    second.expect(r#"42/custom,0["question","q",1]"#).await;

    first.send(r#"432["two",{"a":[]}]"#).await;
    assert_eq!(
        next(&mut replies_rx).await,
        Ok(values(r#"["two",{"a":[]}]"#))
    );
    second.send("43/custom,0[]").await;
    assert_eq!(next(&mut replies_rx).await, Ok(vec![]));
    second.send("431[null]").await;
    assert_eq!(next(&mut replies_rx).await, Ok(values("[null]")));
    first.send(r#"430["zero"]"#).await;
    assert_eq!(next(&mut replies_rx).await, Ok(values(r#"["zero"]"#)));
}

/// AK-11: with no ACK within the timeout the emit fails with `AckError::Timeout`; an ACK that
/// comes later is ignored and the connection kept.
async fn an_unanswered_emit_times_out(transport: Transport) {
    let (io, _asked) = ack_server();
    let (sockets, mut sockets_rx) = channel();
    io.on_connection(move |socket| {
        let _ = sockets.send(socket);
    });
    let (replies, mut replies_rx) = channel();
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    let socket = next(&mut sockets_rx).await;
    let asked = Instant::now();
    ask(&socket, "question", Duration::from_millis(200), &replies);
    client.expect(r#"420["question","q",1]"#).await;
    assert_eq!(next(&mut replies_rx).await, Err(AckError::Timeout));
    let waited = asked.elapsed();
    assert!(
        waited >= Duration::from_millis(190),
        "timed out after {waited:?}"
    );
    client.send(r#"430["late"]"#).await;
    client.send(r#"421["message-with-ack","open"]"#).await;
    client.expect(r#"431["open"]"#).await;
    nothing_reported(&mut replies_rx, 50).await;
}

/// A pending emit_with_ack fails with `AckError::Disconnected` when the socket leaves, and an
/// emit on a socket that has left fails at once.
async fn a_pending_ack_fails_when_the_socket_leaves(transport: Transport) {
    let io = SocketIo::new(quiet());
    let (sockets, mut sockets_rx) = channel();
    io.on_connection(move |socket| {
        let _ = sockets.send(socket);
    });
    let (replies, mut replies_rx) = channel();
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, transport).await;
    let socket = next(&mut sockets_rx).await;
    ask(&socket, "question", Duration::from_secs(5), &replies);
    client.expect(r#"420["question","q",1]"#).await;
    client.send("41").await;
    assert_eq!(next(&mut replies_rx).await, Err(AckError::Disconnected));
    ask(&socket, "question", Duration::from_secs(5), &replies);
    assert!(matches!(
        next(&mut replies_rx).await,
        Err(AckError::Emit(_))
    ));
    client.expect_silence(100).await;
}

/// AK-11: a broadcast with an ack sends one id to every socket and gathers every answer.
async fn a_broadcast_with_ack_uses_one_id(transport: Transport) {
    let (io, _asked) = ack_server();
    let address = start(&io).await;
    let (mut first, _) = Client::connect(address, transport).await;
    let (mut second, _) = Client::connect(address, transport).await;
    let (replies, mut replies_rx) = channel();
    let main = io.main_namespace();
    let broadcast = |timeout: Duration| {
        let main = main.clone();
        let replies = replies.clone();
        tokio::spawn(async move {
            let reply = main
                .broadcast()
                .emit_with_ack("all", vec!["x".into()], timeout)
                .await;
            let _ = replies.send(reply);
        });
    };
    broadcast(Duration::from_secs(5));
    first.expect(r#"420["all","x"]"#).await;
    second.expect(r#"420["all","x"]"#).await;
    first.send("430[1]").await;
    nothing_reported(&mut replies_rx, 50).await;
    second.send("430[2]").await;
    let answers: HashSet<String> = next(&mut replies_rx)
        .await
        .unwrap()
        .into_iter()
        .map(|arguments| Value::Array(arguments).to_json())
        .collect();
    assert_eq!(answers, HashSet::from(["[1]".to_owned(), "[2]".to_owned()]));

    // The next broadcast takes the next id; one silent socket makes it time out.
    broadcast(Duration::from_millis(200));
    first.expect(r#"421["all","x"]"#).await;
    second.expect(r#"421["all","x"]"#).await;
    first.send("431[1]").await;
    assert_eq!(next(&mut replies_rx).await, Err(AckError::Timeout));
    // The late answer is ignored; both connections carry on.
    second.send("431[2]").await;
    nothing_reported(&mut replies_rx, 50).await;
    for client in [&mut first, &mut second] {
        client.send(r#"427["message-with-ack","open"]"#).await;
        client.expect(r#"437["open"]"#).await;
    }
}

/// After the client leaves the namespace, an ACK for it is a packet for a namespace not
/// joined: the connection closes (NS-07).
#[tokio::test]
async fn an_ack_reply_to_a_socket_that_left_is_a_protocol_error() {
    let io = SocketIo::new(quiet());
    let (reasons, mut reasons_rx) = channel();
    io.on_connection(move |socket| {
        let reasons = reasons.clone();
        socket.on_disconnect(move |_socket, reason| {
            let _ = reasons.send(reason);
        });
        let asking = socket.clone();
        tokio::spawn(async move {
            let _ = asking
                .emit_with_ack("question", vec![], Duration::from_secs(5))
                .await;
        });
    });
    let address = start(&io).await;
    let (mut client, _) = Client::connect(address, Transport::WebSocket).await;
    client.expect(r#"420["question"]"#).await;
    client.send("41").await;
    assert_eq!(
        next(&mut reasons_rx).await,
        DisconnectReason::ClientNamespaceDisconnect
    );
    client.send("430[]").await;
    client.expect_closed().await;
}

on_both_transports!(
    an_event_is_acknowledged_with_its_id,
    an_event_in_a_namespace_is_acknowledged,
    an_empty_ack_is_an_empty_array,
    an_event_is_acknowledged_once,
    an_unknown_ack_id_is_ignored,
    an_invalid_ack_closes,
    server_ack_ids_count_per_namespace,
    an_unanswered_emit_times_out,
    a_pending_ack_fails_when_the_socket_leaves,
    a_broadcast_with_ack_uses_one_id,
);
