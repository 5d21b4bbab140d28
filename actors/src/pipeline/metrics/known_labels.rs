//! The label values a service knows at start, and the series they give, set to zero before
//! any traffic so that rates, `increase` and alerts work from the first scrape.

use investigator_core::decide::{Rule, rules_for};
use investigator_core::learning::Driver;
use investigator_events::domain::{EventType, WorkflowKind};
use investigator_events::thoth::{ConsumerMode, MessageKind, TopicNaming};

use super::Metrics;
use crate::pipeline::batch::{Phase, RecordWaits};
use crate::pipeline::positioning::OffsetResetPolicy;

impl Metrics {
    /// Sets every series whose label values are known at start to zero, so that rates,
    /// `increase` and alerts work from the first scrape (Prometheus' guidance on labelled
    /// metrics; Thoth created its per-type series at start too). Series whose labels only
    /// traffic tells (partitions, versions a producer invents) appear when it comes.
    pub fn initialise(&self, known: &KnownLabels<'_>) {
        let consumed: Vec<(MessageKind, String)> = known
            .naming
            .all_topics()
            .into_iter()
            .filter(|(kind, _)| !rules_for(*kind, known.modes).is_empty())
            .collect();
        for (kind, topic) in &consumed {
            let label = handler_label(*kind);
            self.processed.with_label_values(&[&label]);
            self.exceptions.with_label_values(&[&label]);
            self.in_progress.with_label_values(&[&label]);
            self.failures.with_label_values(&[&kind.short_type()]);
            self.halted_topics.with_label_values(&[kind.base_name()]).set(0);
            for reason_code in DEAD_LETTER_REASONS {
                self.dead_letters.with_label_values(&[topic, reason_code]);
            }
            for policy in OffsetResetPolicy::NAMES {
                self.offset_resets.with_label_values(&[topic, policy]);
            }
            if known.modes.contains(&ConsumerMode::Metrics) {
                self.message_count_by_version.with_label_values(&[&kind.short_type(), kind.spec().current_version]);
            }
            let schedules = rules_for(*kind, known.modes).iter().any(|handler| SCHEDULING_HANDLERS.contains(handler));
            if schedules {
                for workflow in COUNTED_WORKFLOWS {
                    self.scheduled_workflows.with_label_values(&[kind.base_name(), workflow.name()]);
                }
            }
        }
        for outcome in ["applied", "duplicate"] {
            self.records.with_label_values(&[outcome]);
        }
        for phase in Phase::ALL {
            self.batch_phase_seconds.with_label_values(&[phase.name()]);
        }
        for since in RecordWaits::SINCE {
            self.record_wait_seconds.with_label_values(&[since]);
        }
        for handler in known.handlers {
            self.handler_restarts.with_label_values(&[&format!("{handler:?}")]);
        }
        self.initialise_api();
        for component in known.components {
            self.degraded.with_label_values(&[component]).set(0);
        }
        for event_type in [EventType::WorkflowStarted, EventType::WorkflowSucceeded, EventType::WorkflowFailed] {
            self.workflow_transitions.with_label_values(&[event_type.name()]);
        }
        for kind in WorkflowKind::ALL {
            for outcome in LAUNCH_OUTCOMES {
                self.workflow_launches.with_label_values(&[kind.name(), outcome]);
            }
        }
        for namespace in known.namespaces {
            self.workflows_waiting.with_label_values(&[namespace]).set(0);
            self.watch_errors.with_label_values(&[namespace]);
            self.observations_unrecorded.with_label_values(&[namespace]).set(0);
            for missing in ["namespace", "workflows-resource"] {
                self.workflow_not_found.with_label_values(&[namespace, missing]);
            }
        }
        for driver in Driver::ALL {
            for outcome in ["ok", "throttled", "failed"] {
                self.learning_rounds.with_label_values(&[driver.name(), outcome]);
            }
            self.learning_queued.with_label_values(&[driver.name()]);
            self.learning_throttled.with_label_values(&[driver.name()]).set(0);
        }
    }

    /// Sets the series of what the REST API updates to zero: its cache's outcomes, and the
    /// events its writes append, of every type (an uploaded document's, an index's, a dead
    /// letter redriven or discarded). All that `serve --api-only` initialises: such a replica
    /// consumes no topic and holds no duty, so the consumers' and the duties' series would be
    /// zeros it never moves (and a halted-topics series would claim topics it does not
    /// consume); the dashboards' sums and maxima over replicas take those from the replicas
    /// that run them.
    pub fn initialise_api(&self) {
        for outcome in ["hit", "miss", "bypass"] {
            self.api_cache.with_label_values(&[outcome]);
        }
        for event_type in EventType::ALL {
            self.events_appended.with_label_values(&[event_type.name()]);
        }
    }
}

/// What a running service knows at start about the label values its series will take.
#[derive(Debug, Clone, Copy)]
pub struct KnownLabels<'a> {
    /// The deployment's topics.
    pub naming: &'a TopicNaming,
    /// The modes consumed: which topics, handlers and counters are in use.
    pub modes: &'a [ConsumerMode],
    /// The handler actors started.
    pub handlers: &'a [Rule],
    /// The namespaces workflows go to.
    pub namespaces: &'a [&'a str],
    /// The parts that report an outage (`investigator_degraded{component}`).
    pub components: &'a [&'a str],
}

/// Every `reason_code` a dead letter is recorded with (a record failing several handlers
/// joins theirs with commas; those combinations appear when they happen).
pub const DEAD_LETTER_REASONS: [&str; 12] = [
    "unknown_topic",
    "empty_record",
    "malformed_json",
    "not_an_object",
    "missing_field",
    "duplicate_field",
    "invalid_value",
    "unknown_schema_version",
    "unregistered_index",
    "invalid_field",
    "handler_failed",
    "unrecordable",
];

/// `investigator_workflow_launches_total`'s outcomes.
const LAUNCH_OUTCOMES: [&str; 5] = ["created", "already_existed", "logged", "retried", "refused"];

/// The workflows Thoth's `scheduled_workflows` counts (user-triggered ones are not).
pub const COUNTED_WORKFLOWS: [WorkflowKind; 4] = [
    WorkflowKind::Solver,
    WorkflowKind::SecurityIndicator,
    WorkflowKind::Revsolver,
    WorkflowKind::KebechetAdministrator,
];

/// The handlers that request the workflows of [`COUNTED_WORKFLOWS`].
const SCHEDULING_HANDLERS: [Rule; 3] =
    [Rule::SolverScheduler, Rule::SecurityIndicatorScheduler, Rule::MissingVersionFlagger];

/// Thoth's `message_type` label of the processed and exceptions counters: the short type,
/// except for three handlers that use a name of their own.
pub fn handler_label(kind: investigator_events::thoth::MessageKind) -> String {
    use investigator_events::thoth::MessageKind as K;
    match kind {
        K::MissingVersion => "missing_version".to_owned(),
        K::ThothRepoInit => "thoth_repo_init".to_owned(),
        K::UpdateProvidesSourceDistro => "update_provide_source_distro".to_owned(),
        kind => kind.short_type(),
    }
}
