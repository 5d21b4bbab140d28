//! PEP 503 package names.

use std::fmt;
use std::str::FromStr;

/// A package name in PEP 503 canonical form: lower-case, every run of `-`, `_` and `.`
/// replaced by a single `-`. Built only from a name that is valid under PEP 508.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageName(String);

/// Why a string is not a package name (PEP 508: ASCII letters and digits, with `.`, `_` and
/// `-` allowed inside but not at either end).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageNameError {
    /// The name is empty.
    #[error("package name is empty")]
    Empty,
    /// The name has a character outside `A-Z a-z 0-9 . _ -`.
    #[error(
        "package name '{name}' has the character {character:?}; names allow ASCII letters, digits, '.', '_' and '-'"
    )]
    Character {
        /// The name as given.
        name: String,
        /// The first character not allowed.
        character: char,
    },
    /// The name starts or ends with `.`, `_` or `-`.
    #[error("package name '{name}' must start and end with a letter or digit")]
    Edge {
        /// The name as given.
        name: String,
    },
    /// The name is longer than any index would take.
    #[error("package name of {length} characters is longer than the {MAX_NAME_LENGTH} allowed")]
    TooLong {
        /// Its length in bytes.
        length: usize,
    },
}

/// The longest name accepted. PEP 508 sets no limit; PyPI's longest names are under 100
/// characters, and the graph's indexes take names up to a few kilobytes at most.
pub const MAX_NAME_LENGTH: usize = 255;

impl PackageName {
    /// Validates `raw` as a PEP 508 name and normalises it.
    pub fn parse(raw: &str) -> Result<Self, PackageNameError> {
        if raw.len() > MAX_NAME_LENGTH {
            return Err(PackageNameError::TooLong { length: raw.len() });
        }
        let Some(first) = raw.chars().next() else {
            return Err(PackageNameError::Empty);
        };
        if let Some(character) = raw.chars().find(|c| !c.is_ascii_alphanumeric() && !is_separator(*c)) {
            return Err(PackageNameError::Character { name: raw.to_owned(), character });
        }
        let last = raw.chars().next_back().unwrap_or(first);
        if is_separator(first) || is_separator(last) {
            return Err(PackageNameError::Edge { name: raw.to_owned() });
        }
        Ok(PackageName(normalize_package_name(raw)))
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// PEP 503 normalisation of any string, valid name or not, as Thoth applies it
/// (`re.sub(r"[-_.]+", "-", name).lower()`).
pub fn normalize_package_name(raw: &str) -> String {
    let mut normalized = String::with_capacity(raw.len());
    let mut in_separator_run = false;
    for character in raw.chars() {
        if is_separator(character) {
            if !in_separator_run {
                normalized.push('-');
            }
            in_separator_run = true;
        } else {
            normalized.extend(character.to_lowercase());
            in_separator_run = false;
        }
    }
    normalized
}

fn is_separator(character: char) -> bool {
    matches!(character, '-' | '_' | '.')
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PackageName {
    type Err = PackageNameError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        PackageName::parse(raw)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_name_too_long_for_any_index_is_refused_without_echoing_it() {
        let long = "a".repeat(MAX_NAME_LENGTH + 1);
        let error = PackageName::parse(&long).expect_err("too long");
        assert_eq!(error, PackageNameError::TooLong { length: MAX_NAME_LENGTH + 1 });
        assert!(error.to_string().len() < 100);
        assert!(PackageName::parse(&"a".repeat(MAX_NAME_LENGTH)).is_ok());
    }

    #[test]
    fn names_are_canonicalised_as_pep_503_says() {
        for (raw, canonical) in [
            ("Flask", "flask"),
            ("Flask_SQLAlchemy", "flask-sqlalchemy"),
            ("zope.interface", "zope-interface"),
            ("a-_.-b", "a-b"),
            ("PyYAML", "pyyaml"),
            ("x", "x"),
        ] {
            assert_eq!(PackageName::parse(raw).map(|name| name.to_string()), Ok(canonical.to_owned()));
        }
    }

    #[test]
    fn invalid_names_are_refused_with_the_reason() {
        assert_eq!(PackageName::parse(""), Err(PackageNameError::Empty));
        assert!(matches!(PackageName::parse("flask 2"), Err(PackageNameError::Character { character: ' ', .. })));
        assert!(matches!(PackageName::parse("numpy==1.0"), Err(PackageNameError::Character { character: '=', .. })));
        assert!(matches!(PackageName::parse("-flask"), Err(PackageNameError::Edge { .. })));
        assert!(matches!(PackageName::parse("flask."), Err(PackageNameError::Edge { .. })));
        assert!(matches!(PackageName::parse("flåsk"), Err(PackageNameError::Character { character: 'å', .. })));
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent_and_leaves_no_separator_runs(raw in "[A-Za-z0-9._-]{0,30}") {
            let once = normalize_package_name(&raw);
            prop_assert_eq!(normalize_package_name(&once), once.clone());
            prop_assert!(!once.contains("--") && !once.contains('_') && !once.contains('.'));
            prop_assert_eq!(once.to_lowercase(), once);
        }
    }
}
