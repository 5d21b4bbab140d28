//! Asking for the workflows that learn about a package version (solver, revsolver,
//! security-indicator) and for kebechet-administrator, shared by the handlers that trigger
//! them. Each is named from the record and its target, and skipped while one for the same
//! target is pending.

use investigator_events::domain::{WorkflowKind, WorkflowTarget};

use super::draft::{DecisionDraft, Workflow};
use super::parameters::{self, AdministratorSubject, PackageRef};
use super::{DecisionSettings, VersionSource};
use crate::SolverName;

/// Asks `solver` to solve the version, with the enabled indexes for its dependencies.
pub(super) fn request_solver(
    draft: &mut DecisionDraft<'_>,
    settings: &DecisionSettings,
    solver: &SolverName,
    package: &PackageRef<'_>,
    version_source: Option<VersionSource>,
) {
    let solver_name = solver.to_string();
    let workflow = Workflow {
        kind: WorkflowKind::Solver,
        namespace: settings.middletier_namespace.clone(),
        target: WorkflowTarget {
            package_name: Some(package.name.to_owned()),
            package_version: Some(package.version.to_owned()),
            index_url: Some(package.index.to_owned()),
            solver_name: Some(solver_name.clone()),
        },
        version_source: version_source.map(|source| version_source_name(source).to_owned()),
    };
    let dependency_indexes = draft.knowledge().enabled_indexes();
    draft.request_for_target(&solver_name, workflow, |id| {
        parameters::solver(id, solver, package, &dependency_indexes, settings.solver_debug)
    });
}

/// Asks for the reverse solver of a version. The revsolver looks the version up on every
/// index, so its target has no index: a pending one blocks another from any message.
pub(super) fn request_revsolver(draft: &mut DecisionDraft<'_>, settings: &DecisionSettings, name: &str, version: &str) {
    let workflow = Workflow {
        kind: WorkflowKind::Revsolver,
        namespace: settings.middletier_namespace.clone(),
        target: WorkflowTarget {
            package_name: Some(name.to_owned()),
            package_version: Some(version.to_owned()),
            ..WorkflowTarget::default()
        },
        version_source: None,
    };
    draft.request_for_target(WorkflowKind::Revsolver.name(), workflow, |id| {
        parameters::revsolver(id, name, version, settings.revsolver_debug)
    });
}

/// Asks for a security-indicator analysis of the version.
pub(super) fn request_security_indicator(
    draft: &mut DecisionDraft<'_>,
    settings: &DecisionSettings,
    package: &PackageRef<'_>,
) {
    let workflow = Workflow {
        kind: WorkflowKind::SecurityIndicator,
        namespace: settings.middletier_namespace.clone(),
        target: WorkflowTarget {
            package_name: Some(package.name.to_owned()),
            package_version: Some(package.version.to_owned()),
            index_url: Some(package.index.to_owned()),
            solver_name: None,
        },
        version_source: None,
    };
    draft.request_for_target(WorkflowKind::SecurityIndicator.name(), workflow, |id| {
        parameters::security_indicator(id, package)
    });
}

/// Asks kebechet-administrator to tell the repositories that use the package, when the
/// deployment has it on.
pub(super) fn request_kebechet_administrator(
    draft: &mut DecisionDraft<'_>,
    settings: &DecisionSettings,
    subject: &AdministratorSubject<'_>,
) {
    if !settings.kebechet_administrator {
        draft.skip("kebechet-administrator is off (THOTH_INVESTIGATOR_KEBECHET_ADMINISTRATOR=0)".to_owned());
        return;
    }
    let workflow = Workflow {
        kind: WorkflowKind::KebechetAdministrator,
        namespace: settings.backend_namespace.clone(),
        target: WorkflowTarget {
            package_name: Some(subject.name.to_owned()),
            package_version: subject.version.map(str::to_owned),
            index_url: Some(subject.index.to_owned()),
            solver_name: subject.solver.map(str::to_owned),
        },
        version_source: None,
    };
    let message_type = draft.trigger();
    draft.request_for_target(WorkflowKind::KebechetAdministrator.name(), workflow, |id| {
        parameters::kebechet_administrator(id, subject, message_type)
    });
}

/// `message`, `index` or `graph`, as `WorkflowRequested.version_source` records it.
fn version_source_name(source: VersionSource) -> &'static str {
    match source {
        VersionSource::Message => "message",
        VersionSource::Index => "index",
        VersionSource::Graph => "graph",
    }
}
