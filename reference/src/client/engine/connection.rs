//! One Engine.IO session of the client: the handshake over the first transport, then a task
//! (the driver) that runs the heartbeat, the polling loop or the WebSocket, the upgrade and the
//! close, and hands the session's messages to its owner.
//!
//! The driver owns every task it spawns (in a `JoinSet`, aborted when the driver ends; only the
//! closing write after a failure outlives it, bounded in time), and ends
//! when its owner drops the [`EngineHandle`] or asks it to close: after flushing what was
//! queued, within [`CLOSE_FLUSH_TIMEOUT`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::batch::{encode_body, next_batch};
use super::handshake::Handshake;
use super::heartbeat::{Heartbeat, HeartbeatAction};
use super::polling::Endpoint;
use super::upgrade::{probe, Upgrade, UpgradeStep};
use super::websocket::{self, Read, Ws};
use super::{EngineCloseReason, TransportError};
use crate::client::config::TransportKind;
use crate::engine_io::{Data, Packet, PacketType, ProtocolVersion};

/// How long a close may take to flush what was queued.
pub(crate) const CLOSE_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// What opening a session needs.
#[derive(Debug, Clone)]
pub(crate) struct EngineOptions {
    pub(crate) endpoint: Endpoint,
    /// The transports in order; the first that opens carries the handshake.
    pub(crate) transports: Vec<TransportKind>,
    /// Whether to upgrade a polling session to WebSocket when the server offers it.
    pub(crate) upgrade: bool,
    /// Whether a failed transport is followed by the next one (`tryAllTransports`).
    pub(crate) try_all_transports: bool,
}

/// What the session hands its owner.
#[derive(Debug)]
pub(crate) enum EngineEvent {
    /// A message packet's data.
    Message(Data),
    /// The session ended on the server's side or the transport's.
    Closed(EngineCloseReason),
}

enum Command {
    Send(Vec<Packet>),
    Close,
}

/// The owner's handle on a session: dropping it closes the session.
#[derive(Debug)]
pub(crate) struct EngineHandle {
    commands: mpsc::UnboundedSender<Command>,
    /// The session id.
    pub(crate) sid: String,
    /// Set once the session runs over WebSocket, opened there or upgraded.
    pub(crate) on_websocket: Arc<AtomicBool>,
}

impl EngineHandle {
    /// Queues message packets.
    pub(crate) fn send(&self, packets: Vec<Packet>) {
        let _ = self.commands.send(Command::Send(packets));
    }

    /// Closes the session after flushing what is queued.
    pub(crate) fn close(&self) {
        let _ = self.commands.send(Command::Close);
    }
}

