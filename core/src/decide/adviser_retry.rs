//! The adviser retry (middletier, solved-package): an advise that failed for want of
//! knowledge runs again once every package it waits for is solved in its environment.
//! Thoth did this inside the solver workflow (workflow-helpers' parse-solver-output); here
//! it is a decision on the solved-package message, so it is idempotent like the others.

use investigator_events::domain::{AdviserReRunRequested, StreamId, WorkflowKind, WorkflowTarget};
use investigator_events::thoth::{JsonObject, SolvedPackage};
use serde_json::Value;

use super::draft::{DecisionDraft, Workflow};
use super::fields;
use super::user_parameters::{self as user, AdviserRequest};
use super::{DecisionSettings, ParkedAdviser, Rejection, workflow_id};
use crate::{SolverEnvironment, SolverName};

/// solved-package: re-runs each parked adviser this message releases.
pub(super) fn solved_package(
    draft: &mut DecisionDraft<'_>,
    message: &SolvedPackage,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let name = fields::package_name(&message.package_name)?;
    let environment = fields::solver(&message.solver)?.environment();
    for parked in draft.knowledge().parked_waiting_for(&name) {
        if released(draft, parked, &name, &environment) {
            re_run(draft, parked, settings);
        }
    }
    Ok(())
}

/// Whether everything `parked` waits for is now solved in its environment.
fn released(
    draft: &mut DecisionDraft<'_>,
    parked: &ParkedAdviser,
    solved_name: &str,
    environment: &SolverEnvironment,
) -> bool {
    let id = &parked.adviser_document_id;
    if let Some(solver) = &parked.solver_name {
        let parked_environment = SolverName::parse(solver).map(|solver| solver.environment());
        if parked_environment.as_ref() != Ok(environment) {
            draft.skip(format!("adviser {id} waits for {solver}, not this solver's environment"));
            return false;
        }
    }
    let unsolved: Vec<&str> = parked
        .unresolved
        .iter()
        .map(|package| package.package_name.as_str())
        .filter(|name| *name != solved_name && !draft.knowledge().is_name_solved_in(name, environment))
        .collect();
    if !unsolved.is_empty() {
        draft.skip(format!("adviser {id} still waits for {}", unsolved.join(", ")));
        return false;
    }
    true
}

/// Asks for the re-run, with the original request, and records that the parked run was
/// re-run (which un-parks it).
fn re_run(draft: &mut DecisionDraft<'_>, parked: &ParkedAdviser, settings: &DecisionSettings) {
    let old_id = parked.adviser_document_id.as_str();
    let parameters = &parked.parameters;
    let recommendation_type = parked.recommendation_type.as_deref().or_else(|| text(parameters, "recommendation_type"));
    let Some(recommendation_type) = recommendation_type else {
        draft.skip(format!("adviser {old_id} recorded no recommendation type to re-run with"));
        return;
    };
    let new_id = workflow_id::adviser_re_run(old_id);
    let request = AdviserRequest {
        recommendation_type,
        dev: parameters.get("dev").and_then(Value::as_bool).unwrap_or(false),
        count: parameters.get("count").and_then(Value::as_i64),
        limit: parameters.get("limit").and_then(Value::as_i64),
        origin: parked.origin.as_deref(),
        re_run_adviser_id: Some(old_id),
        source_type: parked.source_type.as_deref(),
        kebechet_metadata: parameters.get("kebechet_metadata").and_then(Value::as_object),
        ..AdviserRequest::default()
    };
    let workflow = Workflow {
        kind: WorkflowKind::Adviser,
        namespace: settings.backend_namespace.clone(),
        target: WorkflowTarget::default(),
        version_source: None,
    };
    let parameters = user::adviser(&new_id, &request);
    if draft.request_named(new_id.clone(), workflow, parameters) {
        draft.event(
            StreamId::adviser(old_id),
            AdviserReRunRequested { adviser_document_id: old_id.to_owned(), re_run_job_id: Some(new_id) },
        );
    }
}

fn text<'a>(object: &'a JsonObject, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests;
