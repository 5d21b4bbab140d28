//! `thoth.package-release.package-released` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::schema_version;

/// A new version appeared on an index, from package-releases-job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageReleased {
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
    /// The new version.
    pub package_version: String,
}
