//! `thoth.adviser-trigger` (schema v5).

use serde::{Deserialize, Serialize};

use crate::thoth::{JsonObject, schema_version};

/// Asks for an adviser run; sent by user-api, and by the solver workflow to re-run an adviser once
/// the packages it lacked are solved.
///
/// Schema v4 also had `github_event_type`, `github_check_run_id`, `github_installation_id` and
/// `github_base_repo_url`; v5 dropped them, and like any unknown key they are ignored on input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviserTrigger {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v5"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v5")]
    pub version: Option<String>,
    /// `latest`, `stable`, `performance`, `security`, `testing`...
    pub recommendation_type: String,
    /// Resolve development dependencies too.
    #[serde(default)]
    pub dev: bool,
    /// Run the adviser with debug logging.
    #[serde(default)]
    pub debug: bool,
    /// Whether the request came from an authenticated user.
    #[serde(default)]
    pub authenticated: bool,
    /// How many stacks to return.
    pub count: Option<i64>,
    /// How many stacks to generate.
    pub limit: Option<i64>,
    /// The repository or source the request is about.
    pub origin: Option<String>,
    /// The id to give the adviser workflow.
    pub job_id: Option<String>,
    /// Consider only this many latest versions of each package.
    pub limit_latest_versions: Option<i64>,
    /// The adviser document this run repeats.
    pub re_run_adviser_id: Option<String>,
    /// `CLI`, `KEBECHET`, `S2I` or `JUPYTER_NOTEBOOK`.
    pub source_type: Option<String>,
    /// What Kebechet passes through to the adviser.
    pub kebechet_metadata: Option<JsonObject>,
    /// Justifications carried over from an earlier run.
    pub justification: Option<Vec<JsonObject>>,
    /// Stack information carried over from an earlier run.
    pub stack_info: Option<Vec<JsonObject>>,
}
