//! One HTTP/1.1 request of the polling transport, on hyper's client connection: a new TCP
//! connection per request (a long-polling `GET` and a `POST` are in flight at once, and a
//! fresh connection is never a stale one), bounded in time and in body size.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::TransportError;

/// The largest response body accepted: far above any `maxPayload` a test sets, and a bound on
/// what a misbehaving server can make the client hold.
const MAX_RESPONSE_BODY: usize = 64 * 1024 * 1024;

/// A finished request: the status, the `Content-Type` and the body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    /// Every `Set-Cookie` value, for the jar of `withCredentials`.
    pub(crate) set_cookies: Vec<String>,
    pub(crate) body: Bytes,
}

/// What one request sends.
pub(crate) struct Outgoing<'a> {
    pub(crate) authority: &'a str,
    pub(crate) method: Method,
    pub(crate) target: &'a str,
    pub(crate) headers: &'a [(String, String)],
    /// The body and its content type, for a `POST`.
    pub(crate) body: Option<(&'static str, Bytes)>,
}

/// Sends one request and reads the whole response. The caller bounds it in time.
pub(crate) async fn send(outgoing: Outgoing<'_>) -> Result<Response, TransportError> {
    let stream = TcpStream::connect(outgoing.authority)
        .await
        .map_err(|error| TransportError::Connect(error.to_string()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| TransportError::Http(error.to_string()))?;
    let mut builder = Request::builder()
        .method(outgoing.method)
        .uri(outgoing.target)
        .header(http::header::HOST, outgoing.authority);
    for (name, value) in outgoing.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match outgoing.body {
        Some((content_type, body)) => {
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
            body
        }
        None => Bytes::new(),
    };
    let request = builder
        .body(Full::new(body))
        .map_err(|error| TransportError::Http(error.to_string()))?;
    // The connection is driven alongside the exchange, in the same future: nothing outlives
    // the request.
    let exchange = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| TransportError::Http(error.to_string()))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let set_cookies = response
            .headers()
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .map(str::to_owned)
            .collect();
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BODY)
            .collect()
            .await
            .map_err(|error| TransportError::Http(error.to_string()))?
            .to_bytes();
        Ok(Response {
            status,
            content_type,
            set_cookies,
            body,
        })
    };
    tokio::pin!(exchange);
    tokio::pin!(connection);
    let mut connection_done = false;
    loop {
        tokio::select! {
            result = &mut exchange => return result,
            result = &mut connection, if !connection_done => {
                connection_done = true;
                if let Err(error) = result {
                    return Err(TransportError::Http(error.to_string()));
                }
            }
        }
    }
}
