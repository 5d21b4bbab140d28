//! What the recorder does with one batch of records, in ONE PostgreSQL transaction:
//!
//! 1. decode and validate every record, and ask the indexes for the versions `null`/`*`
//!    messages name, before the transaction opens ([`prepare`], `listing`);
//! 2. lock the offset rows of the batch's partitions, then the log head, and drop records
//!    already applied;
//! 3. read the knowledge the batch needs, in the same transaction;
//! 4. let the rule actors decide ([`decisions`]), retrying rules that panic;
//! 5. turn decisions into events, failures into dead letters or halts ([`assemble`]);
//! 6. append and project the events, advance the offsets, commit; then apply the halts.
//!
//! `phases::PhaseClock` times each step for the `investigator_batch_phase_seconds` metric.
//!
//! Whatever crashes, a record's effects and the offset past it commit together or not at
//! all, and a record below the stored offset is never applied again. A record whose effects
//! the database refuses as data ([`Fault::Data`]) is recorded on its own as a dead letter by
//! [`record_refused`], a path of its own.

mod assemble;
mod decisions;
mod phases;
mod prepare;

use std::collections::BTreeMap;
use std::sync::Arc;

use investigator_core::decide::{KnowledgeKeys, MessageOrigin, VersionListing, VersionSource};
use investigator_events::excerpt::excerpt;
use investigator_projections::fault::Fault;
use investigator_projections::offsets::{TopicPartition, advance_offsets, lock_offsets};
use investigator_projections::store::{AppendRequest, NewEvent};
use investigator_projections::{
    Connection, Database, DatabaseError, RecordError, Transaction, load_knowledge, record_in_timed,
};

pub use decisions::RuleActors;
pub use phases::{Phase, RecordWaits};

use super::control::Control;
use super::dead_letter::DeadLetter;
use super::listing::VersionLister;
use super::metrics::Metrics;
use super::rule_actor::DecideItem;
use super::{InboundRecord, PipelineSettings};
use assemble::Halt;
use phases::PhaseClock;
use prepare::{Filtered, Prepared, filter_applied, prepare};

/// What the batch needs besides its records.
#[derive(Clone)]
pub struct BatchContext {
    pub database: Database,
    /// The pipeline's settings.
    pub settings: Arc<PipelineSettings>,
    /// The rule actors.
    pub rule_actors: Arc<RuleActors>,
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
    /// Records applied.
    pub applied: usize,
    /// Records skipped because they were applied before (redelivered).
    pub duplicates: usize,
    /// Offsets read past because the log does not hold them.
    pub gaps: u64,
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
    /// Whether the data is at fault (retrying cannot help) or the infrastructure (it can).
    pub fn fault(&self) -> Fault {
        Fault::of(self)
    }
}

/// How much of a refused record its dead letter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// The record's bytes.
    Whole,
    /// Its coordinates and length only: the last resort, when even its bytes were refused.
    CoordinatesOnly,
}

