//! A Socket.IO client session over a WebSocket, written frame by frame: the upgrade to
//! `/socket.io/?EIO=4&transport=websocket`, the Engine.IO `open` packet the server sends first,
//! the namespace CONNECT `40` and its answer `40{"sid":…}`; then text frames, every server
//! `ping` (`2`) answered `pong` (`3`) as it is read.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::{excerpt, wire, Endpoint, LoadError};

/// A connected Socket.IO session on `/` over a WebSocket.
#[derive(Debug)]
pub struct WebSocketClient {
    stream: WebSocketStream<TcpStream>,
}

impl WebSocketClient {
    /// Connects: TCP, the WebSocket upgrade, the `open` packet, then CONNECT to `/` and its
    /// answer, all within `timeout`.
    pub async fn connect(endpoint: &Endpoint, timeout: Duration) -> Result<Self, LoadError> {
        super::within_budget(Self::connect_by(endpoint, timeout).await, timeout)
    }

    async fn connect_by(endpoint: &Endpoint, timeout: Duration) -> Result<Self, LoadError> {
        let deadline = Instant::now() + timeout;
        let tcp = super::bounded("the TCP connection", timeout, async {
            TcpStream::connect(endpoint.address)
                .await
                .map_err(|source| LoadError::Connect {
                    address: endpoint.address,
                    source,
                })
        })
        .await?;
        // Small frames, sent at once: a round trip is not to wait for Nagle's algorithm.
        let _ = tcp.set_nodelay(true);
        let url = format!(
            "ws://{}{}",
            endpoint.host,
            endpoint.query("websocket", None)
        );
        let request = url
            .into_client_request()
            .map_err(|source| websocket_error("the WebSocket upgrade request", source))?;
        let (stream, _) = super::bounded("the WebSocket upgrade", remaining(deadline), async {
            tokio_tungstenite::client_async(request, tcp)
                .await
                .map_err(|source| websocket_error("the WebSocket upgrade", source))
        })
        .await?;
        let mut client = WebSocketClient { stream };
        let open = client.next_packet(deadline, "the open packet").await?;
        if !wire::is_open(&open) {
            return Err(LoadError::Unexpected {
                step: "the open packet",
                expected: "an Engine.IO open packet `0{…}`",
                got: excerpt(&open),
            });
        }
        client.send(wire::CONNECT).await?;
        let answer = client
            .next_packet(deadline, "the answer to CONNECT")
            .await?;
        expect_connect_answer(&answer)?;
        Ok(client)
    }

    /// Sends one text frame.
    pub async fn send(&mut self, text: &str) -> Result<(), LoadError> {
        self.stream
            .send(Message::text(text))
            .await
            .map_err(|source| websocket_error("sending a frame", source))
    }

    /// The next text frame that is not a `ping` (pings are answered on the way), by
    /// `deadline`. Binary frames are skipped: the drivers send none, so none is expected.
    pub async fn next_packet(
        &mut self,
        deadline: Instant,
        step: &'static str,
    ) -> Result<String, LoadError> {
        let budget = remaining(deadline);
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .map_err(|_| LoadError::Timeout {
                    step,
                    timeout: budget,
                })?;
            let message = match frame {
                None => return Err(LoadError::Closed { step }),
                Some(Err(source)) => return Err(websocket_error(step, source)),
                Some(Ok(message)) => message,
            };
            match message {
                Message::Text(text) if text.as_str() == wire::PING => {
                    self.send(wire::PONG).await?;
                }
                Message::Text(text) => return Ok(text.as_str().to_owned()),
                Message::Close(_) => return Err(LoadError::Closed { step }),
                // tungstenite answers WebSocket pings itself; binary frames are not ours.
                _ => {}
            }
        }
    }

    /// Closes the WebSocket (a close frame), waiting at most `timeout` for the close
    /// handshake; a target that does not answer it is simply dropped.
    pub async fn close(mut self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, async {
            let _ = self.stream.close(None).await;
            // Read until the server's close frame or the end, so the server sees a clean close.
            while let Some(Ok(_)) = self.stream.next().await {}
        })
        .await;
    }
}

/// Checks the server's answer to CONNECT: `40{…}`, else a refusal or an unexpected packet.
pub(crate) fn expect_connect_answer(answer: &str) -> Result<(), LoadError> {
    if wire::is_connect_answer(answer) {
        Ok(())
    } else if wire::is_connect_error(answer) {
        Err(LoadError::Refused {
            answer: excerpt(answer),
        })
    } else {
        Err(LoadError::Unexpected {
            step: "the answer to CONNECT",
            expected: "the CONNECT answer `40{\"sid\":…}`",
            got: excerpt(answer),
        })
    }
}

fn websocket_error(step: &'static str, source: tokio_tungstenite::tungstenite::Error) -> LoadError {
    LoadError::WebSocket {
        step,
        source: Box::new(source),
    }
}

/// The time left before `deadline` (zero when it has passed).
pub(crate) fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}
