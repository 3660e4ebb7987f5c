//! The raw WebSocket steps (`websocket`, `ws_send`, `ws_ping`, `ws_receive`, `ws_silence`,
//! `ws_close`, `ws_closed`), on named WebSockets (the actor's name by default).

use std::collections::HashMap;

use super::{substituted_headers, Context};
use crate::engine::clock::StepClock;
use crate::engine::error::StepError;
use crate::engine::expect::{
    check_headers, expect_close_frame, expect_closed, expect_control, expect_data, expect_silence,
    skip_close_packet, skip_noops, HeaderExpect,
};
use crate::engine::inbox::{Control, Inbox};
use crate::engine::session::rules::{AutoHeartbeat, PacketRules};
use crate::engine::vars::Vars;
use crate::engine::websocket::{self, Framing, WsConnection, WsOpen, WsRequest};
use crate::scenario::{
    FrameExpect, Step, WebsocketExpect, WebsocketOutcome, WebsocketStep, WsAction, WsClosedStep,
    WsReceiveStep, SWITCHING_PROTOCOLS,
};

/// A raw WebSocket and its inbox.
struct RawSocket {
    connection: WsConnection,
    inbox: Inbox,
}

/// The open raw WebSockets, by name.
#[derive(Default)]
pub(super) struct RawSockets {
    by_name: HashMap<String, RawSocket>,
}

impl RawSockets {
    /// Runs a raw WebSocket step.
    pub(super) async fn run(
        &mut self,
        context: &Context<'_>,
        vars: &mut Vars,
        step: &Step,
        action: &WsAction,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        match action {
            WsAction::Open(websocket) => self.open(context, vars, step, websocket, clock).await,
            WsAction::Send(send) => {
                let data = vars.substitute_data(&send.data)?;
                let socket = self.socket(step, send.on.as_ref())?;
                socket.connection.send(&data, clock.deadline()).await
            }
            WsAction::Ping(ping) => {
                let socket = self.socket(step, ping.on.as_ref())?;
                socket
                    .connection
                    .ping(&ping.payload, clock.deadline())
                    .await
            }
            WsAction::Receive(receive) => self.receive(vars, step, receive, clock).await,
            WsAction::Silence(silence) => {
                let socket = self.socket_mut(step, silence.on.as_ref())?;
                expect_silence(
                    &mut socket.inbox,
                    context.duration(&silence.duration),
                    "frame",
                )
                .await
            }
            WsAction::Close(close) => {
                let socket = self.socket(step, close.on.as_ref())?;
                socket.connection.close(close.code, clock.deadline()).await
            }
            WsAction::Closed(closed) => self.closed(step, closed, clock).await,
        }
    }

    /// Opens a raw WebSocket, which must be accepted (the default), rejected, or answered as
    /// `expect` says.
    async fn open(
        &mut self,
        context: &Context<'_>,
        vars: &mut Vars,
        step: &Step,
        websocket: &WebsocketStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let name = websocket.name.clone().unwrap_or_else(|| step.actor.clone());
        let target =
            context.request_target(vars, websocket.path.as_ref(), websocket.query.as_ref())?;
        let headers = substituted_headers(vars, &websocket.headers)?;
        let request = WsRequest {
            actor: &step.actor,
            channel: format!("ws:{name}"),
            target,
            headers,
            // A raw WebSocket answers pings `2` under the automatic heartbeat, whatever the
            // protocol: raw steps see the frames as they are, and a v3 server never pings.
            rules: PacketRules::raw(if context.auto_heartbeat() {
                AutoHeartbeat::AnswerPings
            } else {
                AutoHeartbeat::Off
            }),
            framing: Framing::AsIs,
            control_frames: websocket.control_frames,
        };
        let (sender, inbox) = Inbox::new();
        let opened = websocket::open(&context.wire, request, sender, clock.deadline()).await?;
        let connection = match &websocket.expect {
            WebsocketExpect::Default | WebsocketExpect::Outcome(WebsocketOutcome::Accepted) => {
                accepted(opened)?
            }
            WebsocketExpect::Outcome(WebsocketOutcome::Rejected) => {
                return rejected(opened, inbox, clock).await;
            }
            WebsocketExpect::Response(expect) => {
                let status = expect.status.unwrap_or(SWITCHING_PROTOCOLS);
                if status != SWITCHING_PROTOCOLS {
                    return refused_with(opened, status, &expect.headers, vars);
                }
                let connection = accepted(opened)?;
                check_headers(&expect.headers, connection.headers(), vars)?;
                connection
            }
        };
        self.by_name.insert(name, RawSocket { connection, inbox });
        clock.check_min()
    }

