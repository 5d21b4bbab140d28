//! What a solver result writes: the environment's solver, the versions it solved or failed
//! on, their dependencies, artifacts, imports and licences.

use chrono::{DateTime, Utc};
use investigator_core::normalize_package_name;
use investigator_events::domain::{SolvedPackage, SolverResultRecorded};

use super::{EdgeRow, EntryRow, LicenseRow, RowPlan, SolvedRow, SolverRow, UnprovidedKey, UnprovidedRow, VersionRow};
use super::{naive_datetime, solver_entry};
use crate::projector::ids::{self, EnvironmentKey};

/// What one solver result records for one version.
struct Outcome {
    error: bool,
    error_unparseable: bool,
    error_unsolvable: bool,
    is_provided: Option<bool>,
}

const SOLVED: Outcome = Outcome { error: false, error_unparseable: false, error_unsolvable: false, is_provided: None };

impl RowPlan {
    pub(super) fn add_solver_result(
        &mut self,
        event: &SolverResultRecorded,
        position: i64,
        at: DateTime<Utc>,
    ) -> Result<(), String> {
        let env = EnvironmentKey {
            os_name: &event.os_name,
            os_version: &event.os_version,
            python_version: &event.python_version,
        };
        let datetime = naive_datetime(&event.datetime)?;
        let solver = ids::ecosystem_solver(&event.solver_name, &event.solver_version, &env);
        self.solvers.entry(solver).or_insert_with(|| SolverRow {
            solver_name: event.solver_name.clone(),
            solver_version: event.solver_version.clone(),
            os_name: event.os_name.clone(),
            os_version: event.os_version.clone(),
            python_version: event.python_version.clone(),
        });
        let run = Run {
            document_id: &event.document_id,
            solver,
            datetime,
            duration: event.duration.map(|seconds| i32::try_from(seconds).unwrap_or(i32::MAX)),
            position,
            at,
            env: &env,
        };

        for package in &event.packages {
            self.add_solved_package(&run, package);
        }
        for error in &event.errors {
            let Some(version) = error.package_version.as_deref().filter(|_| error.is_provided_package_version) else {
                // The index does not have this version: there is no version row to hang it on.
                let key = UnprovidedKey {
                    document_id: event.document_id.clone(),
                    package_name: error.package_name.clone(),
                    package_version: error.package_version.clone(),
                    index_url: error.index_url.clone(),
                };
                self.unprovided
                    .entry(key)
                    .or_insert_with(|| UnprovidedRow { solver_id: solver, details: error.details.clone() });
                continue;
            };
            let outcome = Outcome { error: true, is_provided: Some(true), ..SOLVED };
            self.add_version_run(&run, &error.package_name, Some(version), error.index_url.as_deref(), outcome);
        }
        for unresolved in &event.unresolved {
            // Only a pinned version (`===7.3`) names a version row.
            let Some(version) = unresolved.version_spec.as_deref().and_then(|spec| spec.strip_prefix("===")) else {
                continue;
            };
            let outcome = Outcome { error: true, error_unsolvable: true, ..SOLVED };
            self.add_version_run(
                &run,
                &unresolved.package_name,
                Some(version.trim()),
                unresolved.index_url.as_deref(),
                outcome,
            );
        }
        for unparsed in &event.unparsed {
            let Some((name, version)) = unparsed.requirement.rsplit_once("===") else {
                continue;
            };
            let name = normalize_package_name(name.trim());
            let outcome = Outcome { error: true, error_unparseable: true, ..SOLVED };
            self.add_version_run(&run, &name, Some(version.trim()), None, outcome);
        }
        Ok(())
    }

