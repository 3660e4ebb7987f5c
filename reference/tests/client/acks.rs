//! Acknowledgements both ways, and their timeouts.

use std::time::Duration;

use crate::support::*;
use sio_reference::client::{AckError, SocketEvent};

#[tokio::test]
async fn the_server_acknowledges_an_emit() {
    let server = start().await;
    for (mode, transports) in modes() {
        let (socket, mut events) = builder(server.address)
            .transports(transports)
            .connect("/")
            .unwrap();
        connected(&mut events).await;
        let ack = socket
            .emit_with_ack(
                "message-with-ack",
                vec![1.into(), "two".into()],
                Some(Duration::from_secs(5)),
            )
            .await
            .unwrap();
        assert_eq!(ack, Ok(vec![1.into(), "two".into()]), "{mode}");
    }
}

#[tokio::test]
async fn the_client_acknowledges_a_server_emit() {
    let server = start().await;
    let (socket, mut events) = builder(server.address).connect("/").unwrap();
    connected(&mut events).await;
    // The fixture re-emits `emit-with-ack` asking for an ack, and sends what the client
    // acknowledged back as another `emit-with-ack`.
    socket
        .emit("emit-with-ack", vec!["payload".into()])
        .await
        .unwrap();
    let SocketEvent::Event { arguments, ack, .. } = event(&mut events, "emit-with-ack").await
    else {
        unreachable!()
    };
    assert_eq!(arguments, ["payload".into()]);
    ack.expect("the server asked for an ack")
        .send(vec!["answered".into()])
        .unwrap();
    let back = event(&mut events, "emit-with-ack").await;
    assert_eq!(crate::support::arguments(back), ["answered".into()]);
}

#[tokio::test]
async fn an_unanswered_ack_times_out() {
    let server = start().await;
    let (socket, mut events) = builder(server.address).connect("/").unwrap();
    connected(&mut events).await;
    // `message` is answered with an event, never with an ack.
    let ack = socket
        .emit_with_ack("message", vec![], Some(Duration::from_millis(200)))
        .await
        .unwrap();
    assert_eq!(ack, Err(AckError::Timeout));
}

#[tokio::test]
async fn emits_with_ack_leave_in_call_order_whatever_task_awaits_them() {
    let server = start().await;
    let (socket, mut events) = builder(server.address).connect("/").unwrap();
    connected(&mut events).await;
    // Called in order 0..10, awaited in tasks spawned in the reverse order: the server must
    // see them in call order (it answers each `message` with a `message-back`).
    let pending: Vec<_> = (0..10)
        .map(|index| socket.emit_with_ack("message", vec![index.into()], None))
        .collect();
    for acked in pending.into_iter().rev() {
        tokio::spawn(acked);
        tokio::task::yield_now().await;
    }
    for index in 0..10 {
        let back = event(&mut events, "message-back").await;
        assert_eq!(arguments(back), [index.into()]);
    }
}
