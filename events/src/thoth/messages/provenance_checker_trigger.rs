//! `thoth.provenance-checker-trigger` (schema v4).

use serde::{Deserialize, Serialize};

use crate::thoth::{JsonObject, schema_version};

/// Asks for a provenance check of a lock file, from user-api.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceCheckerTrigger {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v4"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v4")]
    pub version: Option<String>,
    /// Run with debug logging.
    #[serde(default)]
    pub debug: bool,
    /// Whether the request came from an authenticated user.
    #[serde(default)]
    pub authenticated: bool,
    /// The repository the request is about.
    pub origin: Option<String>,
    /// Index URLs the check accepts.
    pub whitelisted_sources: Option<Vec<String>>,
    /// The id to give the workflow.
    pub job_id: Option<String>,
    /// What Kebechet passes through.
    pub kebechet_metadata: Option<JsonObject>,
    /// Justifications carried over.
    pub justification: Option<Vec<JsonObject>>,
    /// Stack information carried over.
    pub stack_info: Option<Vec<JsonObject>>,
}
