//! `sio-conformance bench`: the figures of one target, each measured by the raw drivers of
//! [`super::websocket`] and [`super::polling`] against the fixture contract's handlers.
//!
//! - [`Figure::WebSocketEcho`]: N WebSocket connections each keep K `message` events in flight
//!   for a duration; a round trip is `42["message",<n>]` sent to `42["message-back",<n>]` read.
//! - [`Figure::PollingEcho`]: P polling sessions each do round trips one at a time: the POST of
//!   `42["message",<n>]`, then GETs until the one that brings `42["message-back",<n>]`.
//! - [`Figure::ConnectionSetup`]: M WebSocket connections, C at a time, each timed from the
//!   TCP connect to the CONNECT answer `40{…}` (upgrade and `open` packet included), then closed.
//! - [`Figure::Fanout`]: F clients `join` a room (acknowledged); one emits `to-room` R times; a
//!   round is timed from the emit to the moment the last of the F−1 others has the event.
//! - [`Figure::IdleMemory`]: I idle WebSocket connections on `/`: the target's resident memory
//!   and descriptors before and with them, the difference divided by I.
//!
//! Each figure also has the CPU time the target used during it (when its pid is known) and the
//! load generator's own, per operation, so that a reader can see which side was the bottleneck.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::latency::{Latency, Recorder};
use super::polling::PollingClient;
use super::procfs::{self, Usage};
use super::websocket::WebSocketClient;
use super::{wire, Endpoint, LoadError};

/// The figures `bench` measures, in the order it measures them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Figure {
    /// WebSocket echo round trips: N connections × K in flight.
    #[serde(rename = "websocket-echo")]
    WebSocketEcho,
    /// Polling echo round trips: a POST and the GET that brings the answer.
    PollingEcho,
    /// WebSocket connection setup: connect, `open`, CONNECT answered.
    ConnectionSetup,
    /// Broadcast fan-out to a room.
    Fanout,
    /// Resident memory per idle connection.
    IdleMemory,
}

impl Figure {
    /// Every figure, in order.
    pub const ALL: [Figure; 5] = [
        Figure::WebSocketEcho,
        Figure::PollingEcho,
        Figure::ConnectionSetup,
        Figure::Fanout,
        Figure::IdleMemory,
    ];

    /// The figure's name on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Figure::WebSocketEcho => "websocket-echo",
            Figure::PollingEcho => "polling-echo",
            Figure::ConnectionSetup => "connection-setup",
            Figure::Fanout => "fanout",
            Figure::IdleMemory => "idle-memory",
        }
    }

    /// The figure by its name.
    pub fn parse(name: &str) -> Option<Figure> {
        Figure::ALL
            .into_iter()
            .find(|figure| figure.as_str() == name)
    }
}

/// How much load each figure applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchSettings {
    /// The figures to measure.
    pub figures: Vec<Figure>,
    /// WebSocket echo: connections.
    pub connections: usize,
    /// WebSocket echo: round trips in flight per connection.
    pub in_flight: usize,
    /// How long each echo figure runs, in seconds.
    pub duration_s: f64,
    /// Polling echo: sessions.
    pub polling_sessions: usize,
    /// Connection setup: how many connections in all.
    pub setup_connections: usize,
    /// Connection setup (and every connection ramp): how many connect at once.
    pub concurrency: usize,
    /// Fan-out: clients in the room.
    pub fanout_clients: usize,
    /// Fan-out: emits.
    pub fanout_rounds: usize,
    /// Idle memory: connections.
    pub idle_connections: usize,
    /// Every single wait's deadline, in seconds.
    pub timeout_s: f64,
}

impl Default for BenchSettings {
    fn default() -> Self {
        BenchSettings {
            figures: Figure::ALL.to_vec(),
            connections: 100,
            in_flight: 10,
            duration_s: 10.0,
            polling_sessions: 10,
            setup_connections: 1000,
            concurrency: 50,
            fanout_clients: 100,
            fanout_rounds: 50,
            idle_connections: 1000,
            timeout_s: 10.0,
        }
    }
}

impl BenchSettings {
    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration_s)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_s)
    }
}

