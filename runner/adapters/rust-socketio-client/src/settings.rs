//! The contract's settings (environment) and how `SIO_OPTIONS` maps onto rust_socketio's
//! `ClientBuilder`.
//!
//! | option | rust_socketio 0.6 |
//! |---|---|
//! | `reconnection` | `reconnect(bool)` |
//! | `reconnectionAttempts` | `max_reconnect_attempts(u8)`; 0 (the official "no limit") sets nothing; above 255: unsupported |
//! | `reconnectionDelay`, `reconnectionDelayMax` | `reconnect_delay(min, max)`, in ms (the crate's defaults 1000 and 5000 fill in the one not given) |
//! | `ackTimeout` | the timeout of every cued `emit_with_ack` that names none |
//! | `upgrade: false` | a transport list that starts with polling becomes polling only |
//! | `addTrailingSlash: false` | the path is given without its trailing slash (the crate uses the URL's path as it is) |
//! | `query` | extra query parameters on the URL (the crate keeps them on every request) |
//! | `extraHeaders` | `opening_header(name, value)` for each |
//! | `timestampRequests: true` | what the crate does: a `t` parameter on every request |
//! | `rememberUpgrade`, `tryAllTransports`, `forceBase64`: false | what the crate does |
//! | `randomizationFactor: 0.5` | what the crate does (its backoff's jitter is fixed at ±50 %) |
//!
//! Unsupported (reported, then ignored): `randomizationFactor` other than 0.5, `timeout` (no
//! connect timeout), `retries`, `timestampRequests: false`, `rememberUpgrade: true`, `tryAllTransports: true`, `forceBase64: true`, and any option this
//! adapter does not know.

use std::time::Duration;

use rust_socketio::TransportType;
use serde_json::{Map, Value};

use crate::pipe::{empty_object, unsupported};

/// The crate's reconnection delays when the builder is given none, in ms.
const CRATE_DELAY_MIN_MS: u64 = 1000;
const CRATE_DELAY_MAX_MS: u64 = 5000;
/// The jitter of the crate's backoff, fixed (the `backoff` crate's default).
const CRATE_RANDOMIZATION_FACTOR: f64 = 0.5;

/// Everything the program read from its environment, mapped for the crate.
#[derive(Clone)]
pub struct Settings {
    /// `SIO_URL` + `SIO_PATH` (+ the `query` option): the address the builder is given.
    pub address: String,
    /// `SIO_NAMESPACE`.
    pub namespace: String,
    /// `SIO_AUTH`, as JSON; `None`: no auth.
    pub auth: Option<Value>,
    /// From `SIO_TRANSPORTS` (and `upgrade`).
    pub transport: TransportType,
    /// `reconnection`.
    pub reconnect: Option<bool>,
    /// `reconnectionAttempts` (1 to 255).
    pub max_reconnect_attempts: Option<u8>,
    /// `reconnectionDelay` and `reconnectionDelayMax`, in ms.
    pub reconnect_delay: Option<(u64, u64)>,
    /// `ackTimeout`.
    pub ack_timeout: Option<Duration>,
    /// `extraHeaders`.
    pub headers: Vec<(String, String)>,
}

/// A setting that makes the program unable to start.
#[derive(Debug)]
pub enum SettingsError {
    /// `SIO_URL` is absent.
    NoUrl,
    /// A variable that must hold JSON does not.
    Json(&'static str, serde_json::Error),
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoUrl => write!(f, "SIO_URL is not set"),
            Self::Json(variable, error) => write!(f, "{variable} is not valid JSON: {error}"),
        }
    }
}

fn json_variable(name: &'static str) -> Result<Option<Value>, SettingsError> {
    match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| SettingsError::Json(name, error)),
        _ => Ok(None),
    }
}

fn milliseconds(value: &Value) -> Option<u64> {
    value.as_f64().filter(|ms| *ms >= 0.0).map(|ms| ms as u64)
}

/// The query string of the `query` option's members.
fn query_string(members: &Map<String, Value>) -> String {
    members
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            format!("{}={}", percent_encode(name), percent_encode(&value))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The crate's transport for the contract's list: polling only, WebSocket only, or polling
/// upgraded to WebSocket when the server offers it (`TransportType::Any`, which falls back to
/// polling when the upgrade fails).
fn transport_type(list: &[String], upgrade: bool) -> TransportType {
    match list
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["websocket", ..] => TransportType::Websocket,
        ["polling", "websocket", ..] if upgrade => TransportType::Any,
        ["polling", ..] => TransportType::Polling,
        _ => TransportType::Any,
    }
}

