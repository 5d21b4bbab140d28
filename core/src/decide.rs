//! The investigator's decisions: a Thoth message plus the current knowledge becomes the domain
//! events to append (knowledge changes and workflow requests). Pure: the caller loads the
//! [`Knowledge`] a batch needs before deciding, and folds each decision back into it
//! ([`Knowledge::observe`]) so that later messages of the same batch see earlier effects.
//!
//! One file per handler (`solver_scheduler`, `security_scheduler`, `adviser_retry`,
//! `missing_version_flagger`, `user_workflows`); `fields` checks and normalises a message's
//! identities, `workflow_id` names workflows deterministically, `parameters` and
//! `user_parameters` give Thoth's template parameters, `draft` collects a decision and keeps
//! it from asking for one workflow twice.

mod adviser_retry;
mod draft;
mod fields;
mod knowledge;
mod learning;
mod missing_version_flagger;
mod parameters;
mod security_scheduler;
mod settings;
mod solver_scheduler;
mod user_parameters;
mod user_workflows;
mod version_request;
mod workflow_id;

#[cfg(test)]
mod test_support;

pub use knowledge::{
    Knowledge, KnowledgeKeys, ParkedAdviser, PendingWorkflow, VersionListing, VersionSource, normalize_index,
    normalize_version,
};
pub use settings::DecisionSettings;

use investigator_events::domain::{DomainEvent, StreamId};
use investigator_events::thoth::{ConsumerMode, MessageKind, ThothMessage};

use draft::DecisionDraft;

/// A decision rule: which of the investigator's jobs applies to a message kind in a consumer
/// mode ([`rules_for`]). Thoth's investigator calls each one a handler, and so do the
/// operator-facing names: the `handler` label of the metrics, `INVESTIGATOR_INJECT_PANIC`.
/// Each runs in an actor of its own (`investigator_actors::pipeline::rule_actor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// unresolved-package, package-released, unrevsolved-package, hash-mismatch (middletier part).
    SolverScheduler,
    /// solved-package (security indicator and kebechet-administrator), si-unanalyzed-package.
    SecurityIndicatorScheduler,
    /// solved-package: re-runs parked advisers whose packages are now solved.
    AdviserRetry,
    /// missing-package, missing-package-version, update-provides-source-distro, cve-provided,
    /// hash-mismatch (backend part): graph flags and kebechet-administrator.
    MissingVersionFlagger,
    /// The user-triggered workflows: adviser, provenance-checker, package-extract, kebechet,
    /// kebechet-run-url, build-analysis, graph-sync (inspection-completed), repo-init.
    UserWorkflowScheduler,
    /// Counts every message (metrics mode); decides nothing.
    Metrics,
}

/// Where a message came from: the Kafka record's coordinates. Workflow names and event
/// causation derive from them, so processing the same record twice decides the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageOrigin {
    /// The full topic name.
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// When the record was published, in milliseconds since the epoch: its Kafka timestamp, or
    /// its time on the embedded bus; `None` when the broker gave none. The names of the
    /// workflows it asks for carry it, as Thoth's names carry their time.
    pub published_at_ms: Option<i64>,
}

/// What a handler decided for one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// The events to append, each with its stream, in order.
    pub events: Vec<(StreamId, DomainEvent)>,
    /// Why things were not done, for logs and metrics (`solver-rhel-8-py38 already solved
    /// flask 2.0.0`...).
    pub skipped: Vec<String>,
    /// Credentials a requested workflow needs (registry passwords). They never go into the
    /// events: the events name the secret, the launcher creates it.
    pub secrets: Vec<WorkflowSecret>,
}

/// Credentials for one workflow, kept out of the event log.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkflowSecret {
    /// The workflow that needs them.
    pub workflow_id: String,
    /// The secret's name, as the workflow's parameters reference it.
    pub name: String,
    /// Key -> value.
    pub data: std::collections::BTreeMap<String, String>,
}

impl std::fmt::Debug for WorkflowSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowSecret")
            .field("workflow_id", &self.workflow_id)
            .field("name", &self.name)
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A message the handler cannot act on: it becomes a dead letter with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The message names an index that is not registered.
    #[error("index '{index_url}' is not registered (register it, or add it to THOTH_INDEXES)")]
    UnregisteredIndex {
        /// The index URL as sent.
        index_url: String,
    },
    /// A field's value is not acceptable.
    #[error("field '{field}': {reason}")]
    InvalidField {
        field: &'static str,
        /// Why.
        reason: String,
    },
}

impl Rejection {
    /// A stable code for dead letters and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::UnregisteredIndex { .. } => "unregistered_index",
            Rejection::InvalidField { .. } => "invalid_field",
        }
    }
}

