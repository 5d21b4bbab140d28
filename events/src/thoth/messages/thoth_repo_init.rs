//! `thoth.repo-init` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::defaults;

/// Asks to set a repository up for Thoth, from management-api or user-api.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThothRepoInit {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version, `"v1"` when absent.
    #[serde(default = "defaults::v1")]
    pub version: String,
    /// The repository URL.
    pub project_url: String,
    /// The id to give the workflow.
    pub job_id: Option<String>,
}
