//! Rooms and broadcasts: joining and leaving, emitting to rooms, leaving the sender out,
//! excluding rooms, namespace-wide emits, and namespaces kept apart.
//!
//! A client that must not receive a broadcast is checked without waiting out a silence: the
//! test then emits a marker to it, and the marker must be the very next packet, since what the
//! server sends one client arrives in the order it was sent.

use std::net::SocketAddr;

use sio_reference::server::socket_io::SocketIo;
use sio_reference::socket_io::Value;

use crate::sio_support::*;

/// A server whose sockets, in `/` and `/custom`:
/// - join the rooms listed in their CONNECT payload (`{"rooms":[…]}`), then emit `ready`;
/// - on `join` / `leave` with a room, join or leave it and acknowledge;
/// - on `to-room` with a room, an event and arguments, emit to the room's other sockets;
/// - on `to-others` with an event, emit to every other socket of the namespace;
/// - on `rooms`, acknowledge with their rooms, sorted, without their own id's room.
fn room_server() -> SocketIo {
    let io = SocketIo::new(quiet());
    for name in ["/", "/custom"] {
        io.of(name).on_connection(|socket| {
            if let Some(Value::Array(rooms)) = socket.handshake().auth.get("rooms") {
                for room in rooms.iter().filter_map(Value::as_str) {
                    socket.join(room);
                }
            }
            socket.on("join", |socket, arguments, ack| {
                socket.join(arguments[0].as_str().unwrap());
                ack.unwrap().send(vec![]).unwrap();
            });
            socket.on("leave", |socket, arguments, ack| {
                socket.leave(arguments[0].as_str().unwrap());
                ack.unwrap().send(vec![]).unwrap();
            });
            socket.on("to-room", |socket, mut arguments, ack| {
                let rest = arguments.split_off(2);
                let room = arguments[0].as_str().unwrap();
                let event = arguments[1].as_str().unwrap();
                socket.to(room).emit(event, rest).unwrap();
                if let Some(ack) = ack {
                    ack.send(vec![]).unwrap();
                }
            });
            socket.on("to-others", |socket, arguments, ack| {
                let event = arguments[0].as_str().unwrap();
                socket.broadcast().emit(event, vec![]).unwrap();
                if let Some(ack) = ack {
                    ack.send(vec![]).unwrap();
                }
            });
            socket.on("rooms", |socket, _arguments, ack| {
                let mut rooms: Vec<String> = socket
                    .rooms()
                    .into_iter()
                    .filter(|room| room != socket.id())
                    .collect();
                rooms.sort();
                ack.unwrap()
                    .send(rooms.into_iter().map(Value::from).collect())
                    .unwrap();
            });
            socket.emit("ready", vec![]).unwrap();
        });
    }
    io
}

