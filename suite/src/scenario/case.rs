//! Cases: a scenario expanded over its axes (transport, protocol version), each with its own
//! id, such as `sio5/ack/plain[polling]`.

use std::sync::Arc;

use super::load::Scenario;
use super::metadata::{Endpoint, Feature, Transport};

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

impl Case {
    /// The features the case needs, each once, in this order: its scenario's `features`, the
    /// feature of its transport variant ([`Transport::feature`]), `eio3` for a protocol 3
    /// case, and `sio4` for a protocol 3 case at the Socket.IO endpoint (Socket.IO protocol 4),
    /// whether or not its scenario lists them. A target that does not declare one of them gets
    /// UNSUPPORTED for the case, and `--feature` selects the case by any of them.
    pub fn required_features(&self) -> Vec<Feature> {
        let mut features = Vec::new();
        let transport = self.variant.transport.map(Transport::feature);
        let protocol = (self.variant.eio == 3).then_some(Feature::Eio3);
        let socket_io_v4 = self.is_socket_io_v4().then_some(Feature::Sio4);
        let needed = self
            .scenario
            .features
            .iter()
            .copied()
            .chain(transport)
            .chain(protocol)
            .chain(socket_io_v4);
        for feature in needed {
            if !features.contains(&feature) {
                features.push(feature);
            }
        }
        features
    }

    /// Whether the case speaks Socket.IO protocol 4: Engine.IO protocol 3 at the Socket.IO
    /// endpoint, as a socket.io 2.x client does.
    pub fn is_socket_io_v4(&self) -> bool {
        self.variant.eio == 3 && self.scenario.endpoint == Endpoint::SocketIo
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{default_dir, load_dir};

    #[test]
    fn a_case_needs_its_scenarios_features_its_transport_eio3_for_protocol_3_and_sio4_for_v4() {
        let cases = expand(load_dir(&default_dir()).expect("the scenarios load"));
        let mut protocol_3 = 0;
        let mut socket_io_v4 = 0;
        for case in &cases {
            let needed = case.required_features();
            for feature in &case.scenario.features {
                assert!(needed.contains(feature), "{}", case.id);
            }
            if let Some(transport) = case.variant.transport {
                assert!(needed.contains(&transport.feature()), "{}", case.id);
            }
            if case.variant.eio == 3 {
                protocol_3 += 1;
                assert!(needed.contains(&Feature::Eio3), "{}", case.id);
            }
            if case.is_socket_io_v4() {
                socket_io_v4 += 1;
                assert!(needed.contains(&Feature::Sio4), "{}", case.id);
            } else {
                assert!(!needed.contains(&Feature::Sio4), "{}", case.id);
            }
            let mut unique = needed.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), needed.len(), "each once: {}", case.id);
        }
        assert!(protocol_3 > 0, "the suite has protocol 3 cases");
        assert!(socket_io_v4 > 0, "the suite has Socket.IO v4 cases");
    }
}