/// What one figure measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    /// The figure.
    pub figure: Figure,
    /// What was done, in words: `100 connections × 10 in flight for 10 s`.
    pub load: String,
    /// Operations completed: round trips, connections, fan-out rounds.
    pub operations: u64,
    /// The measured phase's wall time, in milliseconds.
    pub wall_ms: f64,
    /// Operations per second of wall time.
    pub rate_per_s: f64,
    /// The time of each operation.
    pub latency: Option<Latency>,
    /// The load generator's CPU time during the phase.
    pub loader_cpu: CpuUse,
    /// The target's CPU time and memory during the phase, when its pid is known.
    pub target: Option<TargetUse>,
    /// Idle memory only: the memory and descriptors per connection.
    pub per_connection: Option<PerConnection>,
}

/// CPU time used during a phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuUse {
    /// In milliseconds (the target's from clock ticks of 10 ms).
    pub cpu_ms: f64,
    /// Per operation, in microseconds.
    pub us_per_operation: f64,
    /// As a share of one core over the phase's wall time, in percent.
    pub percent_of_a_core: f64,
}

impl CpuUse {
    fn new(cpu: Duration, operations: u64, wall: Duration) -> CpuUse {
        let cpu_ms = cpu.as_secs_f64() * 1000.0;
        CpuUse {
            cpu_ms,
            us_per_operation: if operations == 0 {
                0.0
            } else {
                cpu_ms * 1000.0 / operations as f64
            },
            percent_of_a_core: if wall.is_zero() {
                0.0
            } else {
                100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
            },
        }
    }
}

/// The target's use of the machine during a phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetUse {
    /// Its CPU time.
    pub cpu: CpuUse,
    /// Its resident memory at the start, in KiB.
    pub rss_kib_before: u64,
    /// At the end.
    pub rss_kib_after: u64,
}

/// The idle-memory figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerConnection {
    /// Connections held.
    pub connections: u64,
    /// Resident memory before they connected, in KiB.
    pub rss_kib_before: u64,
    /// With them connected.
    pub rss_kib_with: u64,
    /// The difference per connection, in KiB.
    pub kib_per_connection: f64,
    /// Open descriptors before.
    pub fds_before: u64,
    /// With them connected.
    pub fds_with: u64,
}

/// Measures the resources a phase uses: wall time, the load generator's CPU, the target's.
struct Meter {
    pid: Option<u32>,
    started: Instant,
    own_cpu: Duration,
    target: Option<Usage>,
}

impl Meter {
    fn start(pid: Option<u32>) -> Result<Meter, LoadError> {
        Ok(Meter {
            pid,
            started: Instant::now(),
            own_cpu: procfs::own_cpu(),
            target: pid.map(procfs::usage).transpose()?,
        })
    }

    fn finish(
        self,
        figure: Figure,
        load: String,
        operations: u64,
        latency: Option<Latency>,
    ) -> Result<Measured, LoadError> {
        let wall = self.started.elapsed();
        let loader_cpu = CpuUse::new(
            procfs::own_cpu().saturating_sub(self.own_cpu),
            operations,
            wall,
        );
        let target = match (self.pid, self.target) {
            (Some(pid), Some(before)) => {
                let after = procfs::usage(pid)?;
                Some(TargetUse {
                    cpu: CpuUse::new(after.cpu_since(&before), operations, wall),
                    rss_kib_before: before.rss_kib,
                    rss_kib_after: after.rss_kib,
                })
            }
            _ => None,
        };
        Ok(Measured {
            figure,
            load,
            operations,
            wall_ms: wall.as_secs_f64() * 1000.0,
            rate_per_s: if wall.is_zero() {
                0.0
            } else {
                operations as f64 / wall.as_secs_f64()
            },
            latency,
            loader_cpu,
            target,
            per_connection: None,
        })
    }
}

