//! The Argo Workflow the investigator submits for a workflow request: a thin Workflow that
//! names its WorkflowTemplate (`spec.workflowTemplateRef`) and passes Thoth's parameters.
//!
//! The name is the request's id (deterministic, a DNS label of at most 63 characters), so a
//! second submission of the same request is refused by the API server with 409 and changes
//! nothing. Labels carry Thoth's `app` and `component`, ours (`managed-by`, for the watcher's
//! selector) and the log position of the request, so every workflow on the cluster can be
//! traced back to the event that asked for it.

use std::collections::BTreeMap;

use investigator_events::domain::WorkflowKind;
use investigator_events::thoth::JsonObject;
use serde_json::{Value, json};

/// The label every workflow of ours carries, with [`MANAGED_BY_VALUE`].
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "thoth-investigator";
/// The label holding the log position of the `WorkflowRequested` event.
pub const POSITION_LABEL: &str = "investigator.thoth-station.ninja/requested-at";
/// The annotation carrying the W3C trace context of the message behind the workflow.
pub const TRACEPARENT_ANNOTATION: &str = "investigator.thoth-station.ninja/traceparent";
/// The label on a registry-credentials Secret naming the workflow it was made for: a Secret of
/// that name without it (or naming another workflow) is not ours, and is never used.
pub const WORKFLOW_LABEL: &str = "investigator.thoth-station.ninja/workflow";
/// The label selector of our workflows.
pub const SELECTOR: &str = "app.kubernetes.io/managed-by=thoth-investigator";

/// The WorkflowTemplate each kind runs: the kind's own name unless configured otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkflowTemplates {
    overrides: BTreeMap<WorkflowKind, String>,
}

impl WorkflowTemplates {
    /// Uses `template` for `kind`.
    pub fn set(&mut self, kind: WorkflowKind, template: String) {
        self.overrides.insert(kind, template);
    }

    /// The template of `kind`.
    pub fn of(&self, kind: WorkflowKind) -> &str {
        self.overrides.get(&kind).map_or(kind.name(), String::as_str)
    }
}

/// What a manifest is built from: one row of the outbox of requested workflows.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowIntent {
    pub workflow_id: String,
    /// What it runs.
    pub kind: WorkflowKind,
    /// Where it goes.
    pub namespace: String,
    /// Thoth's parameters, by name.
    pub parameters: JsonObject,
    /// The log position of the request.
    pub requested_at: i64,
    /// The W3C trace context of the message that led to it, when known.
    pub traceparent: Option<String>,
}

/// Thoth's `component` label of a kind (Thoth labels the three Kebechet workflows
/// `kebechet` and the security indicator `security-indicators`).
pub fn component(kind: WorkflowKind) -> &'static str {
    match kind {
        WorkflowKind::SecurityIndicator => "security-indicators",
        WorkflowKind::Kebechet | WorkflowKind::KebechetRunUrl | WorkflowKind::KebechetAdministrator => "kebechet",
        other => other.name(),
    }
}

/// The Workflow object for `intent`.
pub fn workflow_manifest(intent: &WorkflowIntent, templates: &WorkflowTemplates) -> Value {
    let annotations = match &intent.traceparent {
        Some(traceparent) => json!({TRACEPARENT_ANNOTATION: traceparent}),
        None => json!({}),
    };
    let parameters: Vec<Value> =
        intent.parameters.iter().map(|(name, value)| json!({"name": name, "value": parameter_text(value)})).collect();
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": intent.workflow_id,
            "namespace": intent.namespace,
            "labels": {
                "app": "thoth",
                "component": component(intent.kind),
                MANAGED_BY_LABEL: MANAGED_BY_VALUE,
                POSITION_LABEL: intent.requested_at.to_string(),
            },
            "annotations": annotations,
        },
        "spec": {
            "workflowTemplateRef": {"name": templates.of(intent.kind)},
            "arguments": {"parameters": parameters},
        },
    })
}

/// Argo's parameter values are strings: text as it is, anything else as its JSON.
fn parameter_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(kind: WorkflowKind) -> WorkflowIntent {
        let mut parameters = JsonObject::new();
        parameters.insert("THOTH_SOLVER_NAME".to_owned(), json!("solver-rhel-8-py38"));
        parameters.insert("THOTH_SOLVER_NO_TRANSITIVE".to_owned(), json!(1));
        parameters.insert("THOTH_ADVISER_METADATA".to_owned(), json!({"origin": null}));
        parameters.insert("THOTH_LOG_SOLVER".to_owned(), Value::Null);
        WorkflowIntent {
            workflow_id: "solver-rhel-8-py38-261206231502-0123456789abcdef".to_owned(),
            kind,
            namespace: "thoth-middletier".to_owned(),
            parameters,
            requested_at: 42,
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned()),
        }
    }

    #[test]
    fn a_manifest_names_its_template_and_passes_every_parameter_as_text() {
        let manifest = workflow_manifest(&intent(WorkflowKind::Solver), &WorkflowTemplates::default());
        assert_eq!(manifest["metadata"]["name"], "solver-rhel-8-py38-261206231502-0123456789abcdef");
        assert_eq!(manifest["metadata"]["namespace"], "thoth-middletier");
        assert_eq!(manifest["metadata"]["labels"]["app"], "thoth");
        assert_eq!(manifest["metadata"]["labels"]["component"], "solver");
        assert_eq!(manifest["metadata"]["labels"][MANAGED_BY_LABEL], MANAGED_BY_VALUE);
        assert_eq!(manifest["metadata"]["labels"][POSITION_LABEL], "42");
        assert_eq!(
            manifest["metadata"]["annotations"][TRACEPARENT_ANNOTATION],
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert_eq!(manifest["spec"]["workflowTemplateRef"]["name"], "solver");
        let parameters = manifest["spec"]["arguments"]["parameters"].as_array().expect("a list");
        let value = |name: &str| parameters.iter().find(|p| p["name"] == name).map(|p| p["value"].clone());
        assert_eq!(value("THOTH_SOLVER_NAME"), Some(json!("solver-rhel-8-py38")));
        assert_eq!(value("THOTH_SOLVER_NO_TRANSITIVE"), Some(json!("1")));
        assert_eq!(value("THOTH_ADVISER_METADATA"), Some(json!(r#"{"origin":null}"#)));
        assert_eq!(value("THOTH_LOG_SOLVER"), Some(json!("")));
        assert_eq!(SELECTOR, format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"));
    }

    #[test]
    fn templates_default_to_the_kind_and_can_be_configured() {
        let mut templates = WorkflowTemplates::default();
        assert_eq!(templates.of(WorkflowKind::SecurityIndicator), "security-indicator");
        templates.set(WorkflowKind::SecurityIndicator, "si-v2".to_owned());
        let manifest = workflow_manifest(&intent(WorkflowKind::SecurityIndicator), &templates);
        assert_eq!(manifest["spec"]["workflowTemplateRef"]["name"], "si-v2");
        assert_eq!(manifest["metadata"]["labels"]["component"], "security-indicators");
        assert_eq!(component(WorkflowKind::KebechetRunUrl), "kebechet");
    }
}
