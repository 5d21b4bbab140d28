//! The settings of `investigator serve`: Thoth's investigator variables, and ours
//! (`INVESTIGATOR_*`).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use investigator_actors::kafka::Secret;
use investigator_actors::pipeline::PanicInjection;
use investigator_actors::pipeline::positioning::OffsetResetPolicy;
use investigator_core::decide::{DecisionSettings, Rule};
use investigator_core::{IndexUrl, SolverName};

use investigator_actors::workflows::LauncherSettings;
use investigator_core::workflow_manifest::WorkflowTemplates;
use investigator_events::domain::WorkflowKind;

use super::Reader;
use super::numbers::{self, NumericSetting};
use crate::http::CacheSettings;

/// Where workflow requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launcher {
    /// Written to the service's log, exactly as they would be submitted, and recorded as
    /// submitted: the default without a cluster.
    Log,
    /// Created through the Kubernetes API (in-cluster config or `KUBECONFIG`), and watched.
    Kube,
}

/// What the service is configured with.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// `INVESTIGATOR_HTTP_ADDR`, `127.0.0.1:6066` by default (Thoth's port, loopback only:
    /// a deployment says `0.0.0.0:6066` for its probes and Service).
    pub http_addr: SocketAddr,
    /// `THOTH_INDEXES`: index URLs registered and enabled at start (`https://pypi.org/simple`).
    pub indexes: Vec<IndexUrl>,
    /// `THOTH_INVESTIGATOR_MAX_RETRIES` (5).
    pub max_retries: u32,
    /// `THOTH_INVESTIGATOR_BACKOFF` in seconds (0.5).
    pub backoff: Duration,
    /// `THOTH_INVESTIGATOR_HALT_ON_FAIL`: base names (comma-separated or a JSON list).
    pub halt_on_fail: BTreeSet<String>,
    /// `INVESTIGATOR_BATCH_SIZE` (2000).
    pub batch_size: usize,
    /// `INVESTIGATOR_BATCH_LINGER_MS` (20).
    pub batch_linger: Duration,
    /// `INVESTIGATOR_OFFSET_RESET` (`earliest`): what a stored offset outside the broker's
    /// log becomes (`earliest`, `latest`, or `halt`).
    pub offset_reset: OffsetResetPolicy,
    /// `INVESTIGATOR_INDEX_TIMEOUT_MS` (3000): how long asking an index for a package's
    /// versions may take; `0` never asks (the graph's versions are used).
    pub index_timeout: Option<Duration>,
    /// `INVESTIGATOR_API_TOKEN`: the bearer token of the API's write and admin endpoints;
    /// unset, they are disabled.
    pub api_token: Option<Secret>,
    /// `INVESTIGATOR_API_READ_TOKEN`: when set, reads need it too.
    pub api_read_token: Option<Secret>,
    /// `INVESTIGATOR_THOTH_COMPATIBLE_CONTROL`, `INVESTIGATOR_METRICS_NEED_READ_TOKEN`.
    pub http_access: super::HttpAccess,
    /// `INVESTIGATOR_LAUNCHER` (`log`).
    pub launcher: Launcher,
    /// `ARGO_PENDING_WORKFLOW_LIMIT`, `INVESTIGATOR_OUTBOX_LIMIT`, `INVESTIGATOR_WORKFLOW_TEMPLATE_<KIND>`,
    /// `INVESTIGATOR_KUBE_QPS` (20), `INVESTIGATOR_KUBE_BURST` (30),
    /// `INVESTIGATOR_LAUNCH_INTERVAL_MS` (500), `INVESTIGATOR_KUBE_NOT_FOUND_GRACE_S` (300).
    pub launcher_settings: LauncherSettings,
    /// `INVESTIGATOR_KUBE_TIMEOUT_MS` (10000): how long one Kubernetes API request may take.
    pub kube_timeout: Duration,
    /// `INVESTIGATOR_WATCH_TIMEOUT_S` (290): how long one watch of the workflows lasts before
    /// it is renewed; a watch that says nothing for 5 s longer is taken for a dead connection.
    pub watch_timeout_seconds: u32,
    /// `INVESTIGATOR_API_CACHE_TTL_MS` (2000; 0 turns the cache off) and
    /// `INVESTIGATOR_API_CACHE_MB` (64): the cache of the API's graph reads;
    /// `INVESTIGATOR_MIN_POSITION_WAIT_MS` (2000): how long a read waits for the graph to reach
    /// a client's `x-investigator-min-position` before answering 412 `position_not_reached`.
    pub api_cache: CacheSettings,
    /// `INVESTIGATOR_HTTP_WORKERS` (2): threads serving HTTP.
    pub http_workers: usize,
    /// `INVESTIGATOR_REPLICA_ID` and `INVESTIGATOR_LEASE_TTL_S`: this replica's name and the
    /// time to live of the lease of its singleton duties.
    pub lease: investigator_actors::duty::LeaseSettings,
    /// The decision rules' settings (`THOTH_SOLVERS`, `THOTH_INVESTIGATOR_SCHEDULE_*`...).
    pub decisions: DecisionSettings,
    /// The learning drivers (`INVESTIGATOR_LEARNING_*`, `INVESTIGATOR_REFRESH_*`,
    /// `INVESTIGATOR_CVE_*`); none runs inside `serve` unless `INVESTIGATOR_LEARNING_DRIVERS`
    /// names it.
    pub learning: investigator_actors::learning::LearningSettings,
    /// `INVESTIGATOR_INJECT_PANIC=<Rule>:<count>`, for tests of supervision.
    pub panic_injection: Option<PanicInjection>,
}

