//! `thoth.inspection-completed` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::schema_version;

/// An Amun inspection finished and its results can be synced into the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionCompleted {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v1"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v1")]
    pub version: Option<String>,
    /// The inspection's document id.
    pub inspection_id: String,
    /// Sync even if the document was synced before.
    #[serde(default)]
    pub force_sync: bool,
}
