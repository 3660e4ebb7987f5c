//! Namespaces and CONNECT (behaviors NS): joining `/` and custom namespaces, the auth payload,
//! refusals (unknown namespace, middleware), dynamic namespaces, the connect timeout, and the
//! CONNECT mistakes that close the whole connection.

use std::time::{Duration, Instant};

use sio_reference::server::socket_io::{ConnectError, DisconnectReason, SocketIo};

use crate::sio_support::*;

// ---- joining ---------------------------------------------------------------------------------

/// NS-01: `40` is answered `40{"sid":…}`; the sid is new, 20 characters, not the engine sid,
/// and it is the application's socket id.
async fn connect_to_the_main_namespace(transport: Transport) {
    let io = SocketIo::new(quiet());
    let (seen, mut seen_rx) = channel();
    io.on_connection(move |socket| {
        let _ = seen.send((
            socket.id().to_owned(),
            socket.namespace().name().to_owned(),
            socket.handshake().engine_id.clone(),
        ));
    });
    let address = start(&io).await;
    let (first, first_sid) = Client::connect(address, transport).await;
    assert_eq!(
        next(&mut seen_rx).await,
        (first_sid.clone(), "/".to_owned(), first.sid.clone())
    );
    let (second, second_sid) = Client::connect(address, transport).await;
    assert_ne!(first_sid, second_sid);
    assert_ne!(second_sid, first.sid);
    assert_eq!(
        next(&mut seen_rx).await,
        (second_sid, "/".to_owned(), second.sid.clone())
    );
}

/// NS-03: `40/custom,` and `40/custom` (no trailing comma) both join `/custom`; the answer
/// always has the comma.
async fn connect_to_a_custom_namespace(transport: Transport) {
    let io = SocketIo::new(quiet());
    let (seen, mut seen_rx) = channel();
    io.of("/custom").on_connection(move |socket| {
        let _ = seen.send((socket.id().to_owned(), socket.namespace().name().to_owned()));
    });
    let address = start(&io).await;
    for connect in ["40/custom,", "40/custom"] {
        let mut client = Client::open(address, transport).await;
        client.send(connect).await;
        let sid = client.expect_connect("/custom").await;
        assert_eq!(next(&mut seen_rx).await, (sid, "/custom".to_owned()));
    }
}

