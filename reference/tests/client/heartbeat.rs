//! The heartbeat over several intervals, and a server that stops pinging.

use std::time::Duration;

use crate::support::*;
use sio_reference::client::SocketEvent;

#[tokio::test]
async fn the_session_survives_several_ping_intervals() {
    let server = start().await;
    for (mode, transports) in modes() {
        let (socket, mut events) = builder(server.address)
            .transports(transports)
            .connect("/")
            .unwrap();
        connected(&mut events).await;
        // pingInterval 300 ms + pingTimeout 200 ms: 1.5 s is five pings, each answered, or the
        // server closes the session and the client reports a disconnection.
        let until = tokio::time::Instant::now() + Duration::from_millis(1500);
        while let Ok(event) = tokio::time::timeout_at(until, events.next()).await {
            match event {
                Some(SocketEvent::Event { .. }) => {}
                other => panic!("{mode}: expected nothing, got {other:?}"),
            }
        }
        socket.emit("message", vec![mode.into()]).await.unwrap();
        assert_eq!(
            arguments(event(&mut events, "message-back").await),
            [mode.into()]
        );
    }
}
