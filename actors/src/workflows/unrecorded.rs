//! What the watcher of one namespace saw on the cluster and has not recorded yet.
//!
//! A transition is often seen once only: a finished workflow may never change again, and a
//! deleted one is gone, so no relist will show it again. So a transition that could not be
//! recorded (PostgreSQL away, or refusing) waits here, and the whole queue is tried again after
//! a growing wait (200 ms doubling, 30 s at most), for as long as it takes: nothing is dropped
//! but what the log holds already, or a workflow the log never requested.
//!
//! A full list of the namespace is compared with the log (`workflow_outbox::unfinished_in`):
//! what the log says is submitted or running and the list did not show was deleted while no
//! watch was open, and ends as `Deleted`. That comparison waits here too when it cannot run.
//!
//! The queue lives in memory. After a restart, the first list finds again what it held: a
//! workflow still on the cluster shows its transitions, one that is gone is missing from the
//! list. Only the phase a workflow reached before it was deleted is lost that way (recorded
//! as `Deleted`, not as its success).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use investigator_core::workflow_status::{Transition, vanished_transition};
use investigator_events::domain::{DomainEvent, EventMetadata, StreamId};
use investigator_projections::store::{AppendOutcome, AppendRequest, NewEvent};
use investigator_projections::{Database, RecordError, record, workflow_outbox};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::pipeline::metrics::Metrics;

/// The waits between rounds that fail in a row.
const ROUND_BACKOFF: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));

/// A full list of the namespace: where the log stood before the list was asked for, and the
/// workflows it showed.
#[derive(Debug)]
pub(crate) struct CompletedList {
    log_position: i64,
    shown: HashSet<String>,
}

impl CompletedList {
    /// A list asked for when the log's head was at `log_position`.
    pub(crate) fn began_at(log_position: i64) -> Self {
        CompletedList { log_position, shown: HashSet::new() }
    }

    /// The list showed `workflow_id`.
    pub(crate) fn shown(&mut self, workflow_id: &str) {
        self.shown.insert(workflow_id.to_owned());
    }
}

/// The transitions of one workflow still to record, in the order of its life, and how many
/// rounds failed on it (those that fail most go last, so one the database keeps refusing does
/// not hold the others back).
#[derive(Debug, Default)]
struct Waiting {
    transitions: BTreeMap<Transition, DomainEvent>,
    failed_rounds: u32,
}

