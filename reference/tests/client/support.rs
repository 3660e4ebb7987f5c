//! Shared helpers: the fixture server on 127.0.0.1:0 with short timers, a bound on every wait,
//! and event matchers.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use sio_reference::client::{Client, ClientBuilder, SocketEvent, SocketEvents, TransportKind};
use sio_reference::fixture::{Fixture, Options};

/// The bound on any single wait of a test.
pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `future` within [`WAIT`].
pub async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .expect("timed out waiting")
}

/// A server task that ends with the test: aborting it stops accepting connections.
pub struct Server {
    pub address: SocketAddr,
    pub fixture: Fixture,
    serving: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Stops the server: every session closes, and no new connection is accepted.
    pub fn stop(self) -> SocketAddr {
        self.fixture.socket_io().close();
        self.serving.abort();
        self.address
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

/// The fixture server (pingInterval 300 ms, pingTimeout 200 ms) on `address`.
pub async fn start_on(address: &str) -> Server {
    let fixture = Fixture::new(Options::default());
    let (address, serving) = fixture.clone().listen(address.to_owned()).await.unwrap();
    let serving = tokio::spawn(async move {
        let _ = serving.await;
    });
    Server {
        address,
        fixture,
        serving,
    }
}

/// The fixture server on a port of the system's choosing.
pub async fn start() -> Server {
    start_on("127.0.0.1:0").await
}

/// A builder for the server with fast reconnection and every transport mode's name.
pub fn builder(address: SocketAddr) -> ClientBuilder {
    Client::builder(&format!("http://{address}"))
        .reconnection_delay(Duration::from_millis(50))
        .reconnection_delay_max(Duration::from_millis(200))
        .timeout(Duration::from_secs(5))
        .request_timeout(Duration::from_secs(5))
}

/// The three transport modes of the official client.
pub fn modes() -> [(&'static str, Vec<TransportKind>); 3] {
    [
        ("polling", vec![TransportKind::Polling]),
        ("websocket", vec![TransportKind::WebSocket]),
        (
            "upgrade",
            vec![TransportKind::Polling, TransportKind::WebSocket],
        ),
    ]
}

/// The next event.
pub async fn next(events: &mut SocketEvents) -> SocketEvent {
    within(events.next()).await.expect("the client is gone")
}

/// Waits for the connect event, skipping reconnection events; returns the socket id.
pub async fn connected(events: &mut SocketEvents) -> String {
    loop {
        match next(events).await {
            SocketEvent::Connect { id, .. } => return id,
            SocketEvent::ReconnectAttempt { .. } | SocketEvent::Reconnect { .. } => {}
            SocketEvent::ConnectError { message, .. } if message.ends_with("error") => {}
            other => panic!("expected connect, got {other:?}"),
        }
    }
}

/// Waits for the named event (skipping others) and returns its arguments.
pub async fn event(events: &mut SocketEvents, wanted: &str) -> SocketEvent {
    loop {
        let event = next(events).await;
        if let SocketEvent::Event { name, .. } = &event {
            if name == wanted {
                return event;
            }
        }
    }
}

/// The arguments of an event.
pub fn arguments(event: SocketEvent) -> Vec<sio_reference::socket_io::Value> {
    match event {
        SocketEvent::Event { arguments, .. } => arguments,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// A JSON value.
pub fn json(text: &str) -> sio_reference::socket_io::Value {
    serde_json::from_str::<serde_json::Value>(text)
        .unwrap()
        .into()
}

/// Asserts that no event but reconnection noise comes for `millis`.
pub async fn quiet_for(events: &mut SocketEvents, millis: u64) {
    if let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(millis), events.next()).await
    {
        panic!("expected no event, got {event:?}");
    }
}

/// A scripted server at `/socket.io/` that answers every CONNECT, reports each text message
/// as `(session, text)` (sessions counted from 0), and closes the open session when told.
pub async fn recorder() -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<(usize, String)>,
    tokio::sync::mpsc::UnboundedSender<()>,
) {
    use sio_reference::engine_io::Data;
    use sio_reference::server::engine_io::{Config, EngineIo};

    let (server, mut sockets) = EngineIo::new(Config {
        path: "/socket.io/".to_owned(),
        ..Config::default()
    });
    let (address, serving) = server.listen("127.0.0.1:0").await.unwrap();
    tokio::spawn(serving);
    let (report, reports) = tokio::sync::mpsc::unbounded_channel();
    let (close, mut close_requests) = tokio::sync::mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        let mut session = 0;
        while let Some(mut socket) = sockets.accept().await {
            loop {
                tokio::select! {
                    data = socket.recv() => match data {
                        None => break,
                        Some(Data::Text(text)) => {
                            if text.starts_with('0') {
                                // `0` or `0/name,`: the answer names the same namespace.
                                let prefix = text.strip_suffix(',').map_or("0".to_owned(), |name| format!("{name},"));
                                let _ = socket.send(Data::Text(format!(r#"{prefix}{{"sid":"s{session}"}}"#)));
                            }
                            let _ = report.send((session, text));
                        }
                        Some(_) => {}
                    },
                    Some(()) = close_requests.recv() => socket.close(),
                }
            }
            session += 1;
        }
    });
    (address, reports, close)
}