    /// The next frame: data, a ping or a pong, after any noops when they may pass.
    async fn receive(
        &mut self,
        vars: &mut Vars,
        step: &Step,
        receive: &WsReceiveStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let inbox = &mut self.socket_mut(step, receive.on.as_ref())?.inbox;
        if receive.skip_noops {
            skip_noops(inbox, clock).await;
        }
        match &receive.frame {
            FrameExpect::Data(pattern) => expect_data(inbox, pattern, vars, clock, "frame").await,
            FrameExpect::Ping(pattern) => {
                expect_control(inbox, Control::Ping, pattern, vars, clock).await
            }
            FrameExpect::Pong(pattern) => {
                expect_control(inbox, Control::Pong, pattern, vars, clock).await
            }
        }
    }

    /// The peer closes the WebSocket next, by a close frame with a code when one is given.
    async fn closed(
        &mut self,
        step: &Step,
        closed: &WsClosedStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let inbox = &mut self.socket_mut(step, closed.on.as_ref())?.inbox;
        if closed.allow_close_packet {
            skip_close_packet(inbox, clock).await;
        }
        match closed.code {
            None => expect_closed(inbox, clock, "the WebSocket closed").await,
            Some(code) => expect_close_frame(inbox, clock, code).await,
        }
    }

    fn socket(&self, step: &Step, on: Option<&String>) -> Result<&RawSocket, StepError> {
        let name = socket_name(step, on);
        self.by_name.get(&name).ok_or_else(|| no_socket(&name))
    }

    fn socket_mut(
        &mut self,
        step: &Step,
        on: Option<&String>,
    ) -> Result<&mut RawSocket, StepError> {
        let name = socket_name(step, on);
        self.by_name.get_mut(&name).ok_or_else(|| no_socket(&name))
    }
}

fn socket_name(step: &Step, on: Option<&String>) -> String {
    on.cloned().unwrap_or_else(|| step.actor.clone())
}

fn no_socket(name: &str) -> StepError {
    StepError::Invalid(format!("no open WebSocket {name:?}"))
}

fn accepted(opened: WsOpen) -> Result<WsConnection, StepError> {
    match opened {
        WsOpen::Accepted(connection) => Ok(connection),
        WsOpen::Refused(status, detail, _) => Err(StepError::unmet(
            "the WebSocket accepted (101)",
            websocket::describe_refusal(status, &detail),
        )),
    }
}

fn refused_with(
    opened: WsOpen,
    expected: u16,
    headers: &HeaderExpect,
    vars: &mut Vars,
) -> Result<(), StepError> {
    match opened {
        WsOpen::Refused(Some(status), _, received) if status == expected => {
            check_headers(headers, &received, vars)
        }
        WsOpen::Refused(status, detail, _) => Err(StepError::unmet(
            format!("the WebSocket refused with {expected}"),
            websocket::describe_refusal(status, &detail),
        )),
        WsOpen::Accepted(_) => Err(StepError::unmet(
            format!("the WebSocket refused with {expected}"),
            "accepted (101)",
        )),
    }
}

/// Refused, or accepted and then closed before any data frame: the server closed it.
async fn rejected(opened: WsOpen, mut inbox: Inbox, clock: &StepClock) -> Result<(), StepError> {
    match opened {
        WsOpen::Refused(..) => Ok(()),
        WsOpen::Accepted(connection) => {
            let expected = "the WebSocket refused, or closed before any data frame";
            let result = expect_closed(&mut inbox, clock, expected).await;
            drop(connection);
            result
        }
    }
}
