//! `thoth.package-extract-trigger` (schema v2).

use serde::{Deserialize, Serialize};

use crate::thoth::{defaults, schema_version};

/// Asks for the extraction of a container image's packages, from user-api.
///
/// The registry password is a credential: it must never reach the event log, logs or labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageExtractTrigger {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v2"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v2")]
    pub version: Option<String>,
    /// The image to extract.
    pub image: String,
    /// `runtime` or `buildtime` (checked when scheduling, not here).
    pub environment_type: String,
    /// The image comes from outside Thoth.
    #[serde(default = "defaults::yes")]
    pub is_external: bool,
    /// Verify the registry's TLS certificate.
    #[serde(default = "defaults::yes")]
    pub verify_tls: bool,
    /// Run with debug logging.
    #[serde(default)]
    pub debug: bool,
    /// The id to give the workflow.
    pub job_id: Option<String>,
    /// The repository the image belongs to.
    pub origin: Option<String>,
    /// User for the image's registry.
    pub registry_user: Option<String>,
    /// Password for the image's registry (a secret).
    pub registry_password: Option<String>,
    /// Sync the result into the graph (new in v2).
    #[serde(default)]
    pub graph_sync: bool,
}