impl Reader<'_> {
    pub(super) fn service(&mut self) -> ServiceSettings {
        let defaults = DecisionSettings::default();
        let decisions = DecisionSettings {
            solvers: self.solvers().unwrap_or(defaults.solvers),
            schedule_solver: self.toggle(&numbers::THOTH_INVESTIGATOR_SCHEDULE_SOLVER),
            schedule_revsolver: self.toggle(&numbers::THOTH_INVESTIGATOR_SCHEDULE_REVSOLVER),
            schedule_security: self.toggle(&numbers::THOTH_INVESTIGATOR_SCHEDULE_SECURITY),
            kebechet_administrator: self.toggle(&numbers::THOTH_INVESTIGATOR_KEBECHET_ADMINISTRATOR),
            solver_debug: self.text("THOTH_LOG_SOLVER").is_some_and(|level| level == "DEBUG"),
            revsolver_debug: self.text("THOTH_LOG_REVSOLVER").is_some_and(|level| level == "DEBUG"),
            middletier_namespace: self.text("THOTH_MIDDLETIER_NAMESPACE").unwrap_or(defaults.middletier_namespace),
            backend_namespace: self.text("THOTH_BACKEND_NAMESPACE").unwrap_or(defaults.backend_namespace),
        };
        let learning = self.learning(&decisions.solvers);
        let api_read_token = self.text("INVESTIGATOR_API_READ_TOKEN").map(Secret::new);
        ServiceSettings {
            learning,
            http_addr: self.socket_address("INVESTIGATOR_HTTP_ADDR", "127.0.0.1:6066"),
            indexes: self.indexes(),
            max_retries: self.bounded(&numbers::THOTH_INVESTIGATOR_MAX_RETRIES).unwrap_or(5),
            backoff: self
                .fraction(&numbers::THOTH_INVESTIGATOR_BACKOFF)
                .map_or(Duration::from_millis(500), Duration::from_secs_f64),
            halt_on_fail: self.base_names("THOTH_INVESTIGATOR_HALT_ON_FAIL"),
            batch_size: self.bounded(&numbers::INVESTIGATOR_BATCH_SIZE).unwrap_or(2000),
            batch_linger: Duration::from_millis(self.bounded(&numbers::INVESTIGATOR_BATCH_LINGER_MS).unwrap_or(20)),
            offset_reset: self
                .one_of("INVESTIGATOR_OFFSET_RESET", &OffsetResetPolicy::NAMES, false)
                .and_then(|word| word.to_ascii_lowercase().parse().ok())
                .unwrap_or_default(),
            index_timeout: match self.bounded::<u64>(&numbers::INVESTIGATOR_INDEX_TIMEOUT_MS).unwrap_or(3_000) {
                0 => None,
                milliseconds => Some(Duration::from_millis(milliseconds)),
            },
            api_token: self.text("INVESTIGATOR_API_TOKEN").map(Secret::new),
            http_access: self.http_access(api_read_token.is_some()),
            api_read_token,
            launcher: self.launcher(),
            launcher_settings: self.launcher_settings(),
            kube_timeout: Duration::from_millis(self.bounded(&numbers::INVESTIGATOR_KUBE_TIMEOUT_MS).unwrap_or(10_000)),
            watch_timeout_seconds: self.bounded(&numbers::INVESTIGATOR_WATCH_TIMEOUT_S).unwrap_or(290),
            api_cache: CacheSettings {
                time_to_live: Duration::from_millis(
                    self.bounded(&numbers::INVESTIGATOR_API_CACHE_TTL_MS).unwrap_or(2_000),
                ),
                max_bytes: self
                    .bounded::<u64>(&numbers::INVESTIGATOR_API_CACHE_MB)
                    .map_or(CacheSettings::default().max_bytes, |megabytes| megabytes.saturating_mul(1024 * 1024)),
                min_position_wait: self
                    .bounded::<u64>(&numbers::INVESTIGATOR_MIN_POSITION_WAIT_MS)
                    .map_or(CacheSettings::default().min_position_wait, Duration::from_millis),
            },
            http_workers: self.bounded(&numbers::INVESTIGATOR_HTTP_WORKERS).unwrap_or(2),
            lease: self.lease(),
            decisions,
            panic_injection: self.panic_injection(),
        }
    }

    /// Comma- or newline-separated (Thoth's ConfigMap has one per line).
    pub(super) fn list(&mut self, variable: &'static str) -> Option<Vec<String>> {
        let value = self.text(variable)?;
        if value.trim_start().starts_with('[') {
            match serde_json::from_str::<Vec<String>>(&value) {
                Ok(items) => return Some(items),
                Err(error) => {
                    self.problem(variable, format!("not a JSON list of strings: {error}"));
                    return None;
                }
            }
        }
        Some(value.split([',', '\n']).map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect())
    }

    fn solvers(&mut self) -> Option<Vec<SolverName>> {
        const VARIABLE: &str = "THOTH_SOLVERS";
        let names = self.list(VARIABLE)?;
        if names.is_empty() {
            self.problem(VARIABLE, "no solver given");
            return None;
        }
        let mut solvers = Vec::new();
        let mut refused = Vec::new();
        for name in names {
            match SolverName::parse(&name) {
                Ok(solver) => solvers.push(solver),
                Err(error) => refused.push(error.to_string()),
            }
        }
        // One problem for the variable, however many names are wrong: the list is the value.
        if !refused.is_empty() {
            self.problem(VARIABLE, refused.join("; "));
        }
        Some(solvers)
    }

    fn indexes(&mut self) -> Vec<IndexUrl> {
        const VARIABLE: &str = "THOTH_INDEXES";
        let urls = self.list(VARIABLE).unwrap_or_else(|| vec!["https://pypi.org/simple".to_owned()]);
        let mut indexes = Vec::new();
        for url in urls {
            match IndexUrl::parse(&url) {
                Ok(index) => indexes.push(index),
                Err(error) => self.problem(VARIABLE, error.to_string()),
            }
        }
        indexes
    }

    fn base_names(&mut self, variable: &'static str) -> BTreeSet<String> {
        let names = self.list(variable).unwrap_or_default();
        let mut known = BTreeSet::new();
        for name in names {
            if investigator_events::thoth::MessageKind::from_base_name(&name).is_some() {
                known.insert(name);
            } else {
                self.problem(variable, format!("'{name}' is not the base name of a Thoth message type"));
            }
        }
        known
    }

    /// Thoth's integer toggles: `0` is off, `1` on; on when unset.
    fn toggle(&mut self, setting: &NumericSetting) -> bool {
        self.bounded::<i64>(setting).is_none_or(|value| value != 0)
    }

    fn socket_address(&mut self, variable: &'static str, default: &str) -> SocketAddr {
        let value = self.text(variable).unwrap_or_else(|| default.to_owned());
        match value.parse() {
            Ok(address) => address,
            Err(_) => {
                self.problem(variable, format!("'{value}' is not an address such as 127.0.0.1:6066 or 0.0.0.0:6066"));
                SocketAddr::from(([127, 0, 0, 1], 6066))
            }
        }
    }

    fn launcher(&mut self) -> Launcher {
        match self.text("INVESTIGATOR_LAUNCHER").as_deref() {
            None | Some("log") => Launcher::Log,
            Some("kube") => Launcher::Kube,
            Some(other) => {
                self.problem("INVESTIGATOR_LAUNCHER", format!("'{other}' is not a launcher: 'kube' or 'log'"));
                Launcher::Log
            }
        }
    }

    fn launcher_settings(&mut self) -> LauncherSettings {
        let defaults = LauncherSettings::default();
        let mut templates = WorkflowTemplates::default();
        for kind in WorkflowKind::ALL {
            if let Some(template) = self.text(template_variable(kind)) {
                templates.set(kind, template);
            }
        }
        let pending_limit = self.bounded::<i64>(&numbers::ARGO_PENDING_WORKFLOW_LIMIT);
        // While launches are paused (0) the outbox cannot drain, so a default back-pressure
        // limit would stop consumption too; the operator asked for launches to stop, not
        // learning. An explicit INVESTIGATOR_OUTBOX_LIMIT still applies.
        let outbox_limit = self
            .bounded::<i64>(&numbers::INVESTIGATOR_OUTBOX_LIMIT)
            .or(pending_limit.filter(|limit| *limit > 0).map(|limit| limit.saturating_mul(4)));
        LauncherSettings {
            pending_limit,
            outbox_limit,
            templates,
            interval: self
                .bounded(&numbers::INVESTIGATOR_LAUNCH_INTERVAL_MS)
                .map_or(defaults.interval, Duration::from_millis),
            per_second: self.bounded::<u32>(&numbers::INVESTIGATOR_KUBE_QPS).map_or(defaults.per_second, f64::from),
            burst: self.bounded(&numbers::INVESTIGATOR_KUBE_BURST).unwrap_or(defaults.burst),
            not_found_grace: self
                .bounded(&numbers::INVESTIGATOR_KUBE_NOT_FOUND_GRACE_S)
                .map_or(defaults.not_found_grace, Duration::from_secs),
            ..defaults
        }
    }

    fn panic_injection(&mut self) -> Option<PanicInjection> {
        const VARIABLE: &str = "INVESTIGATOR_INJECT_PANIC";
        let value = self.text(VARIABLE)?;
        let handlers = [
            ("SolverScheduler", Rule::SolverScheduler),
            ("SecurityIndicatorScheduler", Rule::SecurityIndicatorScheduler),
            ("AdviserRetry", Rule::AdviserRetry),
            ("MissingVersionFlagger", Rule::MissingVersionFlagger),
            ("UserWorkflowScheduler", Rule::UserWorkflowScheduler),
        ];
        let parsed = value.split_once(':').and_then(|(name, count)| {
            let handler = handlers.iter().find(|(known, _)| *known == name)?.1;
            Some(PanicInjection::new(handler, count.parse().ok()?))
        });
        if parsed.is_none() {
            self.problem(VARIABLE, format!("'{value}' is not <Rule>:<count>, e.g. SolverScheduler:2"));
        }
        parsed
    }
}

