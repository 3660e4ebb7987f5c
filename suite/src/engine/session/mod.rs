//! The abstract Engine.IO session, mapped onto a transport: HTTP long-polling (a GET always
//! pending, POSTs one at a time), WebSocket, or polling upgraded to WebSocket the way the
//! spec's client does it (pause polling, probe, upgrade).
//!
//! Whatever the transport, received packets land in one [`Inbox`], through the same
//! [`rules`]: noop packets `6` are transport mechanics and are left out (they stay in the
//! transcript), a close packet `1` ends the session, and the automatic heartbeat is taken care
//! of.
//!
//! The automatic heartbeat depends on the protocol. In protocol 4 the server pings: every ping
//! `2` is answered with `3` and left out of the inbox. In protocol 3 the client pings: a pinger
//! task sends `2` every `pingInterval` (the target's declared option) from the open onward,
//! over whatever link the session is on at that moment, and the server's pongs `3` are left out
//! of the inbox; a ping from the server is never answered.
//!
//! Its parts: [`rules`] (what becomes of each packet received), `packets` (how each revision
//! writes and reads them), `polling` (the polling transport and its poller), `pinger`
//! (protocol 3's automatic pings); this module opens the session, upgrades it and sends on it.
//!
//! Protocol 3 frames packets differently: a polling body is a v3 payload (`<length>:<packet>`
//! repeated, lengths in UTF-16 code units; binary as `b4<base64>`), or, when the response's
//! `Content-Type` is `application/octet-stream`, a v3 binary payload; a binary packet carries
//! its type as its first byte. A binary message is the session's [`Data::Binary`] with its data
//! only, as in protocol 4.

mod packets;
mod pinger;
mod polling;
pub(crate) mod rules;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Mutex};
use tokio::time::Instant;

use super::error::StepError;
use super::http::{self, HttpRequest, HttpResponse};
use super::inbox::{Inbox, Incoming, Next};
use super::matching::{match_data, MatchError};
use super::transcript::EventKind;
use super::vars::Vars;
use super::websocket::{self, WsConnection, WsOpen, WsRequest};
use super::wire::{AbortOnDrop, Wire};
use crate::protocol::engine_io::{PacketType, PING_PROBE, PONG_PROBE};
use crate::scenario::{Data, Pattern, Transport};

pub(crate) use packets::v3_session_binary;
use packets::{decode_poll_body, encode_payload, frame, Protocol};
use pinger::Pinger;
use polling::{poll_loop, PollingLink};
use rules::PacketRules;

/// What opening a session needs to know.
pub(crate) struct SessionSetup<'a> {
    pub(crate) actor: &'a str,
    /// The endpoint's path, such as `/engine.io/`.
    pub(crate) path: &'a str,
    pub(crate) eio: u8,
    pub(crate) transport: Transport,
    /// The engine takes care of the heartbeat (`heartbeat: auto`).
    pub(crate) auto_heartbeat: bool,
    /// The target's declared `pingInterval`: how often a protocol 3 session pings.
    pub(crate) ping_interval: Duration,
    /// Extra handshake query parameters.
    pub(crate) extra_query: Option<String>,
    /// The open packet's JSON, matched structurally.
    pub(crate) open_json: serde_json::Value,
    /// How long the server may hold a polling GET (or take to answer a POST of the engine's
    /// own) before it counts as stalled.
    pub(crate) poll_timeout: Duration,
    /// By when the open (and, for `upgrade`, the upgrade) must be done.
    pub(crate) deadline: Instant,
}

/// An open session.
pub(crate) struct Session {
    /// The session id from the open packet.
    pub(crate) sid: String,
    /// Everything received, in order.
    pub(crate) inbox: Inbox,
    /// Feeds `inbox`; handed to the WebSocket of an upgrade.
    sender: mpsc::UnboundedSender<Incoming>,
    protocol: Protocol,
    rules: PacketRules,
    /// The link the session is on; shared with the pinger, switched by the upgrade.
    route: Arc<Mutex<Route>>,
    poller: Option<Poller>,
    /// Protocol 3's automatic pings; they end with the session.
    _pinger: Option<AbortOnDrop<()>>,
}

