//! `thoth.cve-update.cve-provided` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::schema_version;

/// A package version got a new vulnerability record, from cve-update-job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CveProvided {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v1"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v1")]
    pub version: Option<String>,
    /// The package.
    pub package_name: String,
    /// The affected version.
    pub package_version: String,
    /// The index it comes from.
    pub index_url: String,
}
