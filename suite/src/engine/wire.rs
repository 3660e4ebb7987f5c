//! What every connection of a case shares: the target's address, the transcript, the connect
//! deadline; and tasks that end with their owner.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::error::{millis, StepError};
use super::transcript::Recorder;

/// The case's link to the target; cheap to clone into tasks.
#[derive(Debug, Clone)]
pub(crate) struct Wire {
    pub(crate) address: SocketAddr,
    pub(crate) recorder: Recorder,
    pub(crate) connect_timeout: Duration,
    connections: Arc<AtomicUsize>,
}

impl Wire {
    pub(crate) fn new(address: SocketAddr, recorder: Recorder, connect_timeout: Duration) -> Wire {
        Wire {
            address,
            recorder,
            connect_timeout,
            connections: Arc::default(),
        }
    }

    /// A fresh name for a connection in the transcript: `http#3`.
    pub(crate) fn channel(&self, kind: &str) -> String {
        let number = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{kind}#{number}")
    }

    /// Opens a TCP connection; failing that, the target is unreachable.
    pub(crate) async fn connect(&self) -> Result<TcpStream, StepError> {
        match tokio::time::timeout(self.connect_timeout, TcpStream::connect(self.address)).await {
            Ok(Ok(stream)) => {
                // Small packets go out at once; the suite measures timing.
                let _ = stream.set_nodelay(true);
                Ok(stream)
            }
            Ok(Err(error)) => Err(StepError::Unreachable(format!(
                "cannot connect to {}: {error}",
                self.address
            ))),
            Err(_) => Err(StepError::Unreachable(format!(
                "cannot connect to {} within {}",
                self.address,
                millis(self.connect_timeout)
            ))),
        }
    }
}

/// A spawned task that is aborted when this handle is dropped, so that nothing a case
/// started outlives it.
#[derive(Debug)]
pub(crate) struct AbortOnDrop<T>(pub(crate) JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
