//! Solver names: `solver-<os_name>-<os_version>-py<digits>`, e.g. `solver-rhel-8-py38`.

use std::fmt;
use std::str::FromStr;

const PREFIX: &str = "solver-";
const GRAMMAR: &str = "solver-<os_name>-<os_version>-py<digits>, e.g. solver-rhel-8-py38";

/// A solver, identified by the environment it resolves packages in. Parsing applies Thoth's
/// rule that a RHEL version is its major version (`solver-rhel-8.3-py38` is `solver-rhel-8-py38`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SolverName {
    os_name: String,
    os_version: String,
    python_digits: String,
}

/// The environment a solver's results describe, as the knowledge graph keys it:
/// `ubi` counts as `rhel`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SolverEnvironment {
    /// `rhel`, `fedora`...
    pub os_name: String,
    /// `8`, `35`...
    pub os_version: String,
    /// `3.8`, `3.10`...
    pub python_version: String,
}

/// Why a string is not a solver name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SolverNameError {
    /// The name does not start with `solver-`.
    #[error("solver name '{0}' does not start with 'solver-' (expected {GRAMMAR})")]
    Prefix(String),
    /// Not exactly three `-`-separated parts after the prefix.
    #[error("solver name '{name}' has {found} parts after 'solver-', not 3 (expected {GRAMMAR})")]
    PartCount {
        /// The name as given.
        name: String,
        /// How many parts it has.
        found: usize,
    },
    /// An empty OS name or version.
    #[error("solver name '{name}' has an empty {part} (expected {GRAMMAR})")]
    EmptyPart {
        /// The name as given.
        name: String,
        /// Which part is empty.
        part: &'static str,
    },
    /// The last part is not `py` and at least two digits.
    #[error("solver name '{name}' ends with '{part}', not py<digits> such as py38 or py310 (expected {GRAMMAR})")]
    PythonVersion {
        /// The name as given.
        name: String,
        /// The last part.
        part: String,
    },
    /// A Python version such as `3.8` was expected when building a name.
    #[error("'{0}' is not a Python version such as 3.8 or 3.10")]
    PythonRelease(String),
}

impl SolverName {
    /// Parses a solver name.
    pub fn parse(name: &str) -> Result<Self, SolverNameError> {
        let Some(rest) = name.strip_prefix(PREFIX) else {
            return Err(SolverNameError::Prefix(name.to_owned()));
        };
        let parts: Vec<&str> = rest.split('-').collect();
        let [os_name, os_version, python] = parts.as_slice() else {
            return Err(SolverNameError::PartCount { name: name.to_owned(), found: parts.len() });
        };
        if os_name.is_empty() {
            return Err(SolverNameError::EmptyPart { name: name.to_owned(), part: "OS name" });
        }
        if os_version.is_empty() {
            return Err(SolverNameError::EmptyPart { name: name.to_owned(), part: "OS version" });
        }
        let python_digits = python
            .strip_prefix("py")
            .filter(|digits| digits.len() >= 2 && digits.chars().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| SolverNameError::PythonVersion { name: name.to_owned(), part: (*python).to_owned() })?;
        Ok(SolverName {
            os_name: (*os_name).to_owned(),
            os_version: normalize_os_version(os_name, os_version),
            python_digits: python_digits.to_owned(),
        })
    }

    /// The name of the solver for a runtime environment (`rhel`, `8.5`, `3.8` ->
    /// `solver-rhel-8-py38`), as Thoth derives it from an adviser's runtime environment.
    pub fn for_environment(os_name: &str, os_version: &str, python_version: &str) -> Result<Self, SolverNameError> {
        let python_digits: String = python_version.split('.').collect();
        let well_formed = python_version.split('.').count() == 2
            && python_version.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
        if !well_formed {
            return Err(SolverNameError::PythonRelease(python_version.to_owned()));
        }
        SolverName::parse(&format!("{PREFIX}{os_name}-{os_version}-py{python_digits}"))
    }

    /// The OS name as written in the solver name.
    pub fn os_name(&self) -> &str {
        &self.os_name
    }

    /// The OS version (a major version for RHEL).
    pub fn os_version(&self) -> &str {
        &self.os_version
    }

