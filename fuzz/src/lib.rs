//! What the fuzz targets share: the reader of their input and, next to it, the writers of
//! their seed inputs, so that one format is defined in one place.
//!
//! Every target reads its input the same way: single bytes that choose a version or a mode,
//! and chunks (a two-byte little-endian length, then that many bytes, cut short at the end of
//! the input). A byte or a chunk read past the end is zero or empty, so any input is a valid
//! one and the fuzzer never wastes runs on a refused framing.

/// A cursor over a fuzz input.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    /// Whether the input is used up.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte; 0 past the end.
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&byte, rest)) => {
                self.data = rest;
                byte
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    /// The next chunk: a `u16` length, then up to that many bytes.
    pub fn chunk(&mut self) -> &'a [u8] {
        let length = usize::from(self.u16()).min(self.data.len());
        let (chunk, rest) = self.data.split_at(length);
        self.data = rest;
        chunk
    }

    /// Everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

/// Writes the inputs [`Input`] reads: the seeds of the targets.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    bytes: Vec<u8>,
}

impl Seed {
    /// An empty input.
    pub fn new() -> Seed {
        Seed::default()
    }

    /// Appends a byte.
    pub fn byte(mut self, byte: u8) -> Seed {
        self.bytes.push(byte);
        self
    }

    /// Appends a chunk; a longer one is cut at `u16::MAX` bytes.
    pub fn chunk(mut self, chunk: &[u8]) -> Seed {
        let chunk = &chunk[..chunk.len().min(usize::from(u16::MAX))];
        let length = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
        self.bytes.extend_from_slice(&length.to_le_bytes());
        self.bytes.extend_from_slice(chunk);
        self
    }

    /// Appends bytes as they are (the rest of an input).
    pub fn raw(mut self, bytes: &[u8]) -> Seed {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// The input.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The choices of the `server_http` target, shared with its seeds.
pub mod http_request {
    /// The methods a request may have, by the low three bits of its first byte.
    pub const METHODS: [&str; 8] = [
        "GET", "POST", "OPTIONS", "PUT", "HEAD", "DELETE", "PATCH", "GET",
    ];
    /// The paths a request may go to, by the next three bits: the Socket.IO server, the
    /// Engine.IO echo (protocols 4 and 3), and paths beside them.
    pub const PATHS: [&str; 8] = [
        "/socket.io/",
        "/engine.io/",
        "/engine.io/",
        "/socket.io",
        "/",
        "/socket.io/x/y",
        "/engine.io/../socket.io/",
        "/other",
    ];
    /// The `EIO` values, by two bits of the query byte.
    pub const EIO: [Option<&str>; 4] = [None, Some("4"), Some("3"), Some("5")];
    /// The `transport` values, by two more.
    pub const TRANSPORTS: [Option<&str>; 4] = [
        None,
        Some("polling"),
        Some("websocket"),
        Some("flashsocket"),
    ];

    /// Query byte: `EIO` index in bits 0-1, transport in bits 2-3, the sid in bits 4-5 (none,
    /// the first session's, the last session's, a made-up one), `b64=1` in bit 6, `t=…` in
    /// bit 7.
    pub fn query_byte(eio: u8, transport: u8, sid: u8, b64: bool, stamp: bool) -> u8 {
        (eio & 3)
            | (transport & 3) << 2
            | (sid & 3) << 4
            | u8::from(b64) << 6
            | u8::from(stamp) << 7
    }

    /// Header byte, one header per bit: `Upgrade: websocket`, `Connection: Upgrade`,
    /// `Sec-WebSocket-Key` and `-Version`, `Origin`, `Content-Type: text/plain`,
    /// `Content-Type: application/octet-stream`, `Cookie: io=…`, and
    /// `Access-Control-Request-Method`.
    pub const UPGRADE_HEADERS: u8 = 0b0000_0111;
}
