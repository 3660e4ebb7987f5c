//! Cases: a scenario expanded over its axes (transport, protocol version), each with its own
//! id, such as `sio5/ack/plain[polling]`.

use std::sync::Arc;

use super::load::Scenario;
use super::metadata::Transport;

/// One variant of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Variant {
    /// The transport of the abstract session, when the scenario has that axis.
    pub transport: Option<Transport>,
    /// The Engine.IO protocol version.
    pub eio: u8,
}

/// A scenario in one variant: what the engine runs and the runner reports.
#[derive(Debug, Clone)]
pub struct Case {
    /// The scenario's id with the variant in brackets when the scenario has axes:
    /// `eio4/message/echo[websocket]`, `…[eio3,polling]`.
    pub id: String,
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// The variant.
    pub variant: Variant,
}

/// Expands scenarios into cases, in order: each scenario's versions, then its transports.
pub fn expand(scenarios: impl IntoIterator<Item = Scenario>) -> Vec<Case> {
    scenarios
        .into_iter()
        .flat_map(|scenario| expand_one(Arc::new(scenario)))
        .collect()
}

fn expand_one(scenario: Arc<Scenario>) -> Vec<Case> {
    let transports: Vec<Option<Transport>> = if scenario.transports.is_empty() {
        vec![None]
    } else {
        scenario.transports.iter().copied().map(Some).collect()
    };
    let several_versions = scenario.eio.len() > 1;
    let mut cases = Vec::new();
    for &eio in &scenario.eio {
        for &transport in &transports {
            let mut labels = Vec::new();
            if several_versions {
                labels.push(format!("eio{eio}"));
            }
            if let Some(transport) = transport {
                labels.push(transport.as_str().to_owned());
            }
            let id = if labels.is_empty() {
                scenario.id.clone()
            } else {
                format!("{}[{}]", scenario.id, labels.join(","))
            };
            cases.push(Case {
                id,
                scenario: Arc::clone(&scenario),
                variant: Variant { transport, eio },
            });
        }
    }
    cases
}
