//! `sio-conformance soak`: many WebSocket and polling connections connecting, echoing once,
//! held together, then disconnecting, in cycles; the target's resident memory and open file
//! descriptors are measured at a baseline (after the warm-up cycles, once the descriptors have
//! settled) and after the last cycle (once they are back, or a settling time has passed). The
//! verdict is PASS when both are within the tolerance (10 %) above the baseline and every
//! connection did its part.
//!
//! Connections are held until all of a cycle's are connected, so the peak is the cycle's whole
//! count at once; each polling session is one TCP connection (see [`super::polling`]), so a
//! cycle needs one descriptor per connection on each side: the counts must stay under both
//! processes' descriptor limit (`ulimit -n`).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::bench::{hold_websocket, polling_round_trip};
use super::polling::PollingClient;
use super::procfs::{self, Usage};
use super::websocket::WebSocketClient;
use super::{wire, Endpoint, LoadError};

/// How a soak runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoakSettings {
    /// WebSocket connections per cycle.
    pub websocket: usize,
    /// Polling sessions per cycle.
    pub polling: usize,
    /// Warm-up cycles, before the baseline.
    pub warm_up: usize,
    /// Measured cycles, after the warm-up cycles.
    pub cycles: usize,
    /// How many connections are being set up at once.
    pub concurrency: usize,
    /// How far above the baseline the memory and descriptors may end, in percent.
    pub tolerance_percent: f64,
    /// Every single wait's deadline, in seconds.
    pub timeout_s: f64,
    /// How long the target's descriptors may take to come back after a cycle, in seconds.
    pub settle_s: f64,
}

impl Default for SoakSettings {
    fn default() -> Self {
        SoakSettings {
            websocket: 5000,
            polling: 5000,
            warm_up: 2,
            cycles: 5,
            concurrency: 200,
            tolerance_percent: 10.0,
            timeout_s: 30.0,
            settle_s: 10.0,
        }
    }
}

/// One cycle's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cycle {
    /// Its number, from 0; the first [`SoakSettings::warm_up`] are the warm-up.
    pub cycle: usize,
    /// Whether it is a warm-up cycle (before the baseline).
    pub warm_up: bool,
    /// Connections that connected, echoed and closed.
    pub completed: u64,
    /// Connections that failed (connect, echo, heartbeat or close).
    pub failed: u64,
    /// The first few failures.
    pub errors: Vec<String>,
    /// The target with every connection of the cycle held.
    pub peak: Usage,
    /// The cycle's wall time, in milliseconds.
    pub wall_ms: f64,
}

/// PASS or FAIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// Memory and descriptors back within the tolerance, and no connection failed.
    Pass,
    /// Either grew beyond it, or connections failed.
    Fail,
}

/// The soak's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoakReport {
    /// How it ran.
    pub settings: SoakSettings,
    /// The target's process.
    pub pid: u32,
    /// The target after the warm-up cycles, settled.
    pub baseline: Usage,
    /// Each cycle, the warm-up first.
    pub cycles: Vec<Cycle>,
    /// The target after the last cycle, settled.
    pub after: Usage,
    /// The memory's change from the baseline, in percent.
    pub rss_change_percent: f64,
    /// The descriptors' change from the baseline, in percent.
    pub fds_change_percent: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// Why it is FAIL (empty for PASS).
    pub reasons: Vec<String>,
}

/// How many failure messages a cycle keeps.
const KEPT_ERRORS: usize = 5;

/// Runs the soak against `endpoint`, whose server is process `pid`; `on_cycle` is told each
/// finished cycle (for progress).
pub async fn soak(
    endpoint: &Endpoint,
    pid: u32,
    settings: &SoakSettings,
    on_cycle: impl Fn(&Cycle),
) -> Result<SoakReport, LoadError> {
    let timeout = Duration::from_secs_f64(settings.timeout_s);
    let settle = Duration::from_secs_f64(settings.settle_s);
    let mut cycles = Vec::new();
    let warm_up = settings.warm_up.max(1);
    for index in 0..warm_up {
        let done = cycle(endpoint, pid, settings, index, timeout).await?;
        on_cycle(&done);
        cycles.push(done);
    }
    let baseline = settled(pid, settle, |_| false).await?;
    for index in warm_up..warm_up + settings.cycles {
        let done = cycle(endpoint, pid, settings, index, timeout).await?;
        on_cycle(&done);
        cycles.push(done);
    }
    let limit = |of: u64| of as f64 * (1.0 + settings.tolerance_percent / 100.0);
    let after = settled(pid, settle, |usage| {
        usage.fds as f64 <= limit(baseline.fds) && usage.rss_kib as f64 <= limit(baseline.rss_kib)
    })
    .await?;
    let change =
        |after: u64, before: u64| 100.0 * (after as f64 - before as f64) / (before.max(1) as f64);
    let rss_change_percent = change(after.rss_kib, baseline.rss_kib);
    let fds_change_percent = change(after.fds, baseline.fds);
    let mut reasons = Vec::new();
    if after.rss_kib as f64 > limit(baseline.rss_kib) {
        reasons.push(format!(
            "resident memory {} KiB is {rss_change_percent:.1} % above the baseline's {} KiB (tolerance {} %)",
            after.rss_kib, baseline.rss_kib, settings.tolerance_percent
        ));
    }
    if after.fds as f64 > limit(baseline.fds) {
        reasons.push(format!(
            "{} open descriptors, {fds_change_percent:.1} % above the baseline's {} (tolerance {} %)",
            after.fds, baseline.fds, settings.tolerance_percent
        ));
    }
    let failed: u64 = cycles.iter().map(|cycle| cycle.failed).sum();
    if failed > 0 {
        reasons.push(format!(
            "{failed} connections failed (see the cycles' errors)"
        ));
    }
    Ok(SoakReport {
        settings: settings.clone(),
        pid,
        baseline,
        cycles,
        after,
        rss_change_percent,
        fds_change_percent,
        verdict: if reasons.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        reasons,
    })
}