    /// The Python version: the first digit, a dot, the rest (`py310` -> `3.10`).
    pub fn python_version(&self) -> String {
        let (major, minor) = self.python_digits.split_at(1);
        format!("{major}.{minor}")
    }

    /// The environment the knowledge graph files this solver's results under.
    pub fn environment(&self) -> SolverEnvironment {
        let os_name = if self.os_name == "ubi" { "rhel".to_owned() } else { self.os_name.clone() };
        SolverEnvironment { os_name, os_version: self.os_version.clone(), python_version: self.python_version() }
    }
}

/// RHEL (and UBI, its container flavour) versions count by their major version only.
fn normalize_os_version(os_name: &str, os_version: &str) -> String {
    match os_name {
        "rhel" | "ubi" => os_version.split('.').next().unwrap_or(os_version).to_owned(),
        _ => os_version.to_owned(),
    }
}

impl fmt::Display for SolverName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}-{}-py{}", self.os_name, self.os_version, self.python_digits)
    }
}

impl FromStr for SolverName {
    type Err = SolverNameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        SolverName::parse(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(name: &str) -> SolverEnvironment {
        SolverName::parse(name).expect("valid").environment()
    }

    fn env(os_name: &str, os_version: &str, python_version: &str) -> SolverEnvironment {
        SolverEnvironment {
            os_name: os_name.to_owned(),
            os_version: os_version.to_owned(),
            python_version: python_version.to_owned(),
        }
    }

    #[test]
    fn production_solvers_parse_into_their_environments() {
        assert_eq!(environment("solver-rhel-8-py38"), env("rhel", "8", "3.8"));
        assert_eq!(environment("solver-fedora-34-py39"), env("fedora", "34", "3.9"));
        assert_eq!(environment("solver-fedora-35-py310"), env("fedora", "35", "3.10"));
        assert_eq!(environment("solver-rhel-8-py36"), env("rhel", "8", "3.6"));
    }

    #[test]
    fn rhel_versions_count_by_major_and_ubi_is_rhel() {
        assert_eq!(SolverName::parse("solver-rhel-8.3-py38").expect("valid").to_string(), "solver-rhel-8-py38");
        assert_eq!(environment("solver-ubi-8.5-py39"), env("rhel", "8", "3.9"));
        assert_eq!(SolverName::parse("solver-ubi-8-py39").expect("valid").to_string(), "solver-ubi-8-py39");
        assert_eq!(environment("solver-fedora-35.1-py310"), env("fedora", "35.1", "3.10"));
    }

    #[test]
    fn names_are_built_from_runtime_environments() {
        let name = SolverName::for_environment("rhel", "8.5", "3.8").expect("valid");
        assert_eq!(name.to_string(), "solver-rhel-8-py38");
        assert_eq!(
            SolverName::for_environment("fedora", "35", "3.10").expect("valid").to_string(),
            "solver-fedora-35-py310"
        );
        assert_eq!(
            SolverName::for_environment("fedora", "35", "3"),
            Err(SolverNameError::PythonRelease("3".to_owned()))
        );
    }

    #[test]
    fn malformed_names_say_what_is_wrong() {
        assert_eq!(SolverName::parse("rhel-8-py38"), Err(SolverNameError::Prefix("rhel-8-py38".to_owned())));
        assert_eq!(
            SolverName::parse("solver-rhel-py38"),
            Err(SolverNameError::PartCount { name: "solver-rhel-py38".to_owned(), found: 2 })
        );
        assert_eq!(
            SolverName::parse("solver-rhel-8-extra-py38"),
            Err(SolverNameError::PartCount { name: "solver-rhel-8-extra-py38".to_owned(), found: 4 })
        );
        assert!(matches!(SolverName::parse("solver--8-py38"), Err(SolverNameError::EmptyPart { part: "OS name", .. })));
        for bad in ["solver-rhel-8-38", "solver-rhel-8-py3", "solver-rhel-8-py3x", "solver-rhel-8-python38"] {
            assert!(matches!(SolverName::parse(bad), Err(SolverNameError::PythonVersion { .. })), "{bad}");
        }
        let message = SolverName::parse("solver-rhel-8-py3").expect_err("bad").to_string();
        assert!(message.contains("py<digits>") && message.contains("solver-rhel-8-py3"), "{message}");
    }
}
