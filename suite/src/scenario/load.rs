//! Reading scenario files, with errors that say where and what, and the checks the JSON
//! Schema cannot make: the id is the file's path, names are defined before use, a session
//! step has a transport to run on.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::metadata::{Endpoint, Feature, Heartbeat, Level, Role, SpecReference, Transport};
use super::serving::{ClientSettings, ServerSettings, ServingAction};
use super::step::{Action, HttpAction, Step, WsAction, DEFAULT_ACTOR};
use crate::yaml::{line_of, parse_yaml, read_text, yaml_files, LoadError};

/// One scenario: one behaviour, checked from the wire.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The stable id, which is also the file's path under `suite/scenarios/` without
    /// `.yaml`: `eio4/polling/duplicate-get`.
    pub id: String,
    /// A one-line title.
    pub title: String,
    /// The spec section checked, with the requirement quoted (required unless the level is
    /// `implementation`).
    pub spec: Option<SpecReference>,
    /// How binding the behaviour is.
    pub level: Level,
    /// The role of the implementation under test.
    pub role: Role,
    /// The features the scenario needs.
    #[serde(default)]
    pub features: Vec<Feature>,
    /// The requirement ids (in `suite/requirements/`) the scenario checks.
    pub covers: Vec<String>,
    /// A remark: why the level, where the spec is silent and whom the scenario follows.
    pub note: Option<String>,
    /// The transports the abstract session runs over: one case per transport.
    #[serde(default)]
    pub transports: Vec<Transport>,
    /// The Engine.IO protocol versions: one case per version (when more than one).
    #[serde(default = "default_versions")]
    pub eio: Vec<u8>,
    /// Which of the target's paths the session and the default requests use.
    #[serde(default)]
    pub endpoint: Endpoint,
    /// Whether the engine answers pings by itself.
    #[serde(default)]
    pub heartbeat: Heartbeat,
    /// For client-role scenarios: what the client under test is told at start.
    #[serde(default)]
    pub client: ClientSettings,
    /// For client-role scenarios: the options the engine serves with.
    #[serde(default)]
    pub server: ServerSettings,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The file it was loaded from.
    #[serde(skip)]
    pub source: PathBuf,
}

fn default_versions() -> Vec<u8> {
    vec![4]
}

/// The `suite/scenarios/` folder of this repository.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Loads every `*.yaml` scenario under `dir`, checking each id against its path and that ids
/// are unique.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, LoadError> {
    let mut scenarios = Vec::new();
    let mut seen = HashSet::new();
    for path in yaml_files(dir)? {
        let scenario = load_file(&path)?;
        let expected_id = id_from_path(dir, &path);
        if scenario.id != expected_id {
            let text = read_text(&path)?;
            return Err(LoadError::at_line(
                &path,
                line_of(&text, "id:"),
                format!(
                    "the id {:?} must be the file's path under {}: {expected_id:?}",
                    scenario.id,
                    dir.display()
                ),
            ));
        }
        if !seen.insert(scenario.id.clone()) {
            return Err(LoadError::in_file(
                &path,
                format!("scenario id {:?} is used more than once", scenario.id),
            ));
        }
        scenarios.push(scenario);
    }
    Ok(scenarios)
}

/// The id a file under `dir` must carry: its relative path, `/`-separated, without `.yaml`.
pub fn id_from_path(dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(dir).unwrap_or(path).with_extension("");
    relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Loads one scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, LoadError> {
    let text = read_text(path)?;
    let mut scenario: Scenario = parse_yaml(path, &text)?;
    scenario.source = path.to_owned();
    check(&scenario).map_err(|problem| {
        let line = match problem.step {
            Some(index) => step_line(&text, index),
            None => problem
                .key
                .and_then(|key| line_of(&text, &format!("{key}:"))),
        };
        LoadError::at_line(path, line, problem.message)
    })?;
    Ok(scenario)
}

/// What is wrong with a scenario that parsed, and where.
struct Problem {
    step: Option<usize>,
    key: Option<&'static str>,
    message: String,
}

impl Problem {
    fn at_key(key: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            step: None,
            key: Some(key),
            message: message.into(),
        }
    }

    fn at_step(index: usize, step: &Step, message: impl Into<String>) -> Problem {
        Problem {
            step: Some(index),
            key: None,
            message: format!(
                "step {} (`{}`): {}",
                index + 1,
                step.action.keyword(),
                message.into()
            ),
        }
    }
}

