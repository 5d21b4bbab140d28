//! What the drivers are configured with (read from the environment by the binary).

use std::collections::BTreeMap;
use std::time::Duration;

use investigator_core::SolverName;
use investigator_core::learning::{Ceilings, Driver, ExclusionRule};

use super::osv_source::OsvSource;

/// The drivers' settings.
#[derive(Debug, Clone)]
pub struct LearningSettings {
    /// The ceilings of lag and pending workflows the drivers keep the system under.
    pub ceilings: Ceilings,
    /// How often each driver runs inside `serve`; absent means off.
    pub schedules: BTreeMap<Driver, Duration>,
    /// A gap still open this long after it was queued is queued again.
    pub retry_after: Duration,
    /// At most this many gaps per solver and kind per refresh (Thoth's
    /// `THOTH_GRAPH_REFRESH_COUNT`).
    pub refresh_count: usize,
    /// The solvers whose gaps the refresh looks for.
    pub solvers: Vec<SolverName>,
    /// Packages the refresh never asks about.
    pub exclusions: Vec<ExclusionRule>,
    /// Where the CVE driver reads OSV advisories.
    pub cve_source: Option<OsvSource>,
    /// The index whose versions advisories are matched against (OSV's PyPI).
    pub cve_index: String,
    /// How long one index request may take, its answer included.
    pub index_timeout: Duration,
    /// How long downloading the advisories from a URL may take, the whole body included.
    pub cve_download_timeout: Duration,
    /// About how much memory the advisories of a source may take while it is read; a source
    /// holding more is refused (`INVESTIGATOR_CVE_MAX_MB`).
    pub cve_max_kept_bytes: u64,
    /// Index requests in flight at most.
    pub index_concurrency: usize,
}

impl Default for LearningSettings {
    fn default() -> Self {
        LearningSettings {
            ceilings: Ceilings::default(),
            schedules: BTreeMap::new(),
            retry_after: Duration::from_secs(24 * 3600),
            refresh_count: 100,
            solvers: Vec::new(),
            exclusions: Vec::new(),
            cve_source: None,
            cve_index: "https://pypi.org/simple".to_owned(),
            index_timeout: Duration::from_secs(10),
            cve_download_timeout: Duration::from_secs(300),
            cve_max_kept_bytes: 128 * 1024 * 1024,
            index_concurrency: 8,
        }
    }
}

impl LearningSettings {
    /// Whether `name` (with `version`) is left alone by the refresh.
    pub fn excluded(&self, name: &str, version: &str) -> bool {
        self.exclusions.iter().any(|rule| rule.excludes(name, version))
    }
}
