//! The scenarios: one behaviour per YAML file under `suite/scenarios/`, with its metadata
//! ([`Scenario`]), its steps ([`Step`]) and matchers ([`Pattern`]), loaded with errors that
//! name the file, line and column ([`load_dir`]), and expanded over their axes into cases
//! ([`expand`]).
//!
//! The format is documented in `suite/scenarios/README.md` and checked by
//! `suite/scenarios.schema.json`.

mod case;
mod duration;
mod load;
mod metadata;
mod pattern;
mod serving;
pub(crate) mod shorthand;
mod step;

pub use case::{expand, Case, Variant};
pub use duration::{DurationExpr, OptionName, TimingOptions};
pub use load::{default_dir, id_from_path, load_dir, load_file, Scenario};
pub use metadata::{
    Endpoint, Feature, Heartbeat, Level, Role, SpecDocument, SpecReference, Transport,
};
pub use pattern::Pattern;
pub use serving::{
    AcceptStep, AnswerConnectStep, ClientSettings, CloseHow, ConnectAnswer, HandshakeTransport,
    HttpStep, RequestExpect, Respond, ResponseSpec, ServerSettings, ServingAction, WsAcceptStep,
};
pub use shorthand::OneOrMany;
pub use step::*;
