//! `thoth.investigator.si-unanalyzed-package` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::defaults;

/// A version with a source distribution has no security-indicator result yet, from graph-refresh-job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiUnanalyzedPackage {
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
}
