//! Raw HTTP/1.1 exchanges: through hyper's client connection API over a TCP stream (fresh or
//! kept alive), or as raw bytes for requests hyper would not write.
//!
//! Whichever way, a response's head and body are read within the wire's [`ReadLimits`]: a
//! longer one is a failed exchange whose error names the limit.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::error::{millis, StepError};
use super::transcript::{EventKind, WireData};
use super::wire::{AbortOnDrop, ReadLimits, Wire};

/// A request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpRequest {
    pub(crate) method: String,
    /// The path and query.
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// A response received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// The first value of a header, by case-insensitive name.
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

impl HttpResponse {
    /// The body as text, for messages.
    pub(crate) fn describe(&self) -> String {
        format!("{} {}", self.status, WireData::body(&self.body))
    }
}

/// An actor's kept-alive connection.
pub(crate) struct KeptConnection {
    channel: String,
    sender: SendRequest<Full<Bytes>>,
    _connection: AbortOnDrop<()>,
}

/// Opens an HTTP/1.1 client connection.
async fn handshake(wire: &Wire) -> Result<(SendRequest<Full<Bytes>>, AbortOnDrop<()>), StepError> {
    let stream = wire.connect().await?;
    let (sender, connection) = http1::Builder::new()
        .max_header_size(wire.limits.head)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|error| StepError::unmet("an HTTP connection", error.to_string()))?;
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((sender, AbortOnDrop(task)))
}

/// Sends a request on a new connection and reads the whole response, by `deadline`.
pub(crate) async fn send_fresh(
    wire: &Wire,
    actor: &str,
    request: &HttpRequest,
    deadline: Instant,
) -> Result<HttpResponse, StepError> {
    send_fresh_on(wire, actor, &wire.channel("http"), request, deadline).await
}

/// [`send_fresh`], with the transcript's name for the new connection.
pub(crate) async fn send_fresh_on(
    wire: &Wire,
    actor: &str,
    channel: &str,
    request: &HttpRequest,
    deadline: Instant,
) -> Result<HttpResponse, StepError> {
    if request.body.len() > EARLY_RESPONSE_BODY {
        let exchange = send_reading_early(wire, actor, channel, request);
        return bounded(wire, actor, channel, deadline, exchange).await;
    }
    let exchange = async {
        let (mut sender, _connection) = handshake(wire).await?;
        send_on(wire, actor, channel, &mut sender, request).await
    };
    bounded(wire, actor, channel, deadline, exchange).await
}

/// A body larger than this may not fit the connection's buffers: a server may answer before
/// reading it all (a 413 from `Content-Length`) and close, and the write then fails although
/// the answer has come. Such requests are written while the response is read, as curl does,
/// and a failed write does not hide an answer.
const EARLY_RESPONSE_BODY: usize = 64 * 1024;

/// Sends `request` on a new connection, writing it in one task while the response is read.
async fn send_reading_early(
    wire: &Wire,
    actor: &str,
    channel: &str,
    request: &HttpRequest,
) -> Result<HttpResponse, StepError> {
    let stream = wire.connect().await?;
    let mut headers = request.headers.clone();
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        headers.insert(0, ("Host".to_owned(), wire.address.to_string()));
    }
    if header(&headers, "content-length").is_none() {
        headers.push(("Content-Length".to_owned(), request.body.len().to_string()));
    }
    wire.recorder.record(
        actor,
        channel,
        EventKind::HttpRequest {
            method: request.method.clone(),
            target: request.target.clone(),
            headers: headers.clone(),
            body: WireData::body(&request.body),
        },
    );
    let mut raw = format!("{} {} HTTP/1.1\r\n", request.method, request.target).into_bytes();
    for (name, value) in &headers {
        raw.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(&request.body);
    let (mut reader, mut writer) = stream.into_split();
    let writing = AbortOnDrop(tokio::spawn(async move {
        // A failed write is what a server that answered early and closed causes; the
        // response, or its absence, tells the rest.
        let _ = writer.write_all(&raw).await;
        let _ = writer.flush().await;
        // Keep the writing half open until the response is read: dropping it would end
        // the request's side of the connection.
        std::future::pending::<()>().await;
    }));
    let outcome = read_raw_response(&mut reader, &wire.limits).await;
    drop(writing);
    record_outcome(wire, actor, channel, outcome)
}

