//! What the router does with one batch of records, in ONE PostgreSQL transaction:
//!
//! 1. lock the offset rows of the batch's partitions and drop records already applied
//!    ([`prepare`]); decode and validate the rest;
//! 2. read the knowledge the batch needs, in the same transaction;
//! 3. let the handler actors decide ([`decisions`]), retrying handlers that panic;
//! 4. turn decisions into events, failures into dead letters or halts ([`assemble`]);
//! 5. append and project the events, advance the offsets, commit.
//!
//! Whatever crashes, a record's effects and the offset past it commit together or not at
//! all, and a record below the stored offset is never applied again.

mod assemble;
mod decisions;
mod prepare;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use investigator_core::decide::{KnowledgeKeys, MessageOrigin, VersionListing, VersionSource};
use investigator_projections::offsets::{TopicPartition, advance_offsets, lock_offsets};
use investigator_projections::store::AppendRequest;
use investigator_projections::{Database, DatabaseError, RecordError, load_knowledge, record_in};

pub use decisions::HandlerAddresses;

use super::control::Control;
use super::dead_letter::DeadLetter;
use super::handler::DecideItem;
use super::listing::VersionLister;
use super::metrics::Metrics;
use super::{InboundRecord, PipelineSettings};
use prepare::{Prepared, filter_applied, prepare};

/// What the batch needs besides its records.
#[derive(Clone)]
pub struct BatchContext {
    /// The database.
    pub database: Database,
    /// The pipeline's settings.
    pub settings: Arc<PipelineSettings>,
    /// The handler actors.
    pub handlers: Arc<HandlerAddresses>,
    /// Metrics.
    pub metrics: Metrics,
    /// Halted topics.
    pub control: Control,
    /// Asks indexes for the versions of a package (`None`: the graph's versions only).
    pub lister: Option<Arc<VersionLister>>,
}

/// What became of a batch, for the consumer.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// The partitions' next offsets after the commit (commit them to Kafka for lag tools).
    pub next_offsets: Vec<(TopicPartition, i64)>,
    /// Partitions whose records from this offset on were not applied: seek back there
    /// (now, or when the topic resumes if it is halted).
    pub rewind: Vec<(TopicPartition, i64)>,
    /// Dead letters recorded, to copy to the dead-letter topic.
    pub dead_letters: Vec<DeadLetter>,
    /// Records applied.
    pub applied: usize,
    /// Records skipped because they were applied before (redelivered).
    pub duplicates: usize,
    /// Events recorded.
    pub events: usize,
}

