use super::*;

fn json(text: &str) -> Value {
    Value::from(serde_json::from_str::<serde_json::Value>(text).unwrap())
}

fn wire(outputs: &[Output]) -> Vec<String> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Send(packet) => Some(packet.encode().text),
            _ => None,
        })
        .collect()
}

fn emit(name: &str, arguments: Vec<Value>) -> EmitRequest {
    EmitRequest {
        name: name.to_owned(),
        arguments,
        ack: None,
        volatile: false,
    }
}

fn with_ack(name: &str, token: AckToken, timeout: Option<u64>) -> EmitRequest {
    EmitRequest {
        ack: Some(AckRequest {
            token,
            timeout: timeout.map(Duration::from_millis),
        }),
        ..emit(name, Vec::new())
    }
}

fn answer(sid: &str) -> Packet {
    Packet {
        data: Some(json(&format!(r#"{{"sid":"{sid}"}}"#))),
        ..Packet::new(PacketType::Connect)
    }
}

fn connected(namespace: &str) -> SocketState {
    let mut socket = SocketState::new(namespace, Protocol::V5, None, None, None);
    socket.on_open("e1");
    let mut packet = answer("s1");
    packet.namespace = namespace.to_owned();
    socket.on_packet(packet, Instant::now());
    socket
}

#[test]
fn connect_sends_the_auth_and_no_payload_without_it() {
    let mut socket = SocketState::new(
        "/",
        Protocol::V5,
        Some(json(r#"{"token":"abc"}"#).into()),
        None,
        None,
    );
    assert_eq!(wire(&socket.on_open("e1")), [r#"0{"token":"abc"}"#]);
    let mut socket = SocketState::new("/admin", Protocol::V5, None, None, None);
    assert_eq!(wire(&socket.on_open("e1")), ["0/admin,"]);
}

#[test]
fn an_auth_function_is_called_for_every_connect() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let calls = std::sync::Arc::new(AtomicU64::new(0));
    let counter = std::sync::Arc::clone(&calls);
    let auth = super::Auth::function(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        json(&format!(r#"{{"token":"t{n}"}}"#))
    });
    let mut socket = SocketState::new("/", Protocol::V5, Some(auth), None, None);
    assert_eq!(wire(&socket.on_open("e1")), [r#"0{"token":"t0"}"#]);
    socket.on_close(DisconnectReason::TransportClose, Instant::now());
    // The reconnection's CONNECT asks the function again.
    assert_eq!(wire(&socket.on_open("e2")), [r#"0{"token":"t1"}"#]);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn the_answer_connects_with_its_sid() {
    let mut socket = SocketState::new("/", Protocol::V5, None, None, None);
    socket.on_open("e1");
    let out = socket.on_packet(answer("abc"), Instant::now());
    assert_eq!(
        out,
        [Output::Connected {
            id: "abc".to_owned(),
            recovered: false
        }]
    );
    assert_eq!(socket.id(), Some("abc"));
}

#[test]
fn an_answer_without_sid_is_a_v2_server() {
    let mut socket = SocketState::new("/", Protocol::V5, None, None, None);
    let out = socket.on_packet(Packet::new(PacketType::Connect), Instant::now());
    assert!(
        matches!(&out[..], [Output::ConnectError { message, .. }] if message == V2_SERVER_MESSAGE)
    );
}

#[test]
fn emits_before_the_answer_leave_in_order_after_it() {
    let now = Instant::now();
    let mut socket = SocketState::new("/", Protocol::V5, None, None, None);
    assert!(socket
        .emit(emit("a", vec![1.into()]), now)
        .unwrap()
        .is_empty());
    socket.on_open("e1");
    assert!(socket
        .emit(emit("b", vec![2.into()]), now)
        .unwrap()
        .is_empty());
    let out = socket.on_packet(answer("s"), now);
    assert_eq!(wire(&out), [r#"2["a",1]"#, r#"2["b",2]"#]);
    // The packets go before the connect report.
    assert!(matches!(out.last(), Some(Output::Connected { .. })));
    assert_eq!(
        wire(&socket.emit(emit("c", vec![]), now).unwrap()),
        [r#"2["c"]"#]
    );
}

#[test]
fn events_before_the_answer_are_delivered_first() {
    let now = Instant::now();
    let mut socket = SocketState::new("/", Protocol::V5, None, None, None);
    let event = Packet::event("/", "early", vec![1.into()]);
    assert!(socket.on_packet(event, now).is_empty());
    let out = socket.on_packet(answer("s"), now);
    assert!(matches!(&out[0], Output::Event { name, .. } if name == "early"));
    assert!(matches!(&out[1], Output::Connected { .. }));
}

#[test]
fn volatile_emits_are_dropped_when_not_connected() {
    let now = Instant::now();
    let mut socket = SocketState::new("/", Protocol::V5, None, None, None);
    let volatile = EmitRequest {
        volatile: true,
        ..emit("v", vec![])
    };
    assert!(socket.emit(volatile.clone(), now).unwrap().is_empty());
    assert!(wire(&socket.on_packet(answer("s"), now)).is_empty());
    assert_eq!(wire(&socket.emit(volatile, now).unwrap()), [r#"2["v"]"#]);
}

#[test]
fn reserved_names_are_refused() {
    let mut socket = connected("/");
    let refused = socket.emit(emit("disconnect", vec![]), Instant::now());
    assert_eq!(
        refused,
        Err(EmitError::ReservedName("disconnect".to_owned()))
    );
}

#[test]
fn ack_ids_count_from_zero_and_the_ack_resolves() {
    let now = Instant::now();
    let mut socket = connected("/admin");
    assert_eq!(
        wire(&socket.emit(with_ack("a", 7, None), now).unwrap()),
        [r#"2/admin,0["a"]"#]
    );
    assert_eq!(
        wire(&socket.emit(with_ack("b", 8, None), now).unwrap()),
        [r#"2/admin,1["b"]"#]
    );
    let ack = Packet::ack("/admin", 1, vec!["ok".into()]);
    assert_eq!(
        socket.on_packet(ack.clone(), now),
        [Output::AckResolved {
            token: 8,
            result: Ok(vec!["ok".into()])
        }]
    );
    // A second ack for the same id is ignored.
    assert!(socket.on_packet(ack, now).is_empty());
}

#[test]
fn an_ack_times_out_and_a_late_ack_is_ignored() {
    let now = Instant::now();
    let mut socket = connected("/");
    socket.emit(with_ack("a", 1, Some(100)), now).unwrap();
    assert_eq!(
        socket.next_deadline(),
        Some(now + Duration::from_millis(100))
    );
    assert!(socket
        .poll_timeouts(now + Duration::from_millis(99))
        .is_empty());
    assert_eq!(
        socket.poll_timeouts(now + Duration::from_millis(100)),
        [Output::AckResolved {
            token: 1,
            result: Err(AckError::Timeout)
        }]
    );
    assert!(socket
        .on_packet(Packet::ack("/", 0, vec![]), now)
        .is_empty());
}

#[test]
fn a_timed_out_emit_leaves_the_send_buffer() {
    let now = Instant::now();
    let mut socket = SocketState::new("/", Protocol::V5, None, None, None);
    socket.emit(with_ack("a", 1, Some(10)), now).unwrap();
    socket.poll_timeouts(now + Duration::from_millis(10));
    assert!(wire(&socket.on_packet(answer("s"), now)).is_empty());
}

#[test]
fn a_disconnection_fails_sent_acks_and_keeps_buffered_ones() {
    let now = Instant::now();
    let mut socket = connected("/");
    socket.emit(with_ack("sent", 1, None), now).unwrap();
    let out = socket.on_close(DisconnectReason::TransportClose, now);
    assert_eq!(
        out,
        [
            Output::Disconnected(DisconnectReason::TransportClose),
            Output::AckResolved {
                token: 1,
                result: Err(AckError::Disconnected)
            }
        ]
    );
    socket.emit(with_ack("buffered", 2, None), now).unwrap();
    socket.on_open("e2");
    let out = socket.on_packet(answer("s2"), now);
    assert_eq!(wire(&out), [r#"21["buffered"]"#]);
    let resolved = socket.on_packet(Packet::ack("/", 1, vec![]), now);
    assert!(matches!(
        &resolved[..],
        [Output::AckResolved {
            token: 2,
            result: Ok(_)
        }]
    ));
}

#[test]
fn a_server_disconnect_deactivates_the_socket() {
    let now = Instant::now();
    let mut socket = connected("/");
    let out = socket.on_packet(Packet::new(PacketType::Disconnect), now);
    assert_eq!(
        out,
        [Output::Disconnected(DisconnectReason::IoServerDisconnect)]
    );
    assert!(!socket.is_active());
    assert!(socket.on_open("e2").is_empty());
    assert!(socket
        .on_close(DisconnectReason::TransportClose, now)
        .is_empty());
}

#[test]
fn a_client_disconnect_sends_41() {
    let mut socket = connected("/");
    let out = socket.disconnect(Instant::now());
    assert_eq!(wire(&out), ["1"]);
    assert!(out.contains(&Output::Disconnected(DisconnectReason::IoClientDisconnect)));
    assert!(!socket.is_active());
    assert_eq!(wire(&socket.connect(true)), ["0"]);
}

#[test]
fn a_connect_error_carries_message_and_data() {
    let mut socket = SocketState::new("/", Protocol::V5, None, None, None);
    socket.on_open("e1");
    let refusal = Packet {
        data: Some(json(r#"{"message":"refused","data":{"reason":"testing"}}"#)),
        ..Packet::new(PacketType::ConnectError)
    };
    assert_eq!(
        socket.on_packet(refusal, Instant::now()),
        [Output::ConnectError {
            message: "refused".to_owned(),
            data: Some(json(r#"{"reason":"testing"}"#))
        }]
    );
    assert!(!socket.is_active());
}

#[test]
fn retries_keep_one_packet_in_flight_with_a_new_id_per_try() {
    let start = Instant::now();
    let later = |millis| start + Duration::from_millis(millis);
    let mut socket = SocketState::new(
        "/",
        Protocol::V5,
        None,
        Some(1),
        Some(Duration::from_millis(50)),
    );
    socket.on_open("e1");
    socket.on_packet(answer("s"), start);
    assert_eq!(
        wire(&socket.emit(emit("echo", vec![1.into()]), start).unwrap()),
        [r#"20["echo",1]"#]
    );
    assert!(socket
        .emit(emit("echo", vec![2.into()]), start)
        .unwrap()
        .is_empty());
    // The first try times out: the same packet again, with a new id.
    assert_eq!(wire(&socket.poll_timeouts(later(50))), [r#"21["echo",1]"#]);
    // Acknowledged: the next one goes.
    assert_eq!(
        wire(&socket.on_packet(Packet::ack("/", 1, vec![]), later(60))),
        [r#"22["echo",2]"#]
    );
    // Two timeouts: dropped after 1 + retries tries, and nothing more to send.
    assert_eq!(wire(&socket.poll_timeouts(later(110))), [r#"23["echo",2]"#]);
    assert!(wire(&socket.poll_timeouts(later(160))).is_empty());
    assert_eq!(socket.next_deadline(), None);
}

#[test]
fn a_retried_emit_reports_its_failure() {
    let now = Instant::now();
    let mut socket = SocketState::new("/", Protocol::V5, None, Some(0), None);
    socket.on_open("e1");
    socket.on_packet(answer("s"), now);
    socket.emit(with_ack("a", 5, Some(10)), now).unwrap();
    let out = socket.poll_timeouts(now + Duration::from_millis(10));
    assert_eq!(
        out,
        [Output::AckResolved {
            token: 5,
            result: Err(AckError::Timeout)
        }]
    );
}

#[test]
fn a_retry_without_timeout_survives_disconnections_and_goes_again_once_connected() {
    let now = Instant::now();
    let mut socket = SocketState::new("/", Protocol::V5, None, Some(0), None);
    socket.on_open("e1");
    socket.on_packet(answer("s"), now);
    assert_eq!(
        wire(&socket.emit(with_ack("a", 5, None), now).unwrap()),
        [r#"20["a"]"#]
    );
    for (session, id) in [("e2", 1), ("e3", 2)] {
        // No error, although `retries: 0` would give up on a failed try.
        let out = socket.on_close(DisconnectReason::TransportClose, now);
        assert_eq!(
            out,
            [Output::Disconnected(DisconnectReason::TransportClose)]
        );
        socket.on_open(session);
        let out = socket.on_packet(answer("s"), now);
        assert_eq!(wire(&out), [format!(r#"2{id}["a"]"#)]);
    }
    let out = socket.on_packet(Packet::ack("/", 2, vec!["ok".into()]), now);
    assert_eq!(
        out,
        [Output::AckResolved {
            token: 5,
            result: Ok(vec!["ok".into()])
        }]
    );
}

#[test]
fn a_retry_with_a_timeout_fails_on_a_disconnection() {
    let now = Instant::now();
    let mut socket = SocketState::new("/", Protocol::V5, None, Some(0), None);
    socket.on_open("e1");
    socket.on_packet(answer("s"), now);
    socket.emit(with_ack("a", 5, Some(1000)), now).unwrap();
    let out = socket.on_close(DisconnectReason::TransportClose, now);
    assert_eq!(
        out,
        [
            Output::Disconnected(DisconnectReason::TransportClose),
            Output::AckResolved {
                token: 5,
                result: Err(AckError::Disconnected)
            }
        ]
    );
    socket.on_open("e2");
    assert!(wire(&socket.on_packet(answer("s"), now)).is_empty());
}

#[test]
fn recovery_sends_pid_and_the_last_offset() {
    let now = Instant::now();
    let mut socket = SocketState::new(
        "/",
        Protocol::V5,
        Some(json(r#"{"token":"t"}"#).into()),
        None,
        None,
    );
    socket.on_open("e1");
    let answer = Packet {
        data: Some(json(r#"{"sid":"s1","pid":"p1"}"#)),
        ..Packet::new(PacketType::Connect)
    };
    socket.on_packet(answer.clone(), now);
    socket.on_packet(
        Packet::event("/", "news", vec![1.into(), "offset-1".into()]),
        now,
    );
    socket.on_close(DisconnectReason::TransportClose, now);
    assert_eq!(
        wire(&socket.on_open("e2")),
        [r#"0{"pid":"p1","offset":"offset-1","token":"t"}"#]
    );
    let out = socket.on_packet(answer, now);
    assert!(out.contains(&Output::Connected {
        id: "s1".to_owned(),
        recovered: true
    }));
}

fn recovering(auth: Option<&str>) -> SocketState {
    let mut socket = SocketState::new(
        "/",
        Protocol::V5,
        auth.map(|text| json(text).into()),
        None,
        None,
    );
    socket.on_open("e1");
    socket
}

fn answer_with_pid(pid: &str) -> Packet {
    Packet {
        data: Some(json(&format!(r#"{{"sid":"s1","pid":"{pid}"}}"#))),
        ..Packet::new(PacketType::Connect)
    }
}

/// The CONNECT the socket sends on the next session.
fn next_connect(socket: &mut SocketState) -> Vec<String> {
    socket.on_close(DisconnectReason::TransportClose, Instant::now());
    wire(&socket.on_open("e2"))
}

#[test]
fn events_held_until_the_answer_give_their_offset_once_it_gives_the_pid() {
    let now = Instant::now();
    let mut socket = recovering(None);
    assert!(socket
        .on_packet(Packet::event("/", "early", vec!["o1".into()]), now)
        .is_empty());
    let out = socket.on_packet(answer_with_pid("p1"), now);
    assert!(matches!(out[0], Output::Event { .. }), "{out:?}");
    assert_eq!(
        next_connect(&mut socket),
        [r#"0{"pid":"p1","offset":"o1"}"#]
    );
}

#[test]
fn an_event_asking_for_an_ack_gives_no_offset() {
    let now = Instant::now();
    let mut socket = recovering(None);
    socket.on_packet(answer_with_pid("p1"), now);
    socket.on_packet(Packet::event("/", "a", vec!["o1".into()]), now);
    let mut asking = Packet::event("/", "b", vec!["o2".into()]);
    asking.id = Some(7);
    socket.on_packet(asking, now);
    assert_eq!(
        next_connect(&mut socket),
        [r#"0{"pid":"p1","offset":"o1"}"#]
    );
}

#[test]
fn an_event_without_arguments_gives_its_name_as_the_offset() {
    let now = Instant::now();
    let mut socket = recovering(None);
    socket.on_packet(answer_with_pid("p1"), now);
    socket.on_packet(Packet::event("/", "bare", vec![]), now);
    assert_eq!(
        next_connect(&mut socket),
        [r#"0{"pid":"p1","offset":"bare"}"#]
    );
}

#[test]
fn no_offset_is_kept_without_a_pid_and_an_answer_without_one_turns_recovery_off() {
    let now = Instant::now();
    let mut socket = recovering(None);
    socket.on_packet(answer("s1"), now);
    socket.on_packet(Packet::event("/", "a", vec!["o1".into()]), now);
    assert_eq!(next_connect(&mut socket), ["0"]);
    socket.on_packet(answer_with_pid("p1"), now);
    assert_eq!(next_connect(&mut socket), [r#"0{"pid":"p1"}"#]);
    let out = socket.on_packet(answer("s2"), now);
    assert_eq!(
        out,
        [Output::Connected {
            id: "s2".to_owned(),
            recovered: false
        }]
    );
    assert_eq!(next_connect(&mut socket), ["0"]);
}

#[test]
fn an_auth_field_named_like_a_recovery_field_keeps_its_place_with_the_auth_value() {
    let now = Instant::now();
    let mut socket = recovering(Some(r#"{"token":"t","offset":"mine"}"#));
    socket.on_packet(answer_with_pid("p1"), now);
    socket.on_packet(Packet::event("/", "a", vec!["o1".into()]), now);
    assert_eq!(
        next_connect(&mut socket),
        [r#"0{"pid":"p1","offset":"mine","token":"t"}"#]
    );
}

#[test]
fn protocol_4_joins_the_main_namespace_implicitly() {
    let now = Instant::now();
    let mut main = SocketState::new("/", Protocol::V4, None, None, None);
    assert!(main.on_open("e1").is_empty());
    let out = main.on_packet(Packet::new(PacketType::Connect), now);
    assert_eq!(
        out,
        [Output::Connected {
            id: "e1".to_owned(),
            recovered: false
        }]
    );
    let mut admin = SocketState::new(
        "/admin",
        Protocol::V4,
        Some(json(r#"{"token":"a b"}"#).into()),
        None,
        None,
    );
    assert_eq!(wire(&admin.on_open("e1")), ["0/admin?token=a%20b,"]);
    let answer = Packet {
        namespace: "/admin".to_owned(),
        ..Packet::new(PacketType::Connect)
    };
    let out = admin.on_packet(answer, now);
    assert!(out.contains(&Output::Connected {
        id: "/admin#e1".to_owned(),
        recovered: false
    }));
    let refusal = Packet {
        data: Some(Value::from("Invalid namespace")),
        ..Packet::new(PacketType::ConnectError)
    };
    let out = admin.on_packet(refusal, now);
    assert_eq!(
        out,
        [Output::ConnectError {
            message: "Invalid namespace".to_owned(),
            data: None
        }]
    );
}

#[test]
fn binary_arguments_become_attachments() {
    let mut socket = connected("/");
    let out = socket
        .emit(
            emit(
                "bin",
                vec![Value::Binary(bytes::Bytes::from_static(b"\x01\x02"))],
            ),
            Instant::now(),
        )
        .unwrap();
    let Output::Send(packet) = &out[0] else {
        panic!("{out:?}")
    };
    let encoded = packet.encode();
    assert_eq!(encoded.text, r#"51-["bin",{"_placeholder":true,"num":0}]"#);
    assert_eq!(
        encoded.attachments,
        [bytes::Bytes::from_static(b"\x01\x02")]
    );
}