/// Processes one batch.
pub async fn process_batch(context: &BatchContext, records: &[InboundRecord]) -> Result<BatchOutcome, BatchError> {
    let mut clock = PhaseClock::start();
    let waits = RecordWaits::of(records);
    let settings = &context.settings;
    // Every record is decoded once, before the transaction opens (the few the stored offsets
    // then drop were decoded for nothing); indexes are asked then too, so a slow one holds
    // no row lock.
    let mut decoded: Vec<Option<Prepared>> =
        records.iter().map(|record| Some(prepare(record.clone(), &settings.naming, &settings.modes))).collect();
    clock.end(Phase::Decode);
    let listings = list_versions(context.lister.as_deref(), &listing_keys(&decoded)).await;
    clock.end(Phase::List);
    let mut connection = context.database.connection().await?;
    let (transaction, filtered) = open(&mut connection, context, records).await?;
    clock.end(Phase::Lock);
    let mut outcome = BatchOutcome::from_filter(&filtered);

    let mut prepared: Vec<Prepared> = Vec::with_capacity(filtered.kept.len());
    for index in filtered.kept {
        let (Some(record), Some(item)) = (records.get(index), decoded.get_mut(index).and_then(Option::take)) else {
            continue;
        };
        if context.control.is_halted(&record.topic) {
            add_rewind(&mut outcome.rewind, record.topic_partition(), record.offset);
            continue;
        }
        prepared.push(item);
    }

    let _in_progress = context.metrics.track_in_progress(prepared.iter().filter_map(|item| match item {
        Prepared::Message { message, .. } => Some(message.kind()),
        Prepared::DeadLetter(_) | Prepared::Ignored(_) => None,
    }));
    let mut keys = KnowledgeKeys::default();
    let mut items = Vec::new();
    for (index, item) in prepared.iter().enumerate() {
        if let Prepared::Message { record, message, handlers } = item {
            keys.add(message);
            let origin = MessageOrigin {
                topic: record.topic.clone(),
                partition: record.partition,
                offset: record.offset,
                published_at_ms: record.timestamp_ms,
            };
            for rule in handlers {
                items.push((*rule, DecideItem { index, message: Arc::clone(message), origin: origin.clone() }));
            }
        }
    }
    clock.end(Phase::Decode);
    let mut knowledge = load_knowledge(&transaction, &keys).await?;
    for Listed { name, index, versions } in listings {
        knowledge.insert_listing(&name, &index, VersionListing { versions, source: VersionSource::Index });
    }
    clock.end(Phase::Knowledge);
    let decided = decisions::decide_all(items, knowledge, &context.rule_actors, settings, &context.metrics).await;
    clock.end(Phase::Decide);
    let assembled = assemble::assemble(prepared, decided, settings, &context.metrics);

    let mut next_offsets: Vec<(TopicPartition, i64)> = assembled.next_offsets.into_iter().collect();
    for halt in &assembled.halts {
        add_rewind(&mut outcome.rewind, halt.partition.clone(), halt.offset);
        if !next_offsets.iter().any(|(known, _)| *known == halt.partition) {
            next_offsets.push((halt.partition.clone(), halt.offset));
        }
    }
    if !assembled.secrets.is_empty() {
        investigator_projections::workflow_secrets::store(&transaction, &assembled.secrets).await?;
    }
    clock.end(Phase::Assemble);
    let recorded = commit(transaction, context, assembled.events, &next_offsets, &mut clock).await?;
    // Halts take effect once the batch that decided them has committed: a batch that fails
    // halts nothing.
    for halt in assembled.halts {
        apply_halt(context, halt);
    }
    clock.report(&context.metrics, records.len(), recorded, waits);
    outcome.applied = assembled.applied;
    outcome.events = recorded;
    outcome.next_offsets = next_offsets;
    count(context, &outcome);
    Ok(outcome)
}

/// Records `record` as a dead letter `unrecordable`, without its effects: the database
/// refused them as data (`refusal`), which retrying will not change. With
/// [`Kept::CoordinatesOnly`], the dead letter keeps the record's coordinates and length but
/// not its bytes (when even those were refused).
pub async fn record_refused(
    context: &BatchContext,
    record: &InboundRecord,
    refusal: &BatchError,
    kept: Kept,
) -> Result<BatchOutcome, BatchError> {
    let mut connection = context.database.connection().await?;
    let records = std::slice::from_ref(record);
    let (transaction, filtered) = open(&mut connection, context, records).await?;
    let mut outcome = BatchOutcome::from_filter(&filtered);
    let mut events = Vec::new();
    let mut next_offsets = Vec::new();
    for record in filtered.kept.into_iter().filter_map(|index| records.get(index)) {
        let mut reason = format!("the database refused this message's effects: {}", excerpt(&describe(refusal)));
        let mut letter_record = record.clone();
        if kept == Kept::CoordinatesOnly {
            let length = record.payload.as_ref().map_or(0, Vec::len);
            reason.push_str(&format!("; the record's {length} bytes could not be kept either"));
            letter_record.payload = None;
            letter_record.key = None;
        }
        let letter = DeadLetter { record: letter_record, reason_code: "unrecordable".to_owned(), reason, attempts: 1 };
        tracing::warn!(
            topic = record.topic,
            partition = record.partition,
            offset = record.offset,
            reason = letter.reason,
            "dead letter: the database refused the message's effects"
        );
        context.metrics.dead_letters.with_label_values(&[&record.topic, &letter.reason_code]).inc();
        let (stream, event) = letter.event();
        events.push(NewEvent { stream, event, metadata: assemble::metadata(record) });
        next_offsets.push((record.topic_partition(), record.offset + 1));
        outcome.applied += 1;
    }
    outcome.events = commit(transaction, context, events, &next_offsets, &mut PhaseClock::start()).await?;
    outcome.next_offsets = next_offsets;
    count(context, &outcome);
    Ok(outcome)
}

/// Opens the batch's transaction: locks the stored offsets of its partitions and keeps the
/// records not applied yet.
async fn open<'c>(
    connection: &'c mut Connection,
    context: &BatchContext,
    records: &[InboundRecord],
) -> Result<(Transaction<'c>, Filtered), BatchError> {
    let transaction = connection.transaction().await?;
    let mut firsts: Vec<(TopicPartition, i64)> = Vec::new();
    for record in records {
        let partition = record.topic_partition();
        if !firsts.iter().any(|(known, _)| *known == partition) {
            // A partition seen for the first time starts where the consumer started reading.
            firsts.push((partition, record.follows));
        }
    }
    let stored = lock_offsets(&transaction, &context.settings.consumer_group, &firsts).await?;
    // The knowledge the batch decides on is read under the log-head lock, which every append
    // takes: a replica deciding about the same target meanwhile waits, then sees this batch's
    // requests (a workflow is never requested twice for one pending target).
    investigator_projections::store::lock_head(&transaction).await.map_err(RecordError::from)?;
    Ok((transaction, filter_applied(records, &stored)))
}

