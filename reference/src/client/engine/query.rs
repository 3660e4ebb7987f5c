//! The request URLs of a session: the path and the query parameters. I/O free.
//!
//! The spec's parameters are `EIO` ("Mandatory, the version of the protocol"), `transport`
//! ("Mandatory, the name of the transport") and `sid` ("The client MUST send the `sid` value
//! in the query parameters of all subsequent requests"). Like the official client, this one
//! puts the application's query first, adds `t` (a cache-busting value) to polling requests
//! unless told not to (and to WebSocket handshakes when told to), and `b64=1` when binary data
//! must travel as base64.

use super::super::config::TransportKind;
use crate::engine_io::ProtocolVersion;

/// What goes into every request's query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryOptions {
    /// The application's extra parameters, first, in order.
    pub extra: Vec<(String, String)>,
    /// `timestampRequests`: `None` (unset), `t` on polling requests only; `Some(true)`, on
    /// every request, WebSocket handshakes included; `Some(false)`, on none. The official
    /// client reads the option so: polling adds `t` unless it is `false`, WebSocket only if it
    /// is `true`.
    pub timestamp_requests: Option<bool>,
    /// Whether to send `b64=1`: binary as base64 over polling.
    pub force_base64: bool,
}

impl QueryOptions {
    /// Whether requests over `transport` carry `t`.
    pub fn stamps(&self, transport: TransportKind) -> bool {
        match (self.timestamp_requests, transport) {
            (Some(on), _) => on,
            (None, TransportKind::Polling) => true,
            (None, TransportKind::WebSocket) => false,
        }
    }
}

/// The path and query of a request: `<path>?<extra>&EIO=<v>&transport=<t>[&t=<stamp>][&b64=1][&sid=<sid>]`.
pub fn request_target(
    path: &str,
    options: &QueryOptions,
    version: ProtocolVersion,
    transport: TransportKind,
    sid: Option<&str>,
    stamp: &str,
) -> String {
    let mut pairs: Vec<(String, String)> = options.extra.clone();
    pairs.push(("EIO".to_owned(), (version as u8).to_string()));
    pairs.push(("transport".to_owned(), transport.name().to_owned()));
    if options.stamps(transport) {
        pairs.push(("t".to_owned(), stamp.to_owned()));
    }
    if options.force_base64 {
        pairs.push(("b64".to_owned(), "1".to_owned()));
    }
    if let Some(sid) = sid {
        pairs.push(("sid".to_owned(), sid.to_owned()));
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{}={}", encode_component(key), encode_component(value)))
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// Percent-encodes a query component as `encodeURIComponent` does.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let unreserved = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            );
        if unreserved {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A cache-busting value for `t`: 8 base36 characters that change with every call.
pub fn stamp(counter: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let mut value = nanos ^ counter.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = String::new();
    for _ in 0..8 {
        let digit = (value % 36) as u32;
        out.push(char::from_digit(digit, 36).unwrap_or('0'));
        value /= 36;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_handshake_query() {
        let options = QueryOptions {
            extra: vec![("token".to_owned(), "a b&c".to_owned())],
            timestamp_requests: None,
            force_base64: false,
        };
        let target = request_target(
            "/socket.io/",
            &options,
            ProtocolVersion::V4,
            TransportKind::Polling,
            None,
            "abc",
        );
        assert_eq!(
            target,
            "/socket.io/?token=a%20b%26c&EIO=4&transport=polling&t=abc"
        );
    }

    #[test]
    fn websocket_requests_carry_no_stamp_by_default_and_the_sid_last() {
        let options = QueryOptions {
            timestamp_requests: None,
            force_base64: true,
            ..QueryOptions::default()
        };
        let target = request_target(
            "/engine.io/",
            &options,
            ProtocolVersion::V3,
            TransportKind::WebSocket,
            Some("xyz"),
            "abc",
        );
        assert_eq!(
            target,
            "/engine.io/?EIO=3&transport=websocket&b64=1&sid=xyz"
        );
    }

    #[test]
    fn timestamp_requests_true_stamps_websocket_handshakes_too() {
        let options = QueryOptions {
            timestamp_requests: Some(true),
            ..QueryOptions::default()
        };
        let target = request_target(
            "/socket.io/",
            &options,
            ProtocolVersion::V4,
            TransportKind::WebSocket,
            None,
            "abc",
        );
        assert_eq!(target, "/socket.io/?EIO=4&transport=websocket&t=abc");
    }

    #[test]
    fn timestamp_requests_false_stamps_nothing() {
        let options = QueryOptions {
            timestamp_requests: Some(false),
            ..QueryOptions::default()
        };
        for transport in [TransportKind::Polling, TransportKind::WebSocket] {
            assert!(!options.stamps(transport));
        }
    }

    #[test]
    fn stamps_differ() {
        assert_eq!(stamp(1).len(), 8);
        assert_ne!(stamp(1), stamp(2));
    }
}
