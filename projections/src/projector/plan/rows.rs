//! The rows a batch of events writes, one struct per table, each already folded: every
//! key appears once, holding what applying the batch's events one by one would leave.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

/// `python_package_index`. `None` registers leave the stored values as they are.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexRow {
    pub url: String,
    pub registration: Option<Registration>,
    pub enabled: Option<(bool, i64)>,
    /// The latest event that changed the row, and when it was recorded.
    pub updated: Option<(i64, DateTime<Utc>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Registration {
    pub position: i64,
    pub warehouse_api_url: Option<String>,
    pub verify_ssl: bool,
    pub only_if_package_seen: bool,
}

/// `python_package_version_entity`; positions of 0 change nothing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EntityRow {
    pub package_name: String,
    pub package_version: Option<String>,
    pub index_id: Option<i64>,
    pub first_seen_at: DateTime<Utc>,
    pub missing_position: i64,
    pub present_position: i64,
    pub source_distro: Option<(bool, i64)>,
}

/// `python_package_missing`: the latest time the whole package was reported gone.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MissingPackageRow {
    pub position: i64,
    pub marked_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SolverRow {
    pub solver_name: String,
    pub solver_version: String,
    pub os_name: String,
    pub os_version: String,
    pub python_version: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LicenseRow {
    pub name: String,
    pub identifier: String,
    pub version: String,
}

/// `python_package_version`, with the newest solver entry seen in the batch, if any.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VersionRow {
    pub entity_id: i64,
    pub package_name: String,
    pub package_version: Option<String>,
    pub index_id: Option<i64>,
    pub os_name: String,
    pub os_version: String,
    pub python_version: String,
    pub entry: Option<EntryRow>,
}

/// What a solver's tree entry says of a version: replaces the previous entry, dependencies
/// included, when it is newer (by solver datetime, then log position).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EntryRow {
    pub datetime: NaiveDateTime,
    pub position: i64,
    pub license_id: Option<i64>,
    pub license_warning: Option<bool>,
    pub metadata: Option<Value>,
    pub solver_entry: Value,
    pub edges: Vec<EdgeRow>,
}

impl EntryRow {
    pub fn is_newer_than(&self, other: &EntryRow) -> bool {
        (self.datetime, self.position) > (other.datetime, other.position)
    }
}

/// `depends_on`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct EdgeRow {
    pub entity_id: i64,
    pub extra: Option<String>,
    pub marker: Option<String>,
    pub version_range: String,
    pub marker_evaluation_result: bool,
}

/// `solved` and `solver_run`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SolvedRow {
    pub document_id: String,
    pub datetime: NaiveDateTime,
    pub duration: Option<i32>,
    pub error: bool,
    pub error_unparseable: bool,
    pub error_unsolvable: bool,
    pub is_provided: Option<bool>,
    pub position: i64,
}

impl SolvedRow {
    pub fn is_newer_than(&self, other: &SolvedRow) -> bool {
        (self.datetime, self.position) > (other.datetime, other.position)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct UnprovidedKey {
    pub document_id: String,
    pub package_name: String,
    pub package_version: Option<String>,
    pub index_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UnprovidedRow {
    pub solver_id: i64,
    pub details: Value,
}

/// `python_artifact`; positions of 0 change nothing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArtifactRow {
    pub sha256: String,
    pub seen_position: i64,
    pub absent_position: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CveRow {
    pub cve_id: String,
    pub details: String,
    pub link: Option<String>,
    pub position: i64,
    pub first_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SiRunRow {
    pub document_id: String,
    pub datetime: NaiveDateTime,
    pub error: bool,
    pub counters: [i32; 25],
}

/// `workflow_run`, folded: first-set fields keep the earliest value, the status the furthest
/// step of the lifecycle (the latest event among equals).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct WorkflowRow {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub package_name: Option<String>,
    pub package_version: Option<String>,
    pub index_url: Option<String>,
    pub solver_name: Option<String>,
    pub trigger: Option<String>,
    pub parameters: Option<Value>,
    pub requested_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub status: WorkflowStatus,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct WorkflowStatus {
    pub name: &'static str,
    pub rank: i16,
    pub position: i64,
    pub finished_at: Option<DateTime<Utc>>,
    pub phase: Option<String>,
    pub message: Option<String>,
}

impl WorkflowStatus {
    pub fn is_further_than(&self, other: &WorkflowStatus) -> bool {
        (self.rank, self.position) > (other.rank, other.position)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeadLetterRow {
    pub reason_code: String,
    pub reason: String,
    pub attempts: i32,
    pub key: Option<Value>,
    pub payload: Value,
    pub at: DateTime<Utc>,
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AdviserRunRow {
    pub document_id: String,
    pub datetime: NaiveDateTime,
    pub adviser_version: String,
    pub adviser_name: String,
    pub source_type: Option<String>,
    pub origin: Option<String>,
    pub recommendation_type: Option<String>,
    pub re_run_adviser_id: Option<String>,
    pub error: bool,
    pub error_msg: Option<String>,
    pub need_re_run: bool,
    pub parameters: Value,
    pub runtime_environment: Value,
    pub position: i64,
}

/// `parked_adviser`; each part is the latest of its kind, `None` leaves it as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ParkedRow {
    pub parked: Option<Parking>,
    pub re_run: Option<(i64, DateTime<Utc>, Option<String>)>,
    pub resolved: Option<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parking {
    pub position: i64,
    pub at: DateTime<Utc>,
    pub unresolved: Value,
    pub solver_name: Option<String>,
}

/// A learning finding's latest attempt (first queued: kept from the first attempt in the batch).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LearningRow {
    pub driver: String,
    pub topic: String,
    pub reason: String,
    pub attempt: i32,
    pub first_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
    pub position: i64,
}
