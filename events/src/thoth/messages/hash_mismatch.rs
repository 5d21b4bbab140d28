//! `thoth.package-update.hash-mismatch` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::schema_version;

/// The artifact hashes on an index no longer match the knowledge graph, from package-update-job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashMismatch {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v1"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v1")]
    pub version: Option<String>,
    /// The index.
    pub index_url: String,
    /// The package.
    pub package_name: String,
    /// The version.
    pub package_version: String,
    /// sha256 hashes the graph has but the index no longer serves.
    pub missing_from_source: Vec<String>,
    /// sha256 hashes the index serves but the graph lacks.
    pub missing_from_database: Vec<String>,
}
