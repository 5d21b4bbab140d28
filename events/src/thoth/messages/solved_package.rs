//! `thoth.solver.solved-package` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::schema_version;

/// A solver finished a package version, from the solver workflow; `service_version` is the solver's
/// `analyzer_version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolvedPackage {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v1"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v1")]
    pub version: Option<String>,
    /// The package.
    pub package_name: String,
    /// The version that was requested.
    pub package_version: String,
    /// The index.
    pub index_url: String,
    /// The solver, e.g. `solver-rhel-8-py38`.
    pub solver: String,
}
