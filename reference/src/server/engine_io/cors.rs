//! Cross-origin resource sharing, as the official server does it by handing its `cors` option
//! to the npm `cors` package (behaviors HS-27, HS-28, HS-29): the same headers, in the same
//! order, with the same defaults.

use std::time::Duration;

use http::header::{
    HeaderName, HeaderValue, ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS,
    ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, CONTENT_LENGTH, ORIGIN, VARY,
};
use http::{HeaderMap, Response, StatusCode};

use super::response::Body;

/// Which origins may read the server's responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigin {
    /// Any origin: `Access-Control-Allow-Origin: *`. The default.
    Any,
    /// The origins listed, compared exactly with the request's `Origin` (`https://example.com`,
    /// no trailing slash). A listed origin is echoed back; any other gets no
    /// `Access-Control-Allow-Origin`. Responses carry `Vary: Origin`.
    List(Vec<String>),
    /// Whatever origin the request names is echoed back (the `cors` package's `origin: true`),
    /// with `Vary: Origin`.
    Mirror,
}

/// The server's CORS policy. Off by default ([`Config::cors`](super::Config::cors) is `None`):
/// then no `Access-Control-*` header is sent and a preflight `OPTIONS` is refused like any
/// other method (HS-27).
///
/// When set, an `OPTIONS` request under the path is a preflight, answered at once with
/// [`options_success_status`](Cors::options_success_status) (`204`), an empty body and the
/// preflight headers (HS-28); every other response under the path,
/// errors and the `101` included, carries `Access-Control-Allow-Origin`,
/// `Access-Control-Allow-Credentials` and `Access-Control-Expose-Headers` as configured
/// (HS-29).
///
/// ```
/// use sio_reference::server::engine_io::{Config, Cors, CorsOrigin};
///
/// let config = Config {
///     cors: Some(Cors {
///         origin: CorsOrigin::List(vec!["https://example.com".to_owned()]),
///         credentials: true,
///         ..Cors::default()
///     }),
///     ..Config::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// The origins allowed. Default [`CorsOrigin::Any`].
    pub origin: CorsOrigin,
    /// Sends `Access-Control-Allow-Credentials: true`. Default false.
    pub credentials: bool,
    /// `Access-Control-Allow-Methods` on preflights. Default `GET,HEAD,PUT,PATCH,POST,DELETE`.
    pub methods: String,
    /// `Access-Control-Allow-Headers` on preflights. `None`, the default, echoes the request's
    /// `Access-Control-Request-Headers` and adds `Vary: Access-Control-Request-Headers`.
    pub allowed_headers: Option<Vec<String>>,
    /// `Access-Control-Expose-Headers`, left out when empty. Default empty.
    pub exposed_headers: Vec<String>,
    /// `Access-Control-Max-Age` on preflights, in whole seconds; `None` leaves it out.
    pub max_age: Option<Duration>,
    /// The status of a preflight response. Default `204 No Content`.
    pub options_success_status: StatusCode,
}

impl Default for Cors {
    fn default() -> Self {
        Cors {
            origin: CorsOrigin::Any,
            credentials: false,
            methods: "GET,HEAD,PUT,PATCH,POST,DELETE".to_owned(),
            allowed_headers: None,
            exposed_headers: Vec::new(),
            max_age: None,
            options_success_status: StatusCode::NO_CONTENT,
        }
    }
}

impl Cors {
    /// The answer to a preflight `OPTIONS`, headers in the `cors` package's order.
    pub(crate) fn preflight(&self, request: &HeaderMap) -> Response<Body> {
        let mut response = Response::new(Body::default());
        *response.status_mut() = self.options_success_status;
        let headers = response.headers_mut();
        self.origin_headers(request.get(ORIGIN), headers);
        self.credentials_header(headers);
        insert(headers, ACCESS_CONTROL_ALLOW_METHODS, &self.methods);
        self.allowed_headers(request, headers);
        if let Some(max_age) = self.max_age {
            insert(
                headers,
                ACCESS_CONTROL_MAX_AGE,
                &max_age.as_secs().to_string(),
            );
        }
        self.exposed_headers(headers);
        // The `cors` package sets `Content-Length: 0` because some browsers wait for a body
        // after a 204 without it. hyper leaves it out of a 204, as RFC 9110 (section 8.6)
        // requires ("MUST NOT send a Content-Length header field in any response with a
        // status code of ... 204"), and writes it for any other status.
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        response
    }

    /// Adds the headers of an actual (not preflight) response to a request from `origin`.
    pub(crate) fn decorate(&self, origin: Option<&HeaderValue>, response: &mut HeaderMap) {
        self.origin_headers(origin, response);
        self.credentials_header(response);
        self.exposed_headers(response);
    }

    fn origin_headers(&self, origin: Option<&HeaderValue>, response: &mut HeaderMap) {
        let allowed = match &self.origin {
            CorsOrigin::Any => {
                response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
                return;
            }
            CorsOrigin::Mirror => origin,
            CorsOrigin::List(list) => origin.filter(|origin| {
                list.iter()
                    .any(|allowed| allowed.as_bytes() == origin.as_bytes())
            }),
        };
        if let Some(origin) = allowed {
            response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        }
        vary(response, "Origin");
    }

    fn credentials_header(&self, response: &mut HeaderMap) {
        if self.credentials {
            response.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }

    fn allowed_headers(&self, request: &HeaderMap, response: &mut HeaderMap) {
        match &self.allowed_headers {
            None => {
                vary(response, "Access-Control-Request-Headers");
                if let Some(requested) = request
                    .get(ACCESS_CONTROL_REQUEST_HEADERS)
                    .filter(|value| !value.is_empty())
                {
                    response.insert(ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
                }
            }
            Some(list) if !list.is_empty() => {
                insert(response, ACCESS_CONTROL_ALLOW_HEADERS, &list.join(","));
            }
            Some(_) => {}
        }
    }

    fn exposed_headers(&self, response: &mut HeaderMap) {
        if !self.exposed_headers.is_empty() {
            insert(
                response,
                ACCESS_CONTROL_EXPOSE_HEADERS,
                &self.exposed_headers.join(","),
            );
        }
    }
}

/// Sets a configured header; a value that cannot be a header value is left out (and logged)
/// rather than failing the response.
fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => {
            headers.insert(name, value);
        }
        Err(_) => tracing::warn!(%name, value, "the configured CORS header is invalid"),
    }
}

/// Adds `field` to `Vary`, joining an existing value with `, ` as the `vary` package does.
fn vary(headers: &mut HeaderMap, field: &'static str) {
    let joined = match headers.get(VARY).and_then(|value| value.to_str().ok()) {
        Some(existing) if existing.split(',').any(|name| name.trim() == "*") => return,
        Some(existing)
            if existing
                .split(',')
                .any(|name| name.trim().eq_ignore_ascii_case(field)) =>
        {
            return
        }
        Some(existing) => format!("{existing}, {field}"),
        None => field.to_owned(),
    };
    if let Ok(value) = HeaderValue::from_str(&joined) {
        headers.insert(VARY, value);
    }
}