fn check(scenario: &Scenario) -> Result<(), Problem> {
    check_metadata(scenario)?;
    check_role(scenario)?;
    let uses_session = scenario.steps.iter().any(|step| step.action.uses_session());
    if uses_session && scenario.transports.is_empty() {
        return Err(Problem::at_key(
            "steps",
            "session steps (open, connect, send, receive, silence, closed) need `transports`",
        ));
    }
    if !uses_session && !scenario.transports.is_empty() {
        return Err(Problem::at_key(
            "transports",
            "`transports` expands the session steps, and this scenario has none",
        ));
    }
    check_names(scenario)
}

/// A client-role case has the engine serve (`accept`, `cue`, …) and never act as a client
/// (`open`, `request`, …); a server-role case the reverse.
fn check_role(scenario: &Scenario) -> Result<(), Problem> {
    for (index, step) in scenario.steps.iter().enumerate() {
        let wrong = match scenario.role {
            Role::Client => step.action.is_client_side(),
            Role::Server => step.action.is_serving(),
        };
        if wrong {
            return Err(Problem::at_step(
                index,
                step,
                match scenario.role {
                    Role::Client => "the engine plays the server in a client-role case",
                    Role::Server => "the engine plays the client in a server-role case",
                },
            ));
        }
    }
    // The folder tells the role, so that a baseline entry or a filter names one side.
    if (scenario.role == Role::Client) != scenario.id.starts_with("client/") {
        return Err(Problem::at_key(
            "role",
            "client-role scenarios, and only they, live under `client/`",
        ));
    }
    let customised = scenario.client != ClientSettings::default()
        || scenario.server != ServerSettings::default();
    if scenario.role == Role::Server && customised {
        return Err(Problem::at_key(
            "role",
            "`client` and `server` settings are for client-role scenarios",
        ));
    }
    Ok(())
}

fn check_metadata(scenario: &Scenario) -> Result<(), Problem> {
    if scenario.title.trim().is_empty() {
        return Err(Problem::at_key("title", "the title is empty"));
    }
    if scenario.spec.is_none() && scenario.level != Level::Implementation {
        return Err(Problem::at_key(
            "level",
            "a MUST, SHOULD or MAY scenario quotes its requirement in `spec`",
        ));
    }
    if scenario.covers.is_empty() {
        return Err(Problem::at_key(
            "covers",
            "`covers` lists at least one requirement id",
        ));
    }
    if scenario.steps.is_empty() {
        return Err(Problem::at_key("steps", "a scenario has at least one step"));
    }
    if let Some(version) = scenario
        .eio
        .iter()
        .find(|version| ![3, 4].contains(*version))
    {
        return Err(Problem::at_key(
            "eio",
            format!("Engine.IO version {version} is not one of 3, 4"),
        ));
    }
    Ok(())
}

