//! `thoth.investigator.unresolved-package` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::schema_version;

/// A package (version) the graph does not know, from graph-refresh-job, the adviser or the provenance
/// checker.
///
/// The adviser sends the Pipfile specifier as `package_version` (often `*`, maybe `==1.0`);
/// graph-refresh-job sends an exact version and sets `solver`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnresolvedPackage {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v1"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v1")]
    pub version: Option<String>,
    /// The package.
    pub package_name: String,
    /// The index.
    pub index_url: String,
    /// A version, a specifier, `*` or null for all versions.
    pub package_version: Option<String>,
    /// The one solver to use, e.g. `solver-rhel-8-py38`.
    pub solver: Option<String>,
}
