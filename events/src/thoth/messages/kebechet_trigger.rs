//! `thoth.kebechet-trigger` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::{JsonObject, schema_version};

/// A GitHub webhook for Kebechet, forwarded by user-api.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KebechetTrigger {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v1"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v1")]
    pub version: Option<String>,
    /// The webhook's JSON body, as received.
    pub webhook_payload: JsonObject,
    /// The id to give the workflow.
    pub job_id: Option<String>,
}
