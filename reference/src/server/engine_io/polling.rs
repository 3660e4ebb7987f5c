//! The HTTP long-polling transport: `GET` receives, `POST` sends (spec "HTTP long-polling").

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body::Body as HttpBody;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::response::{self, Body, BoxError, ErrorCode, PayloadEncoding};
use super::session::{CloseReason, PollStart, Session, Wake};
use crate::engine_io::payload::{decode_v3_binary, decode_v3_text, decode_v4};
use crate::engine_io::{Packet, PacketType, ProtocolVersion};
use crate::EngineIoError;

/// A `GET`: held until something is queued, then answered with the whole buffer. `base64` is
/// whether the request asked for binary data in base64 (`b64`), which only protocol 3 reads.
pub(crate) async fn get(session: Arc<Session>, base64: bool) -> Response<Body> {
    // What reached the session's WebSocket before this request is handled first.
    session.catch_up().await;
    let encoding = PayloadEncoding {
        version: session.version,
        base64,
    };
    match session.poll() {
        PollStart::Now(packets) => response::payload(&packets, encoding),
        PollStart::Wait(woken) => {
            let abandoned = CloseIfAbandoned(Some(Arc::clone(&session)));
            let woken = woken.await;
            abandoned.disarm();
            answer_wake(&session, woken, encoding).await
        }
        refusal => refuse(refusal),
    }
}

/// Closes the session if a held GET is dropped before it is answered: hyper drops the
/// handler when the client closes the connection, and the official server then closes the
/// session ("poll connection closed prematurely", PL-17).
struct CloseIfAbandoned(Option<Arc<Session>>);

impl CloseIfAbandoned {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CloseIfAbandoned {
    fn drop(&mut self) {
        if let Some(session) = self.0.take() {
            session.close(CloseReason::TransportError);
        }
    }
}

async fn answer_wake<E>(
    session: &Session,
    woken: Result<Wake, E>,
    encoding: PayloadEncoding,
) -> Response<Body> {
    match woken {
        Ok(Wake::Flush) => {
            // Let the packets queued in the same turn join the batch.
            tokio::task::yield_now().await;
            response::payload(&session.drain(), encoding)
        }
        Ok(Wake::Answer(packets)) => response::payload(&packets, encoding),
        Err(_) => response::payload(&[Packet::empty(PacketType::Close)], encoding),
    }
}

/// How much of a refused body is read and dropped, at most, and for how long.
const DISCARD_LIMIT: usize = 16 * 1024 * 1024;
const DISCARD_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads a refused body to its end and drops it, within [`DISCARD_LIMIT`] and
/// [`DISCARD_TIME`], so that the connection ends with a clean close rather than a reset.
fn discard<B>(body: B)
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    tokio::spawn(async move {
        let _ =
            tokio::time::timeout(DISCARD_TIME, Limited::new(body, DISCARD_LIMIT).collect()).await;
    });
}

/// A `POST`: the body is decoded and its packets handled in order.
pub(crate) async fn post<B>(session: Arc<Session>, request: Request<B>) -> Response<Body>
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    session.catch_up().await;
    let _post = match session.begin_post() {
        Ok(guard) => guard,
        Err(refusal) => return refuse(refusal),
    };
    let binary = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().starts_with("application/octet-stream"));
    if binary && session.version == ProtocolVersion::V4 {
        // A v4 payload is always text (binary travels in it as base64); the official server
        // refuses octet-stream with 400 and closes the session (PL-07). A v3 client sends a
        // binary payload that way (E3-06).
        session.close(CloseReason::TransportError);
        return response::status(StatusCode::BAD_REQUEST);
    }
    let limit = session.config.max_http_buffer_size;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        // Too large: 413, and the session stays open, as on the official server (PL-11).
        // The body is read and dropped meanwhile, as Node.js does: a connection closed with
        // it unread is reset, and the client may lose the answer with it.
        discard(request.into_body());
        return response::status(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let body = match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => {
            return response::status(StatusCode::PAYLOAD_TOO_LARGE);
        }
        Err(_) => {
            // The client went away in the middle of its body (PL-18).
            session.close(CloseReason::TransportError);
            return response::status(StatusCode::BAD_REQUEST);
        }
    };
    if session.is_gone() {
        // Closed while the body was read (an overlapping POST, a ping timeout): nothing of it
        // is delivered.
        return response::error(ErrorCode::UnknownSid);
    }
    let Some(packets) = decode(session.version, binary, &body) else {
        session.close(CloseReason::ParseError);
        return response::status(StatusCode::BAD_REQUEST);
    };
    for packet in packets {
        match packet {
            Ok(packet) => {
                // Packets after a close packet are ignored (CL-03).
                if !session.receive(packet) {
                    break;
                }
            }
            Err(error) => {
                // SPEC-FAITHFUL, unlike the official server (PL-12, and E3-09 in protocol 3): an
                // invalid packet is a bad request, so it is answered 400, not 200 `ok`. As
                // there, the packets before it have been delivered and the session closes
                // ("parse error").
                tracing::debug!(sid = %session.sid, %error, "invalid packet in a POST");
                session.close(CloseReason::ParseError);
                return response::status(StatusCode::BAD_REQUEST);
            }
        }
    }
    response::ok()
}

/// The packets of a POST body, decoded one by one up to the first error; `None` when a text
/// payload is not UTF-8.
fn decode(
    version: ProtocolVersion,
    binary: bool,
    body: &Bytes,
) -> Option<Box<dyn Iterator<Item = Result<Packet, EngineIoError>> + '_>> {
    if version == ProtocolVersion::V3 && binary {
        return Some(Box::new(decode_v3_binary(body.clone())));
    }
    let text = std::str::from_utf8(body).ok()?;
    Some(match version {
        ProtocolVersion::V4 => Box::new(decode_v4(text)),
        ProtocolVersion::V3 => Box::new(decode_v3_text(text)),
    })
}

fn refuse(refusal: PollStart) -> Response<Body> {
    match refusal {
        // Spec: an overlapping GET or POST MUST get 400 and close the session; the session was
        // closed by `Session::poll` / `Session::begin_post`. The body is empty, as on the
        // official server (PL-08, PL-09).
        PollStart::Overlap => response::status(StatusCode::BAD_REQUEST),
        // The session is on WebSocket now (HS-13, UP-10). The spec says such requests are
        // "ignored"; a 400 tells the client so.
        PollStart::Mismatch => response::error(ErrorCode::BadRequest),
        PollStart::Closed | PollStart::Now(_) | PollStart::Wait(_) => {
            response::error(ErrorCode::UnknownSid)
        }
    }
}
