//! What the deployment configures about decisions (Thoth's `THOTH_*` toggles and names).

use crate::SolverName;

/// The configuration decisions depend on. `Default` is Thoth's production setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionSettings {
    /// The solvers to schedule (`THOTH_SOLVERS`; Thoth's `solvers` ConfigMap).
    pub solvers: Vec<SolverName>,
    /// `THOTH_INVESTIGATOR_SCHEDULE_SOLVER`.
    pub schedule_solver: bool,
    /// `THOTH_INVESTIGATOR_SCHEDULE_REVSOLVER`.
    pub schedule_revsolver: bool,
    /// `THOTH_INVESTIGATOR_SCHEDULE_SECURITY`.
    pub schedule_security: bool,
    /// `THOTH_INVESTIGATOR_KEBECHET_ADMINISTRATOR`.
    pub kebechet_administrator: bool,
    /// `THOTH_LOG_SOLVER=DEBUG`.
    pub solver_debug: bool,
    /// `THOTH_LOG_REVSOLVER=DEBUG`.
    pub revsolver_debug: bool,
    /// `THOTH_MIDDLETIER_NAMESPACE`: solver, revsolver, security-indicator, package-extract,
    /// build-analysis, graph-sync.
    pub middletier_namespace: String,
    /// `THOTH_BACKEND_NAMESPACE`: adviser, provenance-checker, kebechet*, repo-init.
    pub backend_namespace: String,
}

/// The three solvers of Thoth's production deployment.
pub const PRODUCTION_SOLVERS: [&str; 3] = ["solver-rhel-8-py38", "solver-fedora-34-py39", "solver-fedora-35-py310"];

impl Default for DecisionSettings {
    fn default() -> Self {
        DecisionSettings {
            solvers: PRODUCTION_SOLVERS.iter().filter_map(|name| SolverName::parse(name).ok()).collect(),
            schedule_solver: true,
            schedule_revsolver: true,
            schedule_security: true,
            kebechet_administrator: true,
            solver_debug: false,
            revsolver_debug: false,
            middletier_namespace: "thoth-middletier".to_owned(),
            backend_namespace: "thoth-backend".to_owned(),
        }
    }
}