/// A client in `namespace` that has joined `rooms` (its handler has run: `ready` came).
async fn member(
    address: SocketAddr,
    transport: Transport,
    namespace: &str,
    rooms: &[&str],
) -> (Client, String) {
    let mut client = Client::open(address, transport).await;
    let rooms: Vec<String> = rooms.iter().map(|room| format!("\"{room}\"")).collect();
    let prefix = if namespace == "/" {
        String::new()
    } else {
        format!("{namespace},")
    };
    client
        .send(&format!(r#"40{prefix}{{"rooms":[{}]}}"#, rooms.join(",")))
        .await;
    let sid = client.expect_connect(namespace).await;
    client.expect(&format!(r#"42{prefix}["ready"]"#)).await;
    (client, sid)
}

/// Emits the marker `end` to every socket of `/`, and checks that it is the next packet of
/// each of `clients`: nothing else came to them before it.
async fn nothing_else_before_the_marker(io: &SocketIo, clients: &mut [&mut Client]) {
    io.emit("end", vec![]).unwrap();
    for client in clients.iter_mut() {
        client.expect(r#"42["end"]"#).await;
    }
}

/// `to(room).emit` reaches the room's sockets only; a socket in several of the chosen rooms
/// receives the event once.
async fn an_emit_to_a_room_reaches_only_the_room(transport: Transport) {
    let io = room_server();
    let address = start(&io).await;
    let (mut a, _) = member(address, transport, "/", &["red", "blue"]).await;
    let (mut b, _) = member(address, transport, "/", &["red"]).await;
    let (mut c, _) = member(address, transport, "/", &["green"]).await;
    io.to("red").emit("news", vec!["hot".into()]).unwrap();
    a.expect(r#"42["news","hot"]"#).await;
    b.expect(r#"42["news","hot"]"#).await;
    nothing_else_before_the_marker(&io, &mut [&mut a, &mut b, &mut c]).await;

    io.to("red").to("blue").emit("once", vec![]).unwrap();
    a.expect(r#"42["once"]"#).await;
    b.expect(r#"42["once"]"#).await;
    nothing_else_before_the_marker(&io, &mut [&mut a, &mut b, &mut c]).await;

    io.to("nobody").emit("lost", vec![]).unwrap();
    nothing_else_before_the_marker(&io, &mut [&mut a, &mut b, &mut c]).await;
}

/// Joining and leaving at the client's request changes what reaches it; every socket is in
/// the room of its own id.
async fn join_and_leave(transport: Transport) {
    let io = room_server();
    let address = start(&io).await;
    let (mut a, a_sid) = member(address, transport, "/", &[]).await;
    let (mut b, _) = member(address, transport, "/", &[]).await;
    a.send(r#"421["join","club"]"#).await;
    a.expect("431[]").await;
    a.send(r#"422["join","other"]"#).await;
    a.expect("432[]").await;
    a.send(r#"423["rooms"]"#).await;
    a.expect(r#"433["club","other"]"#).await;
    io.to("club").emit("in", vec![]).unwrap();
    a.expect(r#"42["in"]"#).await;
    nothing_else_before_the_marker(&io, &mut [&mut a, &mut b]).await;

    a.send(r#"424["leave","club"]"#).await;
    a.expect("434[]").await;
    a.send(r#"425["rooms"]"#).await;
    a.expect(r#"435["other"]"#).await;
    io.to("club").emit("in", vec![]).unwrap();
    nothing_else_before_the_marker(&io, &mut [&mut a, &mut b]).await;

    io.to(a_sid).emit("just-you", vec![]).unwrap();
    a.expect(r#"42["just-you"]"#).await;
    nothing_else_before_the_marker(&io, &mut [&mut a, &mut b]).await;
}

/// `socket.to(room)` leaves the sender out, even when it is in the room.
async fn socket_to_room_leaves_the_sender_out(transport: Transport) {
    let io = room_server();
    let address = start(&io).await;
    let (mut a, _) = member(address, transport, "/", &["room"]).await;
    let (mut b, _) = member(address, transport, "/", &["room"]).await;
    let (mut c, _) = member(address, transport, "/", &[]).await;
    a.send(r#"421["to-room","room","said",1,{"x":true}]"#).await;
    // The ack comes after the broadcast was made: were the sender a target, the event would
    // come first.
    a.expect("431[]").await;
    b.expect(r#"42["said",1,{"x":true}]"#).await;
    nothing_else_before_the_marker(&io, &mut [&mut a, &mut b, &mut c]).await;
}

/// `socket.broadcast()` reaches every other socket of the namespace, not the sender.
async fn socket_broadcast_leaves_the_sender_out(transport: Transport) {
    let io = room_server();
    let address = start(&io).await;
    let (mut a, _) = member(address, transport, "/", &[]).await;
    let (mut b, _) = member(address, transport, "/", &["x"]).await;
    let (mut c, _) = member(address, transport, "/", &[]).await;
    let (mut elsewhere, _) = member(address, transport, "/custom", &[]).await;
    a.send(r#"421["to-others","hello"]"#).await;
    a.expect("431[]").await;
    b.expect(r#"42["hello"]"#).await;
    c.expect(r#"42["hello"]"#).await;
    nothing_else_before_the_marker(&io, &mut [&mut a, &mut b, &mut c]).await;
    io.of("/custom").emit("end", vec![]).unwrap();
    elsewhere.expect(r#"42/custom,["end"]"#).await;
}

/// `except(room)` leaves out the room's sockets, also combined with `to`.
async fn except_leaves_a_room_out(transport: Transport) {
    let io = room_server();
    let address = start(&io).await;
    let (mut a, _) = member(address, transport, "/", &["muted"]).await;
    let (mut b, _) = member(address, transport, "/", &["news"]).await;
    let (mut c, _) = member(address, transport, "/", &["news", "muted"]).await;
    io.main_namespace()
        .except("muted")
        .emit("loud", vec![])
        .unwrap();
    b.expect(r#"42["loud"]"#).await;
    nothing_else_before_the_marker(&io, &mut [&mut a, &mut b, &mut c]).await;
    io.to("news").except("muted").emit("news", vec![]).unwrap();
    b.expect(r#"42["news"]"#).await;
    nothing_else_before_the_marker(&io, &mut [&mut a, &mut b, &mut c]).await;
}

/// A namespace-wide emit reaches every socket of that namespace, and no broadcast crosses
/// into another namespace, not even to a room of the same name or a client in both.
async fn broadcasts_stay_in_their_namespace(transport: Transport) {
    let io = room_server();
    let address = start(&io).await;
    let (mut main, _) = member(address, transport, "/", &["room"]).await;
    let (mut custom, _) = member(address, transport, "/custom", &["room"]).await;
    let (mut both, _) = member(address, transport, "/", &["room"]).await;
    both.send(r#"40/custom,{"rooms":["room"]}"#).await;
    both.expect_connect("/custom").await;
    both.expect(r#"42/custom,["ready"]"#).await;

    io.of("/custom").emit("all", vec![]).unwrap();
    custom.expect(r#"42/custom,["all"]"#).await;
    both.expect(r#"42/custom,["all"]"#).await;
    io.of("/custom").to("room").emit("room", vec![]).unwrap();
    custom.expect(r#"42/custom,["room"]"#).await;
    both.expect(r#"42/custom,["room"]"#).await;
    nothing_else_before_the_marker(&io, &mut [&mut main, &mut both]).await;

    io.to("room").emit("main-room", vec![]).unwrap();
    io.emit("main-all", vec![]).unwrap();
    for client in [&mut main, &mut both] {
        client.expect(r#"42["main-room"]"#).await;
        client.expect(r#"42["main-all"]"#).await;
    }
    io.of("/custom").emit("end", vec![]).unwrap();
    custom.expect(r#"42/custom,["end"]"#).await;
}

/// A socket that leaves its namespace leaves its rooms: broadcasts to them no longer reach
/// the client, which is still connected through another namespace.
async fn a_socket_that_leaves_leaves_its_rooms(transport: Transport) {
    let io = room_server();
    let address = start(&io).await;
    let (mut client, _) = member(address, transport, "/custom", &["room"]).await;
    client.send(r#"40{"rooms":["room"]}"#).await;
    client.expect_connect("/").await;
    client.expect(r#"42["ready"]"#).await;
    client.send("41").await;
    // Packets are handled in order: once this is answered, the `41` has been handled.
    client.send(r#"42/custom,1["rooms"]"#).await;
    client.expect(r#"43/custom,1["room"]"#).await;
    io.to("room").emit("gone", vec![]).unwrap();
    io.emit("gone", vec![]).unwrap();
    io.of("/custom").emit("end", vec![]).unwrap();
    client.expect(r#"42/custom,["end"]"#).await;
    assert!(io.main_namespace().sockets().is_empty());
}

on_both_transports!(
    an_emit_to_a_room_reaches_only_the_room,
    join_and_leave,
    socket_to_room_leaves_the_sender_out,
    socket_broadcast_leaves_the_sender_out,
    except_leaves_a_room_out,
    broadcasts_stay_in_their_namespace,
    a_socket_that_leaves_leaves_its_rooms,
);