/// Why a batch could not be recorded. Nothing of it was: the transaction rolled back, and
/// the same records can be sent again.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// No connection to PostgreSQL.
    #[error(transparent)]
    Connection(#[from] DatabaseError),
    /// A statement failed.
    #[error("the batch transaction failed")]
    Database(#[from] tokio_postgres::Error),
    /// Appending or projecting failed.
    #[error(transparent)]
    Record(#[from] RecordError),
}

impl BatchError {
    /// Whether trying again later may succeed (the database is down, restarting, or the
    /// transaction lost a race), as opposed to a fault in the data itself.
    pub fn is_transient(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = cause {
            if let Some(postgres) = error.downcast_ref::<tokio_postgres::Error>() {
                return match postgres.code() {
                    None => true,
                    Some(code) => ["08", "40", "53", "57"].iter().any(|class| code.code().starts_with(class)),
                };
            }
            if error.downcast_ref::<DatabaseError>().is_some() {
                return true;
            }
            cause = error.source();
        }
        false
    }
}

/// Processes one batch. `log_start` gives, for partitions whose stored offset the log no longer
/// holds (retention), the offset it starts at now: a gap up to there is the log's own.
pub async fn process_batch(
    context: &BatchContext,
    records: &[InboundRecord],
    log_start: &HashMap<TopicPartition, i64>,
) -> Result<BatchOutcome, BatchError> {
    process(context, records, log_start, None).await
}

/// Records `records` (one, in practice) as dead letters: their effects were refused by the
/// database with `reason`, which retrying will not change.
pub async fn process_batch_with_poison(
    context: &BatchContext,
    records: &[InboundRecord],
    log_start: &HashMap<TopicPartition, i64>,
    reason: &str,
) -> Result<BatchOutcome, BatchError> {
    process(context, records, log_start, Some(reason)).await
}

/// What the batch's unresolved-package messages ask to be listed (the only messages that do).
fn listing_keys(records: &[InboundRecord], naming: &investigator_events::thoth::TopicNaming) -> KnowledgeKeys {
    let mut keys = KnowledgeKeys::default();
    for record in records {
        if naming.kind_of_topic(&record.topic) == Some(investigator_events::thoth::MessageKind::UnresolvedPackage)
            && let Some(payload) = record.payload.as_deref()
            && let Ok(message) = investigator_events::thoth::ThothMessage::decode(
                investigator_events::thoth::MessageKind::UnresolvedPackage,
                payload,
            )
        {
            keys.add(&message);
        }
    }
    keys
}

/// The versions the indexes list for the batch's `null`/`*` messages, asked all at once;
/// those that could not be asked are left out (the graph's versions are used for them).
async fn list_versions(lister: Option<&VersionLister>, keys: &KnowledgeKeys) -> Vec<((String, String), Vec<String>)> {
    let Some(lister) = lister else { return Vec::new() };
    let requests = keys.listings.iter().map(|(name, index)| async move {
        lister.list(name, index).await.map(|versions| ((name.clone(), index.clone()), versions))
    });
    futures_util::future::join_all(requests).await.into_iter().flatten().collect()
}

/// An error and its causes, on one line.
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

impl BatchOutcome {
    /// Adds a later outcome of the same records' partitions.
    pub fn merge(&mut self, later: BatchOutcome) {
        for (partition, next) in later.next_offsets {
            self.next_offsets.retain(|(known, _)| *known != partition);
            self.next_offsets.push((partition, next));
        }
        for (partition, offset) in later.rewind {
            if !self.rewind.iter().any(|(known, _)| *known == partition) {
                self.rewind.push((partition, offset));
            }
        }
        self.dead_letters.extend(later.dead_letters);
        self.applied += later.applied;
        self.duplicates += later.duplicates;
        self.events += later.events;
    }
}

async fn process(
    context: &BatchContext,
    records: &[InboundRecord],
    log_start: &HashMap<TopicPartition, i64>,
    poison: Option<&str>,
) -> Result<BatchOutcome, BatchError> {
    let started = Instant::now();
    let settings = &context.settings;
    // Indexes are asked before the transaction opens, so a slow one holds no row lock.
    let listings = list_versions(context.lister.as_deref(), &listing_keys(records, &settings.naming)).await;
    let mut client = context.database.connection().await?;
    let transaction = client.transaction().await?;

    let mut firsts: Vec<(TopicPartition, i64)> = Vec::new();
    for record in records {
        let partition = record.topic_partition();
        if !firsts.iter().any(|(known, _)| *known == partition) {
            firsts.push((partition, record.offset));
        }
    }
    let stored = lock_offsets(&transaction, &settings.consumer_group, &firsts).await?;
    let locked_at = started.elapsed();
    let filtered = filter_applied(records, &stored, log_start);
    let mut outcome =
        BatchOutcome { duplicates: filtered.duplicates, rewind: filtered.rewind, ..BatchOutcome::default() };

    let mut prepared: Vec<Prepared> = Vec::with_capacity(filtered.kept.len());
    for record in filtered.kept {
        if context.control.is_halted(&record.topic) {
            let partition = record.topic_partition();
            if !outcome.rewind.iter().any(|(known, _)| *known == partition) {
                outcome.rewind.push((partition, record.offset));
            }
            continue;
        }
        prepared.push(match poison {
            Some(reason) => Prepared::DeadLetter(DeadLetter {
                record,
                reason_code: "unrecordable".to_owned(),
                reason: format!("the database refused this message's effects: {reason}"),
                attempts: 1,
            }),
            None => prepare(record, &settings.naming, &settings.modes),
        });
    }

    let mut keys = KnowledgeKeys::default();
    let mut items = Vec::new();
    for (index, item) in prepared.iter().enumerate() {
        if let Prepared::Message { record, message, handlers } = item {
            keys.add(message);
            let origin =
                MessageOrigin { topic: record.topic.clone(), partition: record.partition, offset: record.offset };
            for handler in handlers {
                items.push((*handler, DecideItem { index, message: Arc::clone(message), origin: origin.clone() }));
            }
        }
    }
    let prepared_at = started.elapsed();
    let mut knowledge = load_knowledge(&transaction, &keys).await?;
    for ((name, index), versions) in listings {
        knowledge.insert_listing(&name, &index, VersionListing { versions, source: VersionSource::Index });
    }
    let knowledge_at = started.elapsed();
    let decided = decisions::decide_all(items, knowledge, &context.handlers, settings, &context.metrics).await;
    let decided_at = started.elapsed();
    let assembled = assemble::assemble(prepared, decided, settings, &context.control, &context.metrics);

    for (partition, offset) in &assembled.halted {
        outcome.rewind.push((partition.clone(), *offset));
    }
    outcome.events = assembled.events.len();
    let mut appended: BTreeMap<&'static str, u64> = BTreeMap::new();
    for event in &assembled.events {
        *appended.entry(event.event.event_type().name()).or_default() += 1;
    }
    if !assembled.events.is_empty() {
        record_in(
            &transaction,
            AppendRequest { idempotency_key: None, expected: Vec::new(), events: assembled.events },
        )
        .await?;
    }
    if !assembled.secrets.is_empty() {
        investigator_projections::workflow_secrets::store(&transaction, &assembled.secrets).await?;
    }
    let mut next_offsets: Vec<(TopicPartition, i64)> = assembled.next_offsets.into_iter().collect();
    for (partition, offset) in &assembled.halted {
        if !next_offsets.iter().any(|(known, _)| known == partition) {
            next_offsets.push((partition.clone(), *offset));
        }
    }
    let recorded_at = started.elapsed();
    advance_offsets(&transaction, &settings.consumer_group, &next_offsets).await?;
    transaction.commit().await?;
    tracing::debug!(
        records = records.len(),
        events = outcome.events,
        lock_ms = locked_at.as_millis() as u64,
        prepare_ms = (prepared_at - locked_at).as_millis() as u64,
        knowledge_ms = (knowledge_at - prepared_at).as_millis() as u64,
        decide_ms = (decided_at - knowledge_at).as_millis() as u64,
        record_ms = (recorded_at - decided_at).as_millis() as u64,
        commit_ms = (started.elapsed() - recorded_at).as_millis() as u64,
        "batch committed"
    );

    for (partition, next) in &next_offsets {
        context
            .metrics
            .partition_offsets
            .with_label_values(&[&partition.topic, &partition.partition.to_string()])
            .set(next - 1);
    }
    for (event_type, count) in appended {
        context.metrics.events_appended.with_label_values(&[event_type]).inc_by(count);
    }
    context.metrics.batches.inc();
    context.metrics.batch_seconds.observe(started.elapsed().as_secs_f64());
    context.metrics.records.with_label_values(&["applied"]).inc_by(assembled.applied as u64);
    context.metrics.records.with_label_values(&["duplicate"]).inc_by(outcome.duplicates as u64);
    outcome.applied = assembled.applied;
    outcome.next_offsets = next_offsets;
    outcome.dead_letters = assembled.dead_letters;
    Ok(outcome)
}
