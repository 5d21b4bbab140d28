//! `thoth.update-provides-source-distro` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::defaults;

/// Whether a version has a source distribution, from the security-indicator download step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateProvidesSourceDistro {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version, `"v1"` when absent.
    #[serde(default = "defaults::v1")]
    pub version: String,
    /// The package.
    pub package_name: String,
    /// The version.
    pub package_version: String,
    /// The index.
    pub index_url: String,
    /// True when a source distribution exists.
    pub value: bool,
}
