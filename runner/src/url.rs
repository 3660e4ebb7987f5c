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

/// Why a text is not a base URL the runner can test: each variant carries the text given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// `https://` or `wss://`: the runner speaks plain HTTP only.
    #[error("the URL {url:?} uses TLS, which the runner does not support yet: write it as http://host:port")]
    Tls {
        /// The URL as given.
        url: String,
    },
    /// Another scheme, or none.
    #[error("the URL {url:?} is not an http:// URL: write it as http://host:port")]
    NotHttp {
        /// The URL as given.
        url: String,
    },
    /// A path (beyond `/`), a query, a fragment or user information: the paths are the
    /// profile's.
    #[error("the URL {url:?} has a path or more; give the paths in a profile (`paths`): write it as http://host:port")]
    PathOrMore {
        /// The URL as given.
        url: String,
    },
    /// `http://[::1` with no `]`.
    #[error("the URL {url:?} has an unclosed `[`: write it as http://host:port")]
    UnclosedBracket {
        /// The URL as given.
        url: String,
    },
    /// `http://:3000`.
    #[error("the URL {url:?} has no host: write it as http://host:port")]
    NoHost {
        /// The URL as given.
        url: String,
    },
    /// A port that is not a number from 0 to 65535.
    #[error("the URL {url:?} has a port that is not a number from 0 to 65535: write it as http://host:port")]
    BadPort {
        /// The URL as given.
        url: String,
        /// The port as given.
        port: String,
    },
}

/// Why a base URL's host gives no address to connect to.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The name lookup failed.
    #[error("cannot resolve {host}: {source}")]
    Lookup {
        /// The host.
        host: String,
        /// The lookup's error.
        source: std::io::Error,
    },
    /// The name lookup gave no address.
    #[error("{host} resolves to no address")]
    NoAddress {
        /// The host.
        host: String,
    },
}

impl BaseUrl {
    /// Parses `http://host[:port][/]`.
    pub fn parse(url: &str) -> Result<BaseUrl, UrlError> {
        let url_given = || url.to_owned();
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") || url.starts_with("wss://") {
            return Err(UrlError::Tls { url: url_given() });
        } else {
            return Err(UrlError::NotHttp { url: url_given() });
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) {
            return Err(UrlError::PathOrMore { url: url_given() });
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            // [::1]:3000
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| UrlError::UnclosedBracket { url: url_given() })?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(UrlError::NoHost { url: url_given() });
        }
        let port = match port {
            None => 80,
            Some(port) => port.parse::<u16>().map_err(|_| UrlError::BadPort {
                url: url_given(),
                port: port.to_owned(),
            })?,
        };
        Ok(BaseUrl {
            host: host.to_owned(),
            port,
        })
    }

    /// Resolves the host to an address.
    pub fn resolve(&self) -> Result<SocketAddr, ResolveError> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|source| ResolveError::Lookup {
                host: self.host.clone(),
                source,
            })?
            .next()
            .ok_or_else(|| ResolveError::NoAddress {
                host: self.host.clone(),
            })
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
        assert!(matches!(
            BaseUrl::parse("https://x"),
            Err(UrlError::Tls { .. })
        ));
        assert!(matches!(
            BaseUrl::parse("127.0.0.1:3000"),
            Err(UrlError::NotHttp { .. })
        ));
        assert_eq!(
            BaseUrl::parse("http://x:99999"),
            Err(UrlError::BadPort {
                url: "http://x:99999".to_owned(),
                port: "99999".to_owned()
            })
        );
        assert!(matches!(
            BaseUrl::parse("http://x:3000/socket.io/"),
            Err(UrlError::PathOrMore { .. })
        ));
        assert!(matches!(
            BaseUrl::parse("http://[::1:3000"),
            Err(UrlError::UnclosedBracket { .. })
        ));
        assert!(matches!(
            BaseUrl::parse("http://:3000"),
            Err(UrlError::NoHost { .. })
        ));
        let error = BaseUrl::parse("ftp://x").expect_err("not http");
        assert_eq!(
            error.to_string(),
            "the URL \"ftp://x\" is not an http:// URL: write it as http://host:port"
        );
    }
}
