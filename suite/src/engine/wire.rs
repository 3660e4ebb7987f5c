//! What every connection of a case shares: the target's address, the transcript, the connect
//! deadline, the limits on what is read from the target; and tasks that end with their owner.

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
    /// How much may be read from the target.
    pub(crate) limits: ReadLimits,
    connections: Arc<AtomicUsize>,
    /// What the case has read from the target so far, counted against
    /// [`ReadLimits::case`].
    received: Arc<AtomicUsize>,
}

impl Wire {
    pub(crate) fn new(
        address: SocketAddr,
        recorder: Recorder,
        connect_timeout: Duration,
        limits: ReadLimits,
    ) -> Wire {
        Wire {
            address,
            recorder,
            connect_timeout,
            limits,
            connections: Arc::default(),
            received: Arc::default(),
        }
    }

    /// Counts something read from the target (a response, a frame, `bytes` long) against the
    /// case's limit; over it, the error to end the reading with.
    pub(crate) fn count_received(&self, bytes: usize) -> Result<(), String> {
        let cost = bytes.saturating_add(ReadLimits::ITEM_OVERHEAD);
        let before = self.received.fetch_add(cost, Ordering::Relaxed);
        if before.saturating_add(cost) > self.limits.case {
            Err(self.limits.case_exceeded())
        } else {
            Ok(())
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

/// How much the engine reads from a target, at most: a target that answers with an endless
/// body, a huge header or a frame announcing gigabytes must get a FAIL that names the limit,
/// not exhaust the runner's memory. Every limit but the head's comes from the `maxPayload`
/// the target declares, so that a target declaring a large one gets room for it.
///
/// Time is bounded elsewhere (every read has its step's deadline); these bound the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadLimits {
    /// The target's declared `maxPayload`, for messages.
    pub(crate) max_payload: u64,
    /// An HTTP response head (status line and headers): [`ReadLimits::HEAD`].
    pub(crate) head: usize,
    /// An HTTP response body, a WebSocket message and a WebSocket frame: 4 × `maxPayload` +
    /// 1 MiB. A polling response may carry several packets (the official server batches up
    /// to `maxPayload` of them, and base64 makes binary ones a third larger), and a server
    /// may send a message larger than the `maxPayload` it accepts; four times it, plus room
    /// for a small `maxPayload`, is well above what a conforming target sends.
    pub(crate) message: usize,
    /// Everything read in one case, responses and frames together, each counted with
    /// [`ReadLimits::ITEM_OVERHEAD`] for what keeping it costs: 8 × `maxPayload` + 8 MiB. A
    /// target that floods the engine with small frames or answers every poll at once with a
    /// full body would otherwise fill the transcript and the queues until the step's
    /// deadline; a conforming target sends a few messages of at most `maxPayload` in a case.
    pub(crate) case: usize,
}

impl ReadLimits {
    /// The most of an HTTP response head: 64 KiB. The WebSocket library bounds the head of a
    /// handshake's response at the same size by itself (and by the number of reads).
    pub(crate) const HEAD: usize = 64 * 1024;

    /// What each response or frame costs against [`ReadLimits::case`] beyond its bytes: its
    /// transcript events (a ping's pong is one more), its queue entry, and the room a growing
    /// transcript keeps spare; measured at about 1 KiB for a flood of one-byte pings.
    pub(crate) const ITEM_OVERHEAD: usize = 1024;

    const MIB: usize = 1024 * 1024;

    /// The limits for a target that declares `max_payload`.
    pub(crate) fn for_max_payload(max_payload: u64) -> ReadLimits {
        let payload = usize::try_from(max_payload).unwrap_or(usize::MAX);
        ReadLimits {
            max_payload,
            head: Self::HEAD,
            message: payload.saturating_mul(4).saturating_add(Self::MIB),
            case: payload.saturating_mul(8).saturating_add(8 * Self::MIB),
        }
    }

    /// The error of a response head longer than [`ReadLimits::head`].
    pub(crate) fn head_exceeded(&self) -> String {
        format!(
            "a response head longer than the engine's limit of {} bytes",
            self.head
        )
    }

    /// The error of a body, a message or a frame of `size` bytes (when known) over
    /// [`ReadLimits::message`].
    pub(crate) fn message_exceeded(&self, what: &str, size: Option<u64>) -> String {
        let size = size.map_or_else(String::new, |size| format!(" of {size} bytes"));
        format!(
            "{what}{size} longer than the engine's limit of {} bytes (4 × the declared \
             maxPayload {} + 1 MiB)",
            self.message, self.max_payload
        )
    }

    /// The error of a case that has read more than [`ReadLimits::case`].
    fn case_exceeded(&self) -> String {
        format!(
            "the target sent more than the engine reads in one case: {} bytes (8 × the \
             declared maxPayload {} + 8 MiB, each response or frame counted {} bytes more)",
            self.case,
            self.max_payload,
            Self::ITEM_OVERHEAD
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_follow_max_payload() {
        let limits = ReadLimits::for_max_payload(1_000_000);
        assert_eq!(
            (limits.head, limits.message, limits.case),
            (65_536, 5_048_576, 16_388_608)
        );
        // A maxPayload no machine holds saturates instead of overflowing.
        assert_eq!(ReadLimits::for_max_payload(u64::MAX).message, usize::MAX);
    }

    #[test]
    fn a_case_reads_up_to_its_limit() {
        let limits = ReadLimits::for_max_payload(0);
        let address = SocketAddr::from(([127, 0, 0, 1], 9));
        let wire = Wire::new(address, Recorder::new(), Duration::from_secs(1), limits);
        let item = 1024 * 1024 - ReadLimits::ITEM_OVERHEAD;
        for _ in 0..8 {
            assert_eq!(wire.count_received(item), Ok(()));
        }
        let error = wire.count_received(0).expect_err("over the limit");
        assert!(error.contains("8388608 bytes"), "{error}");
        // Clones share the count: it is the case's.
        assert!(wire.clone().count_received(0).is_err());
    }
}
