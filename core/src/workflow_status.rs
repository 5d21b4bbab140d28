//! What an Argo Workflow's `status`, as the cluster reports it, says happened to it: the
//! lifecycle events it implies, in order. Every observation of a workflow gives every
//! transition it has gone through so far, so a watcher that missed some (a disconnect, a
//! relist after 410 Gone, a restart) still records each one; recording them under
//! per-transition idempotency keys keeps each one to a single event.

use investigator_events::domain::{DomainEvent, WorkflowFailed, WorkflowStarted, WorkflowSucceeded};
use serde_json::Value;

/// A step of a workflow's life after its submission, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transition {
    /// `status.startedAt` is set.
    Started,
    /// The phase is `Succeeded`, `Failed` or `Error`.
    Finished,
}

impl Transition {
    /// The idempotency key of this transition of `workflow_id`.
    pub fn key(self, workflow_id: &str) -> String {
        match self {
            Transition::Started => format!("workflow-started:{workflow_id}"),
            Transition::Finished => format!("workflow-finished:{workflow_id}"),
        }
    }

    /// The `graph.workflow_run` statuses at or past this transition.
    pub fn reached_by(self, status: &str) -> bool {
        match self {
            Transition::Started => matches!(status, "running" | "succeeded" | "failed"),
            Transition::Finished => matches!(status, "succeeded" | "failed"),
        }
    }
}

/// The transitions `status` (a Workflow's `.status`) shows for `workflow_id`, with their events.
pub fn observed_transitions(workflow_id: &str, status: &Value) -> Vec<(Transition, DomainEvent)> {
    let text = |name: &str| status.get(name).and_then(Value::as_str).filter(|text| !text.is_empty());
    let phase = text("phase").unwrap_or_default();
    let started_at = text("startedAt");
    let finished_at = text("finishedAt");
    let mut transitions = Vec::new();
    if let Some(started_at) = started_at {
        let started = WorkflowStarted { workflow_id: workflow_id.to_owned(), started_at: started_at.to_owned() };
        transitions.push((Transition::Started, started.into()));
    }
    match phase {
        "Succeeded" => {
            let finished_at = finished_at.or(started_at).unwrap_or_default().to_owned();
            let succeeded = WorkflowSucceeded { workflow_id: workflow_id.to_owned(), finished_at };
            transitions.push((Transition::Finished, succeeded.into()));
        }
        "Failed" | "Error" => {
            let failed = WorkflowFailed {
                workflow_id: workflow_id.to_owned(),
                phase: phase.to_owned(),
                finished_at: finished_at.map(str::to_owned),
                message: text("message").map(str::to_owned),
            };
            transitions.push((Transition::Finished, failed.into()));
        }
        _ => {}
    }
    transitions
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kinds(status: Value) -> Vec<(Transition, &'static str)> {
        observed_transitions("w", &status)
            .into_iter()
            .map(|(transition, event)| (transition, event.event_type().name()))
            .collect()
    }

    #[test]
    fn each_phase_gives_the_transitions_it_implies() {
        assert_eq!(kinds(json!({})), []);
        assert_eq!(kinds(json!({"phase": "Pending"})), []);
        assert_eq!(
            kinds(json!({"phase": "Running", "startedAt": "2026-11-24T10:00:00Z"})),
            [(Transition::Started, "WorkflowStarted")]
        );
        assert_eq!(
            kinds(
                json!({"phase": "Succeeded", "startedAt": "2026-11-24T10:00:00Z", "finishedAt": "2026-11-24T10:05:00Z"})
            ),
            [(Transition::Started, "WorkflowStarted"), (Transition::Finished, "WorkflowSucceeded")]
        );
        assert_eq!(
            kinds(json!({"phase": "Error", "message": "pod deleted"})),
            [(Transition::Finished, "WorkflowFailed")]
        );
    }

    #[test]
    fn a_failure_keeps_argos_phase_and_message() {
        let status = json!({"phase": "Failed", "startedAt": "a", "finishedAt": "b", "message": "OOMKilled"});
        let transitions = observed_transitions("w", &status);
        let (_, event) = &transitions[1];
        let DomainEvent::WorkflowFailed(failed) = event else { panic!("{event:?}") };
        assert_eq!((failed.phase.as_str(), failed.message.as_deref()), ("Failed", Some("OOMKilled")));
        assert_eq!(failed.finished_at.as_deref(), Some("b"));
    }

    #[test]
    fn a_transition_is_reached_by_the_statuses_past_it() {
        assert!(!Transition::Started.reached_by("submitted"));
        assert!(Transition::Started.reached_by("succeeded"));
        assert!(!Transition::Finished.reached_by("running"));
        assert!(Transition::Finished.reached_by("failed"));
        assert_eq!(Transition::Finished.key("w"), "workflow-finished:w");
    }
}
