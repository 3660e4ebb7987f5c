//! The polling transport's requests: a `GET` that yields the packets of one response, and a
//! `POST` that sends one payload.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, StatusCode};

use super::cookies::SharedJar;
use super::http::{send, Outgoing, Response};
use super::query::{request_target, stamp, QueryOptions};
use super::TransportError;
use crate::client::config::TransportKind;
use crate::engine_io::payload::{decode_v3_binary, decode_v3_text, decode_v4};
use crate::engine_io::{Packet, ProtocolVersion};

/// Where and how a session's polling requests go.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) authority: String,
    pub(crate) path: String,
    pub(crate) query: QueryOptions,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) version: ProtocolVersion,
    /// The bound on one request, beyond which the transport is broken.
    pub(crate) request_timeout: Duration,
    /// The session attempt's cookie jar, with `withCredentials`.
    pub(crate) cookies: Option<SharedJar>,
}

impl Endpoint {
    /// The request target for a transport, with the sid once there is one.
    pub(crate) fn target(
        &self,
        transport: TransportKind,
        sid: Option<&str>,
        counter: u64,
    ) -> String {
        request_target(
            &self.path,
            &self.query,
            self.version,
            transport,
            sid,
            &stamp(counter),
        )
    }

    /// The headers of a request now: the extra headers, and the jar's cookies.
    pub(crate) fn headers(&self) -> Vec<(String, String)> {
        let mut headers = self.headers.clone();
        let cookie = self
            .cookies
            .as_ref()
            .and_then(|jar| jar.lock().ok()?.header(Instant::now()));
        if let Some(cookie) = cookie {
            headers.push(("cookie".to_owned(), cookie));
        }
        headers
    }

    /// Keeps the cookies a response sets, with `withCredentials`.
    fn keep_cookies(&self, response: &Response) {
        let Some(jar) = &self.cookies else {
            return;
        };
        if let Ok(mut jar) = jar.lock() {
            let now = Instant::now();
            for set_cookie in &response.set_cookies {
                jar.store(set_cookie, now);
            }
        }
    }

    /// One `GET`: the packets of its response, in order.
    pub(crate) async fn get(
        &self,
        sid: Option<&str>,
        counter: u64,
    ) -> Result<Vec<Packet>, TransportError> {
        let target = self.target(TransportKind::Polling, sid, counter);
        let headers = self.headers();
        let request = send(Outgoing {
            authority: &self.authority,
            method: Method::GET,
            target: &target,
            headers: &headers,
            body: None,
        });
        let response = tokio::time::timeout(self.request_timeout, request)
            .await
            .map_err(|_| TransportError::Timeout)??;
        self.keep_cookies(&response);
        if response.status != StatusCode::OK {
            return Err(TransportError::Status {
                status: response.status.as_u16(),
                body: String::from_utf8_lossy(&response.body).into_owned(),
            });
        }
        self.decode(response.content_type.as_deref(), response.body)
    }

    fn decode(
        &self,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<Vec<Packet>, TransportError> {
        let binary =
            content_type.is_some_and(|value| value.starts_with("application/octet-stream"));
        let packets: Result<Vec<Packet>, _> = match (self.version, binary) {
            (ProtocolVersion::V3, true) => decode_v3_binary(body).collect(),
            (version, _) => {
                let text = std::str::from_utf8(&body)
                    .map_err(|_| TransportError::Decode(crate::EngineIoError::InvalidUtf8))?;
                match version {
                    ProtocolVersion::V4 => decode_v4(text).collect(),
                    ProtocolVersion::V3 => decode_v3_text(text).collect(),
                }
            }
        };
        packets.map_err(TransportError::Decode)
    }

    /// One `POST` of an encoded payload; the server's `ok` is the success.
    pub(crate) async fn post(
        &self,
        sid: &str,
        counter: u64,
        body: String,
    ) -> Result<(), TransportError> {
        let target = self.target(TransportKind::Polling, Some(sid), counter);
        let headers = self.headers();
        let request = send(Outgoing {
            authority: &self.authority,
            method: Method::POST,
            target: &target,
            headers: &headers,
            body: Some(("text/plain;charset=UTF-8", Bytes::from(body))),
        });
        let response = tokio::time::timeout(self.request_timeout, request)
            .await
            .map_err(|_| TransportError::Timeout)??;
        self.keep_cookies(&response);
        if response.status != StatusCode::OK {
            return Err(TransportError::Status {
                status: response.status.as_u16(),
                body: String::from_utf8_lossy(&response.body).into_owned(),
            });
        }
        Ok(())
    }
}
