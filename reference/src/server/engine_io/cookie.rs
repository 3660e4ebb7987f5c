//! The `io` cookie: the sid sent as a cookie on the polling handshake, for sticky sessions
//! behind a load balancer (behavior HS-23).

use std::time::Duration;

use http::HeaderValue;

/// The `SameSite` attribute of the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`, the default.
    Lax,
    /// `SameSite=None`; browsers then require [`Cookie::secure`].
    None,
}

/// The cookie that carries the sid, set on the polling handshake response only.
///
/// With the defaults the handshake response carries
/// `Set-Cookie: io=<sid>; Path=/; HttpOnly; SameSite=Lax`, as on the official server with
/// `cookie: true`. The attributes come in the official order: `Max-Age`, `Domain`, `Path`,
/// `HttpOnly`, `Secure`, `SameSite`.
///
/// ```
/// use sio_reference::server::engine_io::{Config, Cookie, SameSite};
///
/// let config = Config {
///     cookie: Some(Cookie {
///         name: "sticky".to_owned(),
///         path: None,
///         same_site: Some(SameSite::Strict),
///         ..Cookie::default()
///     }),
///     ..Config::default()
/// };
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// The cookie's name. Default `io`.
    pub name: String,
    /// `Path`; `None` leaves the attribute out. Default `/`.
    pub path: Option<String>,
    /// `Domain`; `None` leaves it out. Default `None`.
    pub domain: Option<String>,
    /// `Max-Age`, in whole seconds; `None` (a session cookie) leaves it out. Default `None`.
    pub max_age: Option<Duration>,
    /// `HttpOnly`. Default true.
    pub http_only: bool,
    /// `Secure`. Default false.
    pub secure: bool,
    /// `SameSite`; `None` leaves it out. Default `Lax`.
    pub same_site: Option<SameSite>,
}

impl Default for Cookie {
    fn default() -> Self {
        Cookie {
            name: "io".to_owned(),
            path: Some("/".to_owned()),
            domain: None,
            max_age: None,
            http_only: true,
            secure: false,
            same_site: Some(SameSite::Lax),
        }
    }
}

impl Cookie {
    /// The `Set-Cookie` value for a session, or `None` when the configured name or attributes
    /// cannot go in a header (the official server throws in that case; a handshake without
    /// its cookie is the gentler failure).
    pub(crate) fn header(&self, sid: &str) -> Option<HeaderValue> {
        let attributes = [self.path.as_deref(), self.domain.as_deref()];
        if !is_token(&self.name) || attributes.into_iter().flatten().any(|a| a.contains(';')) {
            tracing::warn!(cookie = ?self, "the configured cookie is not a valid cookie");
            return None;
        }
        // The sid is base64url, which needs no cookie encoding.
        let mut cookie = format!("{}={sid}", self.name);
        if let Some(max_age) = self.max_age {
            cookie.push_str(&format!("; Max-Age={}", max_age.as_secs()));
        }
        if let Some(domain) = &self.domain {
            cookie.push_str(&format!("; Domain={domain}"));
        }
        if let Some(path) = &self.path {
            cookie.push_str(&format!("; Path={path}"));
        }
        if self.http_only {
            cookie.push_str("; HttpOnly");
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        if let Some(same_site) = self.same_site {
            cookie.push_str(match same_site {
                SameSite::Strict => "; SameSite=Strict",
                SameSite::Lax => "; SameSite=Lax",
                SameSite::None => "; SameSite=None",
            });
        }
        let value = HeaderValue::from_str(&cookie).ok();
        if value.is_none() {
            tracing::warn!(cookie, "the configured cookie cannot be sent in a header");
        }
        value
    }
}

/// Whether `name` is an HTTP token (RFC 9110 `tchar`s), as a cookie name must be.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}
