//! Fixtures shared by the decision tests.

use investigator_events::domain::{DomainEvent, StreamId, WorkflowRequested};
use investigator_events::thoth::{MessageKind, ThothMessage};
use serde_json::Value;

use super::{Decision, DecisionSettings, Knowledge, MessageOrigin};
use crate::{SolverEnvironment, SolverName};

pub(super) const PYPI: &str = "https://pypi.org/simple";
pub(super) const RHEL: &str = "solver-rhel-8-py38";
pub(super) const FEDORA_34: &str = "solver-fedora-34-py39";
pub(super) const FEDORA_35: &str = "solver-fedora-35-py310";

/// A record of `kind`'s topic at `offset`.
pub(super) fn origin(kind: MessageKind, offset: i64) -> MessageOrigin {
    // 2021-10-08 12:10:19 UTC.
    MessageOrigin {
        topic: format!("ocp4-stage.{}", kind.base_name()),
        partition: 0,
        offset,
        published_at_ms: Some(1_633_695_019_000),
    }
}

/// A message of `kind` with `fields` and the base fields, decoded as the consumer would.
pub(super) fn message(kind: MessageKind, fields: Value) -> ThothMessage {
    let mut object = serde_json::Map::new();
    object.insert("component_name".to_owned(), Value::from("test"));
    object.insert("service_version".to_owned(), Value::from("0"));
    if let Value::Object(fields) = fields {
        object.extend(fields);
    }
    ThothMessage::decode(kind, Value::Object(object).to_string().as_bytes()).expect("a valid message")
}

/// Knowledge with PyPI registered and enabled.
pub(super) fn knowledge() -> Knowledge {
    let mut knowledge = Knowledge::default();
    knowledge.insert_index(PYPI, true);
    knowledge
}

/// Thoth's production settings.
pub(super) fn settings() -> DecisionSettings {
    DecisionSettings::default()
}

pub(super) fn environment(solver: &str) -> SolverEnvironment {
    SolverName::parse(solver).expect("a solver name").environment()
}

/// The workflow requests of a decision, in order.
pub(super) fn requests(decision: &Decision) -> Vec<&WorkflowRequested> {
    decision
        .events
        .iter()
        .filter_map(|(_, event)| match event {
            DomainEvent::WorkflowRequested(request) => Some(request),
            _ => None,
        })
        .collect()
}

/// The events that are not workflow requests, in order.
pub(super) fn facts(decision: &Decision) -> Vec<&(StreamId, DomainEvent)> {
    decision.events.iter().filter(|(_, event)| !matches!(event, DomainEvent::WorkflowRequested(_))).collect()
}

/// A parameter's text.
pub(super) fn parameter<'a>(request: &'a WorkflowRequested, name: &str) -> &'a str {
    request.parameters.get(name).and_then(Value::as_str).unwrap_or_else(|| panic!("no parameter {name}"))
}

/// A parameter holding JSON, parsed.
pub(super) fn json_parameter(request: &WorkflowRequested, name: &str) -> Value {
    serde_json::from_str(parameter(request, name)).expect("a JSON parameter")
}
