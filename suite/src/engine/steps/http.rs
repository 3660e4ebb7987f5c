//! The raw HTTP steps (`request`, `response`, `pending`, `abort`), on each actor's kept-alive
//! connection and the requests left running in the background.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::{substituted_headers, Context};
use crate::engine::clock::StepClock;
use crate::engine::error::{millis, StepError};
use crate::engine::expect::check_response;
use crate::engine::http::{self, HttpRequest, HttpResponse, KeptConnection};
use crate::engine::transcript::EventKind;
use crate::engine::vars::Vars;
use crate::engine::wire::AbortOnDrop;
use crate::scenario::{
    AbortStep, ConnectionMode, Data, HttpAction, PendingStep, RequestStep, ResponseStep, Step,
};

/// The shortest pause between two tries of a `request` with `retry`.
const MIN_RETRY: Duration = Duration::from_millis(1);

/// How long `abort` waits for the cancelled request's task to drop its connection.
const ABORT_GRACE: Duration = Duration::from_secs(1);

/// A background request: running, or finished early (seen by `pending`).
struct Background {
    /// The transcript's name for its connection.
    channel: String,
    task: AbortOnDrop<Result<HttpResponse, StepError>>,
    finished: Option<Result<HttpResponse, StepError>>,
}

/// A request ready to go.
enum Built {
    Http(HttpRequest),
    Raw(Vec<u8>),
}

/// The actors' kept-alive connections, and the background requests by name.
#[derive(Default)]
pub(super) struct Requests {
    kept: HashMap<String, Option<KeptConnection>>,
    background: HashMap<String, Background>,
}

impl Requests {
    /// Runs a raw HTTP step.
    pub(super) async fn run(
        &mut self,
        context: &Context<'_>,
        vars: &mut Vars,
        step: &Step,
        action: &HttpAction,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        match action {
            HttpAction::Request(request) => self.request(context, vars, step, request, clock).await,
            HttpAction::Response(response) => self.response(vars, response, clock).await,
            HttpAction::Pending(pending) => self.pending(context, pending).await,
            HttpAction::Abort(abort) => self.abort(context, step, abort).await,
        }
    }

    /// A request: in the background under its name, or in the foreground until its response
    /// meets `expect` (tried again after `retry` while it does not, until the deadline).
    async fn request(
        &mut self,
        context: &Context<'_>,
        vars: &mut Vars,
        step: &Step,
        request: &RequestStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        if let Some(name) = &request.name {
            let background = start_background(context, vars, step, request)?;
            self.background.insert(name.clone(), background);
            return Ok(());
        }
        let mut sent = 0_usize;
        // The last response's shortfall, for a retry that runs out of time.
        let mut last: Option<(String, String)> = None;
        loop {
            let response = match self.send_request(context, vars, step, request, clock).await {
                Ok(response) => response,
                // A retry cut short by the deadline: the last response is the answer.
                Err(StepError::Unmet { .. })
                    if Instant::now() >= clock.deadline() && last.is_some() =>
                {
                    let (expected, actual) = last.unwrap_or_default();
                    return Err(retried(expected, actual, sent, clock));
                }
                Err(error) => return Err(error),
            };
            sent += 1;
            let Some(expect) = &request.expect else {
                break;
            };
            let mut trial = vars.clone();
            match check_response(expect, &response, &mut trial) {
                Ok(()) => {
                    *vars = trial;
                    break;
                }
                Err(StepError::Unmet { expected, actual }) => {
                    let retry = request
                        .retry
                        .as_ref()
                        .map(|retry| context.duration(retry).max(MIN_RETRY));
                    match retry {
                        Some(retry) if Instant::now() + retry < clock.deadline() => {
                            last = Some((expected, actual));
                            tokio::time::sleep(retry).await;
                        }
                        Some(_) => return Err(retried(expected, actual, sent, clock)),
                        None => return Err(StepError::Unmet { expected, actual }),
                    }
                }
                Err(other) => return Err(other),
            }
        }
        clock.check_min()
    }

    /// Sends a request in the foreground and reads its response.
    async fn send_request(
        &mut self,
        context: &Context<'_>,
        vars: &Vars,
        step: &Step,
        request: &RequestStep,
        clock: &StepClock,
    ) -> Result<HttpResponse, StepError> {
        let wire = &context.wire;
        let deadline = clock.deadline();
        match build_request(context, vars, request)? {
            Built::Raw(raw) => http::send_raw(wire, &step.actor, &raw, deadline).await,
            Built::Http(built) => match request.connection {
                ConnectionMode::Fresh => {
                    http::send_fresh(wire, &step.actor, &built, deadline).await
                }
                ConnectionMode::Keep => {
                    let kept = self.kept.entry(step.actor.clone()).or_default();
                    http::send_kept(wire, &step.actor, kept, &built, deadline).await
                }
            },
        }
    }

    /// Awaits a background request's response, which must meet `expect`.
    async fn response(
        &mut self,
        vars: &mut Vars,
        response: &ResponseStep,
        clock: &StepClock,
    ) -> Result<(), StepError> {
        let Some(mut background) = self.background.remove(&response.request) else {
            return Err(StepError::Invalid(format!(
                "the request {:?} was already awaited",
                response.request
            )));
        };
        let started = Instant::now();
        let result = match background.finished.take() {
            Some(result) => result,
            None => match tokio::time::timeout_at(clock.deadline(), &mut background.task.0).await {
                Ok(Ok(result)) => result,
                Ok(Err(join_error)) => Err(StepError::Invalid(format!(
                    "the request task failed: {join_error}"
                ))),
                Err(_) => Err(StepError::nothing_within(
                    format!("a response to {:?}", response.request),
                    started.elapsed(),
                )),
            },
        };
        let http_response = result?;
        if let Some(expect) = &response.expect {
            check_response(expect, &http_response, vars)?;
        }
        clock.check_min()
    }

