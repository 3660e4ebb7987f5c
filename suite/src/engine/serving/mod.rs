//! The engine playing the server, for client-role cases: it listens on a fresh port of
//! 127.0.0.1, starts the client under test from its profile's command with its settings in
//! the environment (`docs/client-contract.md`), scripts the server's side of the wire step by
//! step, and judges what the client does on the wire and what it reports.
//!
//! - [`listener`]: the HTTP server, routing each request to its session or to the steps;
//! - [`session`]: the server's side of the abstract Engine.IO session (polling, WebSocket,
//!   upgrade, the server's half of the heartbeat);
//! - [`program`]: the client under test as a running program (cues in, reports out);
//! - [`execute`]: the step interpreter.
//!
//! Everything a case starts ends with it: the program is killed, the listener and every
//! session's tasks are dropped.

mod execute;
mod listener;
mod program;
mod session;

use std::time::Duration;

pub use program::{Backoff, ClientProgram};

pub(crate) use execute::run;

use crate::scenario::{OptionName, ServerSettings, TimingOptions};

/// The timing options of a client-role case: the ones the engine announces as the server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServedOptions(pub(crate) ServerSettings);

impl TimingOptions for ServedOptions {
    fn option(&self, name: OptionName) -> Duration {
        match name {
            OptionName::PingInterval => Duration::from_millis(self.0.ping_interval),
            OptionName::PingTimeout => Duration::from_millis(self.0.ping_timeout),
            // Not announced to a client; the official defaults, for scenarios that name them.
            OptionName::ConnectTimeout => Duration::from_millis(45_000),
            OptionName::UpgradeTimeout => Duration::from_millis(10_000),
            OptionName::MaxDisconnectionDuration => Duration::from_millis(120_000),
        }
    }
}
