//! `thoth.investigator.si-unanalyzed-package` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::schema_version;

/// A version with a source distribution has no security-indicator result yet, from graph-refresh-job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiUnanalyzedPackage {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v1"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v1")]
    pub version: Option<String>,
    /// The package.
    pub package_name: String,
    /// The version.
    pub package_version: String,
    /// The index.
    pub index_url: String,
}