/// The variable naming the WorkflowTemplate of `kind`.
fn template_variable(kind: WorkflowKind) -> &'static str {
    match kind {
        WorkflowKind::Solver => "INVESTIGATOR_WORKFLOW_TEMPLATE_SOLVER",
        WorkflowKind::Revsolver => "INVESTIGATOR_WORKFLOW_TEMPLATE_REVSOLVER",
        WorkflowKind::SecurityIndicator => "INVESTIGATOR_WORKFLOW_TEMPLATE_SECURITY_INDICATOR",
        WorkflowKind::Adviser => "INVESTIGATOR_WORKFLOW_TEMPLATE_ADVISER",
        WorkflowKind::ProvenanceChecker => "INVESTIGATOR_WORKFLOW_TEMPLATE_PROVENANCE_CHECKER",
        WorkflowKind::PackageExtract => "INVESTIGATOR_WORKFLOW_TEMPLATE_PACKAGE_EXTRACT",
        WorkflowKind::Kebechet => "INVESTIGATOR_WORKFLOW_TEMPLATE_KEBECHET",
        WorkflowKind::KebechetRunUrl => "INVESTIGATOR_WORKFLOW_TEMPLATE_KEBECHET_RUN_URL",
        WorkflowKind::KebechetAdministrator => "INVESTIGATOR_WORKFLOW_TEMPLATE_KEBECHET_ADMINISTRATOR",
        WorkflowKind::BuildAnalysis => "INVESTIGATOR_WORKFLOW_TEMPLATE_BUILD_ANALYSIS",
        WorkflowKind::GraphSync => "INVESTIGATOR_WORKFLOW_TEMPLATE_GRAPH_SYNC",
        WorkflowKind::RepoInit => "INVESTIGATOR_WORKFLOW_TEMPLATE_REPO_INIT",
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;

    use super::*;

    fn service(vars: &[(&str, &str)]) -> Result<ServiceSettings, crate::settings::SettingsError> {
        Settings::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
            .map(|settings| settings.service)
    }

    #[test]
    fn defaults_are_thoths() {
        let service = service(&[]).expect("valid");
        assert_eq!(service.http_addr, "127.0.0.1:6066".parse().expect("an address"), "loopback unless configured");
        assert_eq!(service.max_retries, 5);
        assert_eq!(service.backoff, Duration::from_millis(500));
        assert_eq!(service.decisions.solvers.len(), 3);
        assert_eq!(service.indexes.iter().map(IndexUrl::as_str).collect::<Vec<_>>(), ["https://pypi.org/simple"]);
        assert!(service.halt_on_fail.is_empty() && service.decisions.schedule_solver);
    }

    #[test]
    fn thoth_variables_are_read() {
        let service = service(&[
            ("THOTH_SOLVERS", "solver-rhel-8-py38\nsolver-fedora-35-py310\n"),
            ("THOTH_INVESTIGATOR_SCHEDULE_REVSOLVER", "0"),
            ("THOTH_INVESTIGATOR_HALT_ON_FAIL", "thoth.repo-init,thoth.adviser-trigger"),
            ("THOTH_INVESTIGATOR_BACKOFF", "0.1"),
            ("THOTH_INDEXES", "https://pypi.python.org/simple, https://download.pytorch.org/whl/cpu"),
        ])
        .expect("valid");
        assert_eq!(service.decisions.solvers.len(), 2);
        assert!(!service.decisions.schedule_revsolver);
        assert_eq!(service.halt_on_fail.len(), 2);
        assert_eq!(service.backoff, Duration::from_millis(100));
        assert_eq!(service.indexes[0].as_str(), "https://pypi.org/simple");
    }

    #[test]
    fn bad_values_are_reported_by_variable() {
        let error = service(&[
            ("THOTH_SOLVERS", "solver-rhel"),
            ("THOTH_INVESTIGATOR_HALT_ON_FAIL", "thoth.nope"),
            ("THOTH_INVESTIGATOR_BACKOFF", "-1"),
            ("INVESTIGATOR_HTTP_ADDR", "here"),
            ("INVESTIGATOR_INJECT_PANIC", "Nobody:1"),
        ])
        .expect_err("invalid");
        let variables: Vec<&str> = error.0.iter().map(|problem| problem.variable).collect();
        for variable in [
            "THOTH_SOLVERS",
            "THOTH_INVESTIGATOR_HALT_ON_FAIL",
            "THOTH_INVESTIGATOR_BACKOFF",
            "INVESTIGATOR_HTTP_ADDR",
            "INVESTIGATOR_INJECT_PANIC",
        ] {
            assert!(variables.contains(&variable), "{variable} missing from {variables:?}");
        }
    }

    #[test]
    fn a_pending_limit_of_zero_pauses_launches_without_pausing_consumption_and_a_negative_one_is_refused() {
        let paused = service(&[("ARGO_PENDING_WORKFLOW_LIMIT", "0")]).expect("0 is a valid limit");
        assert_eq!(paused.launcher_settings.pending_limit, Some(0), "0 is a limit of none, not no limit");
        assert_eq!(paused.launcher_settings.outbox_limit, None, "no default back-pressure while paused");
        let error = service(&[("ARGO_PENDING_WORKFLOW_LIMIT", "-3")]).expect_err("negative");
        assert_eq!(error.0.len(), 1);
        assert_eq!(error.0[0].variable, "ARGO_PENDING_WORKFLOW_LIMIT");
        assert!(error.0[0].problem.contains("'-3' is not a whole number from 0 to 1000000"), "{}", error.0[0].problem);
    }

    #[test]
    fn zero_http_workers_are_refused_naming_the_range() {
        let error = service(&[("INVESTIGATOR_HTTP_WORKERS", "0")]).expect_err("no worker cannot serve");
        assert_eq!(error.0.len(), 1);
        assert_eq!(error.0[0].variable, "INVESTIGATOR_HTTP_WORKERS");
        assert_eq!(error.0[0].problem, "'0' is not a whole number from 1 to 256");
    }

    #[test]
    fn wrong_solver_names_are_one_problem_and_an_empty_list_another() {
        let error = service(&[("THOTH_SOLVERS", "garbage,,;;")]).expect_err("not solver names");
        assert_eq!(error.0.len(), 1, "{error}");
        let problem = &error.0[0].problem;
        assert_eq!(error.0[0].variable, "THOTH_SOLVERS");
        assert!(problem.contains("'garbage'") && problem.contains("';;'"), "{problem}");
        assert!(!problem.contains("no solver given"), "{problem}");
        let empty = service(&[("THOTH_SOLVERS", ", ,\n")]).expect_err("no names");
        assert_eq!(empty.0.len(), 1);
        assert_eq!(empty.0[0].problem, "no solver given");
    }

    #[test]
    fn the_outbox_limit_defaults_to_four_times_the_pending_limit() {
        let unset = service(&[]).expect("valid");
        assert_eq!((unset.launcher_settings.pending_limit, unset.launcher_settings.outbox_limit), (None, None));
        let limited = service(&[("ARGO_PENDING_WORKFLOW_LIMIT", "900")]).expect("valid");
        assert_eq!(limited.launcher_settings.outbox_limit, Some(3600));
        let both =
            service(&[("ARGO_PENDING_WORKFLOW_LIMIT", "900"), ("INVESTIGATOR_OUTBOX_LIMIT", "50")]).expect("valid");
        assert_eq!(both.launcher_settings.outbox_limit, Some(50));
        let templated = service(&[("INVESTIGATOR_WORKFLOW_TEMPLATE_SECURITY_INDICATOR", "si-v2")]).expect("valid");
        assert_eq!(templated.launcher_settings.templates.of(WorkflowKind::SecurityIndicator), "si-v2");
        assert!(service(&[("INVESTIGATOR_LAUNCHER", "argo")]).is_err(), "an unknown launcher is an error");
        assert_eq!(unset.launcher_settings.not_found_grace, Duration::from_secs(300));
        let impatient = service(&[("INVESTIGATOR_KUBE_NOT_FOUND_GRACE_S", "0")]).expect("valid");
        assert_eq!(impatient.launcher_settings.not_found_grace, Duration::ZERO, "zero refuses at once");
        assert!(service(&[("INVESTIGATOR_KUBE_NOT_FOUND_GRACE_S", "soon")]).is_err());
        assert_eq!(service(&[("INVESTIGATOR_LAUNCHER", "kube")]).expect("valid").launcher, Launcher::Kube);
    }

    #[test]
    fn each_kind_has_its_template_variable() {
        for kind in WorkflowKind::ALL {
            let expected =
                format!("INVESTIGATOR_WORKFLOW_TEMPLATE_{}", kind.name().to_ascii_uppercase().replace('-', "_"));
            assert_eq!(template_variable(kind), expected);
        }
    }
}
