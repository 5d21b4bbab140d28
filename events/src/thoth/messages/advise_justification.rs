//! `thoth.advise-reporter.advise-justification` (schema v1).

use serde::{Deserialize, Serialize};

use crate::thoth::defaults;

/// A count of one kind of justification in advises, sent by advise-reporter.
///
/// The metrics mode adds `count` to Thoth's `thoth_advise_justification_type_number` gauge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviseJustification {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version, `"v1"` when absent.
    #[serde(default = "defaults::v1")]
    pub version: String,
    /// The justification's message text.
    pub message: String,
    /// The justification's type (`INFO`, `WARNING`, `ERROR`...).
    pub justification_type: String,
    /// How many advises carried it.
    pub count: i64,
    /// The adviser version that produced them.
    pub adviser_version: String,
}
