//! The user workflow scheduler: trigger messages become the workflow they ask for, named
//! by the message's `job_id` (the id the user-API already gave its caller) or, without
//! one, by the record. A name already requested is a redelivered or repeated trigger and
//! asks for nothing.

use std::collections::BTreeMap;

use investigator_events::domain::{WorkflowKind, WorkflowTarget};
use investigator_events::thoth::{
    AdviserTrigger, BuildAnalysisTrigger, InspectionCompleted, JsonObject, KebechetRunUrlTrigger, KebechetTrigger,
    PackageExtractTrigger, ProvenanceCheckerTrigger, ThothMessage, ThothRepoInit,
};

use super::draft::{DecisionDraft, Workflow};
use super::fields::{self, invalid};
use super::parameters;
use super::user_parameters::{self as user, AdviserRequest, BuildAnalysisIds};
use super::{DecisionSettings, Rejection, WorkflowSecret, workflow_id};

/// The adviser integrations thoth-common knows (`ThothAdviserIntegrationEnum`).
const SOURCE_TYPES: [&str; 4] = ["CLI", "KEBECHET", "S2I", "JUPYTER_NOTEBOOK"];

/// Decides about one trigger message; other messages ask for nothing.
pub(super) fn user_workflow(
    draft: &mut DecisionDraft<'_>,
    message: &ThothMessage,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    use ThothMessage as M;
    match message {
        M::AdviserTrigger(message) => adviser_trigger(draft, message, settings),
        M::ProvenanceCheckerTrigger(message) => provenance_checker_trigger(draft, message, settings),
        M::PackageExtractTrigger(message) => package_extract_trigger(draft, message, settings),
        M::KebechetTrigger(message) => kebechet_trigger(draft, message, settings),
        M::KebechetRunUrlTrigger(message) => kebechet_run_url_trigger(draft, message, settings),
        M::BuildAnalysisTrigger(message) => build_analysis_trigger(draft, message, settings),
        M::InspectionCompleted(message) => inspection_completed(draft, message, settings),
        M::ThothRepoInit(message) => repo_init(draft, message, settings),
        _ => Ok(()),
    }
}

fn adviser_trigger(
    draft: &mut DecisionDraft<'_>,
    message: &AdviserTrigger,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let id = name(draft, message.job_id.as_deref(), WorkflowKind::Adviser)?;
    check_integration(message.source_type.as_deref(), message.origin.as_deref())?;
    // `limit_latest_versions` is not passed: Thoth's scheduler has no parameter for it.
    let request = AdviserRequest {
        recommendation_type: &message.recommendation_type,
        dev: message.dev,
        debug: message.debug,
        authenticated: message.authenticated,
        count: message.count,
        limit: message.limit,
        origin: message.origin.as_deref(),
        re_run_adviser_id: message.re_run_adviser_id.as_deref(),
        source_type: message.source_type.as_deref(),
        kebechet_metadata: message.kebechet_metadata.as_ref(),
        justification: message.justification.as_deref(),
        stack_info: message.stack_info.as_deref(),
    };
    let parameters = user::adviser(&id, &request);
    launch(draft, id, WorkflowKind::Adviser, &settings.backend_namespace, parameters);
    Ok(())
}

fn provenance_checker_trigger(
    draft: &mut DecisionDraft<'_>,
    message: &ProvenanceCheckerTrigger,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let id = name(draft, message.job_id.as_deref(), WorkflowKind::ProvenanceChecker)?;
    let parameters = user::provenance_checker(&id, message);
    launch(draft, id, WorkflowKind::ProvenanceChecker, &settings.backend_namespace, parameters);
    Ok(())
}

/// Runs in middletier (Thoth gated it on backend's queue while creating it in middletier).
fn package_extract_trigger(
    draft: &mut DecisionDraft<'_>,
    message: &PackageExtractTrigger,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let id = name(draft, message.job_id.as_deref(), WorkflowKind::PackageExtract)?;
    fields::non_blank("image", Some(&message.image))?;
    if !matches!(message.environment_type.as_str(), "runtime" | "buildtime") {
        return Err(invalid(
            "environment_type",
            format!("'{}' is neither runtime nor buildtime", message.environment_type),
        ));
    }
    // Thoth passes credentials only when both halves are given.
    let credentials = match (given(&message.registry_user), given(&message.registry_password)) {
        (Some(user), Some(password)) => {
            BTreeMap::from([("THOTH_REGISTRY_CREDENTIALS".to_owned(), format!("{user}:{password}"))])
        }
        _ => BTreeMap::new(),
    };
    let secret = secret_for(&id, credentials);
    let parameters = user::package_extract(&id, message, secret.as_ref().map(|secret| secret.name.as_str()));
    if launch(draft, id, WorkflowKind::PackageExtract, &settings.middletier_namespace, parameters) {
        secret.into_iter().for_each(|secret| draft.secret(secret));
    }
    Ok(())
}

fn kebechet_trigger(
    draft: &mut DecisionDraft<'_>,
    message: &KebechetTrigger,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let id = name(draft, message.job_id.as_deref(), WorkflowKind::Kebechet)?;
    let parameters = user::kebechet(&id, message);
    launch(draft, id, WorkflowKind::Kebechet, &settings.backend_namespace, parameters);
    Ok(())
}

fn kebechet_run_url_trigger(
    draft: &mut DecisionDraft<'_>,
    message: &KebechetRunUrlTrigger,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let id = name(draft, message.job_id.as_deref(), WorkflowKind::KebechetRunUrl)?;
    let url = fields::non_blank("url", message.url.as_deref())?;
    let parameters = user::kebechet_run_url(&id, message, &url);
    launch(draft, id, WorkflowKind::KebechetRunUrl, &settings.backend_namespace, parameters);
    Ok(())
}