/// Opens a session: the handshake over the first transport that works (only the first, unless
/// `try_all_transports`), then the driver task.
pub(crate) async fn open(
    options: &EngineOptions,
) -> Result<(EngineHandle, mpsc::UnboundedReceiver<EngineEvent>), TransportError> {
    let mut last_error = TransportError::NoTransports;
    for (index, &transport) in options.transports.iter().enumerate() {
        if index > 0 && !options.try_all_transports {
            break;
        }
        match handshake(options, transport).await {
            Ok(opened) => return Ok(spawn_driver(options, transport, opened)),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

/// The transport of a session just opened.
enum Opened {
    Polling(Handshake, Vec<Packet>),
    WebSocket(Handshake, Box<Ws>),
}

async fn handshake(
    options: &EngineOptions,
    transport: TransportKind,
) -> Result<Opened, TransportError> {
    let endpoint = &options.endpoint;
    match transport {
        TransportKind::Polling => {
            let mut packets = endpoint.get(None, 0).await?.into_iter();
            let open = packets
                .next()
                .ok_or(TransportError::Decode(crate::EngineIoError::EmptyPayload))?;
            let handshake = Handshake::from_packet(&open)?;
            Ok(Opened::Polling(handshake, packets.collect()))
        }
        TransportKind::WebSocket => {
            let target = endpoint.target(TransportKind::WebSocket, None, 0);
            let opening = async {
                let mut ws =
                    websocket::connect(&endpoint.authority, &target, &endpoint.headers()).await?;
                match websocket::read(&mut ws, endpoint.version).await {
                    Read::Packet(open) => Ok((Handshake::from_packet(&open)?, ws)),
                    Read::Closed => Err(TransportError::WebSocket(
                        "closed before the open packet".to_owned(),
                    )),
                    Read::Failed(error) => Err(error),
                }
            };
            let (handshake, ws) = tokio::time::timeout(endpoint.request_timeout, opening)
                .await
                .map_err(|_| TransportError::Timeout)??;
            Ok(Opened::WebSocket(handshake, Box::new(ws)))
        }
    }
}

fn spawn_driver(
    options: &EngineOptions,
    transport: TransportKind,
    opened: Opened,
) -> (EngineHandle, mpsc::UnboundedReceiver<EngineEvent>) {
    let (commands_tx, commands) = mpsc::unbounded_channel();
    let (events, events_rx) = mpsc::unbounded_channel();
    let (internal_tx, internal) = mpsc::unbounded_channel();
    let on_websocket = Arc::new(AtomicBool::new(transport == TransportKind::WebSocket));
    let (handshake, early, ws) = match opened {
        Opened::Polling(handshake, early) => (handshake, early, None),
        Opened::WebSocket(handshake, ws) => (handshake, Vec::new(), Some(*ws)),
    };
    let sid = handshake.sid.clone();
    let version = options.endpoint.version;
    let wants_upgrade = transport == TransportKind::Polling
        && options.upgrade
        && options.transports.contains(&TransportKind::WebSocket)
        && handshake.offers_websocket();
    let mut driver = Driver {
        endpoint: options.endpoint.clone(),
        heartbeat: Heartbeat::start(version, &handshake, std::time::Instant::now()),
        sid: sid.clone(),
        max_payload: handshake.max_payload,
        version,
        force_base64: options.endpoint.query.force_base64,
        outgoing: VecDeque::new(),
        events,
        commands,
        internal_tx,
        internal,
        tasks: JoinSet::new(),
        writer: None,
        get_in_flight: false,
        post_in_flight: false,
        upgrade: None,
        probe_ws: None,
        counter: 0,
        on_websocket: Arc::clone(&on_websocket),
    };
    if let Some(ws) = ws {
        driver.use_websocket(ws);
    }
    tokio::spawn(async move {
        driver.run(early, wants_upgrade).await;
    });
    (
        EngineHandle {
            commands: commands_tx,
            sid,
            on_websocket,
        },
        events_rx,
    )
}

/// What the driver's own tasks report.
enum Internal {
    /// A polling `GET` finished.
    Get(Result<Vec<Packet>, TransportError>),
    /// A polling `POST` finished.
    Post(Result<(), TransportError>),
    /// The session's WebSocket gave something.
    Ws(Read),
    /// The probing WebSocket opened, sent `2probe` and read its first packet.
    Probe(Result<Box<(Ws, Packet)>, TransportError>),
}

struct Driver {
    endpoint: Endpoint,
    heartbeat: Heartbeat,
    sid: String,
    max_payload: Option<usize>,
    version: ProtocolVersion,
    /// `forceBase64`: binary data leaves in text frames over WebSocket too.
    force_base64: bool,
    outgoing: VecDeque<Packet>,
    events: mpsc::UnboundedSender<EngineEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    internal_tx: mpsc::UnboundedSender<Internal>,
    internal: mpsc::UnboundedReceiver<Internal>,
    /// Every task the driver spawned: aborted when it ends.
    tasks: JoinSet<()>,
    /// The WebSocket's writer once the session runs over WebSocket; `None` while polling.
    writer: Option<SplitSink<Ws, Message>>,
    get_in_flight: bool,
    post_in_flight: bool,
    upgrade: Option<Upgrade>,
    probe_ws: Option<Ws>,
    counter: u64,
    on_websocket: Arc<AtomicBool>,
}

/// How the driver stops: closed by the owner, or by the server or the transport.
enum Stop {
    Owner,
    Closed(EngineCloseReason),
}

impl Driver {
    async fn run(&mut self, early: Vec<Packet>, wants_upgrade: bool) {
        let stop = self.serve(early, wants_upgrade).await;
        match stop {
            Stop::Owner => {
                let _ = tokio::time::timeout(CLOSE_FLUSH_TIMEOUT, self.close_gracefully()).await;
            }
            Stop::Closed(reason) => {
                if reason != EngineCloseReason::TransportClose {
                    self.close_after_failure();
                }
                let _ = self.events.send(EngineEvent::Closed(reason));
            }
        }
        self.tasks.abort_all();
    }

    /// After a ping timeout or a transport error the session is over, but the server may not
    /// know it: like the official client, which closes its transport on every close but the
    /// server's own, this one sends a close packet `1` in a `POST` over polling and a close
    /// frame over WebSocket. Best effort, in a task of its own bounded by
    /// [`CLOSE_FLUSH_TIMEOUT`] (outliving the driver, the only task that does), so that the
    /// owner hears of the close at once, as the official client reports it without waiting for
    /// the write.
    fn close_after_failure(&mut self) {
        self.upgrade = None;
        self.probe_ws = None;
        if let Some(mut writer) = self.writer.take() {
            tokio::spawn(tokio::time::timeout(CLOSE_FLUSH_TIMEOUT, async move {
                let _ = writer.send(Message::Close(None)).await;
                let _ = writer.close().await;
            }));
            return;
        }
        let body = encode_body(&[Packet::empty(PacketType::Close)], self.version);
        let endpoint = self.endpoint.clone();
        let sid = self.sid.clone();
        let counter = self.next_counter();
        tokio::spawn(async move {
            let _ =
                tokio::time::timeout(CLOSE_FLUSH_TIMEOUT, endpoint.post(&sid, counter, body)).await;
        });
    }

    async fn serve(&mut self, early: Vec<Packet>, wants_upgrade: bool) -> Stop {
        for packet in early {
            if let Err(stop) = self.on_packet(packet).await {
                return stop;
            }
        }
        if self.writer.is_none() {
            self.start_get();
            if wants_upgrade {
                self.start_upgrade();
            }
        }
        loop {
            let wakeup = Instant::from_std(self.heartbeat.next_wakeup());
            let step = tokio::select! {
                command = self.commands.recv() => match command {
                    None | Some(Command::Close) => Err(Stop::Owner),
                    Some(Command::Send(packets)) => {
                        self.outgoing.extend(packets);
                        self.flush().await
                    }
                },
                Some(internal) = self.internal.recv() => self.on_internal(internal).await,
                () = tokio::time::sleep_until(wakeup) => self.on_heartbeat().await,
            };
            if let Err(stop) = step {
                return stop;
            }
        }
    }

    async fn on_heartbeat(&mut self) -> Result<(), Stop> {
        match self.heartbeat.poll(std::time::Instant::now()) {
            HeartbeatAction::Wait => Ok(()),
            HeartbeatAction::Expired => Err(Stop::Closed(EngineCloseReason::PingTimeout)),
            HeartbeatAction::SendPing => {
                self.outgoing.push_back(Packet::empty(PacketType::Ping));
                self.flush().await
            }
        }
    }

    async fn on_internal(&mut self, internal: Internal) -> Result<(), Stop> {
        let transport_error = Stop::Closed(EngineCloseReason::TransportError);
        match internal {
            Internal::Get(Err(_)) | Internal::Post(Err(_)) if self.writer.is_none() => {
                Err(transport_error)
            }
            // A polling request that failed after the upgrade no longer matters.
            Internal::Get(Err(_)) | Internal::Post(Err(_)) => Ok(()),
            Internal::Get(Ok(packets)) => {
                self.get_in_flight = false;
                for packet in packets {
                    self.on_packet(packet).await?;
                }
                if let Some(upgrade) = &mut self.upgrade {
                    let step = upgrade.get_finished();
                    return self.on_upgrade_step(step).await;
                }
                if self.writer.is_none() {
                    self.start_get();
                }
                Ok(())
            }
            Internal::Post(Ok(())) => {
                self.post_in_flight = false;
                if let Some(upgrade) = &mut self.upgrade {
                    let step = upgrade.post_finished();
                    return self.on_upgrade_step(step).await;
                }
                self.flush().await
            }
            Internal::Ws(Read::Packet(packet)) => self.on_packet(packet).await,
            Internal::Ws(Read::Closed) => Err(Stop::Closed(EngineCloseReason::TransportClose)),
            Internal::Ws(Read::Failed(_)) => Err(transport_error),
            Internal::Probe(result) => {
                let Some(upgrade) = &mut self.upgrade else {
                    return Ok(());
                };
                let step = match result {
                    Ok(probed) => {
                        let (ws, answer) = *probed;
                        self.probe_ws = Some(ws);
                        upgrade.on_probe_answer(&answer)
                    }
                    Err(_) => upgrade.on_probe_failure(),
                };
                self.on_upgrade_step(step).await
            }
        }
    }

    /// A packet from the server, over either transport.
    async fn on_packet(&mut self, packet: Packet) -> Result<(), Stop> {
        if let Some(answer) = self.heartbeat.on_packet(&packet, std::time::Instant::now()) {
            self.outgoing.push_back(answer);
            self.flush().await?;
        }
        match packet.packet_type {
            PacketType::Message => {
                let _ = self.events.send(EngineEvent::Message(packet.data));
                Ok(())
            }
            PacketType::Close => Err(Stop::Closed(EngineCloseReason::TransportClose)),
            // Open (a repeated handshake), ping and pong (handled by the heartbeat), upgrade and
            // noop have nothing more to do here.
            _ => Ok(()),
        }
    }

    fn next_counter(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn start_get(&mut self) {
        if self.get_in_flight || self.upgrade.is_some() || self.writer.is_some() {
            return;
        }
        self.get_in_flight = true;
        let endpoint = self.endpoint.clone();
        let sid = self.sid.clone();
        let counter = self.next_counter();
        let report = self.internal_tx.clone();
        self.tasks.spawn(async move {
            let result = endpoint.get(Some(&sid), counter).await;
            let _ = report.send(Internal::Get(result));
        });
    }

    /// Sends what is queued: one `POST` at a time over polling, frame by frame over WebSocket,
    /// nothing while an upgrade pauses polling.
    async fn flush(&mut self) -> Result<(), Stop> {
        if self.outgoing.is_empty() || self.upgrade.is_some() {
            return Ok(());
        }
        if let Some(writer) = &mut self.writer {
            while let Some(packet) = self.outgoing.pop_front() {
                if websocket::send(writer, &packet, self.version, self.force_base64)
                    .await
                    .is_err()
                {
                    return Err(Stop::Closed(EngineCloseReason::TransportError));
                }
            }
            return Ok(());
        }
        if self.post_in_flight {
            return Ok(());
        }
        let batch = next_batch(&mut self.outgoing, self.max_payload, self.version);
        let body = encode_body(&batch, self.version);
        self.post_in_flight = true;
        let endpoint = self.endpoint.clone();
        let sid = self.sid.clone();
        let counter = self.next_counter();
        let report = self.internal_tx.clone();
        self.tasks.spawn(async move {
            let result = endpoint.post(&sid, counter, body).await;
            let _ = report.send(Internal::Post(result));
        });
        Ok(())
    }

    /// Starts the upgrade: polling pauses, and a WebSocket with the sid sends `2probe`.
    fn start_upgrade(&mut self) {
        self.upgrade = Some(Upgrade::start(self.get_in_flight, self.post_in_flight));
        let endpoint = self.endpoint.clone();
        let target = endpoint.target(TransportKind::WebSocket, Some(&self.sid), 0);
        let version = self.version;
        let report = self.internal_tx.clone();
        self.tasks.spawn(async move {
            let probing = async {
                let mut ws =
                    websocket::connect(&endpoint.authority, &target, &endpoint.headers()).await?;
                websocket::send(&mut ws, &probe(), version, false).await?;
                match websocket::read(&mut ws, version).await {
                    Read::Packet(answer) => Ok(Box::new((ws, answer))),
                    Read::Closed => Err(TransportError::WebSocket(
                        "closed before the probe's answer".to_owned(),
                    )),
                    Read::Failed(error) => Err(error),
                }
            };
            let result = tokio::time::timeout(endpoint.request_timeout, probing)
                .await
                .unwrap_or(Err(TransportError::Timeout));
            let _ = report.send(Internal::Probe(result));
        });
    }

    async fn on_upgrade_step(&mut self, step: UpgradeStep) -> Result<(), Stop> {
        match step {
            UpgradeStep::Wait => Ok(()),
            UpgradeStep::Abandon => {
                // "probe error": polling goes on.
                self.upgrade = None;
                self.probe_ws = None;
                self.start_get();
                self.flush().await
            }
            UpgradeStep::Complete => {
                self.upgrade = None;
                let Some(mut ws) = self.probe_ws.take() else {
                    self.start_get();
                    return self.flush().await;
                };
                let upgrade = Packet::empty(PacketType::Upgrade);
                if websocket::send(&mut ws, &upgrade, self.version, self.force_base64)
                    .await
                    .is_err()
                {
                    return Err(Stop::Closed(EngineCloseReason::TransportError));
                }
                self.use_websocket(ws);
                self.flush().await
            }
        }
    }

    /// Moves the session onto a WebSocket: the driver keeps the writer, a task reads.
    fn use_websocket(&mut self, ws: Ws) {
        let (writer, mut reader) = ws.split();
        self.writer = Some(writer);
        self.on_websocket.store(true, Ordering::SeqCst);
        let version = self.version;
        let report = self.internal_tx.clone();
        self.tasks.spawn(async move {
            loop {
                let read = websocket::read(&mut reader, version).await;
                let last = !matches!(read, Read::Packet(_));
                if report.send(Internal::Ws(read)).is_err() || last {
                    break;
                }
            }
        });
    }

    /// The owner's close: what is queued leaves first; over polling the close packet `1`
    /// follows it (as the official client's polling close does), over WebSocket a close frame.
    async fn close_gracefully(&mut self) {
        self.upgrade = None;
        self.probe_ws = None;
        if let Some(writer) = &mut self.writer {
            while let Some(packet) = self.outgoing.pop_front() {
                if websocket::send(writer, &packet, self.version, self.force_base64)
                    .await
                    .is_err()
                {
                    return;
                }
            }
            let _ = writer.send(Message::Close(None)).await;
            let _ = writer.close().await;
            return;
        }
        while self.post_in_flight {
            match self.internal.recv().await {
                Some(Internal::Post(_)) | None => self.post_in_flight = false,
                Some(_) => {}
            }
        }
        self.outgoing.push_back(Packet::empty(PacketType::Close));
        while !self.outgoing.is_empty() {
            let batch = next_batch(&mut self.outgoing, self.max_payload, self.version);
            let body = encode_body(&batch, self.version);
            let counter = self.next_counter();
            if self.endpoint.post(&self.sid, counter, body).await.is_err() {
                return;
            }
        }
    }
}