/// The link a session sends on.
#[derive(Clone)]
enum Route {
    Polling(Arc<PollingLink>),
    WebSocket(Arc<WsConnection>),
}

struct Poller {
    paused: Arc<AtomicBool>,
    /// Turns true once the poller has sent its first GET.
    polling: watch::Receiver<bool>,
    task: AbortOnDrop<()>,
}

impl Session {
    /// Opens a session; the open packet's captures go to `vars`.
    pub(crate) async fn open(
        wire: &Wire,
        setup: &SessionSetup<'_>,
        vars: &mut Vars,
    ) -> Result<Session, StepError> {
        let protocol = Protocol::of(setup.eio)?;
        let mut session = match setup.transport {
            Transport::Polling | Transport::Upgrade => {
                open_polling(wire, setup, protocol, vars).await?
            }
            Transport::Websocket => open_websocket(wire, setup, protocol, vars).await?,
        };
        if protocol == Protocol::V3 && setup.auto_heartbeat {
            // From the open onward, so that the upgrade's own wait is covered too.
            let pinger = Pinger {
                wire: wire.clone(),
                actor: setup.actor.to_owned(),
                route: Arc::clone(&session.route),
                interval: setup.ping_interval,
                timeout: setup.poll_timeout,
            };
            session._pinger = Some(AbortOnDrop(tokio::spawn(pinger.run())));
        }
        if setup.transport == Transport::Upgrade {
            session.upgrade(wire, setup).await?;
        }
        Ok(session)
    }

    /// Sends packets: over polling in one POST, over WebSocket one frame each.
    pub(crate) async fn send(&self, packets: &[Data], deadline: Instant) -> Result<(), StepError> {
        let route = tokio::time::timeout_at(deadline, self.route.lock())
            .await
            .map_err(|_| {
                StepError::unmet(
                    "the session's link free to send on",
                    "an automatic ping held it past the deadline",
                )
            })?
            .clone();
        route.send(self.protocol, packets, deadline).await
    }

    /// Ends the session on the engine's side without a word, as a client whose network went
    /// away: the poller stops and the connection of its pending GET closes, the WebSocket's
    /// TCP connection ends without a close frame (each task is aborted, and dropping the
    /// connections it holds closes them).
    pub(crate) fn drop_connections(self, wire: &Wire, actor: &str) {
        wire.recorder.record(
            actor,
            "session",
            EventKind::Note {
                text: "dropped: the session's connections end without a close packet".to_owned(),
            },
        );
        drop(self);
    }

    /// The spec's upgrade, in its order: pause polling (no new request; the pending GET stays),
    /// open a WebSocket with the sid, send `2probe`, get `3probe`; the server must then answer
    /// the pending GET (with a noop); then send `5`.
    async fn upgrade(&mut self, wire: &Wire, setup: &SessionSetup<'_>) -> Result<(), StepError> {
        if let Some(poller) = &mut self.poller {
            // A client upgrades a session that is polling: without this, the pause could come
            // before the first GET, and the server's answer to a pending GET (a noop) would go
            // unchecked. A poller that has ended already has nothing to wait for.
            let _ = tokio::time::timeout_at(
                setup.deadline,
                poller.polling.wait_for(|polling| *polling),
            )
            .await;
            poller.paused.store(true, Ordering::SeqCst);
        }
        let request = WsRequest {
            actor: setup.actor,
            channel: wire.channel("ws"),
            target: format!(
                "{}?EIO={}&transport=websocket&sid={}",
                setup.path, setup.eio, self.sid
            ),
            headers: Vec::new(),
            rules: self.rules,
            framing: self.protocol.framing(),
            control_frames: false,
        };
        let opened = websocket::open(wire, request, self.sender.clone(), setup.deadline).await?;
        let connection = match opened {
            WsOpen::Accepted(connection) => connection,
            WsOpen::Refused(status, detail, _) => {
                return Err(StepError::unmet(
                    "the upgrade's WebSocket accepted (101)",
                    websocket::describe_refusal(status, &detail),
                ))
            }
        };
        connection
            .send(&Data::Text(PING_PROBE.to_owned()), setup.deadline)
            .await?;
        self.await_probe_answer(setup.deadline).await?;
        self.await_poller_end(setup.deadline).await?;
        // The switch holds the route: a ping is never POSTed after the `5`, when the server
        // no longer takes polling requests for the session.
        let mut route = tokio::time::timeout_at(setup.deadline, self.route.lock())
            .await
            .map_err(|_| {
                StepError::unmet(
                    "the session's link free to send the upgrade on",
                    "an automatic ping held it past the deadline",
                )
            })?;
        connection
            .send(&PacketType::Upgrade.text(""), setup.deadline)
            .await?;
        wire.recorder.record(
            setup.actor,
            connection.channel(),
            EventKind::Note {
                text: "upgraded: the session goes on over this WebSocket".to_owned(),
            },
        );
        *route = Route::WebSocket(Arc::new(connection));
        Ok(())
    }

