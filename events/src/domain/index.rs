//! Package indexes: registered, enabled, disabled.

use serde::{Deserialize, Serialize};

/// An index was registered (or its settings changed), as management-api's `register` does.
/// Schema v2; v1 had no `only_if_package_seen` (Thoth added that column later, default true).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexRegistered {
    /// The normalised index URL, e.g. `https://pypi.org/simple`.
    pub url: String,
    /// The warehouse JSON API, e.g. `https://pypi.org/pypi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_api_url: Option<String>,
    /// Whether TLS certificates are checked.
    pub verify_ssl: bool,
    /// Only releases of package names already known are recorded.
    pub only_if_package_seen: bool,
    /// Whether the index takes part in learning.
    pub enabled: bool,
}

/// An index takes part in learning from now on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEnabled {
    /// The normalised index URL.
    pub url: String,
}

/// An index no longer takes part in learning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDisabled {
    /// The normalised index URL.
    pub url: String,
}
