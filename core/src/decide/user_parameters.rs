//! Thoth's parameters for the workflows users (and Thoth's own services) trigger: adviser,
//! provenance-checker, package-extract, kebechet, kebechet-run-url, build-analysis and
//! repo-init. Registry credentials are never parameters: the parameters name the secret
//! that holds them (`THOTH_REGISTRY_CREDENTIALS_SECRET`).

use investigator_events::thoth::{
    BuildAnalysisTrigger, JsonObject, KebechetRunUrlTrigger, KebechetTrigger, PackageExtractTrigger,
    ProvenanceCheckerTrigger,
};
use serde_json::{Value, json};

use super::parameters::Parameters;

/// The parameter naming the secret with a workflow's registry credentials.
pub(super) const CREDENTIALS_SECRET: &str = "THOTH_REGISTRY_CREDENTIALS_SECRET";

/// Kebechet's `message_justification` for a new release (`InternalTriggerEnum.NEW_RELEASE`).
const NEW_RELEASE: i64 = 5;

/// An adviser run, from a trigger message or a parked run's original request.
#[derive(Debug, Default)]
pub(super) struct AdviserRequest<'a> {
    /// `stable`, `latest`...
    pub recommendation_type: &'a str,
    /// Include development dependencies.
    pub dev: bool,
    /// Log at DEBUG.
    pub debug: bool,
    /// The user was authenticated.
    pub authenticated: bool,
    /// Number of stacks to return.
    pub count: Option<i64>,
    /// Number of stacks to score.
    pub limit: Option<i64>,
    /// The repository or client that asked.
    pub origin: Option<&'a str>,
    /// The run this one re-runs.
    pub re_run_adviser_id: Option<&'a str>,
    /// `KEBECHET`, `CLI`...
    pub source_type: Option<&'a str>,
    /// Kebechet's context.
    pub kebechet_metadata: Option<&'a JsonObject>,
    /// Justifications to show.
    pub justification: Option<&'a [JsonObject]>,
    /// Stack information to show.
    pub stack_info: Option<&'a [JsonObject]>,
}

/// `adviser` template.
pub(super) fn adviser(id: &str, request: &AdviserRequest<'_>) -> JsonObject {
    let metadata = json!({
        "origin": request.origin,
        "re_run_adviser_id": request.re_run_adviser_id,
        "source_type": request.source_type,
        "kebechet_metadata": request.kebechet_metadata,
        "thoth.adviser": {"justification": request.justification, "stack_info": request.stack_info},
    });
    let mut parameters = Parameters::default()
        .text("THOTH_ADVISER_JOB_ID", id)
        .flag("THOTH_ADVISER_DEV", request.dev)
        .log_level("THOTH_LOG_ADVISER", request.debug)
        .text("THOTH_ADVISER_RECOMMENDATION_TYPE", request.recommendation_type)
        .flag("THOTH_AUTHENTICATED_ADVISE", request.authenticated)
        .text("THOTH_ADVISER_PREDICTOR_CONFIG", "{}")
        .json("THOTH_ADVISER_METADATA", &metadata);
    // Thoth sets these only when given, so the template's defaults apply otherwise.
    if let Some(limit) = request.limit {
        parameters = parameters.text("THOTH_ADVISER_LIMIT", limit.to_string());
    }
    if let Some(count) = request.count {
        parameters = parameters.text("THOTH_ADVISER_COUNT", count.to_string());
    }
    if let Some(update) = request.kebechet_metadata.and_then(deployment_package_update) {
        parameters = parameters.json("THOTH_ADVISER_DEPLOYMENT_PACKAGE_UPDATE", &update);
    }
    parameters.build()
}

/// The package a new-release advise is about, from Kebechet's metadata.
fn deployment_package_update(kebechet_metadata: &JsonObject) -> Option<Value> {
    let justification = kebechet_metadata.get("message_justification").and_then(Value::as_i64)?;
    (justification == NEW_RELEASE).then(|| {
        json!({
            "package_name": kebechet_metadata.get("package_name"),
            "package_version": kebechet_metadata.get("package_version"),
            "index_url": kebechet_metadata.get("package_index"),
        })
    })
}

/// `provenance-checker` template.
pub(super) fn provenance_checker(id: &str, message: &ProvenanceCheckerTrigger) -> JsonObject {
    let metadata = json!({
        "origin": message.origin,
        "kebechet_metadata": message.kebechet_metadata,
        "thoth.adviser": {"justification": message.justification, "stack_info": message.stack_info},
    });
    Parameters::default()
        .json("THOTH_ADVISER_METADATA", &metadata)
        .flag("THOTH_AUTHENTICATED_PROVENANCE_CHECK", message.authenticated)
        .text("THOTH_WHITELISTED_SOURCES", message.whitelisted_sources.as_deref().unwrap_or_default().join(","))
        .log_level("THOTH_LOG_ADVISER", message.debug)
        .text("THOTH_PROVENANCE_CHECKER_JOB_ID", id)
        .text("THOTH_DOCUMENT_ID", id)
        .build()
}