    /// Waits for [`PONG_PROBE`], keeping whatever else arrives meanwhile (packets of the pending
    /// GET) in the inbox, in order.
    async fn await_probe_answer(&mut self, deadline: Instant) -> Result<(), StepError> {
        let started = Instant::now();
        let mut others = Vec::new();
        let result = loop {
            match self.inbox.next(deadline).await {
                Next::Item(Incoming::Data(Data::Text(text))) if text == PONG_PROBE => break Ok(()),
                Next::Item(Incoming::Closed(closure)) => {
                    break Err(StepError::unmet("3probe on the WebSocket", closure.detail))
                }
                Next::Item(other) => others.push(other),
                Next::Timeout => {
                    break Err(StepError::nothing_within(
                        "3probe on the WebSocket",
                        started.elapsed(),
                    ))
                }
            }
        };
        self.inbox.put_back(others);
        result
    }

    /// Waits for the paused poller's last GET, which the server must answer.
    async fn await_poller_end(&mut self, deadline: Instant) -> Result<(), StepError> {
        let Some(mut poller) = self.poller.take() else {
            return Ok(());
        };
        let started = Instant::now();
        match tokio::time::timeout_at(deadline, &mut poller.task.0).await {
            Ok(_) => Ok(()),
            Err(_) => Err(StepError::nothing_within(
                "the pending GET answered (with a noop) after the probe",
                started.elapsed(),
            )),
        }
    }
}

impl Route {
    /// Sends packets: over polling in one POST, over WebSocket one frame each.
    async fn send(
        &self,
        protocol: Protocol,
        packets: &[Data],
        deadline: Instant,
    ) -> Result<(), StepError> {
        match self {
            Route::Polling(link) => {
                link.post(&encode_payload(protocol, packets)?, deadline)
                    .await
            }
            Route::WebSocket(connection) => {
                for packet in packets {
                    connection.send(&frame(protocol, packet), deadline).await?;
                }
                Ok(())
            }
        }
    }
}

async fn open_polling(
    wire: &Wire,
    setup: &SessionSetup<'_>,
    protocol: Protocol,
    vars: &mut Vars,
) -> Result<Session, StepError> {
    let mut target = format!("{}?EIO={}&transport=polling", setup.path, setup.eio);
    if let Some(extra) = &setup.extra_query {
        target = format!("{target}&{extra}");
    }
    let request = HttpRequest {
        method: "GET".to_owned(),
        target,
        headers: Vec::new(),
        body: Vec::new(),
    };
    let response = http::send_fresh(wire, setup.actor, &request, setup.deadline).await?;
    let (open, rest) = handshake_packets(protocol, &response)?;
    let sid = check_open(&open, setup, vars)?;
    let (sender, mut inbox) = Inbox::new();
    inbox.put_back(rest.into_iter().map(Incoming::Data).collect());
    let link = Arc::new(PollingLink {
        wire: wire.clone(),
        actor: setup.actor.to_owned(),
        protocol,
        target: format!(
            "{}?EIO={}&transport=polling&sid={sid}",
            setup.path, setup.eio
        ),
        post_lane: Mutex::new(()),
    });
    let rules = PacketRules::session(protocol.heartbeat(setup.auto_heartbeat));
    let paused = Arc::new(AtomicBool::new(false));
    let (polling_sender, polling) = watch::channel(false);
    let task = tokio::spawn(poll_loop(
        Arc::clone(&link),
        sender.clone(),
        rules,
        Arc::clone(&paused),
        polling_sender,
        setup.poll_timeout,
    ));
    Ok(Session {
        sid,
        inbox,
        sender,
        protocol,
        rules,
        route: Arc::new(Mutex::new(Route::Polling(link))),
        poller: Some(Poller {
            paused,
            polling,
            task: AbortOnDrop(task),
        }),
        _pinger: None,
    })
}

