//! The cookie jar of `withCredentials`, as the official Node.js client keeps it: a cookie a
//! polling response sets (`Set-Cookie`) is sent back (`cookie: name=value`) on the session's
//! later polling requests and on the WebSocket handshake of its upgrade. Load balancers'
//! sticky sessions depend on it; the Engine.IO spec does not mention cookies.
//!
//! One jar per session attempt, as the official client makes one per Engine.IO socket: a
//! reconnection starts empty. Only what the official jar reads is read: the name and value,
//! `Max-Age` (zero or less deletes the cookie) and `Expires`; `Path`, `Domain` and the other
//! attributes are ignored, since every request goes to the one server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// The jar, shared by a session's concurrent requests.
pub(crate) type SharedJar = Arc<Mutex<CookieJar>>;

/// The cookies of one session attempt, in the order they were first set.
#[derive(Debug, Default)]
pub(crate) struct CookieJar {
    cookies: Vec<Cookie>,
}

#[derive(Debug)]
struct Cookie {
    name: String,
    value: String,
    /// When it stops being sent; `None`: for the whole session.
    expires: Option<Instant>,
}

impl CookieJar {
    /// A new, empty jar to share.
    pub(crate) fn shared() -> SharedJar {
        Arc::new(Mutex::new(CookieJar::default()))
    }

    /// Keeps what one `Set-Cookie` header value says, at `now`; a value that is not
    /// `name=value` is ignored.
    pub(crate) fn store(&mut self, set_cookie: &str, now: Instant) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
            return;
        };
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let mut expires = None;
        for attribute in parts {
            let (key, argument) = attribute.split_once('=').unwrap_or((attribute, ""));
            let (key, argument) = (key.trim(), argument.trim());
            if key.eq_ignore_ascii_case("max-age") {
                // Max-Age wins over Expires (RFC 6265, 5.3).
                if let Ok(seconds) = argument.parse::<i64>() {
                    expires = Some(after(now, seconds));
                    break;
                }
            } else if key.eq_ignore_ascii_case("expires") {
                if let Ok(at) = httpdate::parse_http_date(argument) {
                    expires = Some(match at.duration_since(SystemTime::now()) {
                        Ok(left) => Some(now + left),
                        Err(_) => None,
                    });
                }
            }
        }
        self.cookies.retain(|cookie| cookie.name != name);
        match expires {
            // Already expired: the server deletes it.
            Some(None) => {}
            Some(Some(at)) if at <= now => {}
            Some(at) => self.cookies.push(Cookie {
                name: name.to_owned(),
                value: value.trim().to_owned(),
                expires: at,
            }),
            None => self.cookies.push(Cookie {
                name: name.to_owned(),
                value: value.trim().to_owned(),
                expires: None,
            }),
        }
    }

    /// The `cookie` header value at `now` (`a=1; b=2`), or `None` for an empty jar.
    pub(crate) fn header(&mut self, now: Instant) -> Option<String> {
        self.cookies
            .retain(|cookie| cookie.expires.is_none_or(|at| at > now));
        if self.cookies.is_empty() {
            return None;
        }
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|cookie| format!("{}={}", cookie.name, cookie.value))
            .collect();
        Some(pairs.join("; "))
    }
}

/// `now` plus `seconds`; `None` (expired) for zero or less.
fn after(now: Instant, seconds: i64) -> Option<Instant> {
    u64::try_from(seconds)
        .ok()
        .filter(|seconds| *seconds > 0)
        .and_then(|seconds| now.checked_add(Duration::from_secs(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_set_is_sent_back_with_the_others_in_order() {
        let now = Instant::now();
        let mut jar = CookieJar::default();
        assert_eq!(jar.header(now), None);
        jar.store("lb=node1; Path=/; HttpOnly", now);
        jar.store("session = abc ", now);
        assert_eq!(jar.header(now).as_deref(), Some("lb=node1; session=abc"));
        jar.store("lb=node2", now);
        assert_eq!(jar.header(now).as_deref(), Some("session=abc; lb=node2"));
    }

    #[test]
    fn max_age_bounds_a_cookie_and_zero_deletes_it() {
        let now = Instant::now();
        let mut jar = CookieJar::default();
        jar.store("a=1; Max-Age=10", now);
        jar.store("b=2", now);
        assert_eq!(jar.header(now).as_deref(), Some("a=1; b=2"));
        assert_eq!(
            jar.header(now + Duration::from_secs(11)).as_deref(),
            Some("b=2")
        );
        jar.store("b=2; Max-Age=0", now);
        assert_eq!(jar.header(now), None);
    }

    #[test]
    fn expires_in_the_past_deletes_and_max_age_wins_over_it() {
        let now = Instant::now();
        let mut jar = CookieJar::default();
        jar.store("a=1", now);
        jar.store("a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT", now);
        assert_eq!(jar.header(now), None);
        jar.store(
            "c=3; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60",
            now,
        );
        assert_eq!(jar.header(now).as_deref(), Some("c=3"));
        jar.store("d=4; Expires=Fri, 01 Jan 2100 00:00:00 GMT", now);
        assert_eq!(jar.header(now).as_deref(), Some("c=3; d=4"));
    }

    #[test]
    fn a_value_without_a_name_is_ignored() {
        let now = Instant::now();
        let mut jar = CookieJar::default();
        jar.store("novalue", now);
        jar.store("=x", now);
        assert_eq!(jar.header(now), None);
    }
}