/// Sends a request on the actor's kept-alive connection, opening it when needed.
pub(crate) async fn send_kept(
    wire: &Wire,
    actor: &str,
    kept: &mut Option<KeptConnection>,
    request: &HttpRequest,
    deadline: Instant,
) -> Result<HttpResponse, StepError> {
    if kept
        .as_ref()
        .is_none_or(|connection| connection.sender.is_closed())
    {
        let (sender, connection) = handshake(wire).await?;
        *kept = Some(KeptConnection {
            channel: wire.channel("http"),
            sender,
            _connection: connection,
        });
    }
    let Some(connection) = kept.as_mut() else {
        return Err(StepError::Invalid("no kept connection".to_owned()));
    };
    let channel = connection.channel.clone();
    let exchange = send_on(wire, actor, &channel, &mut connection.sender, request);
    let result = bounded(wire, actor, &channel, deadline, exchange).await;
    if result.is_err() {
        // Whatever state the connection is in, it is not fit for the next request.
        *kept = None;
    }
    result
}

async fn bounded(
    wire: &Wire,
    actor: &str,
    channel: &str,
    deadline: Instant,
    exchange: impl std::future::Future<Output = Result<HttpResponse, StepError>>,
) -> Result<HttpResponse, StepError> {
    let started = Instant::now();
    match tokio::time::timeout_at(deadline, exchange).await {
        Ok(result) => result,
        Err(_) => {
            let waited = started.elapsed();
            wire.recorder.record(
                actor,
                channel,
                EventKind::HttpFailed {
                    error: format!("no response within {}", millis(waited)),
                },
            );
            Err(StepError::nothing_within("an HTTP response", waited))
        }
    }
}

async fn send_on(
    wire: &Wire,
    actor: &str,
    channel: &str,
    sender: &mut SendRequest<Full<Bytes>>,
    request: &HttpRequest,
) -> Result<HttpResponse, StepError> {
    let mut builder = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(request.target.as_str());
    let mut headers = request.headers.clone();
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        headers.insert(0, ("Host".to_owned(), wire.address.to_string()));
    }
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let built = builder
        .body(Full::new(Bytes::from(request.body.clone())))
        .map_err(|error| StepError::Invalid(format!("cannot build the request: {error}")))?;
    wire.recorder.record(
        actor,
        channel,
        EventKind::HttpRequest {
            method: request.method.clone(),
            target: request.target.clone(),
            headers,
            body: WireData::body(&request.body),
        },
    );
    let limits = &wire.limits;
    let outcome = async {
        let failed = |error| describe_hyper_error(limits, error);
        sender.ready().await.map_err(failed)?;
        let response = sender.send_request(built).await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        check_content_length(limits, &headers)?;
        let body = collect_body(limits, response.into_body()).await?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
    .await;
    record_outcome(wire, actor, channel, outcome)
}

/// What a failed hyper exchange says; hyper's "message head is too large" is its refusal of a
/// head over [`ReadLimits::head`] (or of one with more headers than it parses).
fn describe_hyper_error(limits: &ReadLimits, error: hyper::Error) -> String {
    if error.is_parse_too_large() {
        format!("{} (or with over 100 headers)", limits.head_exceeded())
    } else {
        error.to_string()
    }
}

/// Refuses a response whose `Content-Length` announces a body over the limit, before reading
/// any of it.
fn check_content_length(limits: &ReadLimits, headers: &[(String, String)]) -> Result<(), String> {
    let announced = header(headers, "content-length").and_then(|value| value.trim().parse().ok());
    match announced {
        Some(length) if length > limits.message as u64 => {
            let what = "a response body (by its Content-Length)";
            Err(limits.message_exceeded(what, Some(length)))
        }
        _ => Ok(()),
    }
}