fn build_analysis_trigger(
    draft: &mut DecisionDraft<'_>,
    message: &BuildAnalysisTrigger,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let id = name(draft, message.job_id.as_deref(), WorkflowKind::BuildAnalysis)?;
    let base_image = given(&message.base_image);
    let output_image = given(&message.output_image);
    let buildlog = given(&message.buildlog_document_id);
    if base_image.is_none() && output_image.is_none() && buildlog.is_none() {
        return Err(invalid(
            "base_image",
            "nothing to analyse: give a base image, an output image or a build log document id".to_owned(),
        ));
    }
    let mut credentials = BTreeMap::new();
    let registries = [
        ("base", &message.base_registry_user, &message.base_registry_password),
        ("output", &message.output_registry_user, &message.output_registry_password),
    ];
    for (registry, user, password) in registries {
        let Some(user) = given(user) else { continue };
        let Some(password) = given(password) else {
            let field = if registry == "base" { "base_registry_password" } else { "output_registry_password" };
            return Err(invalid(field, format!("the {registry} registry user is given without a password")));
        };
        let key = format!("THOTH_BUILD_ANALYSIS_{}_REGISTRY_CREDENTIALS", registry.to_ascii_uppercase());
        credentials.insert(key, format!("{user}:{password}"));
    }
    // Thoth generated the ids a message left out; here they follow from the workflow's name.
    let derive = |given_id: &Option<String>, wanted: bool, prefix: &str, role: &str| {
        given_id.clone().or_else(|| wanted.then(|| workflow_id::derived(prefix, &id, role)))
    };
    let ids = BuildAnalysisIds {
        base_image_analysis_id: derive(
            &message.base_image_analysis_id,
            base_image.is_some(),
            "package-extract",
            "base",
        ),
        output_image_analysis_id: derive(
            &message.output_image_analysis_id,
            output_image.is_some(),
            "package-extract",
            "output",
        ),
        buildlog_parser_id: derive(&message.buildlog_parser_id, buildlog.is_some(), "buildlog-parser", "buildlog"),
    };
    let secret = secret_for(&id, credentials);
    let parameters = user::build_analysis(&id, message, &ids, secret.as_ref().map(|secret| secret.name.as_str()));
    if launch(draft, id, WorkflowKind::BuildAnalysis, &settings.middletier_namespace, parameters) {
        secret.into_iter().for_each(|secret| draft.secret(secret));
    }
    Ok(())
}

/// inspection-completed: sync the inspection's documents into the graph.
fn inspection_completed(
    draft: &mut DecisionDraft<'_>,
    message: &InspectionCompleted,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let inspection_id = fields::non_blank("inspection_id", Some(&message.inspection_id))?;
    let id = name(draft, None, WorkflowKind::GraphSync)?;
    let parameters = parameters::graph_sync(&id, &inspection_id, message.force_sync);
    launch(draft, id, WorkflowKind::GraphSync, &settings.middletier_namespace, parameters);
    Ok(())
}

/// repo-init: named by the message's `job_id` (Thoth dropped it and generated a name, so
/// the caller could not follow its own request).
fn repo_init(
    draft: &mut DecisionDraft<'_>,
    message: &ThothRepoInit,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let id = name(draft, message.job_id.as_deref(), WorkflowKind::RepoInit)?;
    let project_url = fields::non_blank("project_url", Some(&message.project_url))?;
    let parameters = user::repo_init(&id, &project_url);
    launch(draft, id, WorkflowKind::RepoInit, &settings.backend_namespace, parameters);
    Ok(())
}

/// The workflow's name: the message's job id, or one derived from the record.
fn name(draft: &DecisionDraft<'_>, job_id: Option<&str>, kind: WorkflowKind) -> Result<String, Rejection> {
    Ok(fields::job_id(job_id)?.unwrap_or_else(|| workflow_id::for_record(draft.origin(), kind)))
}

/// thoth-common's integration checks: a known source type, and Kebechet needs an origin
/// (the repository to report to).
fn check_integration(source_type: Option<&str>, origin: Option<&str>) -> Result<(), Rejection> {
    let Some(source_type) = source_type else {
        return Ok(());
    };
    if !SOURCE_TYPES.contains(&source_type) {
        return Err(invalid(
            "source_type",
            format!("'{source_type}' is not an integration Thoth knows ({})", SOURCE_TYPES.join(", ")),
        ));
    }
    if source_type == "KEBECHET" {
        fields::non_blank("origin", origin)
            .map_err(|_| invalid("origin", "a KEBECHET advise needs the repository as origin".to_owned()))?;
    }
    Ok(())
}

fn launch(
    draft: &mut DecisionDraft<'_>,
    id: String,
    kind: WorkflowKind,
    namespace: &str,
    parameters: JsonObject,
) -> bool {
    let workflow =
        Workflow { kind, namespace: namespace.to_owned(), target: WorkflowTarget::default(), version_source: None };
    draft.request_named(id, workflow, parameters)
}

/// The secret with a workflow's credentials, when it needs any.
fn secret_for(workflow_id: &str, data: BTreeMap<String, String>) -> Option<WorkflowSecret> {
    (!data.is_empty()).then(|| WorkflowSecret {
        workflow_id: workflow_id.to_owned(),
        name: format!("{workflow_id}-registry"),
        data,
    })
}

/// A text field that is given and not blank.
fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|text| !text.trim().is_empty())
}

#[cfg(test)]
mod tests;
