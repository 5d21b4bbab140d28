//! The pure rules of the learning drivers: which driver is which, how much a driver may
//! queue under the system's current load, and which packages the graph refresh leaves alone.

use std::fmt;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use crate::normalize_package_name;

/// A learning driver: one of Thoth's cron jobs, made part of the investigator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Driver {
    /// Knowledge gaps in the graph (Thoth's graph-refresh-job).
    Refresh,
    /// New releases on the indexes (package-releases-job).
    Releases,
    /// Versions, packages or artifacts that disappeared or changed (package-update-job).
    Updates,
    /// Vulnerabilities from OSV advisories (cve-update-job).
    Cves,
}

impl Driver {
    /// Every driver.
    pub const ALL: [Driver; 4] = [Driver::Refresh, Driver::Releases, Driver::Updates, Driver::Cves];

    /// The name used in settings, events, metrics and the status.
    pub fn name(self) -> &'static str {
        match self {
            Driver::Refresh => "refresh",
            Driver::Releases => "releases",
            Driver::Updates => "updates",
            Driver::Cves => "cves",
        }
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Driver {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Driver::ALL
            .into_iter()
            .find(|driver| driver.name() == text.trim())
            .ok_or_else(|| format!("'{text}' is not a learning driver (refresh, releases, updates, cves)"))
    }
}

/// How busy the system is, as the drivers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Load {
    /// Messages not yet consumed on the topics the drivers feed, plus the messages queued
    /// and not yet published.
    pub lag: i64,
    /// Workflows requested, submitted or running.
    pub pending_workflows: i64,
}

/// The ceilings the drivers keep the system under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceilings {
    /// Lag above which nothing more is queued (Thoth's maintainers asked for under 2,000).
    pub max_lag: i64,
    /// Pending workflows above which nothing more is queued.
    pub max_pending_workflows: i64,
}

impl Default for Ceilings {
    fn default() -> Self {
        Ceilings { max_lag: 2_000, max_pending_workflows: 1_000 }
    }
}

/// How many messages a driver may queue now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// At most this many.
    pub allowed: usize,
    /// Whether the load holds the driver back (nothing at all may be queued).
    pub throttled: bool,
}

impl Ceilings {
    /// The budget under `load`: the room left under the lag ceiling, nothing at all when a
    /// ceiling is reached. Queued messages add to the lag, so a driver that keeps to its
    /// budget cannot push the lag over the ceiling.
    pub fn budget(&self, load: Load) -> Budget {
        let room = self.max_lag.saturating_sub(load.lag);
        if room <= 0 || load.pending_workflows >= self.max_pending_workflows {
            return Budget { allowed: 0, throttled: true };
        }
        Budget { allowed: usize::try_from(room).unwrap_or(usize::MAX), throttled: false }
    }
}

/// A package (or some of its versions) the graph refresh never asks about, as Thoth's
/// `python_package_version_entity_rule` does: `name` for every version, `name<specifier>`
/// (`tensorflow>=2,<2.3`) for the versions the specifier matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionRule {
    name: String,
    versions: Option<VersionSpecifiers>,
}

impl FromStr for ExclusionRule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let split = text.find(['<', '>', '=', '!', '~']).unwrap_or(text.len());
        let (name, specifier) = text.split_at(split);
        let name = name.trim();
        let valid_name = !name.is_empty()
            && name.chars().all(|character| character.is_ascii_alphanumeric() || "-_.".contains(character));
        if !valid_name {
            return Err(format!("'{text}' is not a rule: a package name, optionally followed by a version specifier"));
        }
        let versions = match specifier.trim() {
            "" => None,
            specifier => Some(
                VersionSpecifiers::from_str(specifier)
                    .map_err(|error| format!("'{text}': '{specifier}' is not a version specifier: {error}"))?,
            ),
        };
        Ok(ExclusionRule { name: normalize_package_name(name), versions })
    }
}

impl ExclusionRule {
    /// The package name, when the rule covers every version of it.
    pub fn whole_package(&self) -> Option<&str> {
        self.versions.is_none().then_some(self.name.as_str())
    }

    /// Whether the rule covers `version` of `name` (PEP 503 normalised). A version that is
    /// not PEP 440 is covered only by a rule without a specifier.
    pub fn excludes(&self, name: &str, version: &str) -> bool {
        if self.name != name {
            return false;
        }
        match &self.versions {
            None => true,
            Some(specifiers) => Version::from_str(version).is_ok_and(|version| specifiers.contains(&version)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_are_named_and_parsed_back() {
        for driver in Driver::ALL {
            assert_eq!(driver.name().parse::<Driver>(), Ok(driver));
        }
        assert!("graph-refresh".parse::<Driver>().expect_err("refused").contains("not a learning driver"));
    }

    #[test]
    fn the_budget_is_the_room_under_the_lag_ceiling() {
        let ceilings = Ceilings { max_lag: 100, max_pending_workflows: 10 };
        assert_eq!(ceilings.budget(Load { lag: 30, pending_workflows: 0 }), Budget { allowed: 70, throttled: false });
        assert_eq!(ceilings.budget(Load { lag: 100, pending_workflows: 0 }), Budget { allowed: 0, throttled: true });
        assert_eq!(ceilings.budget(Load { lag: 250, pending_workflows: 0 }), Budget { allowed: 0, throttled: true });
        assert_eq!(ceilings.budget(Load { lag: 0, pending_workflows: 10 }), Budget { allowed: 0, throttled: true });
        assert_eq!(ceilings.budget(Load { lag: 0, pending_workflows: 9 }).allowed, 100);
    }

    #[test]
    fn rules_cover_a_whole_package_or_the_versions_a_specifier_matches() {
        let whole: ExclusionRule = "TensorFlow".parse().expect("a rule");
        assert!(whole.excludes("tensorflow", "2.0.0"));
        assert!(whole.excludes("tensorflow", "not-pep-440"));
        assert!(!whole.excludes("tensorflow-gpu", "2.0.0"));

        let some: ExclusionRule = "numpy_x>=1.0,<2".parse().expect("a rule");
        assert!(some.excludes("numpy-x", "1.5"));
        assert!(!some.excludes("numpy-x", "2.0"));
        assert!(!some.excludes("numpy-x", "not-pep-440"));
    }

    #[test]
    fn a_bad_rule_says_why() {
        assert!("".parse::<ExclusionRule>().expect_err("refused").contains("not a rule"));
        assert!("flask>>1".parse::<ExclusionRule>().expect_err("refused").contains("not a version specifier"));
        assert!("fl ask".parse::<ExclusionRule>().expect_err("refused").contains("not a rule"));
    }
}