/// Why a workflow's transitions were not all recorded.
#[derive(Debug, thiserror::Error)]
enum Unrecordable {
    #[error("the workflow's status could not be read")]
    Status(#[source] tokio_postgres::Error),
    #[error("no connection to read the workflow's status")]
    Connection(#[source] investigator_projections::DatabaseError),
    #[error("the transition could not be recorded")]
    Record(#[source] RecordError),
}

/// The watcher's queue of observations not recorded yet, for one namespace.
#[derive(Debug)]
pub(crate) struct Unrecorded {
    namespace: String,
    workflows: BTreeMap<String, Waiting>,
    lists: Vec<CompletedList>,
    /// Rounds failed in a row, without progress.
    failed_rounds: u32,
    retry_at: Option<Instant>,
}

impl Unrecorded {
    /// An empty queue for `namespace`.
    pub(crate) fn new(namespace: &str) -> Self {
        Unrecorded {
            namespace: namespace.to_owned(),
            workflows: BTreeMap::new(),
            lists: Vec::new(),
            failed_rounds: 0,
            retry_at: None,
        }
    }

    /// When the queue is to be tried again; `None` while it is empty.
    pub(crate) fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Records `transitions` of `workflow_id` (what one observation showed), or queues what of
    /// them could not be recorded. A workflow queued already gets them queued behind its
    /// earlier ones, so that its transitions are recorded in the order of its life.
    pub(crate) async fn observe(
        &mut self,
        database: &Database,
        metrics: &Metrics,
        workflow_id: &str,
        transitions: Vec<(Transition, DomainEvent)>,
    ) {
        if transitions.is_empty() {
            return;
        }
        if let Some(waiting) = self.workflows.get_mut(workflow_id) {
            for (transition, event) in transitions {
                // The first observation of a transition wins, as it would have had it been
                // recorded at once (its idempotency key keeps the first).
                waiting.transitions.entry(transition).or_insert(event);
            }
            self.publish_size(metrics);
            return;
        }
        let mut waiting = Waiting { transitions: transitions.into_iter().collect(), failed_rounds: 0 };
        if let Err(error) = record_workflow(database, metrics, workflow_id, &mut waiting.transitions).await {
            tracing::warn!(namespace = %self.namespace, workflow = workflow_id, error = %error_chain(&error),
                           "a workflow transition could not be recorded; it waits and is tried again");
            self.workflows.insert(workflow_id.to_owned(), waiting);
            self.retry_at.get_or_insert_with(|| Instant::now() + ROUND_BACKOFF.after(self.failed_rounds + 1));
        }
        self.publish_size(metrics);
    }

    /// Compares a full list of the namespace with the log, now or, when the log cannot be
    /// read, in a later round: the workflows it should have shown and did not end as deleted.
    pub(crate) async fn list_completed(&mut self, database: &Database, metrics: &Metrics, list: CompletedList) {
        self.lists.push(list);
        if self.retry_at.is_none() {
            self.retry(database, metrics).await;
        }
    }

    /// One round: the lists waiting, then every queued workflow, the least failed first; the
    /// round stops at the first failure (when PostgreSQL is away, one attempt tells).
    pub(crate) async fn retry(&mut self, database: &Database, metrics: &Metrics) {
        let queued_before = self.size();
        let failure = self.round(database, metrics).await;
        let progressed = self.size() < queued_before;
        match failure {
            None => {
                self.failed_rounds = 0;
                self.retry_at = None;
            }
            Some(error) => {
                self.failed_rounds = if progressed { 1 } else { self.failed_rounds + 1 };
                let wait = ROUND_BACKOFF.after(self.failed_rounds);
                self.retry_at = Some(Instant::now() + wait);
                tracing::warn!(namespace = %self.namespace, waiting = self.size(), retry_in_ms = wait.as_millis(),
                               error = %error, "workflow transitions still not recorded; trying again");
            }
        }
        self.publish_size(metrics);
    }

    /// Tries what is queued; the error that stopped the round, if one did.
    async fn round(&mut self, database: &Database, metrics: &Metrics) -> Option<String> {
        while let Some(list) = self.lists.first() {
            match missing_from(database, &self.namespace, list).await {
                Ok(missing) => {
                    self.lists.remove(0);
                    for workflow_id in missing {
                        tracing::warn!(namespace = %self.namespace, workflow = %workflow_id,
                                       "a submitted workflow is gone from the cluster; it ends as deleted");
                        let (transition, event) = vanished_transition(&workflow_id);
                        let waiting = self.workflows.entry(workflow_id).or_default();
                        waiting.transitions.entry(transition).or_insert(event);
                    }
                }
                Err(error) => return Some(error_chain(&error)),
            }
        }
        let mut order: Vec<(u32, String)> =
            self.workflows.iter().map(|(workflow_id, waiting)| (waiting.failed_rounds, workflow_id.clone())).collect();
        order.sort();
        for (_, workflow_id) in order {
            let Some(waiting) = self.workflows.get_mut(&workflow_id) else {
                continue;
            };
            match record_workflow(database, metrics, &workflow_id, &mut waiting.transitions).await {
                Ok(()) => {
                    self.workflows.remove(&workflow_id);
                }
                Err(error) => {
                    waiting.failed_rounds = waiting.failed_rounds.saturating_add(1);
                    return Some(format!("{}: {}", workflow_id, error_chain(&error)));
                }
            }
        }
        None
    }

    /// Transitions and lists waiting.
    fn size(&self) -> usize {
        self.lists.len() + self.workflows.values().map(|waiting| waiting.transitions.len()).sum::<usize>()
    }

    fn publish_size(&self, metrics: &Metrics) {
        let size = i64::try_from(self.size()).unwrap_or(i64::MAX);
        metrics.observations_unrecorded.with_label_values(&[&self.namespace]).set(size);
    }
}

/// The workflows `list` should have shown and did not.
async fn missing_from(database: &Database, namespace: &str, list: &CompletedList) -> Result<Vec<String>, Unrecordable> {
    let mut connection = database.connection().await.map_err(Unrecordable::Connection)?;
    let client = connection.read().await.map_err(Unrecordable::Status)?;
    let expected =
        workflow_outbox::unfinished_in(&client, namespace, list.log_position).await.map_err(Unrecordable::Status)?;
    Ok(expected.into_iter().filter(|workflow_id| !list.shown.contains(workflow_id)).collect())
}

/// Records, in order, the transitions of `workflow_id` the log does not hold yet, removing
/// each from `transitions` once recorded (or once the log is found past it).
async fn record_workflow(
    database: &Database,
    metrics: &Metrics,
    workflow_id: &str,
    transitions: &mut BTreeMap<Transition, DomainEvent>,
) -> Result<(), Unrecordable> {
    let known = {
        let mut connection = database.connection().await.map_err(Unrecordable::Connection)?;
        let client = connection.read().await.map_err(Unrecordable::Status)?;
        workflow_outbox::status(&client, workflow_id).await.map_err(Unrecordable::Status)?
    };
    let Some(known) = known else {
        tracing::warn!(workflow = workflow_id, "a workflow with our label that the log never requested; ignored");
        transitions.clear();
        return Ok(());
    };
    while let Some((transition, event)) = transitions.pop_first() {
        if transition.reached_by(&known) {
            continue;
        }
        let event_type = event.event_type().name();
        let request = AppendRequest {
            idempotency_key: Some(transition.key(workflow_id)),
            expected: Vec::new(),
            events: vec![NewEvent {
                stream: StreamId::workflow(workflow_id),
                event: event.clone(),
                metadata: EventMetadata {
                    causation_id: Some(format!("workflow:{workflow_id}")),
                    correlation_id: Some(format!("workflow:{workflow_id}")),
                    origin: Some("watcher".to_owned()),
                    ..EventMetadata::default()
                },
            }],
        };
        match record(database, request).await {
            Ok(AppendOutcome::Appended(_)) => {
                metrics.workflow_transitions.with_label_values(&[event_type]).inc();
                metrics.events_appended.with_label_values(&[event_type]).inc();
                tracing::info!(workflow = workflow_id, event = event_type, "workflow transition recorded");
            }
            Ok(AppendOutcome::AlreadyAppended { .. }) => {}
            Err(error) => {
                transitions.insert(transition, event);
                return Err(Unrecordable::Record(error));
            }
        }
    }
    Ok(())
}

/// `error` and its causes, `: `-separated, with PostgreSQL's SQLSTATE, for one log field.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    investigator_projections::fault::describe(error)
}
