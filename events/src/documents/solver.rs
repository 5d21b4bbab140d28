//! Solver documents (thoth-solver's output), as graph-sync reads them.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::thoth::JsonObject;

/// A solver document.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SolverDocument {
    /// Who ran and when.
    pub metadata: SolverMetadata,
    /// What it found.
    pub result: SolverResult,
}

/// The parts of `metadata` the graph uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SolverMetadata {
    /// `<solver name>-<yymmddHHMMSS>-<16 hex>`.
    pub document_id: String,
    /// The thoth-solver release.
    pub analyzer_version: String,
    /// When it ran, naive ISO 8601.
    pub datetime: String,
    /// Seconds it ran (Thoth writes an integer; a float is rounded).
    #[serde(default, deserialize_with = "seconds")]
    pub duration: Option<i64>,
}

/// The parts of `result` the graph uses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SolverResult {
    /// `linux-x86_64`.
    #[serde(default)]
    pub platform: Option<String>,
    /// Installed packages.
    #[serde(default)]
    pub tree: Vec<TreeEntry>,
    /// Failures.
    #[serde(default)]
    pub errors: Vec<ErrorEntry>,
    /// Unresolvable requirements.
    #[serde(default)]
    pub unresolved: Vec<UnresolvedEntry>,
    /// Unparseable requirements.
    #[serde(default)]
    pub unparsed: Vec<UnparsedEntry>,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TreeEntry {
    /// The name from the installed metadata.
    pub package_name: String,
    /// The installed version.
    pub package_version: String,
    /// The requested version (the graph's key); the installed one when absent.
    #[serde(default)]
    pub package_version_requested: Option<String>,
    /// The index it came from.
    pub index_url: String,
    /// `importlib_metadata` as reported.
    #[serde(default)]
    pub importlib_metadata: Option<JsonObject>,
    /// Artifact hashes.
    #[serde(default)]
    pub sha256: Vec<String>,
    /// Importable packages.
    #[serde(default)]
    pub packages: Vec<String>,
    /// The detected licence.
    #[serde(default)]
    pub package_license: Option<LicenseEntry>,
    /// Direct dependencies.
    #[serde(default)]
    pub dependencies: Vec<DependencyEntry>,
}

/// `package_license`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LicenseEntry {
    /// The licence's names.
    #[serde(default)]
    pub license: Option<LicenseName>,
    /// `UNKNOWN` when not stated.
    #[serde(default)]
    pub license_version: Option<String>,
    /// Whether the detection is doubtful.
    #[serde(default)]
    pub warning: Option<bool>,
}

/// `package_license.license`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LicenseName {
    /// The full name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// The SPDX identifier.
    #[serde(default)]
    pub identifier_spdx: Option<String>,
}

/// One dependency of a tree entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DependencyEntry {
    /// The dependency's name as written.
    pub package_name: String,
    /// The version specifier; absent or empty for any version.
    #[serde(default)]
    pub specifier: Option<String>,
    /// Extras asked of the dependency.
    #[serde(default)]
    pub extras: Vec<String>,
    /// The dependent's extras under which it applies.
    #[serde(default)]
    pub extra: Vec<String>,
    /// The PEP 508 marker.
    #[serde(default)]
    pub marker: Option<String>,
    /// The marker as evaluated.
    #[serde(default)]
    pub marker_evaluated: Option<String>,
    /// Whether the marker holds; true when absent.
    #[serde(default)]
    pub marker_evaluation_result: Option<bool>,
    /// Why evaluation failed (text, or any JSON the solver wrote).
    #[serde(default)]
    pub marker_evaluation_error: Option<Value>,
    /// Matching versions per index.
    #[serde(default)]
    pub resolved_versions: Vec<ResolvedEntry>,
}

/// Matching versions on one index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResolvedEntry {
    /// The versions.
    pub versions: Vec<String>,
    /// The index.
    #[serde(default)]
    pub index: Option<String>,
}

/// A package the solver failed on (older documents use `package`, `version`, `index`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorEntry {
    /// The package.
    #[serde(alias = "package")]
    pub package_name: String,
    /// The version.
    #[serde(default, alias = "version")]
    pub package_version: Option<String>,
    /// The index.
    #[serde(default, alias = "index")]
    pub index_url: Option<String>,
    /// `command_error`...
    #[serde(default, rename = "type")]
    pub error_type: Option<String>,
    /// What went wrong.
    #[serde(default)]
    pub details: Value,
    /// Whether the index has the package (true when absent).
    #[serde(default)]
    pub is_provided_package: Option<bool>,
    /// Whether the index has the version (true when absent).
    #[serde(default)]
    pub is_provided_package_version: Option<bool>,
}

/// An unresolvable requirement.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UnresolvedEntry {
    /// The package.
    pub package_name: String,
    /// The specifier, `===7.3`.
    #[serde(default)]
    pub version_spec: Option<String>,
    /// The index.
    #[serde(default)]
    pub index_url: Option<String>,
}

/// An unparseable requirement.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UnparsedEntry {
    /// The requirement as given.
    pub requirement: String,
    /// What went wrong.
    #[serde(default)]
    pub details: Value,
}

fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let number: Option<f64> = Option::deserialize(deserializer)?;
    match number {
        None => Ok(None),
        Some(seconds) if seconds.is_finite() && (0.0..9.0e15).contains(&seconds) => Ok(Some(seconds.round() as i64)),
        Some(seconds) => Err(serde::de::Error::custom(format!("{seconds} is not a duration in seconds"))),
    }
}
