//! The raw HTTP/1.1 client the server tests share (hand-written on a TCP stream, so that
//! every byte is the test's), and the bound on every wait.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(5);

/// Awaits `future`, failing the test after [`WAIT`].
pub async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, future)
        .await
        .expect("timed out waiting")
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct HttpResponse {
    /// `HTTP/1.1 200 OK`.
    pub status_line: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every value of the header, in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The header names, lowercased, in the order they came.
    pub fn header_names(&self) -> Vec<String> {
        self.headers
            .iter()
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect()
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    /// Asserts an official JSON error: 400, application/json, `{"code":N,"message":"…"}`.
    pub fn assert_error(&self, code: u8, message: &str) {
        assert_eq!(self.status, 400, "{self:?}");
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(
            self.text(),
            format!(r#"{{"code":{code},"message":"{message}"}}"#)
        );
    }
}

/// Writes a raw request head (with `Connection: close`, or `Connection: Upgrade` when the
/// headers ask for an upgrade) and the given body bytes.
pub async fn send_head(
    address: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    content_length: Option<usize>,
    body: &[u8],
) -> TcpStream {
    let mut stream = within(TcpStream::connect(address)).await.unwrap();
    let upgrading = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("upgrade"));
    let connection = if upgrading { "Upgrade" } else { "close" };
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: {connection}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(length) = content_length {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream
}

/// Reads a whole response from a `Connection: close` exchange, within [`WAIT`].
pub async fn read_response(stream: TcpStream) -> HttpResponse {
    read_response_within(stream, WAIT).await
}

/// Reads a whole response from a `Connection: close` exchange, within `limit`.
pub async fn read_response_within(mut stream: TcpStream, limit: Duration) -> HttpResponse {
    let mut raw = Vec::new();
    tokio::time::timeout(limit, stream.read_to_end(&mut raw))
        .await
        .expect("timed out waiting for an HTTP response")
        .unwrap();
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let end = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_owned(), value.trim().to_owned())
        })
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if let Some((_, length)) = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
    {
        body.truncate(length.parse().unwrap());
    }
    HttpResponse {
        status_line: status_line.to_owned(),
        status,
        headers,
        body,
    }
}

/// One request, one response, within [`WAIT`].
pub async fn request(
    address: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    request_within(address, method, target, headers, body, WAIT).await
}

/// One request, one response, the response read within `limit`.
pub async fn request_within(
    address: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    limit: Duration,
) -> HttpResponse {
    let length = (method != "GET").then_some(body.len());
    let stream = send_head(address, method, target, headers, length, body).await;
    read_response_within(stream, limit).await
}