/// Appends and projects `events`, moves the offsets, commits; the events recorded. The
/// append, the projection and the commit are timed on `clock`.
async fn commit(
    transaction: Transaction<'_>,
    context: &BatchContext,
    events: Vec<NewEvent>,
    next_offsets: &[(TopicPartition, i64)],
    clock: &mut PhaseClock,
) -> Result<usize, BatchError> {
    let mut appended: BTreeMap<&'static str, u64> = BTreeMap::new();
    for event in &events {
        *appended.entry(event.event.event_type().name()).or_default() += 1;
    }
    let recorded = events.len();
    if !events.is_empty() {
        let request = AppendRequest { idempotency_key: None, expected: Vec::new(), events };
        let (_, timings) = record_in_timed(&transaction, request).await?;
        clock.end_split(Phase::Append, timings.append, Phase::Project);
    }
    advance_offsets(&transaction, &context.settings.consumer_group, next_offsets).await?;
    transaction.commit().await?;
    clock.end(Phase::Commit);
    for (partition, next) in next_offsets {
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
    Ok(recorded)
}

/// Counts a committed outcome's records.
fn count(context: &BatchContext, outcome: &BatchOutcome) {
    let records = &context.metrics.records;
    records.with_label_values(&["applied"]).inc_by(outcome.applied as u64);
    records.with_label_values(&["duplicate"]).inc_by(outcome.duplicates as u64);
    if outcome.gaps > 0 {
        context.metrics.offset_gaps.inc_by(outcome.gaps);
    }
}

fn apply_halt(context: &BatchContext, halt: Halt) {
    tracing::error!(
        topic = halt.partition.topic,
        partition = halt.partition.partition,
        offset = halt.offset,
        reason = halt.reason,
        "message failed: halting its topic (THOTH_INVESTIGATOR_HALT_ON_FAIL)"
    );
    let reason = super::control::HaltReason::Failure {
        partition: halt.partition.partition,
        offset: halt.offset,
        reason: halt.reason,
    };
    context.control.halt(&halt.partition.topic, reason);
    if let Some(kind) = context.settings.naming.kind_of_topic(&halt.partition.topic) {
        context.metrics.halted_topics.with_label_values(&[kind.base_name()]).set(1);
    }
}

fn add_rewind(rewind: &mut Vec<(TopicPartition, i64)>, partition: TopicPartition, offset: i64) {
    match rewind.iter_mut().find(|(known, _)| *known == partition) {
        Some((_, earliest)) => *earliest = (*earliest).min(offset),
        None => rewind.push((partition, offset)),
    }
}

/// What the batch's unresolved-package messages ask to be listed (the only messages that do).
fn listing_keys(decoded: &[Option<Prepared>]) -> KnowledgeKeys {
    let mut keys = KnowledgeKeys::default();
    for item in decoded.iter().flatten() {
        if let Prepared::Message { message, .. } = item
            && message.kind() == investigator_events::thoth::MessageKind::UnresolvedPackage
        {
            keys.add(message);
        }
    }
    keys
}

/// The versions an index listed for one package, newest first.
struct Listed {
    name: String,
    index: String,
    versions: Vec<String>,
}

/// The versions the indexes list for the batch's `null`/`*` messages, asked all at once;
/// those that could not be asked are left out (the graph's versions are used for them).
async fn list_versions(lister: Option<&VersionLister>, keys: &KnowledgeKeys) -> Vec<Listed> {
    let Some(lister) = lister else { return Vec::new() };
    let requests = keys.listings.iter().map(|(name, index)| async move {
        let versions = lister.list(name, index).await?;
        Some(Listed { name: name.clone(), index: index.clone(), versions })
    });
    futures_util::future::join_all(requests).await.into_iter().flatten().collect()
}

/// An error and its causes, on one line.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    investigator_projections::fault::describe(error)
}

impl BatchOutcome {
    fn from_filter(filtered: &Filtered) -> Self {
        BatchOutcome {
            duplicates: filtered.duplicates,
            rewind: filtered.rewind.clone(),
            gaps: filtered.gaps,
            ..BatchOutcome::default()
        }
    }

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
        self.applied += later.applied;
        self.duplicates += later.duplicates;
        self.gaps += later.gaps;
        self.events += later.events;
    }
}
