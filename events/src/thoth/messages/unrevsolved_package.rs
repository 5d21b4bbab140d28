//! `thoth.investigator.unrevsolved-package` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::defaults;

/// A version whose dependents were never reverse-solved, from graph-refresh-job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnrevsolvedPackage {
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
}
