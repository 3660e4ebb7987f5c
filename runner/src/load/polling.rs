//! A Socket.IO client session over HTTP long-polling, on one keep-alive HTTP/1.1 connection
//! (hyper 1's client connection): the handshake `GET …&transport=polling` answered by the
//! `open` packet, then `POST`s of packets and `GET`s that bring the server's, one request at a
//! time. Every `ping` a GET brings is answered with a `POST` of `pong` before the next request.
//!
//! One request at a time keeps a session to one TCP connection (a soak of thousands of
//! sessions stays within the descriptor limit); it means a send waits for the held GET to
//! return, which the server's next ping bounds (its `pingInterval`).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::websocket::{expect_connect_answer, remaining};
use super::{excerpt, wire, Endpoint, LoadError};

/// The most of a response body that is read: far above what the drivers' packets bring back.
pub const MOST_BODY_BYTES: usize = 1 << 20;

/// A connected Socket.IO session on `/` over HTTP long-polling.
#[derive(Debug)]
pub struct PollingClient {
    sender: SendRequest<Full<Bytes>>,
    connection: JoinHandle<()>,
    endpoint: Endpoint,
    query: String,
}

impl Drop for PollingClient {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl PollingClient {
    /// Connects: TCP, the handshake GET and its `open` packet, the POST of CONNECT `40`,
    /// then GETs until the CONNECT answer `40{…}`, all within `timeout`.
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
        let _ = tcp.set_nodelay(true);
        let (sender, connection) =
            super::bounded("the HTTP connection", remaining(deadline), async {
                hyper::client::conn::http1::handshake(TokioIo::new(tcp))
                    .await
                    .map_err(|source| LoadError::Http {
                        step: "the HTTP connection",
                        source,
                    })
            })
            .await?;
        let connection = tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut client = PollingClient {
            sender,
            connection,
            endpoint: endpoint.clone(),
            query: endpoint.query("polling", None),
        };
        let open = client
            .request(Method::GET, None, deadline, "the handshake")
            .await?;
        let sid = wire::payload_packets(&open)
            .next()
            .and_then(wire::open_sid)
            .ok_or_else(|| LoadError::Unexpected {
                step: "the handshake",
                expected: "an Engine.IO open packet `0{\"sid\":…}`",
                got: excerpt(&open),
            })?;
        client.query = endpoint.query("polling", Some(&sid));
        client.post(wire::CONNECT, deadline).await?;
        loop {
            let packets = client.poll(deadline, "the answer to CONNECT").await?;
            if let Some(answer) = packets.first() {
                expect_connect_answer(answer)?;
                return Ok(client);
            }
        }
    }

    /// POSTs one packet (or a payload), expecting `ok` (python-engineio answers `OK`: the
    /// case is not judged here, the suite judges the protocol).
    pub async fn post(&mut self, body: &str, deadline: Instant) -> Result<(), LoadError> {
        let answer = self
            .request(Method::POST, Some(body), deadline, "a POST")
            .await?;
        if answer.eq_ignore_ascii_case("ok") {
            Ok(())
        } else {
            Err(LoadError::Unexpected {
                step: "a POST",
                expected: "`ok`",
                got: excerpt(&answer),
            })
        }
    }

    /// One GET: the packets it brings, every `ping` among them answered (a POST of `pong`)
    /// and left out. An empty list when the GET brought only pings.
    pub async fn poll(
        &mut self,
        deadline: Instant,
        step: &'static str,
    ) -> Result<Vec<String>, LoadError> {
        let payload = self.request(Method::GET, None, deadline, step).await?;
        let mut packets = Vec::new();
        let mut pinged = false;
        for packet in wire::payload_packets(&payload) {
            match packet {
                wire::PING => pinged = true,
                wire::CLOSE => return Err(LoadError::Closed { step }),
                other => packets.push(other.to_owned()),
            }
        }
        if pinged {
            self.post(wire::PONG, deadline).await?;
        }
        Ok(packets)
    }

    /// Ends the session: a POST of the Engine.IO `close` packet, then the connection closed.
    pub async fn close(mut self, timeout: Duration) {
        let _ = self.post(wire::CLOSE, Instant::now() + timeout).await;
    }

    async fn request(
        &mut self,
        method: Method,
        body: Option<&str>,
        deadline: Instant,
        step: &'static str,
    ) -> Result<String, LoadError> {
        let budget = remaining(deadline);
        let exchange = async {
            let mut request = Request::builder()
                .method(method)
                .uri(self.query.as_str())
                .header(hyper::header::HOST, self.endpoint.host.as_str());
            if body.is_some() {
                request = request.header(hyper::header::CONTENT_TYPE, "text/plain;charset=UTF-8");
            }
            let request = request
                .body(Full::new(Bytes::from(body.unwrap_or_default().to_owned())))
                .map_err(|source| LoadError::Request { step, source })?;
            self.sender
                .ready()
                .await
                .map_err(|source| LoadError::Http { step, source })?;
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(|source| LoadError::Http { step, source })?;
            let status = response.status().as_u16();
            let bytes = Limited::new(response.into_body(), MOST_BODY_BYTES)
                .collect()
                .await
                .map_err(|_| LoadError::Unexpected {
                    step,
                    expected: "a body of at most 1 MiB",
                    got: "a body that did not arrive whole or is longer".to_owned(),
                })?
                .to_bytes();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if status == 200 {
                Ok(text)
            } else {
                Err(LoadError::Status {
                    step,
                    status,
                    body: excerpt(&text),
                })
            }
        };
        tokio::time::timeout_at(deadline, exchange)
            .await
            .unwrap_or(Err(LoadError::Timeout {
                step,
                timeout: budget,
            }))
    }
}
