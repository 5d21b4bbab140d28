//! `thoth.repo-init` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::schema_version;

/// Asks to set a repository up for Thoth, from management-api or user-api.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThothRepoInit {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v1"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v1")]
    pub version: Option<String>,
    /// The repository URL.
    pub project_url: String,
    /// The id to give the workflow.
    pub job_id: Option<String>,
}
