//! The step interpreter: runs a case's steps in order against a target, one layer per module,
//! as `scenario::step` names them:
//!
//! - [`session`]: the abstract session steps, on the actors' [`Sessions`];
//! - [`http`]: the raw HTTP steps, on the actors' kept connections and the background
//!   requests ([`Requests`]);
//! - [`ws`]: the raw WebSocket steps, on the named [`RawSockets`].
//!
//! Each layer keeps its own actors; what the steps share is the case's [`Context`] (read only)
//! and its variables ([`Vars`]), handed to each step.

mod http;
mod session;
mod ws;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::clock::StepClock;
use super::error::StepError;
use super::target::{RunOptions, Target};
use super::transcript::EventKind;
use super::vars::Vars;
use super::wire::Wire;
use crate::scenario::{Action, Case, DurationExpr, Endpoint, Heartbeat, Step, TimingOptions};
use http::Requests;
use session::Sessions;
use ws::RawSockets;

/// What every step of a case reads: the case, the target, the run's options, the wire.
pub(crate) struct Context<'a> {
    pub(crate) case: &'a Case,
    pub(crate) target: &'a Target,
    pub(crate) options: &'a RunOptions,
    pub(crate) wire: Wire,
}

impl Context<'_> {
    /// The path of the scenario's endpoint for the case's protocol version.
    fn endpoint_path(&self) -> &str {
        match self.case.scenario.endpoint {
            Endpoint::EngineIo => self.target.engine_io_path_for(self.case.variant.eio),
            Endpoint::SocketIo => &self.target.socket_io_path,
            Endpoint::SocketIoRecovery => &self.target.socket_io_recovery_path,
        }
    }

    /// A request target: the path (the endpoint's by default) and the query, variables
    /// substituted.
    fn request_target(
        &self,
        vars: &Vars,
        path: Option<&String>,
        query: Option<&String>,
    ) -> Result<String, StepError> {
        let path = match path {
            Some(path) => vars.substitute(path)?,
            None => self.endpoint_path().to_owned(),
        };
        Ok(match query {
            Some(query) => format!("{path}?{}", vars.substitute(query)?),
            None => path,
        })
    }

    /// A duration of the scenario, in the target's declared options (not scaled).
    fn duration(&self, duration: &DurationExpr) -> Duration {
        duration.eval(&self.target.options)
    }

    /// How long the server may hold a request: as long as a poll (a heartbeat, and a step's
    /// time), scaled.
    fn poll_timeout(&self) -> Duration {
        let options = &self.target.options;
        self.options
            .scaled(options.ping_interval + options.ping_timeout + self.options.step_timeout)
    }

    /// Whether the engine takes care of the heartbeat (`heartbeat: auto`).
    fn auto_heartbeat(&self) -> bool {
        self.case.scenario.heartbeat == Heartbeat::Auto
    }

    /// The variables a case starts with: the target's options, the variant, the paths.
    fn initial_vars(&self) -> Vars {
        let (case, target) = (self.case, self.target);
        let mut vars = Vars::default();
        let options = &target.options;
        for name in crate::scenario::OptionName::ALL {
            let millis = options.option(name).as_millis();
            vars.set(
                name.as_str(),
                Value::from(u64::try_from(millis).unwrap_or(u64::MAX)),
            );
        }
        vars.set("maxPayload", Value::from(options.max_payload));
        vars.set("eio", Value::from(case.variant.eio));
        vars.set(
            "eioPath",
            Value::from(target.engine_io_path_for(case.variant.eio).to_owned()),
        );
        vars.set("sioPath", Value::from(target.socket_io_path.clone()));
        vars.set(
            "sioRecoveryPath",
            Value::from(target.socket_io_recovery_path.clone()),
        );
        vars.set("host", Value::from(target.address.to_string()));
        if let Some(transport) = case.variant.transport {
            vars.set("transport", Value::from(transport.as_str()));
        }
        vars
    }
}

/// Headers with their values' variables substituted.
fn substituted_headers(
    vars: &Vars,
    headers: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, StepError> {
    headers
        .iter()
        .map(|(name, value)| Ok((name.clone(), vars.substitute(value)?)))
        .collect()
}

/// The state of one case run: the context, the variables, and each layer's actors.
pub(crate) struct Execution<'a> {
    context: Context<'a>,
    vars: Vars,
    sessions: Sessions,
    requests: Requests,
    sockets: RawSockets,
}

/// The step that failed and why.
pub(crate) type StepFailure = (usize, StepError);

impl<'a> Execution<'a> {
    pub(crate) fn new(
        case: &'a Case,
        target: &'a Target,
        options: &'a RunOptions,
        wire: Wire,
    ) -> Execution<'a> {
        let context = Context {
            case,
            target,
            options,
            wire,
        };
        Execution {
            vars: context.initial_vars(),
            context,
            sessions: Sessions::default(),
            requests: Requests::default(),
            sockets: RawSockets::default(),
        }
    }

    /// Runs every step; stops at the first that fails.
    pub(crate) async fn run(&mut self) -> Result<(), StepFailure> {
        for (index, step) in self.context.case.scenario.steps.iter().enumerate() {
            self.context.wire.recorder.record(
                &step.actor,
                "step",
                EventKind::Step {
                    number: index + 1,
                    keyword: step.action.keyword().to_owned(),
                },
            );
            self.step(step).await.map_err(|error| (index, error))?;
        }
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> Result<(), StepError> {
        let context = &self.context;
        let clock = StepClock::start(context.options, context.target, step.within.as_ref());
        let vars = &mut self.vars;
        match &step.action {
            Action::Session(action) => self.sessions.run(context, vars, step, action, &clock).await,
            Action::Http(action) => self.requests.run(context, vars, step, action, &clock).await,
            Action::Ws(action) => self.sockets.run(context, vars, step, action, &clock).await,
            Action::Wait(duration) => {
                tokio::time::sleep(context.options.scaled(context.duration(duration))).await;
                Ok(())
            }
            // The loader keeps these to client-role cases, which `serving` runs.
            Action::Serving(serving) => Err(StepError::Invalid(format!(
                "`{}` plays the server, and the engine plays the client in this case",
                serving.keyword()
            ))),
        }
    }
}