/// Measures `figure` against `endpoint`; `pid` is the target's process, when known.
pub async fn measure(
    figure: Figure,
    endpoint: &Endpoint,
    pid: Option<u32>,
    settings: &BenchSettings,
) -> Result<Measured, LoadError> {
    match figure {
        Figure::WebSocketEcho => websocket_echo(endpoint, pid, settings).await,
        Figure::PollingEcho => polling_echo(endpoint, pid, settings).await,
        Figure::ConnectionSetup => connection_setup(endpoint, pid, settings).await,
        Figure::Fanout => fanout(endpoint, pid, settings).await,
        Figure::IdleMemory => idle_memory(endpoint, pid, settings).await,
    }
}

/// Connects `count` WebSocket clients, `concurrency` at a time, each joining `room` when one
/// is given (acknowledged); the first failure ends it. Every connected client answers the
/// server's pings while the others are still connecting (the contract's pingTimeout is 200 ms,
/// shorter than a ramp of a thousand connections), and is handed over once all are ready.
pub async fn connect_websockets(
    endpoint: &Endpoint,
    count: usize,
    concurrency: usize,
    room: Option<&'static str>,
    timeout: Duration,
) -> Result<Vec<WebSocketClient>, LoadError> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let (hand_over, handed) = watch::channel(false);
    let (ready, mut readied) = mpsc::unbounded_channel::<()>();
    let mut tasks = JoinSet::new();
    for index in 0..count {
        let endpoint = endpoint.clone();
        let permits = Arc::clone(&permits);
        let (mut handed, ready) = (handed.clone(), ready.clone());
        tasks.spawn(async move {
            let mut client = {
                let _permit = permits.acquire_owned().await;
                let mut client = WebSocketClient::connect(&endpoint, timeout).await?;
                if let Some(room) = room {
                    join_room(&mut client, room, timeout).await?;
                }
                client
            };
            let _ = ready.send(());
            while !*handed.borrow_and_update() {
                tokio::select! {
                    packet = client.next_packet(Instant::now() + HOLD_LIMIT, "a connected client") => {
                        // Pings are answered inside; nothing else is expected before the figure.
                        packet?;
                    }
                    _ = handed.changed() => {}
                }
            }
            Ok::<_, LoadError>((index, client))
        });
    }
    drop(ready);
    let mut connected = 0;
    while connected < count {
        tokio::select! {
            Some(()) = readied.recv() => connected += 1,
            // A task that ends before the hand-over has failed: its error ends the ramp.
            Some(joined) = tasks.join_next() => {
                joined.map_err(task_failed)??;
            }
        }
    }
    let _ = hand_over.send(true);
    let mut clients: Vec<Option<WebSocketClient>> = (0..count).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, client) = joined.map_err(task_failed)??;
        clients[index] = Some(client);
    }
    Ok(clients.into_iter().flatten().collect())
}

/// A task that panicked or was cancelled, as an error (the drivers do not panic; this is the
/// runtime's report should one do so).
fn task_failed(error: tokio::task::JoinError) -> LoadError {
    LoadError::Unexpected {
        step: "a load task",
        expected: "a task that ends",
        got: error.to_string(),
    }
}

async fn websocket_echo(
    endpoint: &Endpoint,
    pid: Option<u32>,
    settings: &BenchSettings,
) -> Result<Measured, LoadError> {
    let timeout = settings.timeout();
    let clients = connect_websockets(
        endpoint,
        settings.connections,
        settings.concurrency,
        None,
        timeout,
    )
    .await?;
    let meter = Meter::start(pid)?;
    let stop_at = Instant::now() + settings.duration();
    let mut tasks = JoinSet::new();
    for client in clients {
        let in_flight = settings.in_flight.max(1);
        tasks.spawn(echo_loop(client, in_flight, stop_at, timeout));
    }
    let (recorder, operations) = gather(&mut tasks).await?;
    let load = format!(
        "{} connections × {} in flight for {} s",
        settings.connections, settings.in_flight, settings.duration_s
    );
    meter.finish(Figure::WebSocketEcho, load, operations, recorder.summary())
}

/// Sums the histograms and counts of finished tasks; the first error ends it.
async fn gather(
    tasks: &mut JoinSet<Result<(Recorder, u64), LoadError>>,
) -> Result<(Recorder, u64), LoadError> {
    let mut recorder = Recorder::new();
    let mut operations = 0;
    while let Some(joined) = tasks.join_next().await {
        let (part, count) = joined.map_err(task_failed)??;
        recorder.merge(&part);
        operations += count;
    }
    Ok((recorder, operations))
}