/// Background requests and WebSockets are named before they are used, and once; an aborted
/// request is not used again; control frames are expected only where they are queued.
fn check_names(scenario: &Scenario) -> Result<(), Problem> {
    let mut requests = HashSet::new();
    let mut aborted = HashSet::new();
    // Each WebSocket's name, and whether its steps see control frames.
    let mut sockets = HashMap::new();
    for (index, step) in scenario.steps.iter().enumerate() {
        let fail = |message: String| Err(Problem::at_step(index, step, message));
        let background = |name: &String| {
            if aborted.contains(name) {
                Err(Problem::at_step(
                    index,
                    step,
                    format!("the request {name:?} was aborted"),
                ))
            } else if requests.contains(name) {
                Ok(())
            } else {
                Err(Problem::at_step(
                    index,
                    step,
                    format!("no earlier request runs as {name:?}"),
                ))
            }
        };
        match &step.action {
            Action::Http(HttpAction::Request(request)) => {
                if request.name.is_some() && request.expect.is_some() {
                    return fail("a request run in the background (`as`) is checked by a later `response`, not `expect`".into());
                }
                if request.retry.is_some() && request.expect.is_none() {
                    return fail(
                        "`retry` repeats a request until it meets `expect`: give `expect`".into(),
                    );
                }
                if let Some(name) = &request.name {
                    if !requests.insert(name.clone()) {
                        return fail(format!("the request name {name:?} is used twice"));
                    }
                }
            }
            Action::Http(HttpAction::Response(response)) => background(&response.request)?,
            Action::Http(HttpAction::Pending(pending)) => background(&pending.request)?,
            Action::Http(HttpAction::Abort(abort)) => {
                background(&abort.request)?;
                aborted.insert(abort.request.clone());
            }
            Action::Ws(WsAction::Open(websocket)) => {
                let name = websocket.name.clone().unwrap_or_else(|| step.actor.clone());
                sockets.insert(name, websocket.control_frames);
            }
            // In a client-role case a WebSocket the engine accepts (not refused) is served
            // by hand with the same `ws_*` steps; it queues no control frames.
            Action::Serving(ServingAction::WsAccept(accept)) if accept.refuse.is_none() => {
                let name = accept.name.clone().unwrap_or_else(|| step.actor.clone());
                sockets.insert(name, false);
            }
            Action::Ws(WsAction::Send(send)) => {
                check_socket(&sockets, send.on.as_ref(), step, index)?
            }
            Action::Ws(WsAction::Ping(ping)) => {
                check_socket(&sockets, ping.on.as_ref(), step, index)?
            }
            Action::Ws(WsAction::Receive(receive)) => {
                check_socket(&sockets, receive.on.as_ref(), step, index)?;
                let name = receive.on.as_ref().unwrap_or(&step.actor);
                if receive.frame.is_control() && sockets.get(name) != Some(&true) {
                    return fail(format!(
                        "control frames are queued only on a WebSocket opened with \
                         `control_frames: true`, and {name:?} is not"
                    ));
                }
            }
            Action::Ws(WsAction::Silence(silence)) => {
                check_socket(&sockets, silence.on.as_ref(), step, index)?
            }
            Action::Ws(WsAction::Close(close)) => {
                check_socket(&sockets, close.on.as_ref(), step, index)?
            }
            Action::Ws(WsAction::Closed(closed)) => {
                check_socket(&sockets, closed.on.as_ref(), step, index)?
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_socket(
    sockets: &HashMap<String, bool>,
    on: Option<&String>,
    step: &Step,
    index: usize,
) -> Result<(), Problem> {
    let name = on.unwrap_or(&step.actor);
    if sockets.contains_key(name) {
        return Ok(());
    }
    let hint = if on.is_none() && step.actor == DEFAULT_ACTOR {
        " (name it with `on`)"
    } else {
        ""
    };
    Err(Problem::at_step(
        index,
        step,
        format!("no earlier `websocket` (or `ws_accept`) opens {name:?}{hint}"),
    ))
}

/// The 1-based line of the `index`th item of the top-level `steps:` list.
fn step_line(text: &str, index: usize) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|line| line.starts_with("steps:"))?;
    let first_item = lines[start + 1..]
        .iter()
        .position(|line| line.trim_start().starts_with("- "))?
        + start
        + 1;
    let indent = lines[first_item].len() - lines[first_item].trim_start().len();
    lines[first_item..]
        .iter()
        .enumerate()
        .filter(|(_, line)| {
            line.len() > indent
                && line[..indent].trim().is_empty()
                && line[indent..].starts_with("- ")
        })
        .nth(index)
        .map(|(offset, _)| first_item + offset + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::step::SessionAction;

    /// Why `steps` do not load, as a server-role scenario of the given steps.
    fn refusal(steps: &str) -> String {
        refusal_as("server", steps)
    }

    /// Why `steps` do not load, as a scenario of `role` with the given steps.
    fn refusal_as(role: &str, steps: &str) -> String {
        let dir = if role == "client" { "client/" } else { "" };
        let text = format!(
            "id: {dir}x/case\ntitle: t\nlevel: implementation\nrole: {role}\ncovers: [WS-12]\nsteps:\n{steps}"
        );
        let path = Path::new("x/case.yaml");
        match parse_yaml::<Scenario>(path, &text) {
            Err(error) => error.to_string(),
            Ok(scenario) => match check(&scenario) {
                Err(problem) => problem.message,
                Ok(()) => panic!("must not load:\n{steps}"),
            },
        }
    }

    fn loads(steps: &str) {
        loads_as("server", steps);
    }

    fn loads_as(role: &str, steps: &str) {
        let dir = if role == "client" { "client/" } else { "" };
        let text = format!(
            "id: {dir}x/case\ntitle: t\nlevel: implementation\nrole: {role}\ncovers: [WS-12]\nsteps:\n{steps}"
        );
        let scenario: Scenario =
            parse_yaml(Path::new("x/case.yaml"), &text).unwrap_or_else(|error| panic!("{error}"));
        if let Err(problem) = check(&scenario) {
            panic!("{}", problem.message);
        }
    }

    #[test]
    fn control_frames_are_expected_only_where_they_are_queued() {
        let open = "  - websocket: { query: EIO=4&transport=websocket }\n";
        let message = refusal(&format!("{open}  - ws_receive: {{ pong: x }}\n"));
        assert!(message.contains("control_frames: true"), "{message}");
        loads(
            "  - websocket: { query: EIO=4&transport=websocket, control_frames: true }\n  - ws_ping:\n  - ws_receive: { pong: \"\" }\n",
        );
        let message = refusal(&format!("{open}  - ws_receive: {{ frame: a, pong: b }}\n"));
        assert!(message.contains("exactly one of"), "{message}");
    }

    #[test]
    fn a_ping_carries_at_most_125_bytes() {
        let open = "  - websocket: { query: EIO=4&transport=websocket }\n";
        loads(&format!("{open}  - ws_ping: {}\n", "a".repeat(125)));
        let message = refusal(&format!("{open}  - ws_ping: {}\n", "a".repeat(126)));
        assert!(message.contains("at most 125 bytes"), "{message}");
        let message = refusal(&format!("{open}  - ws_ping: {{ text: a, hex: \"00\" }}\n"));
        assert!(message.contains("at most one of"), "{message}");
    }

    #[test]
    fn an_aborted_request_is_not_used_again_and_retry_needs_expect() {
        let start = "  - request: { query: EIO=4&transport=polling, as: poll }\n";
        loads(&format!("{start}  - abort: {{ request: poll }}\n"));
        let message = refusal(&format!(
            "{start}  - abort: {{ request: poll }}\n  - response: {{ request: poll }}\n"
        ));
        assert!(message.contains("was aborted"), "{message}");
        let message = refusal("  - abort: { request: nothing }\n");
        assert!(message.contains("no earlier request"), "{message}");
        let message = refusal("  - request: { query: EIO=4, retry: 10ms }\n");
        assert!(message.contains("give `expect`"), "{message}");
    }

    #[test]
    fn drop_is_a_session_step_of_the_client_side_without_a_window() {
        let message = refusal("  - drop:\n");
        assert!(message.contains("need `transports`"), "{message}");
        let message = refusal_as("client", "  - drop:\n");
        assert!(message.contains("drop"), "{message}");
        let message = refusal("  - drop:\n    within: 1s\n");
        assert!(
            message.contains("`within` does not apply to `drop`"),
            "{message}"
        );
        let text = "id: x/case\ntitle: t\nlevel: implementation\nrole: server\ncovers: [WS-12]\n\
                    transports: [polling]\nsteps:\n  - open:\n  - drop:\n  - open:\n";
        let scenario: Scenario =
            parse_yaml(Path::new("x/case.yaml"), text).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            scenario.steps[1].action,
            Action::Session(SessionAction::Drop)
        );
        check(&scenario).unwrap_or_else(|problem| panic!("{}", problem.message));
    }

    #[test]
    fn a_websocket_the_engine_accepts_is_served_by_ws_steps() {
        let accept = "  - ws_accept: { expect: { query: { sid: null } } }\n";
        loads_as(
            "client",
            &format!("{accept}  - ws_send: '0{{}}'\n  - ws_receive: '40'\n  - ws_close:\n"),
        );
        loads_as(
            "client",
            "  - ws_accept: { as: second }\n  - ws_send: { on: second, text: '6' }\n",
        );
        let refused = "  - ws_accept: { refuse: drop }\n  - ws_send: '6'\n";
        let message = refusal_as("client", refused);
        assert!(message.contains("no earlier `websocket`"), "{message}");
    }
}
