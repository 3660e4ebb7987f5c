//! A TCP relay in front of a server that reads the request line of every HTTP request the
//! client makes to `/socket.io/`, so that a test can count Engine.IO sessions from the wire:
//! a request without `sid` opens a session (the handshake), every later one names its `sid`.
//! It works alike for every server and transport (a WebSocket's request line is read before
//! the upgrade; the frames after it are relayed untouched).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The request-line prefixes looked for.
const PREFIXES: [&[u8]; 2] = [b"GET /socket.io/?", b"POST /socket.io/?"];
/// The end of a request target.
const TARGET_END: &[u8] = b" HTTP/1.1\r\n";
/// A request target longer than this is not one the client makes: the match is dropped.
const MAX_TARGET: usize = 4096;

/// One request the client made: its transport and session id, from its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSeen {
    /// `transport`.
    pub transport: Option<String>,
    /// `sid`, absent on a handshake.
    pub sid: Option<String>,
}

/// The relay: listen on [`SessionProbe::address`] instead of the server's.
#[derive(Debug)]
pub struct SessionProbe {
    address: SocketAddr,
    seen: Arc<Mutex<Vec<RequestSeen>>>,
    accepting: JoinHandle<()>,
}

impl Drop for SessionProbe {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl SessionProbe {
    /// A relay to `upstream` on a port of the system's choosing.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<SessionProbe> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recording = Arc::clone(&seen);
        let accepting = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let recording = Arc::clone(&recording);
                tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(upstream).await {
                        relay(inbound, outbound, recording).await;
                    }
                });
            }
        });
        Ok(SessionProbe {
            address,
            seen,
            accepting,
        })
    }

    /// Where the client connects.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Every request seen so far, in order.
    pub fn requests(&self) -> Vec<RequestSeen> {
        self.seen
            .lock()
            .map(|seen| seen.clone())
            .unwrap_or_default()
    }
}

/// Relays both ways until either side ends; reads the client's bytes for request lines.
async fn relay(inbound: TcpStream, outbound: TcpStream, seen: Arc<Mutex<Vec<RequestSeen>>>) {
    let (mut client_read, mut client_write) = inbound.into_split();
    let (mut server_read, mut server_write) = outbound.into_split();
    let upstream = async move {
        let mut scanner = RequestScanner::default();
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(read) = client_read.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            let found = scanner.scan(&buffer[..read]);
            if let Ok(mut seen) = seen.lock() {
                seen.extend(found);
            }
            if server_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}

/// Finds request lines in a byte stream that arrives in pieces.
#[derive(Debug, Default)]
struct RequestScanner {
    pending: Vec<u8>,
}

impl RequestScanner {
    fn scan(&mut self, chunk: &[u8]) -> Vec<RequestSeen> {
        self.pending.extend_from_slice(chunk);
        let mut found = Vec::new();
        let mut consumed = 0;
        loop {
            let rest = &self.pending[consumed..];
            let Some((at, prefix_len)) = first_prefix(rest) else {
                // Keep a tail that may be the start of a prefix split across reads.
                let keep = rest.len().min(PREFIXES[1].len());
                consumed = self.pending.len() - keep;
                break;
            };
            let target = &rest[at + prefix_len..];
            match find(target, TARGET_END) {
                Some(end) => {
                    found.push(parse_query(&String::from_utf8_lossy(&target[..end])));
                    consumed += at + prefix_len + end;
                }
                None if target.len() > MAX_TARGET => consumed += at + prefix_len,
                None => {
                    consumed += at;
                    break;
                }
            }
        }
        self.pending.drain(..consumed);
        found
    }
}

fn first_prefix(bytes: &[u8]) -> Option<(usize, usize)> {
    PREFIXES
        .iter()
        .filter_map(|prefix| find(bytes, prefix).map(|at| (at, prefix.len())))
        .min()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn parse_query(query: &str) -> RequestSeen {
    let value = |name: &str| {
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    };
    RequestSeen {
        transport: value("transport"),
        sid: value("sid"),
    }
}

/// The scanner's own checks, run as part of the battery.
pub fn self_check() -> Result<(), String> {
    let mut scanner = RequestScanner::default();
    let mut found = scanner.scan(b"GET /socket.io/?EIO=4&transport=polling&t=1 HTT");
    found.extend(scanner.scan(b"P/1.1\r\nHost: x\r\n\r\nPOST /socket.io/?EIO=4&trans"));
    found.extend(scanner.scan(b"port=polling&sid=abc HTTP/1.1\r\n\r\n4:42[]GE"));
    found.extend(scanner.scan(b"T /socket.io/?EIO=4&transport=websocket&sid=abc HTTP/1.1\r\n"));
    let expected = vec![
        RequestSeen {
            transport: Some("polling".into()),
            sid: None,
        },
        RequestSeen {
            transport: Some("polling".into()),
            sid: Some("abc".into()),
        },
        RequestSeen {
            transport: Some("websocket".into()),
            sid: Some("abc".into()),
        },
    ];
    if found == expected {
        Ok(())
    } else {
        Err(format!("expected {expected:?}, found {found:?}"))
    }
}