/// One connection's echo: `in_flight` messages outstanding until `stop_at`, then the last
/// answers awaited; each round trip timed.
async fn echo_loop(
    mut client: WebSocketClient,
    in_flight: usize,
    stop_at: Instant,
    timeout: Duration,
) -> Result<(Recorder, u64), LoadError> {
    let mut recorder = Recorder::new();
    let mut outstanding: VecDeque<(u64, Instant)> = VecDeque::with_capacity(in_flight);
    let mut next = 0_u64;
    let mut done = 0_u64;
    for _ in 0..in_flight {
        client.send(&wire::message(next)).await?;
        outstanding.push_back((next, Instant::now()));
        next += 1;
    }
    while !outstanding.is_empty() {
        let packet = client
            .next_packet(Instant::now() + timeout, "a message-back")
            .await?;
        let Some(sequence) = wire::message_back_sequence(&packet) else {
            // Another event (`auth` after CONNECT): not an answer.
            continue;
        };
        let Some(position) = outstanding.iter().position(|(sent, _)| *sent == sequence) else {
            return Err(LoadError::Unexpected {
                step: "a message-back",
                expected: "the number of a message in flight",
                got: super::excerpt(&packet),
            });
        };
        if let Some((_, sent_at)) = outstanding.remove(position) {
            recorder.record(sent_at.elapsed());
            done += 1;
        }
        if Instant::now() < stop_at {
            client.send(&wire::message(next)).await?;
            outstanding.push_back((next, Instant::now()));
            next += 1;
        }
    }
    client.close(timeout).await;
    Ok((recorder, done))
}

async fn polling_echo(
    endpoint: &Endpoint,
    pid: Option<u32>,
    settings: &BenchSettings,
) -> Result<Measured, LoadError> {
    let timeout = settings.timeout();
    let mut clients = Vec::with_capacity(settings.polling_sessions);
    for _ in 0..settings.polling_sessions {
        clients.push(PollingClient::connect(endpoint, timeout).await?);
    }
    let meter = Meter::start(pid)?;
    let stop_at = Instant::now() + settings.duration();
    let mut tasks = JoinSet::new();
    for client in clients {
        tasks.spawn(polling_loop(client, stop_at, timeout));
    }
    let (recorder, operations) = gather(&mut tasks).await?;
    let load = format!(
        "{} sessions, one round trip at a time, for {} s",
        settings.polling_sessions, settings.duration_s
    );
    meter.finish(Figure::PollingEcho, load, operations, recorder.summary())
}

/// One polling session's round trips until `stop_at`.
async fn polling_loop(
    mut client: PollingClient,
    stop_at: Instant,
    timeout: Duration,
) -> Result<(Recorder, u64), LoadError> {
    let mut recorder = Recorder::new();
    let mut sequence = 0_u64;
    while Instant::now() < stop_at {
        let sent_at = Instant::now();
        let deadline = sent_at + timeout;
        polling_round_trip(&mut client, sequence, deadline).await?;
        recorder.record(sent_at.elapsed());
        sequence += 1;
    }
    client.close(timeout).await;
    Ok((recorder, sequence))
}

/// The POST of `message` with `sequence`, then GETs until its `message-back`.
pub async fn polling_round_trip(
    client: &mut PollingClient,
    sequence: u64,
    deadline: Instant,
) -> Result<(), LoadError> {
    client.post(&wire::message(sequence), deadline).await?;
    loop {
        let packets = client.poll(deadline, "a message-back").await?;
        if packets
            .iter()
            .any(|packet| wire::message_back_sequence(packet) == Some(sequence))
        {
            return Ok(());
        }
    }
}

