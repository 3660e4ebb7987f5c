//! The HTTP responses of the Engine.IO server: payloads, `ok`, and the JSON errors.

use bytes::Bytes;
use http::header::{HeaderValue, CACHE_CONTROL, CONNECTION, CONTENT_TYPE};
use http::{Response, StatusCode};
use http_body_util::Full;

use crate::engine_io::payload::{encode_v3_binary, encode_v3_text, encode_v4};
use crate::engine_io::{Data, Packet, ProtocolVersion};

/// The body of every response the server writes.
pub type Body = Full<Bytes>;

/// The error a request body may fail with, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error codes of the official server, sent as `{"code":N,"message":"…"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `0`: the `transport` parameter is missing or names no enabled transport.
    UnknownTransport = 0,
    /// `1`: the `sid` names no open session.
    UnknownSid = 1,
    /// `2`: a handshake (no `sid`) whose method is not `GET`.
    BadHandshakeMethod = 2,
    /// `3`: a request that breaks the transport's rules.
    BadRequest = 3,
    /// `4`: the application's [`AllowRequest`](super::AllowRequest) hook refused the handshake.
    Forbidden = 4,
    /// `5`: `EIO` is missing or is not `4`.
    UnsupportedProtocolVersion = 5,
}

impl ErrorCode {
    /// The message the official server sends with the code.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::UnknownTransport => "Transport unknown",
            ErrorCode::UnknownSid => "Session ID unknown",
            ErrorCode::BadHandshakeMethod => "Bad handshake method",
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }
}

/// `400` with `Content-Type: application/json` and `{"code":N,"message":"…"}` (HS-26: no
/// `cache-control` on errors).
pub(crate) fn error(code: ErrorCode) -> Response<Body> {
    json_error(StatusCode::BAD_REQUEST, code, code.message())
}

/// `403 {"code":4,"message":"…"}`: a handshake the application refused (HS-16).
pub(crate) fn forbidden(message: &str) -> Response<Body> {
    json_error(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
}

fn json_error(status: StatusCode, code: ErrorCode, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "code": code as u8, "message": message }).to_string();
    let mut response = Response::new(Full::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The official server's refusal of a WebSocket request (HS-17, HS-18): `400 Bad Request`,
/// `Connection: close`, `Content-Type: text/html` and the bare message as the body, not JSON.
pub(crate) fn upgrade_refused(message: &str) -> Response<Body> {
    let mut response = Response::new(Full::from(message.to_owned()));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    let headers = response.headers_mut();
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// A status with an empty body: the official server's answer to transport errors.
pub(crate) fn status(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = status;
    response
}

/// How a polling response body is written: the session's protocol and, for protocol 3,
/// whether the request asked for base64 (`b64`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PayloadEncoding {
    pub(crate) version: ProtocolVersion,
    pub(crate) base64: bool,
}

/// `200`, a polling payload: `text/plain; charset=UTF-8`, except a v3 payload that carries
/// binary data to a client that did not ask for base64, which is a v3 binary payload in
/// `application/octet-stream` (E3-05, E3-07).
pub(crate) fn payload(packets: &[Packet], encoding: PayloadEncoding) -> Response<Body> {
    const TEXT: &str = "text/plain; charset=UTF-8";
    match encoding.version {
        ProtocolVersion::V4 => success(encode_v4(packets), TEXT),
        ProtocolVersion::V3 => {
            let binary = packets
                .iter()
                .any(|packet| matches!(packet.data, Data::Binary(_)));
            if binary && !encoding.base64 {
                success(encode_v3_binary(packets), "application/octet-stream")
            } else {
                success(encode_v3_text(packets), TEXT)
            }
        }
    }
}

/// `200`, `text/html`, `ok`: the answer to a POST.
pub(crate) fn ok() -> Response<Body> {
    success("ok", "text/html")
}

fn success(body: impl Into<Bytes>, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
