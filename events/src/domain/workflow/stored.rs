//! How a [`WorkflowRequested`] is stored: the parameters its own fields imply are left out.
//!
//! Most requests are solver, revsolver and security-indicator runs whose parameters repeat the
//! workflow id and the target, plus constants (about 450 of a payload's 720 bytes). Since
//! schema version 2 a payload may say `implied_parameters: true`: its `parameters` then hold
//! only what differs from [`implied`], and names listed in `parameters_unset` are removed from
//! it. Reading expands them back, in the order the request had. A request is stored that way
//! only when expanding gives back exactly its parameters, values and order; any other is
//! stored whole, as version 1 stored every request. What [`implied`] derives is fixed for
//! schema version 2: deriving anything else means a new version.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{WorkflowKind, WorkflowRequested, WorkflowTarget};
use crate::thoth::JsonObject;

/// The payload of a [`WorkflowRequested`], as the log holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StoredRequest {
    workflow_id: String,
    kind: WorkflowKind,
    namespace: String,
    #[serde(default)]
    target: WorkflowTarget,
    /// Every parameter, or (with `implied_parameters`) those that differ from [`implied`].
    #[serde(default)]
    parameters: JsonObject,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    implied_parameters: bool,
    /// Implied names the request does not have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    parameters_unset: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version_source: Option<String>,
}

impl From<StoredRequest> for WorkflowRequested {
    fn from(stored: StoredRequest) -> Self {
        let parameters = if stored.implied_parameters {
            expand(
                implied(stored.kind, &stored.workflow_id, &stored.target),
                stored.parameters,
                &stored.parameters_unset,
            )
        } else {
            stored.parameters
        };
        WorkflowRequested {
            workflow_id: stored.workflow_id,
            kind: stored.kind,
            namespace: stored.namespace,
            target: stored.target,
            parameters,
            trigger: stored.trigger,
            version_source: stored.version_source,
        }
    }
}

impl From<WorkflowRequested> for StoredRequest {
    fn from(request: WorkflowRequested) -> Self {
        let implied = implied(request.kind, &request.workflow_id, &request.target);
        let compact = (!implied.is_empty()).then(|| compact(&implied, &request.parameters)).flatten();
        let (parameters, implied_parameters, parameters_unset) = match compact {
            Some((differing, unset)) => (differing, true, unset),
            None => (request.parameters, false, Vec::new()),
        };
        StoredRequest {
            workflow_id: request.workflow_id,
            kind: request.kind,
            namespace: request.namespace,
            target: request.target,
            parameters,
            implied_parameters,
            parameters_unset,
            trigger: request.trigger,
            version_source: request.version_source,
        }
    }
}

/// The parameters differing from `implied` and the implied names `parameters` lacks, if
/// expanding them gives back `parameters` exactly (order included).
fn compact(implied: &JsonObject, parameters: &JsonObject) -> Option<(JsonObject, Vec<String>)> {
    let differing: JsonObject = parameters
        .iter()
        .filter(|(name, value)| implied.get(*name) != Some(*value))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let unset: Vec<String> = implied.keys().filter(|name| !parameters.contains_key(*name)).cloned().collect();
    let expanded = expand(implied.clone(), differing.clone(), &unset);
    expanded.iter().eq(parameters.iter()).then_some((differing, unset))
}

/// `implied` without `unset`, with `differing` written over it (new names last).
fn expand(mut implied: JsonObject, differing: JsonObject, unset: &[String]) -> JsonObject {
    for name in unset {
        implied.shift_remove(name);
    }
    for (name, value) in differing {
        implied.insert(name, value);
    }
    implied
}