/// The whole body, unless it grows over [`ReadLimits::message`].
async fn collect_body(limits: &ReadLimits, mut body: Incoming) -> Result<Vec<u8>, String> {
    let mut collected = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| describe_hyper_error(limits, error))?;
        if let Ok(data) = frame.into_data() {
            if data.len() > limits.message - collected.len() {
                return Err(limits.message_exceeded("a response body", None));
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(collected)
}

fn record_outcome(
    wire: &Wire,
    actor: &str,
    channel: &str,
    outcome: Result<HttpResponse, String>,
) -> Result<HttpResponse, StepError> {
    // What the case has read so far counts too: a target that answers every poll at once with
    // a full body must not fill the transcript until the deadline.
    let outcome = outcome.and_then(|response| {
        let head: usize = response
            .headers
            .iter()
            .map(|(name, value)| name.len() + value.len())
            .sum();
        wire.count_received(head + response.body.len())
            .map(|()| response)
    });
    match outcome {
        Ok(response) => {
            wire.recorder.record(
                actor,
                channel,
                EventKind::HttpResponse {
                    status: response.status,
                    headers: response.headers.clone(),
                    body: WireData::body(&response.body),
                },
            );
            Ok(response)
        }
        Err(error) => {
            wire.recorder.record(
                actor,
                channel,
                EventKind::HttpFailed {
                    error: error.clone(),
                },
            );
            Err(StepError::unmet("an HTTP response", error))
        }
    }
}

/// Writes `raw` as is on a new connection and reads the response: its head, then
/// `Content-Length` bytes or everything until the server closes.
pub(crate) async fn send_raw(
    wire: &Wire,
    actor: &str,
    raw: &[u8],
    deadline: Instant,
) -> Result<HttpResponse, StepError> {
    send_raw_on(wire, actor, &wire.channel("http"), raw, deadline).await
}

/// [`send_raw`], with the transcript's name for the new connection.
pub(crate) async fn send_raw_on(
    wire: &Wire,
    actor: &str,
    channel: &str,
    raw: &[u8],
    deadline: Instant,
) -> Result<HttpResponse, StepError> {
    let exchange = async {
        let mut stream = wire.connect().await?;
        wire.recorder.record(
            actor,
            channel,
            EventKind::RawRequest {
                data: WireData::body(raw),
            },
        );
        let outcome = match stream.write_all(raw).await {
            Ok(()) => read_raw_response(&mut stream, &wire.limits).await,
            Err(error) => Err(format!("cannot write: {error}")),
        };
        record_outcome(wire, actor, channel, outcome)
    };
    bounded(wire, actor, channel, deadline, exchange).await
}

/// Reads a response as bytes: its head (at most [`ReadLimits::head`]), then a body of at
/// most [`ReadLimits::message`]: chunked, `Content-Length` long, or up to the end of the
/// connection.
async fn read_raw_response(
    stream: &mut (impl AsyncRead + Unpin),
    limits: &ReadLimits,
) -> Result<HttpResponse, String> {
    let mut buffer = Vec::new();
    let head_end = loop {
        // Only the new bytes, and the three before them, can complete the blank line.
        let searched = buffer.len().saturating_sub(3);
        if read_more(stream, &mut buffer).await? == 0 {
            return Err(format!(
                "the connection ended before a response head: {}",
                WireData::body(&buffer)
            ));
        }
        if let Some(end) = find(&buffer[searched..], b"\r\n\r\n") {
            break searched + end;
        }
        if buffer.len() > limits.head {
            return Err(limits.head_exceeded());
        }
    };
    if head_end > limits.head {
        return Err(limits.head_exceeded());
    }
    let (status, headers) = parse_head(&buffer[..head_end])?;
    let mut body = buffer.split_off(head_end + 4);
    let length =
        header(&headers, "content-length").and_then(|value| value.trim().parse::<u64>().ok());
    let chunked = header(&headers, "transfer-encoding")
        .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let body = read_chunked(stream, body, limits).await?;
        return Ok(HttpResponse {
            status,
            headers,
            body,
        });
    }
    match length {
        Some(length) => {
            check_content_length(limits, &headers)?;
            // Not over the limit, hence a usize.
            let length = usize::try_from(length).unwrap_or(usize::MAX);
            while body.len() < length {
                if read_more(stream, &mut body).await? == 0 {
                    return Err("the connection ended inside the body".to_owned());
                }
            }
            body.truncate(length);
        }
        None => {
            while read_more(stream, &mut body).await? > 0 {
                if body.len() > limits.message {
                    return Err(limits.message_exceeded("a response body", None));
                }
            }
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Decodes a chunked body (RFC 9112, 7.1), `buffered` being what was read after the head;
/// trailers are skipped. The body may be at most [`ReadLimits::message`], a chunk-size line
/// at most [`ReadLimits::head`].
async fn read_chunked(
    stream: &mut (impl AsyncRead + Unpin),
    mut buffered: Vec<u8>,
    limits: &ReadLimits,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(end) = find(&buffered, b"\r\n") {
                break end;
            }
            if buffered.len() > limits.head {
                return Err(format!(
                    "a chunk-size line longer than the engine's limit of {} bytes",
                    limits.head
                ));
            }
            if read_more(stream, &mut buffered).await? == 0 {
                return Err("the connection ended inside a chunked body".to_owned());
            }
        };
        let line = String::from_utf8_lossy(&buffered[..line_end]).into_owned();
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| format!("not a chunk size: {line:?}"))?;
        buffered.drain(..line_end + 2);
        if size == 0 {
            return Ok(body);
        }
        let room = limits.message - body.len();
        let size = match usize::try_from(size) {
            Ok(size) if size <= room => size,
            _ => {
                let what = format!("a chunk of {size} bytes makes a response body");
                return Err(limits.message_exceeded(&what, None));
            }
        };
        while buffered.len() < size + 2 {
            if read_more(stream, &mut buffered).await? == 0 {
                return Err("the connection ended inside a chunk".to_owned());
            }
        }
        body.extend_from_slice(&buffered[..size]);
        buffered.drain(..size + 2);
    }
}

