//! The solver scheduler (middletier): unresolved-package, package-released,
//! unrevsolved-package and hash-mismatch's learning part.

use investigator_events::domain::{HashMismatchRecorded, PackageVersionSeen, StreamId};
use investigator_events::thoth::{HashMismatch, PackageReleased, UnresolvedPackage, UnrevsolvedPackage};

use super::draft::DecisionDraft;
use super::fields::{self, invalid};
use super::learning::{request_revsolver, request_solver};
use super::parameters::PackageRef;
use super::version_request::VersionRequest;
use super::{DecisionSettings, Rejection, VersionSource};
use crate::SolverName;

const SOLVER_OFF: &str = "solver scheduling is off (THOTH_INVESTIGATOR_SCHEDULE_SOLVER=0)";
const REVSOLVER_OFF: &str = "revsolver scheduling is off (THOTH_INVESTIGATOR_SCHEDULE_REVSOLVER=0)";

/// unresolved-package: solve each version the message asks for with each solver that has
/// not solved it yet. When the message names a solver, only that one: it is the runtime
/// environment the sender (an adviser) needs, and Thoth's "schedule every solver when the
/// version is unknown" branch ignored it.
pub(super) fn unresolved_package(
    draft: &mut DecisionDraft<'_>,
    message: &UnresolvedPackage,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    if !settings.schedule_solver {
        draft.skip(SOLVER_OFF.to_owned());
        return Ok(());
    }
    let knowledge = draft.knowledge();
    let name = fields::package_name(&message.package_name)?;
    let index = fields::registered_index(&message.index_url, knowledge)?;
    let named_solver = message.solver.as_deref().map(fields::solver).transpose()?;
    let request = VersionRequest::parse(message.package_version.as_deref())
        .map_err(|reason| invalid("package_version", reason))?;

    let (versions, source) = if request.needs_listing() {
        let listing = knowledge.listing(&name, &index);
        (request.select(&listing.versions), listing.source)
    } else {
        (request.select(&[]), VersionSource::Message)
    };
    if versions.is_empty() {
        draft.skip(format!("no version of {name} on {index} matches {:?}", message.package_version));
        return Ok(());
    }
    let Some(solvers) = candidate_solvers(draft, named_solver, settings) else {
        return Ok(());
    };
    for version in &versions {
        let package = PackageRef { name: &name, version, index: &index };
        solve_where_unsolved(draft, settings, &solvers, &package, Some(source));
    }
    Ok(())
}

/// package-released: the version exists; solve it where it is not solved yet, and reverse
/// solve it.
pub(super) fn package_released(
    draft: &mut DecisionDraft<'_>,
    message: &PackageReleased,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let name = fields::package_name(&message.package_name)?;
    let version = fields::package_version(&message.package_version)?;
    let index = fields::registered_index(&message.index_url, draft.knowledge())?;
    draft.event(
        StreamId::package(&name),
        PackageVersionSeen { package_name: name.clone(), package_version: version.clone(), index_url: index.clone() },
    );
    let package = PackageRef { name: &name, version: &version, index: &index };
    if settings.schedule_solver {
        solve_where_unsolved(draft, settings, &settings.solvers, &package, None);
    } else {
        draft.skip(SOLVER_OFF.to_owned());
    }
    if settings.schedule_revsolver {
        request_revsolver(draft, settings, &name, &version);
    } else {
        draft.skip(REVSOLVER_OFF.to_owned());
    }
    Ok(())
}

/// unrevsolved-package: one reverse solver. Thoth's handler passed `is_present=true` to a
/// rule that only schedules when it is false, so it never scheduled anything.
pub(super) fn unrevsolved_package(
    draft: &mut DecisionDraft<'_>,
    message: &UnrevsolvedPackage,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    if !settings.schedule_revsolver {
        draft.skip(REVSOLVER_OFF.to_owned());
        return Ok(());
    }
    let name = fields::package_name(&message.package_name)?;
    let version = fields::package_version(&message.package_version)?;
    request_revsolver(draft, settings, &name, &version);
    Ok(())
}

/// hash-mismatch (middletier part): record the changed hashes (the projection marks the
/// artifacts the index no longer serves as absent) and solve the version again with every
/// solver, solved or not, since what was solved is no longer what the index serves.
pub(super) fn hash_mismatch(
    draft: &mut DecisionDraft<'_>,
    message: &HashMismatch,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let name = fields::package_name(&message.package_name)?;
    let version = fields::package_version(&message.package_version)?;
    let index = fields::registered_index(&message.index_url, draft.knowledge())?;
    let missing_from_source = sha256_list("missing_from_source", &message.missing_from_source)?;
    let missing_from_database = sha256_list("missing_from_database", &message.missing_from_database)?;
    draft.event(
        StreamId::package(&name),
        HashMismatchRecorded {
            package_name: name.clone(),
            package_version: version.clone(),
            index_url: index.clone(),
            missing_from_source,
            missing_from_database,
        },
    );
    if !settings.schedule_solver {
        draft.skip(SOLVER_OFF.to_owned());
        return Ok(());
    }
    let package = PackageRef { name: &name, version: &version, index: &index };
    for solver in &settings.solvers {
        request_solver(draft, settings, solver, &package, None);
    }
    Ok(())
}

/// The solvers to consider: the one the message names, if it is configured, or all.
fn candidate_solvers(
    draft: &mut DecisionDraft<'_>,
    named: Option<SolverName>,
    settings: &DecisionSettings,
) -> Option<Vec<SolverName>> {
    let Some(named) = named else {
        return Some(settings.solvers.clone());
    };
    if settings.solvers.contains(&named) {
        return Some(vec![named]);
    }
    // Only configured solvers have a container image; another would fail in the cluster.
    draft.skip(format!("{named} is not a configured solver (THOTH_SOLVERS)"));
    None
}

/// Asks each of `solvers` whose environment has not solved the version yet.
fn solve_where_unsolved(
    draft: &mut DecisionDraft<'_>,
    settings: &DecisionSettings,
    solvers: &[SolverName],
    package: &PackageRef<'_>,
    source: Option<VersionSource>,
) {
    for solver in solvers {
        if draft.knowledge().is_solved_in(package.name, package.version, package.index, &solver.environment()) {
            draft.skip(format!("{solver} already solved {} {} on {}", package.name, package.version, package.index));
            continue;
        }
        request_solver(draft, settings, solver, package, source);
    }
}

/// sha256 digests, lower-cased; anything else is refused with the field's name.
fn sha256_list(field: &'static str, digests: &[String]) -> Result<Vec<String>, Rejection> {
    digests
        .iter()
        .map(|digest| {
            let digest = digest.trim().to_ascii_lowercase();
            if digest.len() == 64 && digest.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                Ok(digest)
            } else {
                Err(invalid(field, format!("'{digest}' is not a sha256 hex digest")))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