/// NS-15: the server's `of("admin")` is the namespace `/admin` on the wire.
#[tokio::test]
async fn a_namespace_name_gets_its_leading_slash() {
    let io = SocketIo::new(quiet());
    let admin = io.of("admin");
    assert_eq!(admin.name(), "/admin");
    admin.on_connection(|socket| {
        let _ = socket.emit("hello", vec![]);
    });
    let address = start(&io).await;
    let mut client = Client::open(address, Transport::WebSocket).await;
    client.send("40/admin,").await;
    client.expect_connect("/admin").await;
    client.expect(r#"42/admin,["hello"]"#).await;
}

/// NS-11: several namespaces share one connection, each with its own socket and sid.
async fn several_namespaces_on_one_connection(transport: Transport) {
    let io = SocketIo::new(quiet());
    for name in ["/", "/a", "/b"] {
        io.of(name).on_connection(|socket| {
            socket.on("who", |socket, _arguments, ack| {
                let _ = ack
                    .unwrap()
                    .send(vec![socket.namespace().name().into(), socket.id().into()]);
            });
        });
    }
    let address = start(&io).await;
    let (mut client, main_sid) = Client::connect(address, transport).await;
    client.send("40/a,").await;
    let a_sid = client.expect_connect("/a").await;
    client.send("40/b,").await;
    let b_sid = client.expect_connect("/b").await;
    assert_ne!(main_sid, a_sid);
    assert_ne!(a_sid, b_sid);
    client.send(r#"42/b,1["who"]"#).await;
    client.expect(&format!(r#"43/b,1["/b","{b_sid}"]"#)).await;
    client.send(r#"421["who"]"#).await;
    client.expect(&format!(r#"431["/","{main_sid}"]"#)).await;
    client.send(r#"42/a,1["who"]"#).await;
    client.expect(&format!(r#"43/a,1["/a","{a_sid}"]"#)).await;
}

/// NS-02: the CONNECT payload is the application's `handshake.auth`, `{}` without one; the
/// answer is the same either way.
async fn the_auth_payload_reaches_the_application(transport: Transport) {
    let io = SocketIo::new(quiet());
    let (seen, mut seen_rx) = channel();
    for name in ["/", "/custom"] {
        let seen = seen.clone();
        io.of(name).on_connection(move |socket| {
            let _ = seen.send((
                socket.namespace().name().to_owned(),
                socket.handshake().auth.clone(),
            ));
        });
    }
    let address = start(&io).await;
    let mut client = Client::open(address, transport).await;
    client.send(r#"40{"token":"123","n":[1,true,null]}"#).await;
    client.expect_connect("/").await;
    assert_eq!(
        next(&mut seen_rx).await,
        (
            "/".to_owned(),
            value(r#"{"token":"123","n":[1,true,null]}"#)
        )
    );
    client.send(r#"40/custom,{"token":"abc"}"#).await;
    client.expect_connect("/custom").await;
    assert_eq!(
        next(&mut seen_rx).await,
        ("/custom".to_owned(), value(r#"{"token":"abc"}"#))
    );

    let mut other = Client::open(address, transport).await;
    other.send("40").await;
    other.expect_connect("/").await;
    assert_eq!(next(&mut seen_rx).await, ("/".to_owned(), value("{}")));
}

// ---- refusals --------------------------------------------------------------------------------

/// NS-04, NS-14: an unknown namespace gets `44/<name>,{"message":"Invalid namespace"}`, with
/// the name the client sent, and the connection stays usable.
async fn an_unknown_namespace_is_refused(transport: Transport) {
    let io = SocketIo::new(quiet());
    io.on_connection(|socket| {
        socket.on("ping-me", |socket, _arguments, _ack| {
            let _ = socket.emit("pong-you", vec![]);
        });
    });
    let address = start(&io).await;
    let mut client = Client::open(address, transport).await;
    client.send("40/random,").await;
    client
        .expect(r#"44/random,{"message":"Invalid namespace"}"#)
        .await;
    client.send("40/random").await;
    client
        .expect(r#"44/random,{"message":"Invalid namespace"}"#)
        .await;
    // The connection is still there: the main namespace can be joined and used.
    client.send("40").await;
    client.expect_connect("/").await;
    client.send(r#"42["ping-me"]"#).await;
    client.expect(r#"42["pong-you"]"#).await;
    client.send(r#"40/random,{"token":"x"}"#).await;
    client
        .expect(r#"44/random,{"message":"Invalid namespace"}"#)
        .await;
    client.send(r#"42["ping-me"]"#).await;
    client.expect(r#"42["pong-you"]"#).await;
}

/// NS-13: a middleware refusal gives `44/<nsp>,{"message":…,"data":…}`, and without data no
/// `data` key; the connection stays open and the client may retry (NS-14).
async fn a_middleware_refusal_carries_message_and_data(transport: Transport) {
    let io = SocketIo::new(quiet());
    io.of("/private").use_middleware(|_handshake| async {
        Err(ConnectError::new("nope").with_data(value(r#"{"reason":"testing","code":7}"#)))
    });
    io.of("/private2")
        .use_middleware(|_handshake| async { Err(ConnectError::new("nope")) });
    let (seen, mut seen_rx) = channel();
    let gate = io.of("/gate");
    gate.use_middleware(|handshake| async move {
        match handshake.auth.get("token").and_then(|token| token.as_str()) {
            Some("secret") => Ok(()),
            _ => Err(ConnectError::new("not authorized")),
        }
    });
    gate.on_connection(move |socket| {
        let _ = seen.send(socket.handshake().auth.clone());
    });
    let address = start(&io).await;
    let mut client = Client::open(address, transport).await;
    client.send("40/private,").await;
    client
        .expect(r#"44/private,{"message":"nope","data":{"reason":"testing","code":7}}"#)
        .await;
    client.send("40/private2,").await;
    client.expect(r#"44/private2,{"message":"nope"}"#).await;
    client.send(r#"40/gate,{"token":"wrong"}"#).await;
    client
        .expect(r#"44/gate,{"message":"not authorized"}"#)
        .await;
    client.send(r#"40/gate,{"token":"secret"}"#).await;
    client.expect_connect("/gate").await;
    assert_eq!(next(&mut seen_rx).await, value(r#"{"token":"secret"}"#));
    // A refused namespace was never joined: a packet for it closes the connection (NS-07).
    client.send(r#"42/private,["x"]"#).await;
    client.expect_closed().await;
}

/// NS-13: a refusal of the main namespace has no namespace prefix; middlewares run in order
/// and the first refusal wins.
#[tokio::test]
async fn middlewares_run_in_order_and_the_first_refusal_wins() {
    let io = SocketIo::new(quiet());
    let (ran, mut ran_rx) = channel();
    let first = ran.clone();
    io.main_namespace().use_middleware(move |_handshake| {
        let _ = first.send("first");
        async { Ok(()) }
    });
    let second = ran.clone();
    io.main_namespace().use_middleware(move |_handshake| {
        let _ = second.send("second");
        async { Err(ConnectError::new("second says no")) }
    });
    io.main_namespace().use_middleware(move |_handshake| {
        let _ = ran.send("third");
        async { Ok(()) }
    });
    let address = start(&io).await;
    let mut client = Client::open(address, Transport::WebSocket).await;
    client.send("40").await;
    client.expect(r#"44{"message":"second says no"}"#).await;
    assert_eq!(next(&mut ran_rx).await, "first");
    assert_eq!(next(&mut ran_rx).await, "second");
    nothing_reported(&mut ran_rx, 100).await;
}

/// NS-12: a dynamic namespace creates a child for each name its predicate accepts, with the
/// parent's middlewares and handlers; the wire format is that of any namespace.
async fn a_dynamic_namespace_accepts_by_predicate(transport: Transport) {
    let io = SocketIo::new(quiet());
    let (seen, mut seen_rx) = channel();
    let parent = io.of_dynamic(|name| name.starts_with("/dyn-"));
    parent.use_middleware(|handshake| async move {
        if handshake.namespace == "/dyn-refused" {
            Err(ConnectError::new("not this one"))
        } else {
            Ok(())
        }
    });
    parent.on_connection(move |socket| {
        let _ = seen.send((socket.namespace().name().to_owned(), socket.id().to_owned()));
        socket.on("hi", |socket, _arguments, _ack| {
            let _ = socket.emit("hello", vec![socket.namespace().name().into()]);
        });
    });
    let address = start(&io).await;
    let mut client = Client::open(address, transport).await;
    client.send("40/dyn-1,").await;
    let sid = client.expect_connect("/dyn-1").await;
    assert_eq!(next(&mut seen_rx).await, ("/dyn-1".to_owned(), sid));
    client.send(r#"42/dyn-1,["hi"]"#).await;
    client.expect(r#"42/dyn-1,["hello","/dyn-1"]"#).await;
    client.send("40/dyn-refused,").await;
    client
        .expect(r#"44/dyn-refused,{"message":"not this one"}"#)
        .await;
    client.send("40/other,").await;
    client
        .expect(r#"44/other,{"message":"Invalid namespace"}"#)
        .await;

    // A second client joins the same child: a namespace-wide emit reaches both.
    let mut second = Client::open(address, transport).await;
    second.send("40/dyn-1").await;
    let second_sid = second.expect_connect("/dyn-1").await;
    assert_eq!(next(&mut seen_rx).await, ("/dyn-1".to_owned(), second_sid));
    assert_eq!(io.of("/dyn-1").sockets().len(), 2);
    io.of("/dyn-1").emit("all", vec![]).unwrap();
    client.expect(r#"42/dyn-1,["all"]"#).await;
    second.expect(r#"42/dyn-1,["all"]"#).await;
}

/// NS-16: the CONNECT answer goes out before anything the connection handler emits, even
/// when a middleware had to wait.
async fn the_connect_answer_comes_first(transport: Transport) {
    let io = SocketIo::new(quiet());
    for name in ["/", "/custom"] {
        let namespace = io.of(name);
        namespace.use_middleware(|_handshake| async {
            tokio::task::yield_now().await;
            Ok(())
        });
        namespace.on_connection(|socket| {
            let _ = socket.emit("first", vec![]);
            let _ = socket.emit("second", vec![socket.id().into()]);
        });
    }
    let address = start(&io).await;
    let mut client = Client::open(address, transport).await;
    client.send("40").await;
    let sid = client.expect_connect("/").await;
    client.expect(r#"42["first"]"#).await;
    client.expect(&format!(r#"42["second","{sid}"]"#)).await;
    client.send("40/custom,").await;
    let sid = client.expect_connect("/custom").await;
    client.expect(r#"42/custom,["first"]"#).await;
    client
        .expect(&format!(r#"42/custom,["second","{sid}"]"#))
        .await;
}

/// NS-19: a namespace left with DISCONNECT can be joined again; the new socket has a new sid.
async fn reconnecting_after_a_disconnect_gives_a_new_sid(transport: Transport) {
    let io = SocketIo::new(quiet());
    let (seen, mut seen_rx) = channel();
    for name in ["/", "/custom"] {
        let seen = seen.clone();
        io.of(name).on_connection(move |socket| {
            let _ = seen.send(socket.id().to_owned());
        });
    }
    let address = start(&io).await;
    let mut client = Client::open(address, transport).await;
    for (connect, disconnect, name) in [("40", "41", "/"), ("40/custom,", "41/custom,", "/custom")]
    {
        client.send(connect).await;
        let first = client.expect_connect(name).await;
        assert_eq!(next(&mut seen_rx).await, first);
        client.send(disconnect).await;
        client.send(connect).await;
        let second = client.expect_connect(name).await;
        assert_ne!(first, second);
        assert_eq!(next(&mut seen_rx).await, second);
    }
}

// ---- the connect timeout ---------------------------------------------------------------------

/// NS-09: a connection that joins no namespace within `connect_timeout` is closed.
async fn the_connect_timeout_closes_a_connection_that_never_connects(transport: Transport) {
    let io = SocketIo::new(fast());
    let address = start(&io).await;
    let started = Instant::now();
    let mut client = Client::open(address, transport).await;
    client.expect_closed().await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(280),
        "closed after {elapsed:?}"
    );
}

/// NS-09: a refused CONNECT does not stop the timer; only a successful join does.
async fn a_refused_connect_does_not_stop_the_connect_timeout(transport: Transport) {
    let io = SocketIo::new(fast());
    let address = start(&io).await;
    let mut client = Client::open(address, transport).await;
    client.send("40/nowhere,").await;
    client
        .expect(r#"44/nowhere,{"message":"Invalid namespace"}"#)
        .await;
    client.expect_closed().await;
}

/// NS-10: the timer is cleared by the first join and never re-armed: with every namespace
/// left, the connection stays open (heartbeats answered) well past the timeout.
async fn the_connect_timeout_is_not_rearmed(transport: Transport) {
    let io = SocketIo::new(fast());
    io.of("/custom");
    let address = start(&io).await;
    let mut client = Client::open(address, transport).await;
    client.send("40/custom,").await;
    client.expect_connect("/custom").await;
    client.send("41/custom,").await;
    client.expect_silence(900).await;
    client.send("40").await;
    client.expect_connect("/").await;
}

// ---- CONNECT mistakes that close the connection -------------------------------------------

/// NS-06: a second CONNECT to a namespace already joined closes the whole connection.
async fn a_second_connect_to_a_joined_namespace_closes(transport: Transport) {
    let io = SocketIo::new(quiet());
    io.of("/custom");
    let (reasons, mut reasons_rx) = channel();
    io.on_connection(move |socket| {
        let reasons = reasons.clone();
        socket.on_disconnect(move |_socket, reason| {
            let _ = reasons.send(reason);
        });
    });
    let address = start(&io).await;
    for second in ["40", r#"40{"token":"again"}"#] {
        let (mut client, _) = Client::connect(address, transport).await;
        client.send(second).await;
        client.expect_closed().await;
        assert_eq!(next(&mut reasons_rx).await, DisconnectReason::ForcedClose);
    }
    let mut client = Client::open(address, transport).await;
    client.send("40/custom,").await;
    client.expect_connect("/custom").await;
    client.send("40/custom").await;
    client.expect_closed().await;
}

/// NS-07: any packet but CONNECT for a namespace the client has not joined closes the
/// connection; also (spec) a first packet that is not a CONNECT.
async fn a_packet_for_a_namespace_not_joined_closes(transport: Transport) {
    let io = SocketIo::new(quiet());
    io.of("/custom");
    let address = start(&io).await;
    // Before any CONNECT.
    for first in [r#"42["x"]"#, r#"431["x"]"#, "41", "4abc"] {
        let mut client = Client::open(address, transport).await;
        client.send(first).await;
        client.expect_closed().await;
    }
    // After joining `/`, for `/custom` (which exists) or `/nope` (which does not).
    for packet in [
        r#"42/custom,["x"]"#,
        r#"42/nope,["x"]"#,
        r#"43/custom,1["x"]"#,
        "41/custom,",
        "41/x,",
    ] {
        let (mut client, _) = Client::connect(address, transport).await;
        client.send(packet).await;
        client.expect_closed().await;
    }
}

/// NS-08: only servers send CONNECT_ERROR; one from the client closes the connection.
async fn a_connect_error_from_the_client_closes(transport: Transport) {
    let io = SocketIo::new(quiet());
    io.of("/custom");
    let address = start(&io).await;
    for packet in [r#"44{"message":"x"}"#, r#"44/custom,{"message":"x"}"#, "44"] {
        let (mut client, _) = Client::connect(address, transport).await;
        client.send(packet).await;
        client.expect_closed().await;
    }
    // Before any CONNECT, too.
    let mut client = Client::open(address, transport).await;
    client.send(r#"44{"message":"x"}"#).await;
    client.expect_closed().await;
}

/// NS-05, NS-15: a CONNECT payload that is not a JSON object closes the connection; so does
/// a namespace without its `/`, read as the main namespace with an invalid payload.
async fn a_non_object_connect_payload_closes(transport: Transport) {
    let io = SocketIo::new(quiet());
    io.of("/custom");
    let address = start(&io).await;
    for packet in [
        "40[]",
        r#"40"x""#,
        "40null",
        "40 ",
        "40/custom,[]",
        r#"40/custom,"x""#,
        "40admin,",
        r#"40{"token":"x""#,
    ] {
        let mut client = Client::open(address, transport).await;
        client.send(packet).await;
        client.expect_closed().await;
    }
    // Also once a namespace is joined: the whole connection goes.
    let (mut client, _) = Client::connect(address, transport).await;
    client.send("40/custom,[]").await;
    client.expect_closed().await;
}

on_both_transports!(
    connect_to_the_main_namespace,
    connect_to_a_custom_namespace,
    several_namespaces_on_one_connection,
    the_auth_payload_reaches_the_application,
    an_unknown_namespace_is_refused,
    a_middleware_refusal_carries_message_and_data,
    a_dynamic_namespace_accepts_by_predicate,
    the_connect_answer_comes_first,
    reconnecting_after_a_disconnect_gives_a_new_sid,
    the_connect_timeout_closes_a_connection_that_never_connects,
    a_refused_connect_does_not_stop_the_connect_timeout,
    the_connect_timeout_is_not_rearmed,
    a_second_connect_to_a_joined_namespace_closes,
    a_packet_for_a_namespace_not_joined_closes,
    a_connect_error_from_the_client_closes,
    a_non_object_connect_payload_closes,
);

/// A socket is in its namespace, and in the room of its id, by the time its client has the
/// CONNECT answer, as on the official server (which adds the socket, joins its room, then
/// answers): a broadcast made once the answer arrived reaches it. Many connections on a
/// multi-threaded runtime, so that a window between the answer and the registration shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_socket_is_reachable_once_its_connect_is_answered() {
    let io = SocketIo::new(quiet());
    let address = start(&io).await;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let io = io.clone();
        tasks.push(tokio::spawn(async move {
            let (mut client, sid) = Client::connect(address, Transport::WebSocket).await;
            io.to(sid.clone()).emit("to-you", vec![]).unwrap();
            client.expect(r#"42["to-you"]"#).await;
            client.close().await;
        }));
    }
    for task in tasks {
        within(task).await.unwrap();
    }
}
