//! A server's base URL, `http://host:port`: what `--target`, a profile's `url` and a started
//! target's `listening on <url>` line give.

use std::net::{SocketAddr, ToSocketAddrs};

/// A server's base URL: `http://host:port`, with no path beyond `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// The host name or address.
    pub host: String,
    /// The port (80 when the URL has none).
    pub port: u16,
}

impl BaseUrl {
    /// Parses `http://host[:port][/]`.
    pub fn parse(url: &str) -> Result<BaseUrl, String> {
        let bad = |why: &str| format!("the URL {url:?} {why}: write it as http://host:port");
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") || url.starts_with("wss://") {
            return Err(bad("uses TLS, which the runner does not support yet"));
        } else {
            return Err(bad("is not an http:// URL"));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) {
            return Err(bad(
                "has a path or more; give the paths in a profile (`paths`)",
            ));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            // [::1]:3000
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| bad("has an unclosed `[`"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        let port = match port {
            None => 80,
            Some(port) => port
                .parse::<u16>()
                .map_err(|_| bad("has a port that is not a number from 0 to 65535"))?,
        };
        Ok(BaseUrl {
            host: host.to_owned(),
            port,
        })
    }

    /// Resolves the host to an address.
    pub fn resolve(&self) -> Result<SocketAddr, String> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|error| format!("cannot resolve {}: {error}", self.host))?
            .next()
            .ok_or_else(|| format!("{} resolves to no address", self.host))
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "http://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "http://{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let url = BaseUrl::parse("http://127.0.0.1:3000").expect("parses");
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 3000));
        let url = BaseUrl::parse("http://localhost/").expect("parses");
        assert_eq!((url.host.as_str(), url.port), ("localhost", 80));
        let url = BaseUrl::parse("http://[::1]:4000").expect("parses");
        assert_eq!((url.host.as_str(), url.port), ("::1", 4000));
        assert_eq!(url.to_string(), "http://[::1]:4000");
        assert!(BaseUrl::parse("https://x").is_err());
        assert!(BaseUrl::parse("127.0.0.1:3000").is_err());
        assert!(BaseUrl::parse("http://x:99999").is_err());
        assert!(BaseUrl::parse("http://x:3000/socket.io/").is_err());
    }
}
