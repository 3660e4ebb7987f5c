//! The Socket.IO server's options and their defaults, which are the official server's.

use std::time::Duration;

use super::recovery::ConnectionStateRecovery;
use crate::server::engine_io;
use crate::socket_io::DEFAULT_MAX_ATTACHMENTS;

/// The options of a Socket.IO server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The options of the Engine.IO server underneath. Its default path here is `/socket.io/`,
    /// as on the official server; the other defaults are Engine.IO's. With `allow_eio3` (off
    /// by default) the server also serves socket.io 1.x and 2.x clients, Socket.IO protocol 4
    /// over Engine.IO 3, as the official server's `allowEIO3` does; without it, `EIO=3` is
    /// refused.
    pub engine: engine_io::Config,
    /// How long a new connection may take to join its first namespace before it is closed
    /// (behaviors NS-09). Default 45 000 ms.
    pub connect_timeout: Duration,
    /// The most binary attachments one packet may declare (behaviors BN-07). Default 10.
    pub max_attachments: usize,
    /// Connection state recovery (behaviors CSR-01): `None`, the default, leaves it off, as
    /// on the official server; with it, CONNECT answers carry a `pid`, events carry offsets,
    /// and a client that lost its connection can get its socket back (see
    /// [`ConnectionStateRecovery`]).
    pub connection_state_recovery: Option<ConnectionStateRecovery>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engine: engine_io::Config {
                path: "/socket.io/".to_owned(),
                ..engine_io::Config::default()
            },
            connect_timeout: Duration::from_millis(45_000),
            max_attachments: DEFAULT_MAX_ATTACHMENTS,
            connection_state_recovery: None,
        }
    }
}