async fn connection_setup(
    endpoint: &Endpoint,
    pid: Option<u32>,
    settings: &BenchSettings,
) -> Result<Measured, LoadError> {
    let timeout = settings.timeout();
    let meter = Meter::start(pid)?;
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for _ in 0..settings.setup_connections {
        let endpoint = endpoint.clone();
        let permits = Arc::clone(&permits);
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let started = Instant::now();
            let client = WebSocketClient::connect(&endpoint, timeout).await?;
            let mut recorder = Recorder::new();
            recorder.record(started.elapsed());
            client.close(timeout).await;
            Ok((recorder, 1))
        });
    }
    let (recorder, operations) = gather(&mut tasks).await?;
    let load = format!(
        "{} WebSocket connections, {} at a time, each closed once connected",
        settings.setup_connections, settings.concurrency
    );
    meter.finish(
        Figure::ConnectionSetup,
        load,
        operations,
        recorder.summary(),
    )
}

/// The room the fan-out figure's clients join.
const ROOM: &str = "sio-bench-room";

/// The event the fan-out figure has the target broadcast.
const FANOUT_EVENT: &str = "fanout";

async fn fanout(
    endpoint: &Endpoint,
    pid: Option<u32>,
    settings: &BenchSettings,
) -> Result<Measured, LoadError> {
    let timeout = settings.timeout();
    let clients = settings.fanout_clients.max(2);
    let connected =
        connect_websockets(endpoint, clients, settings.concurrency, Some(ROOM), timeout).await?;
    let mut connected = connected.into_iter();
    let Some(emitter) = connected.next() else {
        return Err(LoadError::Closed {
            step: "the fan-out",
        });
    };
    let (stop, stopped) = watch::channel(false);
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(u64, Instant)>();
    let mut receivers = JoinSet::new();
    for client in connected {
        receivers.spawn(receive_fanout(
            client,
            arrivals.clone(),
            stopped.clone(),
            timeout,
        ));
    }
    let (orders, order_rx) = mpsc::unbounded_channel::<u64>();
    let emitting = tokio::spawn(emit_fanout(emitter, order_rx, stopped.clone(), timeout));
    let others = clients - 1;
    let meter = Meter::start(pid)?;
    let mut recorder = Recorder::new();
    let mut outcome = Ok(());
    for round in 0..settings.fanout_rounds as u64 {
        let sent_at = Instant::now();
        if orders.send(round).is_err() {
            outcome = Err(LoadError::Closed {
                step: "the fan-out emitter",
            });
            break;
        }
        match await_round(&mut arrived, round, others, sent_at + timeout, timeout).await {
            Ok(last) => recorder.record(last.saturating_duration_since(sent_at)),
            Err(error) => {
                outcome = Err(error);
                break;
            }
        }
    }
    let rounds = recorder.count();
    let load = format!(
        "{clients} clients in a room, {} emits to the {others} others",
        settings.fanout_rounds
    );
    let measured = meter.finish(Figure::Fanout, load, rounds, recorder.summary());
    let _ = stop.send(true);
    drop(orders);
    // A receiver's error explains a round that timed out: report it first.
    while let Some(joined) = receivers.join_next().await {
        joined.map_err(task_failed)??;
    }
    emitting.await.map_err(task_failed)??;
    outcome?;
    measured
}

/// Sends `join` for `room` with an acknowledgement request, and awaits the ACK.
async fn join_room(
    client: &mut WebSocketClient,
    room: &str,
    timeout: Duration,
) -> Result<(), LoadError> {
    client
        .send(&wire::event_with_ack(1, "join", &format!("\"{room}\"")))
        .await?;
    let deadline = Instant::now() + timeout;
    loop {
        let packet = client.next_packet(deadline, "the ACK of join").await?;
        if wire::is_ack(&packet, 1) {
            return Ok(());
        }
    }
}

/// The arrival of the last of `others` copies of round `round`, by `deadline`.
async fn await_round(
    arrived: &mut mpsc::UnboundedReceiver<(u64, Instant)>,
    round: u64,
    others: usize,
    deadline: Instant,
    timeout: Duration,
) -> Result<Instant, LoadError> {
    let mut count = 0;
    let mut last = Instant::now();
    while count < others {
        match tokio::time::timeout_at(deadline, arrived.recv()).await {
            Err(_) => {
                return Err(LoadError::Timeout {
                    step: "the fan-out to every other client in the room",
                    timeout,
                })
            }
            Ok(None) => {
                return Err(LoadError::Closed {
                    step: "the fan-out",
                })
            }
            Ok(Some((arrived_round, at))) if arrived_round == round => {
                count += 1;
                last = last.max(at);
            }
            // A late copy of an earlier round cannot be: each round waits for all of its own.
            Ok(Some(_)) => {}
        }
    }
    Ok(last)
}

