//! The implementation under test, as the engine sees it: where it listens, its paths, the
//! options it declares, the features it has; and the knobs of a run.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use super::serving::ClientProgram;
use crate::scenario::{Feature, OptionName, TimingOptions};

/// A server under test.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where it listens.
    pub address: SocketAddr,
    /// The path of its Engine.IO-only endpoint, such as `/engine.io/`.
    pub engine_io_path: String,
    /// The path of its Engine.IO endpoint for protocol 3 (`EIO=3`, the official server's
    /// `allowEIO3`), which `eio: [3]` cases use: the fixture contract's `/engine.io-v3/`, or
    /// the same as `engine_io_path` for a server that speaks both versions there.
    pub engine_io_v3_path: String,
    /// The path of its Socket.IO endpoint, such as `/socket.io/`.
    pub socket_io_path: String,
    /// The path of its Socket.IO endpoint with connection state recovery on, which
    /// `endpoint: socket.io-recovery` cases use: the fixture contract's `/socket.io-recovery/`.
    pub socket_io_recovery_path: String,
    /// The options it declares; timing windows are computed from them.
    pub options: DeclaredOptions,
    /// The features it has; `None` means all of them. Cases needing a missing feature are
    /// UNSUPPORTED.
    pub features: Option<BTreeSet<Feature>>,
    /// The one Engine.IO protocol its server speaks, when it speaks only one (3 for a
    /// socket.io 2.x server); `None`, both (protocol 3 behind the `eio3` feature). Server-role
    /// cases of the other version are UNSUPPORTED.
    pub server_eio: Option<u8>,
    /// The client under test, for client-role cases (`docs/client-contract.md`); without one,
    /// those cases are UNSUPPORTED.
    pub client: Option<ClientProgram>,
}

impl Target {
    /// A target at `address` with the fixture contract's paths and options.
    pub fn fixture(address: SocketAddr) -> Target {
        Target {
            address,
            engine_io_path: "/engine.io/".to_owned(),
            engine_io_v3_path: "/engine.io-v3/".to_owned(),
            socket_io_path: "/socket.io/".to_owned(),
            socket_io_recovery_path: "/socket.io-recovery/".to_owned(),
            options: DeclaredOptions::fixture_contract(),
            features: None,
            server_eio: None,
            client: None,
        }
    }

    /// The Engine.IO endpoint that serves protocol version `eio`.
    pub fn engine_io_path_for(&self, eio: u8) -> &str {
        if eio == 3 {
            &self.engine_io_v3_path
        } else {
            &self.engine_io_path
        }
    }
}

/// The server options a target declares, as its handshake should announce them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredOptions {
    /// `pingInterval`.
    pub ping_interval: Duration,
    /// `pingTimeout`.
    pub ping_timeout: Duration,
    /// Socket.IO's `connectTimeout`.
    pub connect_timeout: Duration,
    /// `upgradeTimeout`.
    pub upgrade_timeout: Duration,
    /// `maxPayload` (`maxHttpBufferSize` on the official server), in bytes.
    pub max_payload: u64,
    /// `maxDisconnectionDuration` of the recovery endpoint.
    pub max_disconnection_duration: Duration,
}

impl DeclaredOptions {
    /// The official test suites' fixture: pingInterval 300, pingTimeout 200, connectTimeout
    /// 1000, maxPayload 1000000, and the official default upgradeTimeout 10000; and the
    /// contract's maxDisconnectionDuration 2000 of its recovery endpoint.
    pub fn fixture_contract() -> DeclaredOptions {
        DeclaredOptions {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            connect_timeout: Duration::from_millis(1000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            max_disconnection_duration: Duration::from_millis(2000),
        }
    }
}

impl TimingOptions for DeclaredOptions {
    fn option(&self, name: OptionName) -> Duration {
        match name {
            OptionName::PingInterval => self.ping_interval,
            OptionName::PingTimeout => self.ping_timeout,
            OptionName::ConnectTimeout => self.connect_timeout,
            OptionName::UpgradeTimeout => self.upgrade_timeout,
            OptionName::MaxDisconnectionDuration => self.max_disconnection_duration,
        }
    }
}

/// How a run treats time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunOptions {
    /// Multiplies every deadline and every window's upper bound (never a lower bound or a
    /// silence): 2.0 for a slow machine.
    pub time_scale: f64,
    /// How long a step waits for what it expects when it gives no window (before scaling).
    pub step_timeout: Duration,
    /// How long opening a TCP connection may take before the target counts as unreachable
    /// (before scaling).
    pub connect_timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            time_scale: 1.0,
            step_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
        }
    }
}

impl RunOptions {
    /// `duration` times the time scale.
    pub fn scaled(&self, duration: Duration) -> Duration {
        duration.mul_f64(self.time_scale.max(0.0))
    }
}
