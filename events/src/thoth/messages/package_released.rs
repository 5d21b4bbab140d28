//! `thoth.package-release.package-released` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::defaults;

/// A new version appeared on an index, from package-releases-job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageReleased {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version, `"v1"` when absent.
    #[serde(default = "defaults::v1")]
    pub version: String,
    /// The index.
    pub index_url: String,
    /// The package.
    pub package_name: String,
    /// The new version.
    pub package_version: String,
}
