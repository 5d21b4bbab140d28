//! The pure half of the projector: a batch of events, in log order, becomes the rows to
//! write, one folded row per key and table. No I/O here, so every rule is unit-tested.
//!
//! Events are added in position order, so within a batch "latest wins" is plain
//! overwriting and "first wins" is insert-if-absent; the SQL in `write/` applies the same
//! rules against what is stored (with the *_position guards), so the outcome does not depend
//! on where batch boundaries fall.

mod rows;
mod solver;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use investigator_events::domain::*;
use serde_json::{Value, json};

pub(crate) use rows::*;

use super::ids;
use crate::store::RecordedEvent;

/// An event the projector cannot apply (a value its type allows but the graph does not).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot project the {event_type} event at position {position}: {detail}")]
pub struct RowPlanError {
    /// The event's position.
    pub position: i64,
    pub event_type: EventType,
    /// What is wrong.
    pub detail: String,
}

/// Everything a batch writes.
#[derive(Debug, Default)]
pub(crate) struct RowPlan {
    pub indexes: BTreeMap<i64, IndexRow>,
    pub entities: BTreeMap<i64, EntityRow>,
    pub missing_packages: BTreeMap<(String, i64), MissingPackageRow>,
    pub solvers: BTreeMap<i64, SolverRow>,
    pub licenses: BTreeMap<i64, LicenseRow>,
    pub versions: BTreeMap<i64, VersionRow>,
    pub solved: BTreeMap<(i64, i64), SolvedRow>,
    pub solver_runs: BTreeMap<(String, i64), (i64, SolvedRow)>,
    pub unprovided: BTreeMap<UnprovidedKey, UnprovidedRow>,
    pub artifacts: BTreeMap<i64, ArtifactRow>,
    pub has_artifact: BTreeSet<(i64, i64)>,
    pub imports: BTreeMap<i64, String>,
    pub found_imports: BTreeSet<(i64, i64)>,
    pub cves: BTreeMap<i64, CveRow>,
    pub vulnerabilities: BTreeSet<(i64, i64)>,
    pub cve_timestamp: Option<NaiveDateTime>,
    pub si_runs: BTreeMap<i64, SiRunRow>,
    pub si_links: BTreeSet<(i64, i64)>,
    pub workflows: BTreeMap<String, WorkflowRow>,
    pub dead_letters: BTreeMap<(String, i32, i64), DeadLetterRow>,
    /// The latest operator decision per dead letter: `redriven` or `discarded`, and its position.
    pub dead_letter_statuses: BTreeMap<(String, i32, i64), (&'static str, i64)>,
    pub adviser_runs: BTreeMap<i64, AdviserRunRow>,
    pub unresolved_links: BTreeSet<(i64, i64)>,
    pub parked: BTreeMap<String, ParkedRow>,
    pub learning: BTreeMap<String, LearningRow>,
    /// The latest throttle change per driver, with its position and time.
    pub throttles: BTreeMap<String, (LearningThrottleChanged, i64, DateTime<Utc>)>,
    /// Consumer offset resets, by position, with their time.
    pub offset_resets: BTreeMap<i64, (ConsumerOffsetReset, DateTime<Utc>)>,
    /// Entities whose derived flags must be recomputed after the batch.
    pub flag_entities: BTreeSet<i64>,
    /// Packages `(name, index id)` whose versions' derived flags must be recomputed.
    pub flag_packages: BTreeSet<(String, i64)>,
    /// Events added.
    pub events: usize,
}

impl RowPlan {
    /// The plan for `events`, which must be in position order.
    pub fn of(events: &[RecordedEvent]) -> Result<RowPlan, RowPlanError> {
        let mut plan = RowPlan::default();
        for event in events {
            plan.add(event)?;
        }
        Ok(plan)
    }

