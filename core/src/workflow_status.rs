//! What an Argo Workflow's `status`, as the cluster reports it, says happened to it: the
//! lifecycle events it implies, in order. Every observation of a workflow gives every
//! transition it has gone through so far, so a watcher that missed some (a disconnect, a
//! relist after 410 Gone, a restart) still records each one; recording them under
//! per-transition idempotency keys keeps each one to a single event.
//!
//! A workflow can also leave the cluster before it finishes (deleted by someone, or with its
//! namespace or Argo's CRD): Argo has no phase for that, so its end is recorded as a failure
//! in phase [`DELETED_PHASE`] under the same `Finished` key, so that a workflow ends once,
//! whichever end is seen first.

use investigator_events::domain::{DomainEvent, WorkflowFailed, WorkflowStarted, WorkflowSucceeded};
use serde_json::Value;

/// The phase of the failure recorded for a workflow that left the cluster before it finished.
pub const DELETED_PHASE: &str = "Deleted";

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

/// The transitions a deletion of `workflow_id` implies, `last_status` being the `.status` of the
/// object the deletion reported (its last state) and `deleted_at` its `deletionTimestamp`, when
/// it had one: every transition that state shows and, when it shows no end, a failure in phase
/// [`DELETED_PHASE`] (the workflow will never finish now).
pub fn deleted_transitions(
    workflow_id: &str,
    last_status: &Value,
    deleted_at: Option<&str>,
) -> Vec<(Transition, DomainEvent)> {
    let mut transitions = observed_transitions(workflow_id, last_status);
    if !transitions.iter().any(|(transition, _)| *transition == Transition::Finished) {
        let message = "the workflow was deleted from the cluster before it finished";
        transitions.push(deleted(workflow_id, deleted_at.filter(|at| !at.is_empty()), message));
    }
    transitions
}

/// The end of `workflow_id` when a full list of its namespace no longer shows it: it was
/// deleted while nobody watched, and how far it got is unknown, so it ends as a failure in
/// phase [`DELETED_PHASE`] (if it had finished, that was recorded already or is lost with it).
pub fn vanished_transition(workflow_id: &str) -> (Transition, DomainEvent) {
    deleted(
        workflow_id,
        None,
        "the workflow was gone from the cluster when its namespace was listed; its end was not seen",
    )
}

fn deleted(workflow_id: &str, deleted_at: Option<&str>, message: &str) -> (Transition, DomainEvent) {
    let failed = WorkflowFailed {
        workflow_id: workflow_id.to_owned(),
        phase: DELETED_PHASE.to_owned(),
        finished_at: deleted_at.map(str::to_owned),
        message: Some(message.to_owned()),
    };
    (Transition::Finished, failed.into())
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
    fn a_deletion_before_the_end_is_a_failure_in_phase_deleted() {
        let running = json!({"phase": "Running", "startedAt": "2026-11-24T10:00:00Z"});
        let transitions = deleted_transitions("w", &running, Some("2026-11-24T10:01:00Z"));
        let names: Vec<_> =
            transitions.iter().map(|(transition, event)| (*transition, event.event_type().name())).collect();
        assert_eq!(names, [(Transition::Started, "WorkflowStarted"), (Transition::Finished, "WorkflowFailed")]);
        let DomainEvent::WorkflowFailed(failed) = &transitions[1].1 else { panic!("{transitions:?}") };
        assert_eq!(failed.phase, DELETED_PHASE);
        assert_eq!(failed.finished_at.as_deref(), Some("2026-11-24T10:01:00Z"));
        assert!(failed.message.as_deref().is_some_and(|message| message.contains("deleted")));

        let never_seen_by_argo = deleted_transitions("w", &json!({}), None);
        assert_eq!(never_seen_by_argo.len(), 1);
        let DomainEvent::WorkflowFailed(failed) = &never_seen_by_argo[0].1 else { panic!("{never_seen_by_argo:?}") };
        assert_eq!((failed.phase.as_str(), failed.finished_at.as_deref()), (DELETED_PHASE, None));
    }

    #[test]
    fn a_deletion_after_the_end_adds_nothing_to_it() {
        let succeeded = json!({"phase": "Succeeded", "startedAt": "a", "finishedAt": "2026-11-24T10:05:00Z"});
        assert_eq!(
            deleted_transitions("w", &succeeded, Some("2026-11-24T11:00:00Z")),
            observed_transitions("w", &succeeded)
        );
        let errored = json!({"phase": "Error", "message": "pod deleted"});
        assert_eq!(deleted_transitions("w", &errored, None), observed_transitions("w", &errored));
    }

    #[test]
    fn a_workflow_missing_from_a_list_ends_once_as_deleted() {
        let (transition, event) = vanished_transition("w");
        assert_eq!(transition.key("w"), "workflow-finished:w", "the key every end of w shares");
        let DomainEvent::WorkflowFailed(failed) = event else { panic!("{event:?}") };
        assert_eq!((failed.phase.as_str(), failed.finished_at), (DELETED_PHASE, None));
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