/// What a request's kind, id and target imply, in the order the investigator writes them: the
/// defaults of its own solver, revsolver and security-indicator requests. Empty for other
/// kinds, and when the target lacks a field the parameters need.
pub(super) fn implied(kind: WorkflowKind, workflow_id: &str, target: &WorkflowTarget) -> JsonObject {
    let text = |value: &str| Value::String(value.to_owned());
    let (name, version) = (target.package_name.as_deref(), target.package_version.as_deref());
    let pairs: Vec<(&str, Value)> = match (kind, name, version, target.index_url.as_deref()) {
        (WorkflowKind::Solver, Some(name), Some(version), Some(index)) => {
            let Some(solver) = target.solver_name.as_deref() else { return JsonObject::new() };
            vec![
                ("THOTH_SOLVER_WORKFLOW_ID", text(workflow_id)),
                ("THOTH_SOLVER_NAME", text(solver)),
                ("THOTH_SOLVER_PACKAGES", Value::String(format!("{name}==={version}"))),
                ("THOTH_SOLVER_NO_TRANSITIVE", text("1")),
                ("THOTH_SOLVER_INDEXES", text(index)),
                ("THOTH_SOLVER_DEPENDENCY_INDEXES", text(index)),
                ("THOTH_FORCE_SYNC", text("0")),
                ("THOTH_LOG_SOLVER", text("INFO")),
            ]
        }
        (WorkflowKind::Revsolver, Some(name), Some(version), _) => vec![
            ("THOTH_REVSOLVER_WORKFLOW_ID", text(workflow_id)),
            ("THOTH_REVSOLVER_PACKAGE_NAME", text(name)),
            ("THOTH_REVSOLVER_PACKAGE_VERSION", text(version)),
            ("THOTH_LOG_REVSOLVER", text("INFO")),
        ],
        (WorkflowKind::SecurityIndicator, Some(name), Some(version), Some(index)) => vec![
            ("THOTH_SECURITY_INDICATORS_JOB_ID", text(workflow_id)),
            ("THOTH_SECURITY_INDICATORS_PACKAGE_NAME", text(name)),
            ("THOTH_SECURITY_INDICATORS_PACKAGE_VERSION", text(version)),
            ("THOTH_SECURITY_INDICATORS_PACKAGE_INDEX", text(index)),
            ("THOTH_SECURITY_INDICATORS_AGGREGATION_FUNCTION", text("process_data")),
            ("THOTH_FORCE_SYNC", text("0")),
        ],
        _ => Vec::new(),
    };
    pairs.into_iter().map(|(name, value)| (name.to_owned(), value)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::DomainEvent;

    fn solver_request(parameters: Value) -> WorkflowRequested {
        WorkflowRequested {
            workflow_id: "solver-rhel-8-py38-flask-abc".to_owned(),
            kind: WorkflowKind::Solver,
            namespace: "thoth-middletier".to_owned(),
            target: WorkflowTarget {
                package_name: Some("flask".to_owned()),
                package_version: Some("2.0.1".to_owned()),
                index_url: Some("https://pypi.org/simple".to_owned()),
                solver_name: Some("solver-rhel-8-py38".to_owned()),
            },
            parameters: parameters.as_object().cloned().unwrap_or_default(),
            trigger: Some("unresolved-package".to_owned()),
            version_source: None,
        }
    }

    fn defaults() -> Value {
        json!({
            "THOTH_SOLVER_WORKFLOW_ID": "solver-rhel-8-py38-flask-abc",
            "THOTH_SOLVER_NAME": "solver-rhel-8-py38",
            "THOTH_SOLVER_PACKAGES": "flask===2.0.1",
            "THOTH_SOLVER_NO_TRANSITIVE": "1",
            "THOTH_SOLVER_INDEXES": "https://pypi.org/simple",
            "THOTH_SOLVER_DEPENDENCY_INDEXES": "https://pypi.org/simple",
            "THOTH_FORCE_SYNC": "0",
            "THOTH_LOG_SOLVER": "INFO"
        })
    }

    fn stored(request: &WorkflowRequested) -> Value {
        serde_json::to_value(request).expect("serialises")
    }

    fn read_back(request: &WorkflowRequested) -> WorkflowRequested {
        let event = DomainEvent::WorkflowRequested(request.clone());
        let encoded = event.encode();
        match DomainEvent::decode("WorkflowRequested", encoded.schema_version(), &encoded.payload) {
            Ok(DomainEvent::WorkflowRequested(read)) => read,
            other => panic!("not read back: {other:?}"),
        }
    }

    #[test]
    fn a_request_with_the_implied_parameters_stores_none_of_them_and_reads_back_whole() {
        let request = solver_request(defaults());
        let payload = stored(&request);
        assert_eq!(payload["implied_parameters"], true);
        assert_eq!(payload["parameters"], json!({}));
        let read = read_back(&request);
        assert_eq!(read, request);
        assert!(read.parameters.keys().eq(request.parameters.keys()), "the order is kept");
    }

    #[test]
    fn only_what_differs_is_stored_and_a_missing_implied_name_is_listed() {
        let mut parameters = defaults();
        parameters["THOTH_LOG_SOLVER"] = json!("DEBUG");
        parameters["THOTH_SOLVER_DEPENDENCY_INDEXES"] = json!("https://pypi.org/simple,https://example.org/simple");
        parameters.as_object_mut().expect("object").shift_remove("THOTH_FORCE_SYNC");
        parameters["EXTRA"] = json!("x");
        let request = solver_request(parameters);
        let payload = stored(&request);
        assert_eq!(
            payload["parameters"],
            json!({
                "THOTH_SOLVER_DEPENDENCY_INDEXES": "https://pypi.org/simple,https://example.org/simple",
                "THOTH_LOG_SOLVER": "DEBUG",
                "EXTRA": "x"
            })
        );
        assert_eq!(payload["parameters_unset"], json!(["THOTH_FORCE_SYNC"]));
        let read = read_back(&request);
        assert_eq!(read, request);
        assert!(read.parameters.keys().eq(request.parameters.keys()));
    }

    #[test]
    fn parameters_in_another_order_are_stored_whole() {
        let mut parameters = JsonObject::new();
        for (name, value) in defaults().as_object().expect("object").iter().rev() {
            parameters.insert(name.clone(), value.clone());
        }
        let request = solver_request(Value::Object(parameters));
        let payload = stored(&request);
        assert!(payload.get("implied_parameters").is_none(), "{payload}");
        assert_eq!(payload["parameters"].as_object().map(JsonObject::len), Some(8));
        let read = read_back(&request);
        assert!(read.parameters.keys().eq(request.parameters.keys()));
    }

    #[test]
    fn kinds_without_implied_parameters_and_incomplete_targets_are_stored_whole() {
        let mut request = solver_request(json!({"A": "1"}));
        request.kind = WorkflowKind::Adviser;
        assert_eq!(stored(&request)["parameters"], json!({"A": "1"}));
        let mut request = solver_request(defaults());
        request.target.solver_name = None;
        assert!(stored(&request).get("implied_parameters").is_none());
        assert_eq!(read_back(&request), request);
    }

    #[test]
    fn a_version_1_payload_reads_as_it_was_written() {
        let mut payload = stored(&solver_request(defaults()));
        payload["parameters"] = defaults();
        if let Some(object) = payload.as_object_mut() {
            object.remove("implied_parameters");
        }
        let bytes = serde_json::to_vec(&payload).expect("bytes");
        let Ok(DomainEvent::WorkflowRequested(read)) = DomainEvent::decode("WorkflowRequested", 1, &bytes) else {
            panic!("v1 not read");
        };
        assert_eq!(read, solver_request(defaults()));
    }
}