    /// Adds one event; events must come in position order.
    pub fn add(&mut self, recorded: &RecordedEvent) -> Result<(), RowPlanError> {
        let position = recorded.position;
        let at = recorded.recorded_at;
        let fail = |detail: String| RowPlanError { position, event_type: recorded.event.event_type(), detail };
        self.events += 1;
        match &recorded.event {
            DomainEvent::IndexRegistered(event) => {
                let index = self.index(&event.url);
                index.registration = Some(Registration {
                    position,
                    warehouse_api_url: event.warehouse_api_url.clone(),
                    verify_ssl: event.verify_ssl,
                    only_if_package_seen: event.only_if_package_seen,
                });
                index.enabled = Some((event.enabled, position));
                index.updated = Some((position, at));
            }
            DomainEvent::IndexEnabled(IndexEnabled { url }) => self.set_enabled(url, true, position, at),
            DomainEvent::IndexDisabled(IndexDisabled { url }) => self.set_enabled(url, false, position, at),
            DomainEvent::PackageVersionSeen(event) => {
                let id = self.indexed_entity(&event.package_name, &event.package_version, &event.index_url, at);
                self.entity_mut(id).present_position = position;
                self.flag_entities.insert(id);
            }
            DomainEvent::VersionMarkedMissing(event) => {
                let id = self.indexed_entity(&event.package_name, &event.package_version, &event.index_url, at);
                self.entity_mut(id).missing_position = position;
                self.flag_entities.insert(id);
            }
            DomainEvent::PackageMarkedMissing(event) => {
                let index_id = self.index_id(&event.index_url);
                let key = (event.package_name.clone(), index_id);
                self.missing_packages.insert(key.clone(), MissingPackageRow { position, marked_at: at });
                self.flag_packages.insert(key);
            }
            DomainEvent::SourceDistributionFlagSet(event) => {
                let id = self.indexed_entity(&event.package_name, &event.package_version, &event.index_url, at);
                self.entity_mut(id).source_distro = Some((event.provides_source_distro, position));
                self.flag_entities.insert(id);
            }
            DomainEvent::SolverResultRecorded(event) => self.add_solver_result(event, position, at).map_err(fail)?,
            DomainEvent::SecurityIndicatorRecorded(event) => {
                let datetime = naive_datetime(&event.datetime).map_err(fail)?;
                let entity = self.indexed_entity(&event.package_name, &event.package_version, &event.index_url, at);
                if !event.error {
                    self.entity_mut(entity).present_position = position;
                    self.flag_entities.insert(entity);
                }
                let run = ids::si_run(&event.document_id);
                self.si_runs.entry(run).or_insert_with(|| SiRunRow {
                    document_id: event.document_id.clone(),
                    datetime,
                    error: event.error,
                    counters: counters(&event.counters),
                });
                self.si_links.insert((run, entity));
            }
            DomainEvent::CveProvided(event) => {
                let entity = self.indexed_entity(&event.package_name, &event.package_version, &event.index_url, at);
                if let Some(advisory) = &event.advisory {
                    let id = ids::cve(&advisory.cve_id);
                    let first_at = self.cves.get(&id).map_or(at.naive_utc(), |known| known.first_at);
                    self.cves.insert(
                        id,
                        CveRow {
                            cve_id: advisory.cve_id.clone(),
                            details: advisory.details.clone(),
                            link: advisory.link.clone(),
                            position,
                            first_at,
                        },
                    );
                    self.vulnerabilities.insert((entity, id));
                }
                self.cve_timestamp = Some(at.naive_utc());
            }
            DomainEvent::HashMismatchRecorded(event) => {
                let entity = self.indexed_entity(&event.package_name, &event.package_version, &event.index_url, at);
                self.entity_mut(entity).present_position = position;
                self.flag_entities.insert(entity);
                for sha256 in &event.missing_from_source {
                    self.artifact(entity, sha256).absent_position = position;
                }
                for sha256 in &event.missing_from_database {
                    self.artifact(entity, sha256).seen_position = position;
                }
            }
            DomainEvent::WorkflowRequested(event) => {
                let requested_at = Some(at);
                let row = self.workflows.entry(event.workflow_id.clone()).or_default();
                row.kind.get_or_insert_with(|| event.kind.name().to_owned());
                row.namespace.get_or_insert_with(|| event.namespace.clone());
                set_once(&mut row.package_name, &event.target.package_name);
                set_once(&mut row.package_version, &event.target.package_version);
                set_once(&mut row.index_url, &event.target.index_url);
                set_once(&mut row.solver_name, &event.target.solver_name);
                set_once(&mut row.trigger, &event.trigger);
                row.parameters.get_or_insert_with(|| Value::Object(event.parameters.clone()));
                set_once(&mut row.requested_at, &requested_at);
                advance(row, WorkflowStatus { name: "requested", rank: 1, position, ..Default::default() });
            }
            DomainEvent::WorkflowSubmitted(event) => {
                let row = self.workflows.entry(event.workflow_id.clone()).or_default();
                row.namespace.get_or_insert_with(|| event.namespace.clone());
                set_once(&mut row.submitted_at, &Some(at));
                advance(row, WorkflowStatus { name: "submitted", rank: 2, position, ..Default::default() });
            }
            DomainEvent::WorkflowStarted(event) => {
                let started_at = Some(rfc3339(&event.started_at).map_err(fail)?);
                let row = self.workflows.entry(event.workflow_id.clone()).or_default();
                set_once(&mut row.started_at, &started_at);
                advance(row, WorkflowStatus { name: "running", rank: 3, position, ..Default::default() });
            }
            DomainEvent::WorkflowSucceeded(event) => {
                let finished_at = Some(rfc3339(&event.finished_at).map_err(fail)?);
                let row = self.workflows.entry(event.workflow_id.clone()).or_default();
                advance(
                    row,
                    WorkflowStatus {
                        name: "succeeded",
                        rank: 4,
                        position,
                        finished_at,
                        phase: Some("Succeeded".to_owned()),
                        message: None,
                    },
                );
            }
            DomainEvent::WorkflowFailed(event) => {
                let finished_at = event.finished_at.as_deref().map(rfc3339).transpose().map_err(fail)?;
                let row = self.workflows.entry(event.workflow_id.clone()).or_default();
                advance(
                    row,
                    WorkflowStatus {
                        name: "failed",
                        rank: 4,
                        position,
                        finished_at,
                        phase: Some(event.phase.clone()),
                        message: event.message.clone(),
                    },
                );
            }
            DomainEvent::MessageDeadLettered(event) => {
                let to_json = |payload: &DeadLetterPayload| serde_json::to_value(payload).unwrap_or(Value::Null);
                self.dead_letters.insert(
                    (event.topic.clone(), event.partition, event.offset),
                    DeadLetterRow {
                        reason_code: event.reason_code.clone(),
                        reason: event.reason.clone(),
                        attempts: i32::try_from(event.attempts).unwrap_or(i32::MAX),
                        key: event.key.as_ref().map(to_json),
                        payload: to_json(&event.payload),
                        at,
                        position,
                    },
                );
            }
            DomainEvent::DeadLetterRedriven(event) => {
                self.dead_letter_statuses
                    .insert((event.topic.clone(), event.partition, event.offset), ("redriven", position));
            }
            DomainEvent::DeadLetterDiscarded(event) => {
                self.dead_letter_statuses
                    .insert((event.topic.clone(), event.partition, event.offset), ("discarded", position));
            }
            DomainEvent::AdviserRunRecorded(event) => self.add_adviser_run(event, position, at).map_err(fail)?,
            DomainEvent::AdviserParked(event) => {
                let unresolved = serde_json::to_value(&event.unresolved).unwrap_or(Value::Null);
                self.parked.entry(event.adviser_document_id.clone()).or_default().parked =
                    Some(Parking { position, at, unresolved, solver_name: event.solver_name.clone() });
            }
            DomainEvent::AdviserReRunRequested(event) => {
                self.parked.entry(event.adviser_document_id.clone()).or_default().re_run =
                    Some((position, at, event.re_run_job_id.clone()));
            }
            DomainEvent::LearningMessageQueued(event) => {
                let first_at = self.learning.get(&event.finding).map_or(at, |known| known.first_at);
                self.learning.insert(
                    event.finding.clone(),
                    LearningRow {
                        driver: event.driver.clone(),
                        topic: event.topic.clone(),
                        reason: event.reason.clone(),
                        attempt: i32::try_from(event.attempt).unwrap_or(i32::MAX),
                        first_at,
                        at,
                        position,
                    },
                );
            }
            DomainEvent::LearningThrottleChanged(event) => {
                self.throttles.insert(event.driver.clone(), (event.clone(), position, at));
            }
            DomainEvent::ConsumerOffsetReset(event) => {
                self.offset_resets.insert(position, (event.clone(), at));
            }
        }
        Ok(())
    }