/// The handshake response's open packet, and the packets after it.
fn handshake_packets(
    protocol: Protocol,
    response: &HttpResponse,
) -> Result<(Data, Vec<Data>), StepError> {
    let expected = "200 with a polling payload whose first packet is an open packet";
    if response.status != 200 {
        return Err(StepError::unmet(expected, response.describe()));
    }
    let mut packets = decode_poll_body(protocol, response)
        .map_err(|why| StepError::unmet(expected, format!("{}: {why}", response.describe())))?
        .into_iter();
    let Some(open) = packets.next() else {
        return Err(StepError::unmet(
            expected,
            format!("{}: no packet", response.describe()),
        ));
    };
    Ok((open, packets.collect()))
}

async fn open_websocket(
    wire: &Wire,
    setup: &SessionSetup<'_>,
    protocol: Protocol,
    vars: &mut Vars,
) -> Result<Session, StepError> {
    let mut target = format!("{}?EIO={}&transport=websocket", setup.path, setup.eio);
    if let Some(extra) = &setup.extra_query {
        target = format!("{target}&{extra}");
    }
    let rules = PacketRules::session(protocol.heartbeat(setup.auto_heartbeat));
    let request = WsRequest {
        actor: setup.actor,
        channel: wire.channel("ws"),
        target,
        headers: Vec::new(),
        rules,
        framing: protocol.framing(),
        control_frames: false,
    };
    let (sender, mut inbox) = Inbox::new();
    let connection = match websocket::open(wire, request, sender.clone(), setup.deadline).await? {
        WsOpen::Accepted(connection) => connection,
        WsOpen::Refused(status, detail, _) => {
            return Err(StepError::unmet(
                "the WebSocket accepted (101)",
                websocket::describe_refusal(status, &detail),
            ))
        }
    };
    let started = Instant::now();
    let open = match inbox.next(setup.deadline).await {
        Next::Item(Incoming::Data(data)) => data,
        Next::Item(Incoming::Closed(closure)) => {
            return Err(StepError::unmet("an open packet", closure.detail))
        }
        // A session's WebSocket queues no control frame.
        Next::Item(Incoming::Control(control, _)) => {
            return Err(StepError::unmet(
                "an open packet",
                format!("a {} control frame", control.as_str()),
            ))
        }
        Next::Timeout => {
            return Err(StepError::nothing_within(
                "an open packet",
                started.elapsed(),
            ))
        }
    };
    let sid = check_open(&open, setup, vars)?;
    Ok(Session {
        sid,
        inbox,
        sender,
        protocol,
        rules,
        route: Arc::new(Mutex::new(Route::WebSocket(Arc::new(connection)))),
        poller: None,
        _pinger: None,
    })
}

/// Matches the open packet and returns its sid.
fn check_open(open: &Data, setup: &SessionSetup<'_>, vars: &mut Vars) -> Result<String, StepError> {
    let pattern = Pattern::Json {
        prefix: PacketType::Open.bare().to_owned(),
        value: setup.open_json.clone(),
    };
    let expected = format!("an open packet {pattern}");
    match match_data(&pattern, open, vars) {
        Ok(()) => {}
        Err(MatchError::Mismatch(why)) => {
            return Err(StepError::unmet(expected, format!("{open:?}: {why}")))
        }
        Err(MatchError::Invalid(error)) => return Err(error),
    }
    let sid = match open {
        Data::Text(text) => serde_json::from_str::<serde_json::Value>(&text[1..])
            .ok()
            .and_then(|json| json.get("sid")?.as_str().map(str::to_owned)),
        Data::Binary(_) => None,
    };
    sid.ok_or_else(|| StepError::unmet("an open packet with a string sid", format!("{open:?}")))
}
