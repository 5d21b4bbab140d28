//! `thoth.advise-reporter.advise-justification` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::schema_version;

/// A count of one kind of justification in advises, sent by advise-reporter.
///
/// The metrics mode adds `count` to Thoth's `thoth_advise_justification_type_number` gauge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviseJustification {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v1"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v1")]
    pub version: Option<String>,
    /// The justification's message text.
    pub message: String,
    /// The justification's type (`INFO`, `WARNING`, `ERROR`...).
    pub justification_type: String,
    /// How many advises carried it.
    pub count: i64,
    /// The adviser version that produced them.
    pub adviser_version: String,
}