/// `package-extract` template; `credentials_secret` names the secret with
/// `THOTH_REGISTRY_CREDENTIALS` (`user:password`), when the message gave both.
pub(super) fn package_extract(
    id: &str,
    message: &PackageExtractTrigger,
    credentials_secret: Option<&str>,
) -> JsonObject {
    let metadata = json!({
        "origin": message.origin,
        "environment_type": message.environment_type,
        "is_external": message.is_external,
    });
    let parameters = Parameters::default()
        .log_level("THOTH_LOG_PACKAGE_EXTRACT", message.debug)
        .text("THOTH_ANALYZED_IMAGE", message.image.as_str())
        .flag("THOTH_ANALYZER_NO_TLS_VERIFY", !message.verify_tls)
        .text("THOTH_PACKAGE_EXTRACT_JOB_ID", id)
        .flag("THOTH_SYNC_PACKAGE_EXTRACT", message.graph_sync)
        .text("THOTH_DOCUMENT_ID", id)
        .json("THOTH_PACKAGE_EXTRACT_METADATA", &metadata);
    with_secret(parameters, credentials_secret).build()
}

/// The analysis ids a build analysis writes under; Thoth generated the missing ones.
pub(super) struct BuildAnalysisIds {
    /// The base image's package-extract document.
    pub base_image_analysis_id: Option<String>,
    /// The output image's package-extract document.
    pub output_image_analysis_id: Option<String>,
    /// The build log parser's document.
    pub buildlog_parser_id: Option<String>,
}

/// `build-analysis` template; the secret holds
/// `THOTH_BUILD_ANALYSIS_{BASE,OUTPUT}_REGISTRY_CREDENTIALS` for the registries that need them.
pub(super) fn build_analysis(
    id: &str,
    message: &BuildAnalysisTrigger,
    ids: &BuildAnalysisIds,
    credentials_secret: Option<&str>,
) -> JsonObject {
    // Thoth's build analysis takes images from outside the cluster.
    let is_external = true;
    let metadata = json!({
        "origin": message.origin,
        "environment_type": message.environment_type,
        "base_image_analysis_id": ids.base_image_analysis_id,
        "output_image_analysis_id": ids.output_image_analysis_id,
        "buildlog_document_id": message.buildlog_document_id,
        "build_analysis_job_id": id,
        "is_external": is_external,
    });
    let parameters = Parameters::default()
        .optional("THOTH_BUILD_ANALYSIS_BASE_IMAGE", message.base_image.as_deref())
        .optional("THOTH_BUILD_ANALYSIS_BASE_IMAGE_ANALYSIS_ID", ids.base_image_analysis_id.as_deref())
        .optional("THOTH_BUILD_ANALYSIS_BASE_IMAGE_DOCUMENT_ID", ids.base_image_analysis_id.as_deref())
        .flag("THOTH_BUILD_ANALYSIS_BASE_REGISTRY_NO_TLS_VERIFY", !message.base_registry_verify_tls)
        .optional("THOTH_BUILD_ANALYSIS_OUTPUT_IMAGE", message.output_image.as_deref())
        .optional("THOTH_BUILD_ANALYSIS_OUTPUT_IMAGE_ANALYSIS_ID", ids.output_image_analysis_id.as_deref())
        .optional("THOTH_BUILD_ANALYSIS_OUTPUT_IMAGE_DOCUMENT_ID", ids.output_image_analysis_id.as_deref())
        .flag("THOTH_BUILD_ANALYSIS_OUTPUT_REGISTRY_NO_TLS_VERIFY", !message.output_registry_verify_tls)
        .optional("THOTH_BUILD_ANALYSIS_BUILDLOG_DOCUMENT_ID", message.buildlog_document_id.as_deref())
        .optional("THOTH_BUILD_ANALYSIS_BUILDLOG_PARSER_ID", ids.buildlog_parser_id.as_deref())
        .optional("THOTH_BUILD_ANALYSIS_ENVIRONMENT_TYPE", message.environment_type.as_deref())
        .optional("THOTH_BUILD_ANALYSIS_ORIGIN", message.origin.as_deref())
        .log_level("THOTH_BUILD_ANALYSIS_LOG", message.debug)
        .text("THOTH_BUILD_ANALYSIS_JOB_ID", id)
        .json("THOTH_BUILD_ANALYSIS_METADATA", &metadata);
    with_secret(parameters, credentials_secret).build()
}

/// `kebechet` template: the webhook and the repository it is about (empty when the
/// payload names none, as in Thoth).
pub(super) fn kebechet(id: &str, message: &KebechetTrigger) -> JsonObject {
    let slug = message
        .webhook_payload
        .get("repository")
        .and_then(|repository| repository.get("full_name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    Parameters::default()
        .text("WORKFLOW_ID", id)
        .json("WEBHOOK_PAYLOAD", &Value::Object(message.webhook_payload.clone()))
        .text("KEBECHET_SLUG", slug)
        .build()
}

/// `kebechet-run-url` template, with the message's `metadata` (Thoth read a key that does
/// not exist and always passed null).
pub(super) fn kebechet_run_url(id: &str, message: &KebechetRunUrlTrigger, repo_url: &str) -> JsonObject {
    // thoth-common's default service when none is named.
    let service_name = message.service_name.as_deref().unwrap_or("github");
    let metadata = serde_json::to_value(&message.metadata).unwrap_or(Value::Null);
    Parameters::default()
        .text("WORKFLOW_ID", id)
        .text("KEBECHET_REPO_URL", repo_url)
        .text("KEBECHET_SERVICE_NAME", service_name)
        .json("KEBECHET_METADATA", &metadata)
        .build()
}

/// `thoth-repo-init` template.
pub(super) fn repo_init(id: &str, project_url: &str) -> JsonObject {
    Parameters::default().text("WORKFLOW_ID", id).text("PROJECT_URL", project_url).build()
}

fn with_secret(parameters: Parameters, credentials_secret: Option<&str>) -> Parameters {
    match credentials_secret {
        Some(secret) => parameters.text(CREDENTIALS_SECRET, secret),
        None => parameters,
    }
}
