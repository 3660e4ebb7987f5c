//! The abstract session steps (`open`, `connect`, `send`, `receive`, `silence`, `closed`), on
//! each actor's Engine.IO session.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::Context;
use crate::engine::clock::StepClock;
use crate::engine::error::StepError;
use crate::engine::expect::{
    expect_closed, expect_connect_answer, expect_data, expect_silence, expect_unordered,
};
use crate::engine::session::{Session, SessionSetup};
use crate::engine::vars::Vars;
use crate::protocol::socket_io::Packet;
use crate::scenario::{ConnectStep, OpenStep, Pattern, SessionAction, Step};

/// The actors' sessions, by actor.
#[derive(Default)]
pub(super) struct Sessions {
    by_actor: HashMap<String, Session>,
}

impl Sessions {
    /// Runs a session step.
    pub(super) async fn run(
        &mut self,
        context: &Context<'_>,
        vars: &mut Vars,
        step: &Step,
        action: &SessionAction,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        match action {
            SessionAction::Open(open) => self.open(context, vars, step, open, clock).await,
            SessionAction::Connect(connect) => {
                self.connect(context, vars, step, connect, clock).await
            }
            SessionAction::Send(packets) => {
                let packets = packets
                    .iter()
                    .map(|packet| vars.substitute_data(packet))
                    .collect::<Result<Vec<_>, _>>()?;
                self.session(step)?.send(&packets, clock.deadline()).await
            }
            SessionAction::Receive(patterns) => self.receive(vars, step, patterns, clock).await,
            SessionAction::Silence(duration) => {
                let inbox = &mut self.session_mut(step)?.inbox;
                expect_silence(inbox, context.duration(duration), "packet").await
            }
            SessionAction::Closed => {
                let inbox = &mut self.session_mut(step)?.inbox;
                expect_closed(inbox, clock, "the session closed").await
            }
            SessionAction::Drop => {
                let session = self
                    .by_actor
                    .remove(&step.actor)
                    .ok_or_else(|| no_session(&step.actor))?;
                session.drop_connections(&context.wire, &step.actor);
                Ok(())
            }
        }
    }

    /// Opens the actor's session over the case's transport; captures `${<actor>.sid}`.
    async fn open(
        &mut self,
        context: &Context<'_>,
        vars: &mut Vars,
        step: &Step,
        open: &OpenStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let Some(transport) = context.case.variant.transport else {
            return Err(StepError::Invalid(
                "`open` needs a transport axis".to_owned(),
            ));
        };
        let extra_query = open
            .query
            .as_deref()
            .map(|query| vars.substitute(query))
            .transpose()?;
        let setup = SessionSetup {
            actor: &step.actor,
            path: context.endpoint_path(),
            eio: context.case.variant.eio,
            transport,
            auto_heartbeat: context.auto_heartbeat(),
            ping_interval: context.target.options.ping_interval,
            extra_query,
            open_json: open
                .expect
                .clone()
                .unwrap_or_else(|| json!({"sid": "$string", "$extra": true})),
            poll_timeout: context.poll_timeout(),
            deadline: clock.deadline(),
        };
        let session = Session::open(&context.wire, &setup, vars).await?;
        vars.set(
            format!("{}.sid", step.actor),
            Value::from(session.sid.clone()),
        );
        self.by_actor.insert(step.actor.clone(), session);
        clock.check_min()
    }

    /// A CONNECT to a namespace and the server's CONNECT answer; opens the session first when
    /// the actor has none.
    ///
    /// In Socket.IO protocol 4 (a protocol 3 case at the Socket.IO endpoint) the server joins
    /// the client to `/` by itself, so `connect: /` sends nothing and awaits the bare `40`;
    /// another namespace's CONNECT is `40/admin,` (a query in the namespace, `/admin?k=v`, is
    /// written as is), and its answer `40/admin,` has no payload. A v4 CONNECT carries none,
    /// so `auth` is refused.
    async fn connect(
        &mut self,
        context: &Context<'_>,
        vars: &mut Vars,
        step: &Step,
        connect: &ConnectStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        if !self.by_actor.contains_key(&step.actor) {
            self.open(context, vars, step, &OpenStep::default(), clock)
                .await?;
        }
        let namespace = vars.substitute(&connect.namespace)?;
        let auth = connect
            .auth
            .as_ref()
            .map(|auth| vars.substitute_json(auth))
            .transpose()?;
        let version_4 = context.case.is_socket_io_v4();
        if version_4 && auth.is_some() {
            return Err(StepError::Invalid(
                "a Socket.IO v4 CONNECT has no payload: write `auth` as a query in the \
                 namespace (`/custom?token=abc`)"
                    .to_owned(),
            ));
        }
        if !(version_4 && namespace == "/") {
            let packet = Packet::connect(&namespace, auth).to_message();
            self.session(step)?
                .send(&[packet], clock.deadline())
                .await?;
        }
        // The answer names the namespace without its query (behaviors V4-03).
        let namespace = match namespace.split_once('?') {
            Some((name, _)) if version_4 => name.to_owned(),
            _ => namespace,
        };
        let pattern = if version_4 {
            match &connect.expect {
                Some(data) => json!({"type": 0, "nsp": namespace, "data": data}),
                None => json!({"type": 0, "nsp": namespace}),
            }
        } else {
            let variable = connect.variable(&step.actor);
            let data = connect.expect.clone().unwrap_or_else(
                || json!({"sid": {"$capture": variable, "$match": "$string"}, "$extra": true}),
            );
            json!({"type": 0, "nsp": namespace, "data": data})
        };
        let pattern = Pattern::Sio(pattern);
        let inbox = &mut self.session_mut(step)?.inbox;
        expect_connect_answer(inbox, &namespace, &pattern, vars, clock).await?;
        clock.check_min()
    }

    /// The next packets, in order or (`any_order`) in any order.
    async fn receive(
        &mut self,
        vars: &mut Vars,
        step: &Step,
        patterns: &[Pattern],
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let inbox = &mut self.session_mut(step)?.inbox;
        if step.any_order {
            expect_unordered(inbox, patterns, vars, clock).await?;
        } else {
            for pattern in patterns {
                expect_data(inbox, pattern, vars, clock, "packet").await?;
            }
        }
        clock.check_min()
    }

    fn session(&self, step: &Step) -> Result<&Session, StepError> {
        self.by_actor
            .get(&step.actor)
            .ok_or_else(|| no_session(&step.actor))
    }

    fn session_mut(&mut self, step: &Step) -> Result<&mut Session, StepError> {
        self.by_actor
            .get_mut(&step.actor)
            .ok_or_else(|| no_session(&step.actor))
    }
}

fn no_session(actor: &str) -> StepError {
    StepError::Invalid(format!("{actor} has no session: `open` it first"))
}