    fn add_adviser_run(&mut self, event: &AdviserRunRecorded, position: i64, at: DateTime<Utc>) -> Result<(), String> {
        let run = ids::adviser_run(&event.adviser_document_id);
        self.adviser_runs.insert(
            run,
            AdviserRunRow {
                document_id: event.adviser_document_id.clone(),
                datetime: naive_datetime(&event.datetime)?,
                adviser_version: event.adviser_version.clone(),
                adviser_name: event.adviser_name.clone(),
                source_type: event.source_type.clone(),
                origin: event.origin.clone(),
                recommendation_type: event.recommendation_type.clone(),
                re_run_adviser_id: event.re_run_adviser_id.clone(),
                error: event.error,
                error_msg: event.error_msg.clone(),
                need_re_run: event.error && !event.unresolved.is_empty(),
                parameters: Value::Object(event.parameters.clone()),
                runtime_environment: Value::Object(event.runtime_environment.clone()),
                position,
            },
        );
        for name in &event.unresolved {
            let entity = self.entity(name, None, None, at);
            self.unresolved_links.insert((run, entity));
        }
        // Thoth's rule: a re-run that left nothing unresolved settles the run it re-ran.
        if let Some(original) = &event.re_run_adviser_id
            && event.unresolved.is_empty()
        {
            self.parked.entry(original.clone()).or_default().resolved =
                Some((position, event.adviser_document_id.clone()));
        }
        Ok(())
    }

