//! Adviser documents, as far as the re-run loop needs them.

use serde::Deserialize;
use serde_json::Value;

use crate::thoth::JsonObject;

/// An adviser document.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AdviserDocument {
    /// Who ran, when, with which arguments.
    pub metadata: AdviserMetadata,
    /// The outcome.
    pub result: AdviserResult,
}

/// The parts of `metadata` the graph uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AdviserMetadata {
    /// `adviser-<yymmddHHMMSS>-<16 hex>`.
    pub document_id: String,
    /// When it ran, naive ISO 8601.
    pub datetime: String,
    /// `thoth-adviser`.
    #[serde(default)]
    pub analyzer: Option<String>,
    /// The adviser release.
    pub analyzer_version: String,
    /// The command line; `thoth-adviser.metadata` holds what the request carried (origin,
    /// source type, the run this one re-runs).
    #[serde(default)]
    pub arguments: JsonObject,
}

/// The parts of `result` the graph uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AdviserResult {
    /// Whether the advise failed.
    #[serde(default)]
    pub error: bool,
    /// Why.
    #[serde(default)]
    pub error_msg: Option<String>,
    /// Request parameters, with `runtime_environment` and `project`.
    #[serde(default)]
    pub parameters: JsonObject,
    /// The report; `_ERROR_DETAILS.unresolved` lists what could not be resolved.
    #[serde(default)]
    pub report: Option<Value>,
}

impl AdviserDocument {
    /// `metadata.arguments["thoth-adviser"].metadata`, the request's metadata.
    pub fn request_metadata(&self) -> Option<&JsonObject> {
        self.metadata.arguments.get("thoth-adviser")?.get("metadata")?.as_object()
    }

    /// The names in `result.report._ERROR_DETAILS.unresolved`, as written.
    pub fn unresolved(&self) -> Vec<&str> {
        self.result
            .report
            .as_ref()
            .and_then(|report| report.pointer("/_ERROR_DETAILS/unresolved"))
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}
