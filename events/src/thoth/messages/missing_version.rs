//! `thoth.package-update.missing-package-version` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::defaults;

/// One version disappeared from an index, from package-update-job or the security-indicator download step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingVersion {
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
    /// The version.
    pub package_version: String,
}
