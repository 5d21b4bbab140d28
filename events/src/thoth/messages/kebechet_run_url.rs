//! `thoth.kebechet-run-url-trigger` (schema v2).

use serde::{Deserialize, Serialize};

use crate::thoth::decode::object_only;
use crate::thoth::schema_version;

/// Asks Kebechet to run on one repository, from the kebechet-administrator workflow.
///
/// Schema v1 had no `metadata`; a v1 message decodes with the all-null default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KebechetRunUrlTrigger {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: String,
    /// The sender's own version, free-form.
    pub service_version: String,
    /// The schema version as sent, `None` when absent (encoded as `"v2"`, pydantic's default).
    #[serde(default, deserialize_with = "schema_version::present", serialize_with = "schema_version::or_v2")]
    pub version: Option<String>,
    /// The repository URL.
    pub url: Option<String>,
    /// `github`, `gitlab` or `pagure`.
    pub service_name: Option<String>,
    /// The GitHub App installation.
    pub installation_id: Option<String>,
    /// The id to give the workflow.
    pub job_id: Option<String>,
    /// Why Kebechet is run (always present on output; all null by default).
    #[serde(default, deserialize_with = "object_only")]
    pub metadata: KebechetRunUrlMetadata,
}

/// Why Kebechet is run on a repository: the internal trigger and the package it is about.
/// Every field is optional; thoth-messaging writes the object with all four keys, nulls included.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KebechetRunUrlMetadata {
    /// The internal trigger as a number; see [`KebechetRunUrlMetadata::trigger`].
    pub message_justification: Option<i64>,
    /// The package concerned.
    pub package_name: Option<String>,
    /// The version concerned.
    pub package_version: Option<String>,
    /// The index of the package.
    pub package_index: Option<String>,
}

/// Thoth's `InternalTriggerEnum`: what made the investigator run Kebechet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InternalTrigger {
    /// A new CVE for the package (1).
    Cve,
    /// The artifact hashes changed (2).
    HashMismatch,
    /// The package disappeared (3).
    MissingPackage,
    /// The version disappeared (4).
    MissingVersion,
    /// A new release appeared (5).
    NewRelease,
}

impl KebechetRunUrlMetadata {
    /// The trigger named by `message_justification`, if it is one Thoth defines.
    pub fn trigger(&self) -> Option<InternalTrigger> {
        match self.message_justification? {
            1 => Some(InternalTrigger::Cve),
            2 => Some(InternalTrigger::HashMismatch),
            3 => Some(InternalTrigger::MissingPackage),
            4 => Some(InternalTrigger::MissingVersion),
            5 => Some(InternalTrigger::NewRelease),
            _ => None,
        }
    }
}
