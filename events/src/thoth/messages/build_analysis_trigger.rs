//! `thoth.build-analysis-trigger` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::{defaults, schema_version};

/// Asks for the analysis of a container build (its images and build log), from user-api.
///
/// The registry passwords are credentials: they must never reach the event log, logs or labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildAnalysisTrigger {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v1"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v1")]
    pub version: Option<String>,
    /// The base image of the build.
    pub base_image: Option<String>,
    /// An existing analysis of the base image.
    pub base_image_analysis_id: Option<String>,
    /// The stored build log.
    pub buildlog_document_id: Option<String>,
    /// An existing parse of the build log.
    pub buildlog_parser_id: Option<String>,
    /// `runtime` or `buildtime`.
    pub environment_type: Option<String>,
    /// Run with debug logging.
    #[serde(default)]
    pub debug: bool,
    /// The id to give the workflow.
    pub job_id: Option<String>,
    /// The repository the build belongs to.
    pub origin: Option<String>,
    /// The image the build produced.
    pub output_image: Option<String>,
    /// An existing analysis of the output image.
    pub output_image_analysis_id: Option<String>,
    /// Password for the base image's registry (a secret).
    pub base_registry_password: Option<String>,
    /// User for the base image's registry.
    pub base_registry_user: Option<String>,
    /// Verify the base registry's TLS certificate.
    #[serde(default = "defaults::yes")]
    pub base_registry_verify_tls: bool,
    /// Password for the output image's registry (a secret).
    pub output_registry_password: Option<String>,
    /// User for the output image's registry.
    pub output_registry_user: Option<String>,
    /// Verify the output registry's TLS certificate.
    #[serde(default = "defaults::yes")]
    pub output_registry_verify_tls: bool,
}