    fn index(&mut self, url: &str) -> &mut IndexRow {
        self.indexes.entry(ids::index(url)).or_insert_with(|| IndexRow {
            url: url.to_owned(),
            registration: None,
            enabled: None,
            updated: None,
        })
    }

    /// The index's id; the row is created (disabled, unregistered) if the graph lacks it.
    fn index_id(&mut self, url: &str) -> i64 {
        self.index(url);
        ids::index(url)
    }

    fn set_enabled(&mut self, url: &str, enabled: bool, position: i64, at: DateTime<Utc>) {
        let index = self.index(url);
        index.enabled = Some((enabled, position));
        index.updated = Some((position, at));
    }

    /// The entity's id; the row (and its index) is created if the graph lacks it.
    fn entity(&mut self, name: &str, version: Option<&str>, index_url: Option<&str>, at: DateTime<Utc>) -> i64 {
        let index_id = index_url.map(|url| self.index_id(url));
        let id = ids::entity(name, version, index_url);
        self.entities.entry(id).or_insert_with(|| EntityRow {
            package_name: name.to_owned(),
            package_version: version.map(str::to_owned),
            index_id,
            first_seen_at: at,
            missing_position: 0,
            present_position: 0,
            source_distro: None,
        });
        id
    }

    fn indexed_entity(&mut self, name: &str, version: &str, index_url: &str, at: DateTime<Utc>) -> i64 {
        self.entity(name, Some(version), Some(index_url), at)
    }

    fn entity_mut(&mut self, id: i64) -> &mut EntityRow {
        // Only called with ids `entity` just returned.
        self.entities.get_mut(&id).unwrap_or_else(|| unreachable!("entity {id} was added first"))
    }

    fn artifact(&mut self, entity: i64, sha256: &str) -> &mut ArtifactRow {
        let sha256 = sha256.trim().to_ascii_lowercase();
        let id = ids::artifact(&sha256);
        self.has_artifact.insert((entity, id));
        self.artifacts.entry(id).or_insert_with(|| ArtifactRow { sha256, seen_position: 0, absent_position: 0 })
    }
}

fn set_once<T: Clone>(slot: &mut Option<T>, value: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(value);
    }
}

fn advance(row: &mut WorkflowRow, status: WorkflowStatus) {
    if status.is_further_than(&row.status) {
        row.status = status;
    }
}

fn counters(counters: &SecurityIndicatorCounters) -> [i32; 25] {
    let c = counters;
    [
        c.severity_high_confidence_high,
        c.severity_high_confidence_low,
        c.severity_high_confidence_medium,
        c.severity_high_confidence_undefined,
        c.severity_low_confidence_high,
        c.severity_low_confidence_low,
        c.severity_low_confidence_medium,
        c.severity_low_confidence_undefined,
        c.severity_medium_confidence_high,
        c.severity_medium_confidence_low,
        c.severity_medium_confidence_medium,
        c.severity_medium_confidence_undefined,
        c.number_of_analyzed_files,
        c.number_of_files_total,
        c.number_of_files_with_severities,
        c.number_of_filtered_files,
        c.number_of_python_files,
        c.number_of_lines_with_comments_in_python_files,
        c.number_of_blank_lines_in_python_files,
        c.number_of_lines_with_code_in_python_files,
        c.total_number_of_files,
        c.total_number_of_lines,
        c.total_number_of_lines_with_comments,
        c.total_number_of_blank_lines,
        c.total_number_of_lines_with_code,
    ]
}

/// Thoth's naive timestamps (`2021-07-13T01:02:53.123456`).
pub(crate) fn naive_datetime(text: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|_| format!("'{text}' is not a timestamp such as 2021-07-13T01:02:53.123456"))
}

fn rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|datetime| datetime.with_timezone(&Utc))
        .map_err(|_| format!("'{text}' is not an RFC 3339 timestamp"))
}

/// The solver's tree entry as `/python/package/version/metadata` serves it: the document's
/// shape, without `sha256` and `package_version_requested`.
pub(crate) fn solver_entry(package: &SolvedPackage) -> Value {
    let license = package.license.as_ref().map(|license| {
        json!({
            "license": {"full_name": license.name, "identifier_spdx": license.identifier},
            "license_version": license.version,
            "warning": license.warning,
        })
    });
    json!({
        "package_name": package.package_name,
        "package_version": package.installed_version,
        "index_url": package.index_url,
        "importlib_metadata": package.importlib_metadata,
        "packages": package.imports,
        "package_license": license,
        "dependencies": package.dependencies,
    })
}

#[cfg(test)]
mod tests;
