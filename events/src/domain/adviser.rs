//! Adviser runs, as far as the re-run loop needs them: an advise that failed for lack of
//! knowledge waits (is parked) until the knowledge exists, then runs again.

use serde::{Deserialize, Serialize};

use crate::thoth::JsonObject;

/// An adviser run's outcome, from its document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdviserRunRecorded {
    /// `adviser-210714091502-7c1f3b1a9d2e4f60`.
    pub adviser_document_id: String,
    /// When it ran (naive ISO 8601).
    pub datetime: String,
    /// The adviser release.
    pub adviser_version: String,
    /// `thoth-adviser`.
    pub adviser_name: String,
    /// `KEBECHET`, `CLI`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    /// The repository or client that asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// `stable`, `latest`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation_type: Option<String>,
    /// The run this one re-runs, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub re_run_adviser_id: Option<String>,
    /// Whether it failed.
    pub error: bool,
    /// Why, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
    /// The request parameters (`result.parameters` without the project and the environment).
    #[serde(default)]
    pub parameters: JsonObject,
    /// The runtime environment it advised for.
    #[serde(default)]
    pub runtime_environment: JsonObject,
    /// PEP 503 names it could not resolve.
    #[serde(default)]
    pub unresolved: Vec<String>,
}

/// A failed advise waits for knowledge about these packages before it runs again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviserParked {
    /// The failed run.
    pub adviser_document_id: String,
    /// What it waits for.
    pub unresolved: Vec<UnresolvedPackage>,
    /// The solver of the runtime environment, when one follows from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solver_name: Option<String>,
}

/// A package an adviser could not resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnresolvedPackage {
    /// PEP 503 name.
    pub package_name: String,
    /// Normalised index URL, when the project names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_url: Option<String>,
}

/// A parked advise was asked to run again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviserReRunRequested {
    /// The parked run.
    pub adviser_document_id: String,
    /// The new run's id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub re_run_job_id: Option<String>,
}