    /// A background request must stay unanswered for a while; an answer is kept for the
    /// `response` that awaits it.
    async fn pending(
        &mut self,
        context: &Context<'_>,
        pending: &PendingStep,
    ) -> Result<(), StepError> {
        let duration = context.duration(&pending.duration);
        let Some(background) = self.background.get_mut(&pending.request) else {
            return Err(StepError::Invalid(format!(
                "the request {:?} was already awaited",
                pending.request
            )));
        };
        if background.finished.is_some() {
            return Err(StepError::unmet(
                format!("{:?} still unanswered", pending.request),
                "it was answered",
            ));
        }
        let started = Instant::now();
        match tokio::time::timeout(duration, &mut background.task.0).await {
            Err(_) => Ok(()),
            Ok(joined) => {
                let result = joined.unwrap_or_else(|error| {
                    Err(StepError::Invalid(format!(
                        "the request task failed: {error}"
                    )))
                });
                let actual = match &result {
                    Ok(response) => format!(
                        "answered after {}: {}",
                        millis(started.elapsed()),
                        response.describe()
                    ),
                    Err(error) => format!("ended after {}: {error:?}", millis(started.elapsed())),
                };
                background.finished = Some(result);
                Err(StepError::unmet(
                    format!(
                        "{:?} still unanswered after {}",
                        pending.request,
                        millis(duration)
                    ),
                    actual,
                ))
            }
        }
    }

    /// Closes the connection of a background request that is still unanswered.
    async fn abort(
        &mut self,
        context: &Context<'_>,
        step: &Step,
        abort: &AbortStep,
    ) -> Result<(), StepError> {
        let Some(mut background) = self.background.remove(&abort.request) else {
            return Err(StepError::Invalid(format!(
                "the request {:?} was already awaited or aborted",
                abort.request
            )));
        };
        let expected = format!("{:?} still unanswered, to abort it", abort.request);
        if let Some(result) = background.finished.take() {
            return Err(StepError::unmet(expected, describe_result(&result)));
        }
        background.task.0.abort();
        // The task drops its connection when it is cancelled; a task that had finished gives
        // its result instead.
        match tokio::time::timeout(ABORT_GRACE, &mut background.task.0).await {
            Ok(Ok(result)) => Err(StepError::unmet(expected, describe_result(&result))),
            Ok(Err(_)) | Err(_) => {
                context.wire.recorder.record(
                    &step.actor,
                    &background.channel,
                    EventKind::Note {
                        text: format!(
                            "aborted {:?}: the connection is closed unanswered",
                            abort.request
                        ),
                    },
                );
                Ok(())
            }
        }
    }
}

/// Starts a request in the background, on a fresh connection; it may be held as long as a
/// poll.
fn start_background(
    context: &Context<'_>,
    vars: &Vars,
    step: &Step,
    request: &RequestStep,
) -> Result<Background, StepError> {
    let wire = context.wire.clone();
    let actor = step.actor.clone();
    let channel = wire.channel("http");
    let task_channel = channel.clone();
    let built = build_request(context, vars, request)?;
    let deadline = Instant::now() + context.poll_timeout();
    let task = tokio::spawn(async move {
        let channel = task_channel.as_str();
        match built {
            Built::Http(request) => {
                http::send_fresh_on(&wire, &actor, channel, &request, deadline).await
            }
            Built::Raw(raw) => http::send_raw_on(&wire, &actor, channel, &raw, deadline).await,
        }
    });
    Ok(Background {
        channel,
        task: AbortOnDrop(task),
        finished: None,
    })
}

/// The request a step describes, variables substituted: raw bytes, or method, target, headers
/// and body.
fn build_request(
    context: &Context<'_>,
    vars: &Vars,
    request: &RequestStep,
) -> Result<Built, StepError> {
    if let Some(raw) = &request.raw {
        return Ok(Built::Raw(vars.substitute(raw)?.into_bytes()));
    }
    let target = context.request_target(vars, request.path.as_ref(), request.query.as_ref())?;
    let headers = substituted_headers(vars, &request.headers)?;
    let body = match &request.body {
        None => Vec::new(),
        Some(data) => match vars.substitute_data(data)? {
            Data::Text(text) => text.into_bytes(),
            Data::Binary(bytes) => bytes,
        },
    };
    Ok(Built::Http(HttpRequest {
        method: request.method.clone(),
        target,
        headers,
        body,
    }))
}

fn describe_result(result: &Result<HttpResponse, StepError>) -> String {
    match result {
        Ok(response) => format!("answered: {}", response.describe()),
        Err(error) => format!("ended: {error:?}"),
    }
}

/// A `request` with `retry` whose every response fell short: the last one says how.
fn retried(expected: String, actual: String, sent: usize, clock: &StepClock) -> StepError {
    let actual = format!(
        "{actual} (the last of {sent} requests, within {})",
        millis(clock.waited())
    );
    StepError::Unmet { expected, actual }
}