/// The target's usage once it has settled: when `done` says so, or when two samples 200 ms
/// apart have the same descriptors, or at the latest after `settle`. There is no event to
/// await here (the target closes sessions on its own time), so `/proc` is sampled.
async fn settled(
    pid: u32,
    settle: Duration,
    done: impl Fn(&Usage) -> bool,
) -> Result<Usage, LoadError> {
    let deadline = Instant::now() + settle;
    let mut last = procfs::usage(pid)?;
    loop {
        if done(&last) || Instant::now() >= deadline {
            return Ok(last);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = procfs::usage(pid)?;
        if now.fds == last.fds && now.cpu_ticks == last.cpu_ticks {
            // Quiet: no descriptor closed and no CPU used in 200 ms.
            return Ok(now);
        }
        last = now;
    }
}

/// What a connection reports once it has connected and echoed (or failed to).
type Ready = Result<(), LoadError>;

/// One cycle: every connection set up (at most `concurrency` at once) and echoed, the peak
/// sampled with all of them held, then all released and closed.
async fn cycle(
    endpoint: &Endpoint,
    pid: u32,
    settings: &SoakSettings,
    index: usize,
    timeout: Duration,
) -> Result<Cycle, LoadError> {
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let (release, released) = watch::channel(false);
    let (ready, mut readied) = mpsc::unbounded_channel::<Ready>();
    let mut tasks: JoinSet<Result<(), LoadError>> = JoinSet::new();
    for number in 0..settings.websocket {
        let (endpoint, permits, released, ready) = (
            endpoint.clone(),
            Arc::clone(&permits),
            released.clone(),
            ready.clone(),
        );
        tasks.spawn(async move {
            let connected = {
                let _permit = permits.acquire_owned().await;
                websocket_echo(&endpoint, number as u64, timeout).await
            };
            match connected {
                Ok(client) => {
                    let _ = ready.send(Ok(()));
                    hold_websocket(client, released, timeout).await
                }
                Err(error) => {
                    let _ = ready.send(Err(clone_message(&error)));
                    Err(error)
                }
            }
        });
    }
    for number in 0..settings.polling {
        let (endpoint, permits, released, ready) = (
            endpoint.clone(),
            Arc::clone(&permits),
            released.clone(),
            ready.clone(),
        );
        tasks.spawn(async move {
            let connected = {
                let _permit = permits.acquire_owned().await;
                polling_echo(&endpoint, number as u64, timeout).await
            };
            match connected {
                Ok(client) => {
                    let _ = ready.send(Ok(()));
                    hold_polling(client, released, timeout).await
                }
                Err(error) => {
                    let _ = ready.send(Err(clone_message(&error)));
                    Err(error)
                }
            }
        });
    }
    drop(ready);
    // Every task reports once, each within its bounded steps, or ends (closing the channel).
    let mut reported = 0;
    while reported < settings.websocket + settings.polling {
        if readied.recv().await.is_none() {
            break;
        }
        reported += 1;
    }
    let peak = procfs::usage(pid)?;
    let _ = release.send(true);
    let mut completed = 0;
    let mut failed = 0;
    let mut errors = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => completed += 1,
            Ok(Err(error)) => {
                failed += 1;
                if errors.len() < KEPT_ERRORS {
                    errors.push(error.to_string());
                }
            }
            Err(error) => {
                failed += 1;
                if errors.len() < KEPT_ERRORS {
                    errors.push(format!("a connection's task failed: {error}"));
                }
            }
        }
    }
    Ok(Cycle {
        cycle: index,
        warm_up: index < settings.warm_up.max(1),
        completed,
        failed,
        errors,
        peak,
        wall_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The ready report of a failed connection (the task keeps the error itself).
fn clone_message(error: &LoadError) -> LoadError {
    LoadError::Unexpected {
        step: "a soak connection",
        expected: "a connection that connects and echoes",
        got: error.to_string(),
    }
}

/// A WebSocket connection that has connected and done one echo round trip.
async fn websocket_echo(
    endpoint: &Endpoint,
    sequence: u64,
    timeout: Duration,
) -> Result<WebSocketClient, LoadError> {
    let mut client = WebSocketClient::connect(endpoint, timeout).await?;
    client.send(&wire::message(sequence)).await?;
    let deadline = Instant::now() + timeout;
    loop {
        let packet = client.next_packet(deadline, "a message-back").await?;
        if wire::message_back_sequence(&packet) == Some(sequence) {
            return Ok(client);
        }
    }
}

/// A polling session that has connected and done one echo round trip.
async fn polling_echo(
    endpoint: &Endpoint,
    sequence: u64,
    timeout: Duration,
) -> Result<PollingClient, LoadError> {
    let mut client = PollingClient::connect(endpoint, timeout).await?;
    polling_round_trip(&mut client, sequence, Instant::now() + timeout).await?;
    Ok(client)
}

/// Holds a polling session, a GET outstanding and every ping answered, until `release`; then
/// closes it. The release is seen when the held GET returns, which the server's next ping
/// bounds.
async fn hold_polling(
    mut client: PollingClient,
    release: watch::Receiver<bool>,
    timeout: Duration,
) -> Result<(), LoadError> {
    while !*release.borrow() {
        client
            .poll(Instant::now() + timeout, "an idle polling session")
            .await?;
    }
    client.close(timeout).await;
    Ok(())
}
