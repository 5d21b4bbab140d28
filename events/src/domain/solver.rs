//! The result of one solver run (one solver document).

use serde::{Deserialize, Serialize};

use crate::thoth::JsonObject;

/// A solver ran in one environment and reported what resolved, what failed and what it could
/// not parse. Schema v2; v1 called a dependency's `specifier` `version_range` (the name of
/// the column Thoth's sync wrote it to, though it read the wrong key and stored `*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolverResultRecorded {
    /// `solver-rhel-8-py38-210713010253-a24759ebdaa1442c`.
    pub document_id: String,
    /// `solver-rhel-8-py38`, from the document id.
    pub solver_name: String,
    /// The thoth-solver release (`metadata.analyzer_version`).
    pub solver_version: String,
    /// The environment's OS (`ubi` counts as `rhel`).
    pub os_name: String,
    /// The OS version (a major version for RHEL).
    pub os_version: String,
    /// `3.8`, `3.10`...
    pub python_version: String,
    /// When the solver ran (naive ISO 8601, as Thoth writes it).
    pub datetime: String,
    /// How long it ran, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    /// `linux-x86_64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The packages that installed (the document's `tree`).
    pub packages: Vec<SolvedPackage>,
    /// Packages the solver failed on.
    #[serde(default)]
    pub errors: Vec<SolverError>,
    /// Requirements no version satisfied.
    #[serde(default)]
    pub unresolved: Vec<SolverUnresolved>,
    /// Requirements that could not be parsed.
    #[serde(default)]
    pub unparsed: Vec<SolverUnparsed>,
}

/// One package the solver installed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolvedPackage {
    /// PEP 503 name.
    pub package_name: String,
    /// The version asked for, normalised: the knowledge graph's key.
    pub package_version: String,
    /// The version that installed, as reported.
    pub installed_version: String,
    /// Normalised index URL.
    pub index_url: String,
    /// `importlib_metadata` as the solver reported it (`metadata`, `requires`, ...).
    #[serde(default)]
    pub importlib_metadata: JsonObject,
    /// sha256 of the artifacts the index serves.
    #[serde(default)]
    pub sha256: Vec<String>,
    /// Importable packages (directories with `__init__.py`).
    #[serde(default)]
    pub imports: Vec<String>,
    /// The detected licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<SolverLicense>,
    /// Dependencies and the versions that satisfy them.
    #[serde(default)]
    pub dependencies: Vec<SolvedDependency>,
}

/// A licence as the solver detected it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolverLicense {
    /// `BSD 3-Clause "New" or "Revised" License`.
    pub name: String,
    /// SPDX identifier, `BSD-3-Clause`.
    pub identifier: String,
    /// `UNKNOWN` when not stated.
    pub version: String,
    /// Whether the detection is doubtful.
    #[serde(default)]
    pub warning: bool,
}

/// One direct dependency of a solved package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolvedDependency {
    /// PEP 503 name.
    pub package_name: String,
    /// The version specifier, `>=2.0`; empty when any version will do.
    pub specifier: String,
    /// Extras asked of the dependency (`requests[socks]`).
    #[serde(default)]
    pub extras: Vec<String>,
    /// The extras of the dependent under which this dependency applies.
    #[serde(default)]
    pub extra: Vec<String>,
    /// The PEP 508 marker as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// The marker as evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker_evaluated: Option<String>,
    /// Whether the marker holds in the solver's environment (extras count as true).
    pub marker_evaluation_result: bool,
    /// Why the marker could not be evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker_evaluation_error: Option<String>,
    /// The versions on each index that satisfy the specifier.
    #[serde(default)]
    pub resolved_versions: Vec<ResolvedVersions>,
}

/// Versions of a dependency on one index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedVersions {
    /// Normalised index URL, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Normalised versions.
    pub versions: Vec<String>,
}

/// A package the solver could not install.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolverError {
    /// PEP 503 name.
    pub package_name: String,
    /// The version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_version: Option<String>,
    /// Normalised index URL, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_url: Option<String>,
    /// `command_error`...
    pub error_type: String,
    /// What the solver said.
    #[serde(default)]
    pub details: serde_json::Value,
    /// Whether the index provides the package at all.
    pub is_provided_package: bool,
    /// Whether the index provides that version.
    pub is_provided_package_version: bool,
}

/// A requirement the solver could not resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolverUnresolved {
    /// PEP 503 name.
    pub package_name: String,
    /// The specifier asked for (`===7.3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_spec: Option<String>,
    /// Normalised index URL, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_url: Option<String>,
}

/// A requirement the solver could not parse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolverUnparsed {
    /// The requirement as given.
    pub requirement: String,
    /// What the solver said.
    #[serde(default)]
    pub details: serde_json::Value,
}
