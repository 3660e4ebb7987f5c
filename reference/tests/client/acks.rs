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

/// The next `count` messages of the first session that are not CONNECTs.
async fn messages(
    reports: &mut tokio::sync::mpsc::UnboundedReceiver<(usize, String)>,
    count: usize,
) -> Vec<String> {
    let mut texts = Vec::new();
    while texts.len() < count {
        let (_, text) = within(reports.recv()).await.unwrap();
        if !text.starts_with('0') {
            texts.push(text);
        }
    }
    texts
}

#[tokio::test]
async fn an_emit_with_ack_leaves_before_later_emits_even_when_awaited_later() {
    let (address, mut reports, _close) = recorder().await;
    let (socket, mut events) = builder(address)
        .transports([sio_reference::client::TransportKind::WebSocket])
        .connect("/")
        .unwrap();
    connected(&mut events).await;
    let first = socket.emit_with_ack("first", vec![1.into()], Some(Duration::from_millis(50)));
    let second = socket.emit("second", vec![2.into()]);
    // Awaited in the other order: the calls' order is what counts.
    let (sent, acknowledged) = within(async { tokio::join!(second, first) }).await;
    assert_eq!(sent, Ok(()));
    assert_eq!(acknowledged, Ok(Err(AckError::Timeout)));
    assert_eq!(
        messages(&mut reports, 2).await,
        [r#"20["first",1]"#, r#"2["second",2]"#]
    );
}

#[tokio::test]
async fn with_retries_the_head_of_the_queue_is_tried_again_before_the_next_emit() {
    let (address, mut reports, _close) = recorder().await;
    let (socket, mut events) = builder(address)
        .transports([sio_reference::client::TransportKind::WebSocket])
        .retries(1)
        .ack_timeout(Duration::from_millis(100))
        .connect("/")
        .unwrap();
    connected(&mut events).await;
    let first = socket.emit_with_ack("first", vec![1.into()], None);
    let second = socket.emit("second", vec![2.into()]);
    // Nobody acknowledges: two tries of the head, each with its own id, then the next emit.
    let (sent, acknowledged) = within(async { tokio::join!(second, first) }).await;
    assert_eq!(sent, Ok(()));
    assert_eq!(acknowledged, Ok(Err(AckError::Timeout)));
    assert_eq!(
        messages(&mut reports, 3).await,
        [r#"20["first",1]"#, r#"21["first",1]"#, r#"22["second",2]"#]
    );
}