    fn add_solved_package(&mut self, run: &Run<'_>, package: &SolvedPackage) {
        let name = package.package_name.as_str();
        let (version_id, entity) =
            self.add_version_run(run, name, Some(&package.package_version), Some(&package.index_url), SOLVED);
        // The solver downloaded it from the index: the index serves it.
        self.entity_mut(entity).present_position = run.position;
        self.flag_entities.insert(entity);

        let license_id = package.license.as_ref().map(|license| {
            let id = ids::license(&license.name, &license.identifier, &license.version);
            self.licenses.entry(id).or_insert_with(|| LicenseRow {
                name: license.name.clone(),
                identifier: license.identifier.clone(),
                version: license.version.clone(),
            });
            id
        });
        let mut edges: Vec<EdgeRow> = Vec::new();
        for dependency in &package.dependencies {
            let version_range =
                if dependency.specifier.is_empty() { "*".to_owned() } else { dependency.specifier.clone() };
            let mut versions: Vec<&str> = dependency
                .resolved_versions
                .iter()
                .flat_map(|resolved| resolved.versions.iter().map(String::as_str))
                .collect();
            versions.sort_unstable();
            versions.dedup();
            // One edge per extra (Thoth kept only the first).
            let extras: Vec<Option<String>> = if dependency.extra.is_empty() {
                vec![None]
            } else {
                dependency.extra.iter().cloned().map(Some).collect()
            };
            for version in versions {
                let dependency_entity = self.entity(&dependency.package_name, Some(version), None, run.at);
                for extra in &extras {
                    edges.push(EdgeRow {
                        entity_id: dependency_entity,
                        extra: extra.clone(),
                        marker: dependency.marker.clone(),
                        version_range: version_range.clone(),
                        marker_evaluation_result: dependency.marker_evaluation_result,
                    });
                }
            }
        }
        edges.sort();
        edges.dedup_by(|a, b| (a.entity_id, &a.extra, &a.marker) == (b.entity_id, &b.extra, &b.marker));

        let entry = EntryRow {
            datetime: run.datetime,
            position: run.position,
            license_id,
            license_warning: package.license.as_ref().map(|license| license.warning),
            metadata: package.importlib_metadata.get("metadata").cloned(),
            solver_entry: solver_entry(package),
            edges,
        };
        if let Some(version) = self.versions.get_mut(&version_id)
            && version.entry.as_ref().is_none_or(|current| entry.is_newer_than(current))
        {
            version.entry = Some(entry);
        }

        for sha256 in &package.sha256 {
            self.artifact(entity, sha256).seen_position = run.position;
        }
        for import in &package.imports {
            let id = ids::import_package(import);
            self.imports.entry(id).or_insert_with(|| import.clone());
            self.found_imports.insert((version_id, id));
        }
    }

    /// The version row for this run's environment (created if absent) and the run's outcome
    /// for it; returns the version's and the entity's ids.
    fn add_version_run(
        &mut self,
        run: &Run<'_>,
        name: &str,
        version: Option<&str>,
        index_url: Option<&str>,
        outcome: Outcome,
    ) -> (i64, i64) {
        let entity = self.entity(name, version, index_url, run.at);
        let index_id = index_url.map(ids::index);
        let version_id = ids::version(name, version, index_url, run.env);
        self.versions.entry(version_id).or_insert_with(|| VersionRow {
            entity_id: entity,
            package_name: name.to_owned(),
            package_version: version.map(str::to_owned),
            index_id,
            os_name: run.env.os_name.to_owned(),
            os_version: run.env.os_version.to_owned(),
            python_version: run.env.python_version.to_owned(),
            entry: None,
        });
        // New version rows take their entity's flags.
        self.flag_entities.insert(entity);

        let solved = SolvedRow {
            document_id: run.document_id.to_owned(),
            datetime: run.datetime,
            duration: run.duration,
            error: outcome.error,
            error_unparseable: outcome.error_unparseable,
            error_unsolvable: outcome.error_unsolvable,
            is_provided: outcome.is_provided,
            position: run.position,
        };
        self.solver_runs
            .entry((run.document_id.to_owned(), version_id))
            .or_insert_with(|| (run.solver, solved.clone()));
        match self.solved.get(&(run.solver, version_id)) {
            Some(current) if !solved.is_newer_than(current) => {}
            _ => {
                self.solved.insert((run.solver, version_id), solved);
            }
        }
        (version_id, entity)
    }
}

/// One solver run, as every row it writes needs it.
struct Run<'a> {
    document_id: &'a str,
    solver: i64,
    datetime: chrono::NaiveDateTime,
    duration: Option<i32>,
    position: i64,
    at: DateTime<Utc>,
    env: &'a EnvironmentKey<'a>,
}