/// What `handler` decides about `message`, given what is known. A handler given a message
/// it does not handle decides nothing; so does the metrics handler, which only counts.
///
/// Deciding the same record again with the same knowledge gives the same decision, workflow
/// names included (they derive from `origin`), so a redelivered record asks for nothing new.
pub fn decide(
    handler: Rule,
    message: &ThothMessage,
    origin: &MessageOrigin,
    knowledge: &Knowledge,
    settings: &DecisionSettings,
) -> Result<Decision, Rejection> {
    use ThothMessage as M;
    let mut draft = DecisionDraft::new(knowledge, origin, message.kind());
    match (handler, message) {
        (Rule::SolverScheduler, M::UnresolvedPackage(message)) => {
            solver_scheduler::unresolved_package(&mut draft, message, settings)?
        }
        (Rule::SolverScheduler, M::PackageReleased(message)) => {
            solver_scheduler::package_released(&mut draft, message, settings)?
        }
        (Rule::SolverScheduler, M::UnrevsolvedPackage(message)) => {
            solver_scheduler::unrevsolved_package(&mut draft, message, settings)?
        }
        (Rule::SolverScheduler, M::HashMismatch(message)) => {
            solver_scheduler::hash_mismatch(&mut draft, message, settings)?
        }
        (Rule::SecurityIndicatorScheduler, M::SiUnanalyzedPackage(message)) => {
            security_scheduler::si_unanalyzed_package(&mut draft, message, settings)?
        }
        (Rule::SecurityIndicatorScheduler, M::SolvedPackage(message)) => {
            security_scheduler::solved_package(&mut draft, message, settings)?
        }
        (Rule::AdviserRetry, M::SolvedPackage(message)) => {
            adviser_retry::solved_package(&mut draft, message, settings)?
        }
        (Rule::MissingVersionFlagger, M::MissingPackage(message)) => {
            missing_version_flagger::missing_package(&mut draft, message, settings)?
        }
        (Rule::MissingVersionFlagger, M::MissingVersion(message)) => {
            missing_version_flagger::missing_version(&mut draft, message, settings)?
        }
        (Rule::MissingVersionFlagger, M::UpdateProvidesSourceDistro(message)) => {
            missing_version_flagger::update_provides_source_distro(&mut draft, message)?
        }
        (Rule::MissingVersionFlagger, M::CveProvided(message)) => {
            missing_version_flagger::cve_provided(&mut draft, message, settings)?
        }
        (Rule::MissingVersionFlagger, M::HashMismatch(message)) => {
            missing_version_flagger::hash_mismatch(&mut draft, message, settings)?
        }
        (Rule::UserWorkflowScheduler, message) => user_workflows::user_workflow(&mut draft, message, settings)?,
        _ => {}
    }
    Ok(draft.finish())
}

/// The handlers of `kind` under the configured modes, without repeats, in a fixed order.
/// Metrics mode handles every kind.
pub fn rules_for(kind: MessageKind, modes: &[ConsumerMode]) -> Vec<Rule> {
    let mut handlers: Vec<Rule> = Vec::new();
    for mode in modes {
        for handler in rules_in_mode(kind, *mode) {
            if !handlers.contains(handler) {
                handlers.push(*handler);
            }
        }
    }
    handlers.sort();
    handlers
}

fn rules_in_mode(kind: MessageKind, mode: ConsumerMode) -> &'static [Rule] {
    use MessageKind as K;
    use Rule::*;
    match mode {
        ConsumerMode::Metrics => &[Metrics],
        ConsumerMode::Middletier => match kind {
            K::UnresolvedPackage | K::PackageReleased | K::UnrevsolvedPackage | K::HashMismatch => &[SolverScheduler],
            K::SolvedPackage => &[SecurityIndicatorScheduler, AdviserRetry],
            K::SiUnanalyzedPackage => &[SecurityIndicatorScheduler],
            K::UpdateProvidesSourceDistro => &[MissingVersionFlagger],
            K::BuildAnalysisTrigger | K::InspectionCompleted => &[UserWorkflowScheduler],
            _ => &[],
        },
        ConsumerMode::Backend => match kind {
            K::MissingPackage | K::MissingVersion | K::CveProvided | K::HashMismatch => &[MissingVersionFlagger],
            K::AdviserTrigger
            | K::ProvenanceCheckerTrigger
            | K::PackageExtractTrigger
            | K::KebechetTrigger
            | K::KebechetRunUrlTrigger
            | K::ThothRepoInit => &[UserWorkflowScheduler],
            _ => &[],
        },
    }
}

#[cfg(test)]
mod tests;
