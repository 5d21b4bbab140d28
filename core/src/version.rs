//! PEP 440 versions, through `pep440_rs` (the parser behind uv).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A valid PEP 440 version. `Display` gives the normalised form (`1.0-alpha1` -> `1.0a1`);
/// `Ord` is PEP 440 ordering, where `1.0` equals `1.0.0`, pre- and dev-releases sort before
/// their release, post-releases after, and a local version after its public version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageVersion(pep440_rs::Version);

/// The longest version string accepted (PyPI's longest versions are a few dozen characters).
pub const MAX_VERSION_LENGTH: usize = 255;

/// A string that is not a PEP 440 version (PyPI still serves some, such as `2004d`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{version}' is not a PEP 440 version: {reason}")]
pub struct VersionError {
    /// The text as given.
    pub version: String,
    /// The parser's explanation.
    pub reason: String,
}

impl PackageVersion {
    /// Parses a version, accepting what PEP 440 accepts before normalisation (surrounding
    /// whitespace, a leading `v`, alternative spellings of pre/post/dev segments).
    pub fn parse(raw: &str) -> Result<Self, VersionError> {
        if raw.len() > MAX_VERSION_LENGTH {
            let start: String = raw.chars().take(20).collect();
            return Err(VersionError {
                version: format!("{start}..."),
                reason: format!("{} characters, more than the {MAX_VERSION_LENGTH} allowed", raw.len()),
            });
        }
        pep440_rs::Version::from_str(raw.trim())
            .map(PackageVersion)
            .map_err(|error| VersionError { version: raw.to_owned(), reason: error.to_string() })
    }

    /// The normalised string, as stored in the knowledge graph.
    pub fn normalized(&self) -> String {
        self.0.to_string()
    }

    /// Whether this is a pre-release or a dev-release.
    pub fn is_prerelease(&self) -> bool {
        self.0.any_prerelease()
    }

    /// Whether the version has a local segment (`+ubuntu1`).
    pub fn is_local(&self) -> bool {
        self.0.is_local()
    }
}

impl PartialOrd for PackageVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PackageVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl fmt::Display for PackageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for PackageVersion {
    type Err = VersionError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        PackageVersion::parse(raw)
    }
}

/// Sorts newest first, the order Thoth lists versions in. Equal versions (`1.0`, `1.0.0`)
/// keep their relative order.
pub fn sort_newest_first(versions: &mut [PackageVersion]) {
    versions.sort_by(|left, right| right.cmp(left));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_alternative_spellings() {
        for (raw, normalized) in
            [("1.0-alpha1", "1.0a1"), ("v2.3", "2.3"), ("1.0-1", "1.0.post1"), ("1.0+LOCAL.7", "1.0+local.7")]
        {
            assert_eq!(PackageVersion::parse(raw).map(|v| v.normalized()), Ok(normalized.to_owned()));
        }
    }

    #[test]
    fn orders_pre_post_dev_and_local_as_pep_440_says() {
        let mut versions: Vec<_> = ["1.0", "1.0.post1", "1.0a1", "1.0.dev0", "1.0+local", "1.1rc1", "0.9"]
            .into_iter()
            .map(|raw| PackageVersion::parse(raw).expect("valid"))
            .collect();
        sort_newest_first(&mut versions);
        let order: Vec<_> = versions.iter().map(ToString::to_string).collect();
        assert_eq!(order, ["1.1rc1", "1.0.post1", "1.0+local", "1.0", "1.0a1", "1.0.dev0", "0.9"]);
        assert!(versions[4].is_prerelease() && versions[5].is_prerelease() && !versions[3].is_prerelease());
        assert!(versions[2].is_local());
    }

    #[test]
    fn legacy_versions_are_refused_with_the_text() {
        let error = PackageVersion::parse("2004d").expect_err("not PEP 440");
        assert_eq!(error.version, "2004d");
        assert!(error.to_string().starts_with("'2004d' is not a PEP 440 version"));
    }
}