/// Reads what has come, up to 4 KiB, onto `buffer`: the callers check its length.
async fn read_more(
    stream: &mut (impl AsyncRead + Unpin),
    buffer: &mut Vec<u8>,
) -> Result<usize, String> {
    let mut chunk = [0_u8; 4096];
    let read = stream
        .read(&mut chunk)
        .await
        .map_err(|error| format!("read error: {error}"))?;
    buffer.extend_from_slice(&chunk[..read]);
    Ok(read)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

type Head = (u16, Vec<(String, String)>);

fn parse_head(head: &[u8]) -> Result<Head, String> {
    let text = std::str::from_utf8(head).map_err(|_| "a response head that is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP status line: {status_line:?}"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Ok((status, headers))
}

#[cfg(test)]
mod tests {
    use super::super::transcript::Recorder;
    use super::*;
    use std::time::Duration;
    use tokio::net::TcpListener;

    /// The first connection, once its request head has come; `None` if it ended before.
    async fn accept_a_request_head(listener: &TcpListener) -> Option<tokio::net::TcpStream> {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut head = Vec::new();
        while find(&head, b"\r\n\r\n").is_none() {
            if read_more(&mut stream, &mut head).await.unwrap_or(0) == 0 {
                return None;
            }
        }
        Some(stream)
    }

    /// A server that reads only the request head, answers, and resets the connection at
    /// once: a client that must finish writing before it reads the answer loses it.
    async fn answering_before_the_body(response: &'static [u8]) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let Some(mut stream) = accept_a_request_head(&listener).await else {
                return;
            };
            let _ = stream.write_all(response).await;
            // Then it resets the connection, the unread body still in its buffers, as a
            // server that closes without reading the body does.
            // A zero linger sends the reset at once and never blocks the drop.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
        });
        address
    }

    /// The fixture contract's limits.
    fn limits() -> ReadLimits {
        ReadLimits::for_max_payload(1_000_000)
    }

    /// A response head, then `body`, then bytes `a` forever.
    fn endless(head: &'static [u8]) -> impl AsyncRead + Unpin {
        head.chain(tokio::io::repeat(b'a'))
    }

    #[tokio::test]
    async fn a_raw_body_without_length_stops_at_the_limit() {
        let small = ReadLimits::for_max_payload(1000);
        let error = read_raw_response(&mut endless(b"HTTP/1.1 200 OK\r\n\r\n"), &small)
            .await
            .expect_err("over the limit");
        assert!(error.contains("limit of 1052576 bytes"), "{error}");
        assert!(error.contains("maxPayload 1000 "), "{error}");
    }

    #[tokio::test]
    async fn a_raw_body_at_the_limit_is_read() {
        let small = ReadLimits::for_max_payload(1000);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            small.message
        );
        let mut stream = head.as_bytes().chain(tokio::io::repeat(b'a'));
        let response = read_raw_response(&mut stream, &small)
            .await
            .expect("a response");
        assert_eq!(response.body.len(), small.message);
    }

    #[tokio::test]
    async fn a_raw_body_announced_over_the_limit_is_not_read() {
        let mut stream = endless(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n");
        let error = read_raw_response(&mut stream, &limits())
            .await
            .expect_err("refused");
        assert!(error.contains("of 1000000000000 bytes"), "{error}");
    }

    #[tokio::test]
    async fn an_endless_raw_head_stops_at_the_limit() {
        let mut stream = endless(b"HTTP/1.1 200 OK\r\nX-Endless: ");
        let error = read_raw_response(&mut stream, &limits())
            .await
            .expect_err("refused");
        assert_eq!(error, limits().head_exceeded());
    }

    #[tokio::test]
    async fn chunks_over_the_limit_are_refused() {
        for head in [
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n500000\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1",
        ] {
            let error = read_raw_response(&mut endless(head), &limits())
                .await
                .expect_err("refused");
            assert!(error.contains("the engine's limit of"), "{error}");
        }
    }

    /// A server that reads a request head, writes `head` and then bytes `a` until the client
    /// goes away.
    async fn answering_endlessly(head: &'static [u8]) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let Some(mut stream) = accept_a_request_head(&listener).await else {
                return;
            };
            let _ = stream.write_all(head).await;
            let block = [b'a'; 16 * 1024];
            while stream.write_all(&block).await.is_ok() {}
        });
        address
    }

    fn get() -> HttpRequest {
        HttpRequest {
            method: "GET".to_owned(),
            target: "/engine.io/?EIO=4&transport=polling".to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_body_announced_over_the_limit_is_refused_before_it_is_read() {
        let address =
            answering_endlessly(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n").await;
        let wire = Wire::new(address, Recorder::new(), Duration::from_secs(1), limits());
        let deadline = Instant::now() + Duration::from_secs(2);
        let error = send_fresh(&wire, "client", &get(), deadline)
            .await
            .expect_err("refused");
        let StepError::Unmet { actual, .. } = error else {
            panic!("not unmet: {error:?}");
        };
        assert!(actual.contains("of 100000000000 bytes"), "{actual}");
        assert!(actual.contains("limit of 5048576 bytes"), "{actual}");
    }

    #[tokio::test]
    async fn an_endless_body_stops_at_the_limit() {
        let address = answering_endlessly(b"HTTP/1.1 200 OK\r\n\r\n").await;
        let wire = Wire::new(address, Recorder::new(), Duration::from_secs(1), limits());
        let deadline = Instant::now() + Duration::from_secs(5);
        let error = send_fresh(&wire, "client", &get(), deadline)
            .await
            .expect_err("refused");
        let StepError::Unmet { actual, .. } = error else {
            panic!("not unmet: {error:?}");
        };
        assert_eq!(actual, limits().message_exceeded("a response body", None));
    }

    fn large_post() -> HttpRequest {
        HttpRequest {
            method: "POST".to_owned(),
            target: "/engine.io/?EIO=4&transport=polling&sid=x".to_owned(),
            headers: vec![("Content-Type".to_owned(), "text/plain".to_owned())],
            body: vec![b'a'; 8 * 1024 * 1024],
        }
    }

    #[tokio::test]
    async fn a_response_before_the_end_of_a_large_body_is_read() {
        let address = answering_before_the_body(
            b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n",
        )
        .await;
        let wire = Wire::new(address, Recorder::new(), Duration::from_secs(1), limits());
        let deadline = Instant::now() + Duration::from_secs(2);
        let response = send_fresh(&wire, "client", &large_post(), deadline)
            .await
            .expect("the early response");
        assert_eq!(response.status, 413);
        assert!(response.body.is_empty());
    }

    #[tokio::test]
    async fn an_early_chunked_response_is_decoded() {
        let address = answering_before_the_body(
            b"HTTP/1.1 413 Payload Too Large\r\ntransfer-encoding: chunked\r\n\r\n4\r\ntoo \r\n5\r\nlarge\r\n0\r\n\r\n",
        )
        .await;
        let wire = Wire::new(address, Recorder::new(), Duration::from_secs(1), limits());
        let deadline = Instant::now() + Duration::from_secs(2);
        let response = send_fresh(&wire, "client", &large_post(), deadline)
            .await
            .expect("the early response");
        assert_eq!(
            (response.status, response.body.as_slice()),
            (413, &b"too large"[..])
        );
    }
}