/// A client of the room: reports each fan-out event's round and arrival, until told to stop.
async fn receive_fanout(
    mut client: WebSocketClient,
    arrivals: mpsc::UnboundedSender<(u64, Instant)>,
    mut stop: watch::Receiver<bool>,
    timeout: Duration,
) -> Result<(), LoadError> {
    loop {
        tokio::select! {
            packet = client.next_packet(Instant::now() + HOLD_LIMIT, "the fan-out event") => {
                if let Some(round) = wire::event_number(&packet?, FANOUT_EVENT) {
                    let _ = arrivals.send((round, Instant::now()));
                }
            }
            _ = stop.changed() => break,
        }
    }
    client.close(timeout).await;
    Ok(())
}

/// The emitting client: a `to-room` per order, its pings answered between orders.
async fn emit_fanout(
    mut client: WebSocketClient,
    mut orders: mpsc::UnboundedReceiver<u64>,
    mut stop: watch::Receiver<bool>,
    timeout: Duration,
) -> Result<(), LoadError> {
    loop {
        tokio::select! {
            order = orders.recv() => match order {
                Some(round) => {
                    let arguments = format!("\"{ROOM}\",\"{FANOUT_EVENT}\",{round}");
                    client.send(&wire::event("to-room", &arguments)).await?;
                }
                None => break,
            },
            packet = client.next_packet(Instant::now() + HOLD_LIMIT, "the emitter's socket") => {
                packet?;
            }
            _ = stop.changed() => break,
        }
    }
    client.close(timeout).await;
    Ok(())
}

/// The longest an idle held connection waits for a frame: far beyond any figure's run.
pub const HOLD_LIMIT: Duration = Duration::from_secs(3600);

/// Holds a WebSocket connection open, answering pings, until `release`; then closes it.
pub async fn hold_websocket(
    mut client: WebSocketClient,
    mut release: watch::Receiver<bool>,
    timeout: Duration,
) -> Result<(), LoadError> {
    if !*release.borrow_and_update() {
        loop {
            tokio::select! {
                packet = client.next_packet(Instant::now() + HOLD_LIMIT, "an idle connection") => {
                    packet?;
                }
                _ = release.changed() => break,
            }
        }
    }
    client.close(timeout).await;
    Ok(())
}

async fn idle_memory(
    endpoint: &Endpoint,
    pid: Option<u32>,
    settings: &BenchSettings,
) -> Result<Measured, LoadError> {
    let timeout = settings.timeout();
    let Some(pid) = pid else {
        return Err(LoadError::Unexpected {
            step: "idle memory",
            expected: "the target's pid (started by the runner, or --pid)",
            got: "none".to_owned(),
        });
    };
    let meter = Meter::start(Some(pid))?;
    let before = procfs::usage(pid)?;
    let clients = connect_websockets(
        endpoint,
        settings.idle_connections,
        settings.concurrency,
        None,
        timeout,
    )
    .await?;
    let count = clients.len() as u64;
    let (release, released) = watch::channel(false);
    let mut holders = JoinSet::new();
    for client in clients {
        holders.spawn(hold_websocket(client, released.clone(), timeout));
    }
    let with = procfs::usage(pid)?;
    let _ = release.send(true);
    while let Some(joined) = holders.join_next().await {
        joined.map_err(task_failed)??;
    }
    let load = format!("{count} idle WebSocket connections on `/`");
    let mut measured = meter.finish(Figure::IdleMemory, load, count, None)?;
    measured.per_connection = Some(PerConnection {
        connections: count,
        rss_kib_before: before.rss_kib,
        rss_kib_with: with.rss_kib,
        kib_per_connection: (with.rss_kib as f64 - before.rss_kib as f64) / count.max(1) as f64,
        fds_before: before.fds,
        fds_with: with.fds,
    });
    Ok(measured)
}
