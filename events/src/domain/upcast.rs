//! Upcasters: each turns a payload of one schema version into the next, so that events
//! written by older builds are read as current ones. Stored payloads are never rewritten.
//!
//! History:
//! - `IndexRegistered` v1 -> v2: `only_if_package_seen` added; v1 events take Thoth's
//!   column default, `true`.
//! - `SourceDistributionFlagSet` v1 -> v2: `is_si_analyzable` renamed
//!   `provides_source_distro`, following Thoth's column.
//! - `SolverResultRecorded` v1 -> v2: each dependency's `version_range` renamed
//!   `specifier`; v1 wrote `*` for "any version", v2 writes the empty specifier.
//! - `DeadLetterRedriven` v1 -> v2: `republish` added (the bytes a relay publishes after the
//!   commit); v1 re-drives published before recording, so they have nothing left to publish.
//! - `WorkflowRequested` v1 -> v2: v2 may leave out the parameters the request's kind, id and
//!   target imply (`implied_parameters`, see `workflow::stored`); a v1 payload has every
//!   parameter and no such flag, which reads the same in v2.

use serde_json::{Map, Value};

use super::catalogue::EventType;

/// Brings a payload of `kind` from schema version `from` up to the current one.
pub(super) fn upcast(kind: EventType, from: i32, mut payload: Value) -> Result<Value, String> {
    for version in from..kind.current_version() {
        payload = step(kind, version, payload)?;
    }
    Ok(payload)
}

/// One step: `version` -> `version + 1`.
fn step(kind: EventType, version: i32, payload: Value) -> Result<Value, String> {
    let mut object = match payload {
        Value::Object(object) => object,
        other => return Err(format!("the payload is not a JSON object but {}", json_kind(&other))),
    };
    match (kind, version) {
        (EventType::IndexRegistered, 1) => {
            object.entry("only_if_package_seen").or_insert(Value::Bool(true));
        }
        (EventType::DeadLetterRedriven, 1) => {
            object.remove("republish");
        }
        (EventType::WorkflowRequested, 1) => {
            object.remove("implied_parameters");
            object.remove("parameters_unset");
        }
        (EventType::SourceDistributionFlagSet, 1) => rename(&mut object, "is_si_analyzable", "provides_source_distro")?,
        (EventType::SolverResultRecorded, 1) => {
            let packages = object.get_mut("packages").and_then(Value::as_array_mut).into_iter().flatten();
            for dependency in packages
                .filter_map(|package| package.get_mut("dependencies").and_then(Value::as_array_mut))
                .flatten()
                .filter_map(Value::as_object_mut)
            {
                rename(dependency, "version_range", "specifier")?;
                if dependency.get("specifier").and_then(Value::as_str) == Some("*") {
                    dependency.insert("specifier".to_owned(), Value::String(String::new()));
                }
            }
        }
        _ => return Err(format!("no upcaster from {kind} v{version} to v{}", version + 1)),
    }
    Ok(Value::Object(object))
}

fn rename(object: &mut Map<String, Value>, from: &str, to: &str) -> Result<(), String> {
    let value = object.remove(from).ok_or_else(|| format!("field '{from}' is missing"))?;
    object.insert(to.to_owned(), value);
    Ok(())
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