impl Settings {
    /// Reads the environment; reports `unsupported` for each option the crate cannot honour.
    pub fn from_env() -> Result<Self, SettingsError> {
        let url = std::env::var("SIO_URL").map_err(|_| SettingsError::NoUrl)?;
        let mut path = std::env::var("SIO_PATH").unwrap_or_else(|_| "/socket.io/".to_owned());
        let namespace = std::env::var("SIO_NAMESPACE")
            .ok()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "/".to_owned());
        let auth = json_variable("SIO_AUTH")?;
        let transports: Vec<String> = std::env::var("SIO_TRANSPORTS")
            .unwrap_or_default()
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        if std::env::var_os("SIO_TRANSPORTS").is_some() && transports.is_empty() {
            // Set and empty: no transport at all (the contract), which the crate's
            // TransportType (Any, Polling, Websocket, WebsocketUpgrade) cannot say.
            unsupported("transports: []");
        }
        for other in transports
            .iter()
            .filter(|t| *t != "polling" && *t != "websocket")
        {
            unsupported(&format!("transport {other}"));
        }
        let options = match json_variable("SIO_OPTIONS")? {
            Some(Value::Object(members)) => members,
            _ => empty_object(),
        };

        let mut settings = Settings {
            address: String::new(),
            namespace,
            auth,
            transport: TransportType::Any,
            reconnect: None,
            max_reconnect_attempts: None,
            reconnect_delay: None,
            ack_timeout: None,
            headers: Vec::new(),
        };
        let (mut delay_min, mut delay_max) = (None, None);
        let mut upgrade = true;
        let mut query = String::new();
        for (name, value) in &options {
            match name.as_str() {
                "reconnection" => settings.reconnect = value.as_bool(),
                "reconnectionAttempts" => match value.as_u64() {
                    Some(0) | None => {}
                    Some(n) => match u8::try_from(n) {
                        Ok(n) => settings.max_reconnect_attempts = Some(n),
                        Err(_) => unsupported(name),
                    },
                },
                "reconnectionDelay" => delay_min = milliseconds(value),
                "reconnectionDelayMax" => delay_max = milliseconds(value),
                "ackTimeout" => {
                    settings.ack_timeout = milliseconds(value).map(Duration::from_millis)
                }
                "upgrade" => upgrade = value.as_bool() != Some(false),
                "addTrailingSlash" => {
                    if value.as_bool() == Some(false) {
                        while path.len() > 1 && path.ends_with('/') {
                            path.pop();
                        }
                    }
                }
                "query" => {
                    if let Some(members) = value.as_object() {
                        query = query_string(members);
                    }
                }
                "extraHeaders" => {
                    if let Some(members) = value.as_object() {
                        settings.headers = members
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                                )
                            })
                            .collect();
                    }
                }
                "timestampRequests" => {
                    if value.as_bool() == Some(false) {
                        unsupported(name);
                    }
                }
                // The crate's jitter is the `backoff` crate's default, ±50 %: a factor of 0.5 is
                // what it does, any other it cannot honour.
                "randomizationFactor" => {
                    if value.as_f64() != Some(CRATE_RANDOMIZATION_FACTOR) {
                        unsupported(name);
                    }
                }
                "rememberUpgrade" | "tryAllTransports" | "forceBase64" => {
                    if value.as_bool() == Some(true) {
                        unsupported(name);
                    }
                }
                // randomizationFactor, timeout, retries, and anything unknown.
                _ => unsupported(name),
            }
        }
        if delay_min.is_some() || delay_max.is_some() {
            settings.reconnect_delay = Some((
                delay_min.unwrap_or(CRATE_DELAY_MIN_MS),
                delay_max.unwrap_or(CRATE_DELAY_MAX_MS),
            ));
        }
        settings.transport = transport_type(&transports, upgrade);
        settings.address = format!("{}{}", url.trim_end_matches('/'), path);
        if !query.is_empty() {
            settings.address.push(if settings.address.contains('?') {
                '&'
            } else {
                '?'
            });
            settings.address.push_str(&query);
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports_map_onto_the_crate_s_four() {
        let list = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
        assert!(matches!(
            transport_type(&list("polling"), true),
            TransportType::Polling
        ));
        assert!(matches!(
            transport_type(&list("websocket"), true),
            TransportType::Websocket
        ));
        assert!(matches!(
            transport_type(&list("polling,websocket"), true),
            TransportType::Any
        ));
        assert!(matches!(
            transport_type(&list("polling,websocket"), false),
            TransportType::Polling
        ));
    }

    #[test]
    fn query_values_are_percent_encoded() {
        let members = serde_json::json!({"a b": "c&d", "n": 1});
        assert_eq!(
            query_string(members.as_object().expect("object")),
            "a%20b=c%26d&n=1"
        );
    }
}
