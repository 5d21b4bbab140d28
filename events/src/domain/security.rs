//! Security-indicator results (bandit and cloc, aggregated by Thoth's SI workflow).

use serde::{Deserialize, Serialize};

/// The aggregated security-indicator analysis of a version, or the fact that it failed (a
/// failed analysis counts as analysed, so it is not scheduled again and again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityIndicatorRecorded {
    /// The SI document id.
    pub document_id: String,
    /// When the analysis ran (naive ISO 8601, as Thoth writes it).
    pub datetime: String,
    /// PEP 503 name.
    pub package_name: String,
    /// PEP 440 normalised version.
    pub package_version: String,
    /// Normalised index URL.
    pub index_url: String,
    /// Whether the analysis failed.
    pub error: bool,
    /// The counters (all zero for a failed analysis).
    pub counters: SecurityIndicatorCounters,
}

/// The 25 counters of Thoth's `si_aggregated_run`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // the names are Thoth's column names
pub struct SecurityIndicatorCounters {
    pub severity_high_confidence_high: i32,
    pub severity_high_confidence_low: i32,
    pub severity_high_confidence_medium: i32,
    pub severity_high_confidence_undefined: i32,
    pub severity_low_confidence_high: i32,
    pub severity_low_confidence_low: i32,
    pub severity_low_confidence_medium: i32,
    pub severity_low_confidence_undefined: i32,
    pub severity_medium_confidence_high: i32,
    pub severity_medium_confidence_low: i32,
    pub severity_medium_confidence_medium: i32,
    pub severity_medium_confidence_undefined: i32,
    pub number_of_analyzed_files: i32,
    pub number_of_files_total: i32,
    pub number_of_files_with_severities: i32,
    pub number_of_filtered_files: i32,
    pub number_of_python_files: i32,
    pub number_of_lines_with_comments_in_python_files: i32,
    pub number_of_blank_lines_in_python_files: i32,
    pub number_of_lines_with_code_in_python_files: i32,
    pub total_number_of_files: i32,
    pub total_number_of_lines: i32,
    pub total_number_of_lines_with_comments: i32,
    pub total_number_of_blank_lines: i32,
    pub total_number_of_lines_with_code: i32,
}
