//! Facts about package versions on an index: seen, missing, source distributions, CVEs,
//! artifact hashes that changed.

use serde::{Deserialize, Serialize};

/// A version of a package exists on an index (a release was seen, or a message named it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageVersionSeen {
    /// PEP 503 name.
    pub package_name: String,
    /// PEP 440 normalised version.
    pub package_version: String,
    /// Normalised index URL.
    pub index_url: String,
}

/// A version is no longer served by its index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionMarkedMissing {
    /// PEP 503 name.
    pub package_name: String,
    /// PEP 440 normalised version.
    pub package_version: String,
    /// Normalised index URL.
    pub index_url: String,
}

/// A package (every version of it) is no longer served by an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageMarkedMissing {
    /// PEP 503 name.
    pub package_name: String,
    /// Normalised index URL.
    pub index_url: String,
}

/// Whether a version ships a source distribution (security indicators need one).
/// Schema v2; v1 called the flag `is_si_analyzable`, the name Thoth's column had before
/// `provides_source_distro`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceDistributionFlagSet {
    /// PEP 503 name.
    pub package_name: String,
    /// PEP 440 normalised version.
    pub package_version: String,
    /// Normalised index URL.
    pub index_url: String,
    /// The flag's new value.
    pub provides_source_distro: bool,
}

/// A version is affected by a vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CveProvided {
    /// PEP 503 name.
    pub package_name: String,
    /// PEP 440 normalised version.
    pub package_version: String,
    /// Normalised index URL.
    pub index_url: String,
    /// The advisory, when known (Thoth's `cve-provided` message does not carry it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory: Option<CveAdvisory>,
}

/// A security advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CveAdvisory {
    /// `PYSEC-…`, `GHSA-…`, `CVE-…`.
    pub cve_id: String,
    /// Its summary.
    pub details: String,
    /// A web page about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// The artifact hashes an index serves for a version no longer match the graph's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashMismatchRecorded {
    /// PEP 503 name.
    pub package_name: String,
    /// PEP 440 normalised version.
    pub package_version: String,
    /// Normalised index URL.
    pub index_url: String,
    /// sha256 hashes the graph has but the index no longer serves.
    pub missing_from_source: Vec<String>,
    /// sha256 hashes the index serves but the graph lacked.
    pub missing_from_database: Vec<String>,
}
