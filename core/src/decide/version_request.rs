//! What an unresolved-package message's `package_version` asks for: every version (`null` or
//! `*`), one version, or the versions a specifier matches (`>=1.0,<2`, as the adviser sends
//! a Pipfile's requirement).

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use crate::PackageVersion;

/// The versions a message asks to solve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VersionRequest {
    /// `null` or `*`: every version of the package on the index.
    Any,
    /// One version, normalised.
    Exact(String),
    /// The listed versions the specifiers match. Thoth passed the specifier to the solver
    /// as if it were a version; matching it against the listing is what was meant.
    Matching(VersionSpecifiers),
}

impl VersionRequest {
    /// Reads `package_version`; the error says why it is neither a version nor a specifier.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Self, String> {
        let Some(raw) = raw.map(str::trim) else {
            return Ok(VersionRequest::Any);
        };
        if raw == "*" {
            return Ok(VersionRequest::Any);
        }
        if raw.is_empty() {
            return Err("empty; send null or \"*\" for every version".to_owned());
        }
        if let Ok(version) = PackageVersion::parse(raw) {
            return Ok(VersionRequest::Exact(version.normalized()));
        }
        VersionSpecifiers::from_str(raw)
            .map(VersionRequest::Matching)
            .map_err(|error| format!("'{raw}' is neither a PEP 440 version nor a version specifier: {error}"))
    }

    /// Whether the versions must come from a listing of the index.
    pub(crate) fn needs_listing(&self) -> bool {
        !matches!(self, VersionRequest::Exact(_))
    }

    /// The versions of `listed` (normalised, newest first) this request asks for, in order.
    pub(crate) fn select(&self, listed: &[String]) -> Vec<String> {
        match self {
            VersionRequest::Any => listed.to_vec(),
            VersionRequest::Exact(version) => vec![version.clone()],
            VersionRequest::Matching(specifiers) => listed
                .iter()
                .filter(|listed| Version::from_str(listed).is_ok_and(|version| specifiers.contains(&version)))
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> Vec<String> {
        ["2.1.0", "2.0.1", "1.5", "1.0", "0.9"].map(str::to_owned).to_vec()
    }

    #[test]
    fn null_and_star_ask_for_every_listed_version() {
        assert_eq!(VersionRequest::parse(None), Ok(VersionRequest::Any));
        assert_eq!(VersionRequest::parse(Some(" * ")), Ok(VersionRequest::Any));
        assert_eq!(VersionRequest::Any.select(&listed()), listed());
    }

    #[test]
    fn a_version_is_itself_normalised() {
        let request = VersionRequest::parse(Some("2.0.1-rc1")).expect("version");
        assert_eq!(request, VersionRequest::Exact("2.0.1rc1".to_owned()));
        assert!(!request.needs_listing());
        assert_eq!(request.select(&listed()), ["2.0.1rc1"]);
    }

    #[test]
    fn a_specifier_selects_the_listed_versions_it_matches() {
        let request = VersionRequest::parse(Some(">=1.0,<2")).expect("specifier");
        assert!(request.needs_listing());
        assert_eq!(request.select(&listed()), ["1.5", "1.0"]);
        let pinned = VersionRequest::parse(Some("==2.0.1")).expect("specifier");
        assert_eq!(pinned.select(&listed()), ["2.0.1"]);
    }

    #[test]
    fn text_that_is_neither_is_refused() {
        assert!(VersionRequest::parse(Some("latest")).is_err());
        assert!(VersionRequest::parse(Some("")).is_err());
        assert!(VersionRequest::parse(Some(">=1.0,")).is_err());
    }
}
