//! Thoth's workflow parameters (thoth-common's `OpenShift.schedule_*`), by Thoth's names and
//! as the strings Thoth gives the templates, for the workflows the investigator starts on
//! its own: solver, revsolver, security-indicator, kebechet-administrator and graph-sync.
//! The Ceph and deployment parameters are not here: the launcher adds them.

use investigator_events::thoth::JsonObject;
use serde_json::Value;

use crate::SolverName;

/// A parameter map under construction. Every value is a JSON string, as Thoth stringifies
/// every template parameter.
#[derive(Debug, Default)]
pub(super) struct Parameters(JsonObject);

impl Parameters {
    /// A text parameter.
    pub fn text(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.insert(name.to_owned(), Value::String(value.into()));
        self
    }

    /// A text parameter Thoth leaves empty when the value is missing.
    pub fn optional(self, name: &str, value: Option<&str>) -> Self {
        self.text(name, value.unwrap_or_default())
    }

    /// `1` or `0`.
    pub fn flag(self, name: &str, value: bool) -> Self {
        self.text(name, if value { "1" } else { "0" })
    }

    /// `DEBUG` or `INFO`.
    pub fn log_level(self, name: &str, debug: bool) -> Self {
        self.text(name, if debug { "DEBUG" } else { "INFO" })
    }

    /// A JSON document, serialised into the string.
    pub fn json(self, name: &str, value: &Value) -> Self {
        self.text(name, value.to_string())
    }

    /// The map.
    pub fn build(self) -> JsonObject {
        self.0
    }
}

/// A package version on an index, as the templates name it.
pub(super) struct PackageRef<'a> {
    /// PEP 503 name.
    pub name: &'a str,
    /// Normalised version.
    pub version: &'a str,
    /// Normalised index URL.
    pub index: &'a str,
}

/// `solver` template: one package version, not transitive, on its index, with the enabled
/// indexes to resolve its dependencies on.
pub(super) fn solver(
    id: &str,
    solver: &SolverName,
    package: &PackageRef<'_>,
    dependency_indexes: &[String],
    debug: bool,
) -> JsonObject {
    Parameters::default()
        .text("THOTH_SOLVER_WORKFLOW_ID", id)
        .text("THOTH_SOLVER_NAME", solver.to_string())
        .text("THOTH_SOLVER_PACKAGES", format!("{}==={}", package.name, package.version))
        .flag("THOTH_SOLVER_NO_TRANSITIVE", true)
        .text("THOTH_SOLVER_INDEXES", package.index)
        .text("THOTH_SOLVER_DEPENDENCY_INDEXES", dependency_indexes.join(","))
        .flag("THOTH_FORCE_SYNC", false)
        .log_level("THOTH_LOG_SOLVER", debug)
        .build()
}

/// `revsolver` template.
pub(super) fn revsolver(id: &str, name: &str, version: &str, debug: bool) -> JsonObject {
    Parameters::default()
        .text("THOTH_REVSOLVER_WORKFLOW_ID", id)
        .text("THOTH_REVSOLVER_PACKAGE_NAME", name)
        .text("THOTH_REVSOLVER_PACKAGE_VERSION", version)
        .log_level("THOTH_LOG_REVSOLVER", debug)
        .build()
}

/// `security-indicators` template, aggregated with `process_data` as the investigator asks.
pub(super) fn security_indicator(id: &str, package: &PackageRef<'_>) -> JsonObject {
    Parameters::default()
        .text("THOTH_SECURITY_INDICATORS_JOB_ID", id)
        .text("THOTH_SECURITY_INDICATORS_PACKAGE_NAME", package.name)
        .text("THOTH_SECURITY_INDICATORS_PACKAGE_VERSION", package.version)
        .text("THOTH_SECURITY_INDICATORS_PACKAGE_INDEX", package.index)
        .text("THOTH_SECURITY_INDICATORS_AGGREGATION_FUNCTION", "process_data")
        .flag("THOTH_FORCE_SYNC", false)
        .build()
}

/// What kebechet-administrator is told about: the version and the solver are optional.
pub(super) struct AdministratorSubject<'a> {
    /// PEP 503 name.
    pub name: &'a str,
    /// Normalised version, when the message is about one.
    pub version: Option<&'a str>,
    /// Normalised index URL.
    pub index: &'a str,
    /// The solver, for solved-package.
    pub solver: Option<&'a str>,
}

/// `kebechet-administrator` template; the message type is the triggering base name.
pub(super) fn kebechet_administrator(id: &str, subject: &AdministratorSubject<'_>, message_type: &str) -> JsonObject {
    Parameters::default()
        .text("WORKFLOW_ID", id)
        .text("THOTH_PACKAGE_NAME", subject.name)
        .optional("THOTH_PACKAGE_VERSION", subject.version)
        .text("THOTH_PACKAGE_INDEX", subject.index)
        .optional("THOTH_SOLVER_NAME", subject.solver)
        .text("THOTH_MESSAGE_TYPE", message_type)
        .build()
}

/// `graph-sync` template. Thoth passed `force_sync` as Python's `True`/`False`; `1`/`0`
/// is what every other template's THOTH_FORCE_SYNC takes.
pub(super) fn graph_sync(id: &str, document_id: &str, force_sync: bool) -> JsonObject {
    Parameters::default()
        .text("THOTH_SYNC_JOB_ID", id)
        .text("THOTH_SYNC_DOCUMENT_ID", document_id)
        .flag("THOTH_FORCE_SYNC", force_sync)
        .build()
}
