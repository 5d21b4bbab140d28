//! The learning drivers' settings (`INVESTIGATOR_LEARNING_*`, `INVESTIGATOR_REFRESH_*`,
//! `INVESTIGATOR_CVE_*`).

use std::collections::BTreeMap;
use std::time::Duration;

use investigator_actors::learning::LearningSettings;
use investigator_actors::learning::osv_source::OsvSource;
use investigator_core::SolverName;
use investigator_core::learning::{Ceilings, Driver, ExclusionRule};

use super::Reader;
use super::numbers::{self, NumericSetting};

/// How often each driver runs inside `serve` unless `INVESTIGATOR_<DRIVER>_INTERVAL_S` says
/// otherwise: Thoth's cron schedules (graph-refresh hourly, package-releases every 12 hours,
/// cve-update daily); the update check daily.
fn default_interval(driver: Driver) -> Duration {
    Duration::from_secs(match driver {
        Driver::Refresh => 3_600,
        Driver::Releases => 12 * 3_600,
        Driver::Updates | Driver::Cves => 24 * 3_600,
    })
}

fn interval_setting(driver: Driver) -> &'static NumericSetting {
    match driver {
        Driver::Refresh => &numbers::INVESTIGATOR_REFRESH_INTERVAL_S,
        Driver::Releases => &numbers::INVESTIGATOR_RELEASES_INTERVAL_S,
        Driver::Updates => &numbers::INVESTIGATOR_UPDATES_INTERVAL_S,
        Driver::Cves => &numbers::INVESTIGATOR_CVES_INTERVAL_S,
    }
}

impl Reader<'_> {
    pub(super) fn learning(&mut self, solvers: &[SolverName]) -> LearningSettings {
        let defaults = LearningSettings::default();
        let ceilings = Ceilings {
            max_lag: self.bounded(&numbers::INVESTIGATOR_LEARNING_MAX_LAG).unwrap_or(defaults.ceilings.max_lag),
            max_pending_workflows: self
                .bounded(&numbers::INVESTIGATOR_LEARNING_MAX_PENDING_WORKFLOWS)
                .unwrap_or(defaults.ceilings.max_pending_workflows),
        };
        let mut schedules = BTreeMap::new();
        for name in self.list("INVESTIGATOR_LEARNING_DRIVERS").unwrap_or_default() {
            match name.parse::<Driver>() {
                Ok(driver) => {
                    let interval = self
                        .bounded(interval_setting(driver))
                        .map_or_else(|| default_interval(driver), Duration::from_secs);
                    schedules.insert(driver, interval);
                }
                Err(problem) => self.problem("INVESTIGATOR_LEARNING_DRIVERS", problem),
            }
        }
        let mut exclusions = Vec::new();
        for rule in self.list("INVESTIGATOR_REFRESH_EXCLUDE").unwrap_or_default() {
            match rule.parse::<ExclusionRule>() {
                Ok(rule) => exclusions.push(rule),
                Err(problem) => self.problem("INVESTIGATOR_REFRESH_EXCLUDE", problem),
            }
        }
        let refresh_count = self
            .bounded(&numbers::INVESTIGATOR_REFRESH_COUNT)
            .or_else(|| self.bounded(&numbers::THOTH_GRAPH_REFRESH_COUNT))
            .unwrap_or(defaults.refresh_count);
        let cve_index = match self.text("INVESTIGATOR_CVE_INDEX") {
            Some(url) => match investigator_core::IndexUrl::parse(&url) {
                Ok(index) => index.as_str().to_owned(),
                Err(error) => {
                    self.problem("INVESTIGATOR_CVE_INDEX", error.to_string());
                    defaults.cve_index.clone()
                }
            },
            None => defaults.cve_index.clone(),
        };
        LearningSettings {
            ceilings,
            schedules,
            retry_after: self
                .bounded(&numbers::INVESTIGATOR_REFRESH_RETRY_AFTER_S)
                .map_or(defaults.retry_after, Duration::from_secs),
            refresh_count,
            solvers: solvers.to_vec(),
            exclusions,
            cve_source: self.text("INVESTIGATOR_CVE_SOURCE").map(|source| OsvSource::parse(&source)),
            cve_index,
            index_timeout: self
                .bounded(&numbers::INVESTIGATOR_LEARNING_INDEX_TIMEOUT_MS)
                .map_or(defaults.index_timeout, Duration::from_millis),
            cve_download_timeout: self
                .bounded(&numbers::INVESTIGATOR_CVE_DOWNLOAD_TIMEOUT_S)
                .map_or(defaults.cve_download_timeout, Duration::from_secs),
            cve_max_kept_bytes: self
                .bounded::<u64>(&numbers::INVESTIGATOR_CVE_MAX_MB)
                .map_or(defaults.cve_max_kept_bytes, |megabytes| megabytes.saturating_mul(1024 * 1024)),
            index_concurrency: self
                .bounded(&numbers::INVESTIGATOR_LEARNING_INDEX_CONCURRENCY)
                .unwrap_or(defaults.index_concurrency),
        }
    }
}
