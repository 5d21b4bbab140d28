//! The consumer loop: receives records, batches them, hands one batch at a time to the
//! recorder, and steers the consumer (pause, resume, seek) from what comes back.
//!
//! No I/O happens in librdkafka's callbacks: the rebalance callback only queues what was
//! assigned or revoked. An assigned partition is positioned before any of its records is
//! used: at its stored offset, checked against the log the broker holds
//! ([`super::positioning`]); a stored offset outside it is reset as
//! `INVESTIGATOR_OFFSET_RESET` says and recorded. From then on the loop knows, for every
//! record, where the consumer was reading from (`InboundRecord::follows`), which lets the
//! batch tell offsets the log does not hold from records it skipped. Whether a record is
//! applied is still decided inside the batch transaction (the stored offset); the consumer
//! commits to Kafka only so that lag tools see progress.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Addr;
use investigator_projections::offsets::TopicPartition;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use investigator_projections::Database;
use rdkafka::ClientConfig;
use rdkafka::types::RDKafkaErrorCode;

use super::batch::{BatchError, BatchOutcome};
use super::control::Control;
use super::metrics::Metrics;
use super::positioning::OffsetResetPolicy;
use super::recorder::{BatchRecorder, RecordBatch};
use super::{InboundRecord, PipelineSettings};
use crate::health::Health;
use crate::kafka::KafkaSettings;

mod consumer_context;
mod offset_jumps;
mod partition_positions;

pub use consumer_context::IngestContext;
use consumer_context::Rebalanced;
use offset_jumps::{OffsetJumps, Verdict};

/// Why the ingest stopped.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The consumer could not be created or subscribed.
    #[error("the Kafka consumer could not start")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The recorder is gone.
    #[error("the recorder stopped")]
    RecorderStopped,
}

type InFlight = Pin<Box<dyn Future<Output = Result<Result<BatchOutcome, BatchError>, actix::MailboxError>>>>;

/// What the ingest needs besides the consumer.
pub struct IngestParts {
    /// The pipeline's settings.
    pub settings: Arc<PipelineSettings>,
    /// Records batches.
    pub recorder: Addr<BatchRecorder>,
    /// Halted topics.
    pub control: Control,
    pub metrics: Metrics,
    /// Where outages are reported.
    pub health: Health,
    /// The stored offsets, for positioning.
    pub database: Database,
}

/// The consumer loop and its state.
pub struct Ingest {
    consumer: StreamConsumer<IngestContext>,
    /// The consumer's configuration, for the probe that confirms an offset outside the log.
    probe_config: ClientConfig,
    parts: IngestParts,
    /// Where a partition never consumed starts (`KAFKA_CONSUMER_AUTO_OFFSET_RESET`).
    fresh_start: OffsetResetPolicy,
    assigned: BTreeSet<TopicPartition>,
    /// Assigned partitions not positioned yet: their records are dropped until they are.
    unpositioned: BTreeSet<TopicPartition>,
    /// When positioning is tried next (after a failure, later).
    positioning_due: Instant,
    positioning_failures: u32,
    /// Whether the batch in hand failed and waits to be tried again (an outage).
    retrying_batch: bool,
    /// Positioned partitions: the offset the consumer reads next, which the next record
    /// `follows`. A partition whose seek has not succeeded yet has none: its records are
    /// dropped.
    positions: HashMap<TopicPartition, i64>,
    buffer: Vec<InboundRecord>,
    buffer_since: Option<Instant>,
    /// Partitions paused because their topic is halted, and where to resume (the first
    /// record not applied).
    halted: HashMap<TopicPartition, Option<i64>>,
    /// Partitions paused because the buffer is full.
    backpressure: BTreeSet<TopicPartition>,
    /// Seeks that failed and are tried again.
    pending_seeks: HashMap<TopicPartition, i64>,
    /// Jumps in offsets seen once, read again before they are believed.
    offset_jumps: OffsetJumps,
    /// The rebalance under way: when its first callback came, and whether an assignment has
    /// come since (a rebalance is over once that assignment is positioned).
    rebalance: Option<RebalanceUnderWay>,
    /// Whether the consumer has joined its group once (its first assignment positioned).
    joined: bool,
}

/// A rebalance from its first callback until what it assigned is positioned.
#[derive(Debug, Clone, Copy)]
struct RebalanceUnderWay {
    since: Instant,
    assigned: bool,
}

/// How many batches' worth of records the ingest holds before pausing its partitions.
const BUFFERED_BATCHES: usize = 4;
/// How long the broker is asked for its watermarks, or for the record a probe reads.
const BROKER_TIMEOUT: Duration = Duration::from_secs(5);
/// The component name outages of the pipeline are reported under.
const COMPONENT: &str = "pipeline";
/// The part that is starting until the consumer has joined its group (`/_ready`).
const CONSUMER_GROUP: &str = "consumer_group";

impl Ingest {
    /// A consumer in the configured group, subscribed to the modes' topics.
    pub fn new(kafka: &KafkaSettings, parts: IngestParts) -> Result<Self, IngestError> {
        let mut config = kafka.consumer_config();
        // Bounds librdkafka's prefetch, so a paused pipeline holds little memory.
        config.set("queued.max.messages.kbytes", "16384");
        // A fetch answers as soon as there is data, or after this: the latency floor when
        // messages trickle in (librdkafka's default is 500 ms).
        config.set("fetch.wait.max.ms", "20");
        // Where a partition starts, and what happens to an offset outside the log, is decided
        // here and recorded (see `positioning`). Should the consumer still find its position
        // outside the log later, it goes back to the start of the log, never forward: `receive`
        // sees it go back and positions the partition again.
        config.set("auto.offset.reset", "earliest");
        let fresh_start = match kafka.consumer_auto_offset_reset.as_deref() {
            Some("latest" | "largest" | "end") => OffsetResetPolicy::Latest,
            _ => OffsetResetPolicy::Earliest,
        };
        let consumer: StreamConsumer<IngestContext> = config.create_with_context(IngestContext::default())?;
        let topics = parts.settings.topics();
        let topic_names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topic_names)?;
        tracing::info!(
            topics = topics.len(),
            group = kafka.consumer_group_id,
            assignment = kafka.consumer_assignment.name(),
            "subscribed"
        );
        parts.health.starting(
            CONSUMER_GROUP,
            &format!("joining consumer group {} and positioning its partitions", kafka.consumer_group_id),
        );
        let mut probe_config = kafka.client_config();
        probe_config.set("group.id", format!("{}.offset-probe", kafka.consumer_group_id));
        probe_config.set("enable.auto.commit", "false");
        probe_config.set("auto.offset.reset", "error");
        Ok(Ingest {
            consumer,
            probe_config,
            parts,
            fresh_start,
            assigned: BTreeSet::new(),
            unpositioned: BTreeSet::new(),
            positioning_due: Instant::now(),
            positioning_failures: 0,
            retrying_batch: false,
            positions: HashMap::new(),
            buffer: Vec::new(),
            buffer_since: None,
            halted: HashMap::new(),
            backpressure: BTreeSet::new(),
            pending_seeks: HashMap::new(),
            offset_jumps: OffsetJumps::default(),
            rebalance: None,
            joined: false,
        })
    }

    /// Runs until `shutdown` resolves; then finishes the batch in flight and leaves the group.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<(), IngestError> {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut in_flight: Option<(Arc<Vec<InboundRecord>>, InFlight)> = None;
        let mut retry: Option<(Arc<Vec<InboundRecord>>, Instant, u32)> = None;
        let tick = self.parts.settings.batch_linger.max(Duration::from_millis(5));
        loop {
            self.apply_rebalances();
            self.apply_control();
            self.retry_seeks();
            self.position_assigned().await;
            self.note_rebalance_over();
            if in_flight.is_none() {
                let due = match &retry {
                    Some((records, at, _)) if Instant::now() >= *at => Some(Arc::clone(records)),
                    Some(_) => None,
                    None => self.take_batch(),
                };
                if let Some(records) = due {
                    let request = self.parts.recorder.send(RecordBatch { records: Arc::clone(&records) });
                    in_flight = Some((records, Box::pin(request)));
                }
            }
            self.apply_backpressure();
            let buffer_full = self.buffer.len() >= self.parts.settings.batch_size * BUFFERED_BATCHES;
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                result = async { match &mut in_flight { Some((_, request)) => request.await, None => std::future::pending().await } } => {
                    let Some((records, _)) = in_flight.take() else { continue };
                    match result {
                        Ok(Ok(outcome)) => {
                            retry = None;
                            self.retrying_batch = false;
                            self.parts.health.recovered(COMPONENT);
                            self.apply_outcome(outcome);
                        }
                        Ok(Err(error)) => {
                            let attempt = retry.as_ref().map_or(1, |(_, _, attempt)| attempt + 1);
                            let wait = self.parts.settings.outage_wait(attempt);
                            let reason = super::batch::describe(&error);
                            self.parts.metrics.database_retries.inc();
                            self.retrying_batch = true;
                            self.parts.health.failed(COMPONENT, &reason);
                            tracing::warn!(error = %reason, attempt, retry_in = ?wait, "batch not recorded (an outage): trying again; nothing is dead-lettered");
                            retry = Some((records, Instant::now() + wait, attempt));
                        }
                        Err(_) => return Err(IngestError::RecorderStopped),
                    }
                }
                received = self.consumer.recv(), if !buffer_full => match received {
                    Ok(message) => {
                        let record = InboundRecord {
                            timestamp_ms: message.timestamp().to_millis(),
                            received_at: Instant::now(),
                            topic: message.topic().to_owned(),
                            partition: message.partition(),
                            offset: message.offset(),
                            // Set by `receive`, which knows where the partition was read from.
                            follows: message.offset(),
                            key: message.key().map(<[u8]>::to_vec),
                            payload: message.payload().map(<[u8]>::to_vec),
                            // The producer's trace, or a new one started here.
                            traceparent: Some(
                                message
                                    .headers()
                                    .and_then(|headers| {
                                        headers
                                            .iter()
                                            .find(|header| header.key.eq_ignore_ascii_case("traceparent"))
                                            .and_then(|header| header.value.and_then(super::trace::valid))
                                    })
                                    .unwrap_or_else(super::trace::start),
                            ),
                        };
                        drop(message);
                        // The rebalance callback runs inside `recv`: a record of a partition
                        // assigned just now must find it assigned.
                        self.apply_rebalances();
                        self.receive(record);
                    }
                    Err(rdkafka::error::KafkaError::MessageConsumption(
                        code @ (RDKafkaErrorCode::OffsetOutOfRange | RDKafkaErrorCode::AutoOffsetReset),
                    )) => {
                        // The broker says a position is outside its log; librdkafka does not
                        // say whose: every assigned partition is checked again (unless some
                        // are being positioned already, which is what such errors follow).
                        if self.unpositioned.is_empty() && self.pending_seeks.is_empty() {
                            tracing::warn!(error = %code, "a partition's position is outside the broker's log: positioning the assigned partitions again");
                            self.reposition(self.assigned.iter().cloned().collect());
                        }
                    }
                    Err(error) => tracing::warn!(%error, "kafka consumer error"),
                },
                () = self.parts.control.changed() => {}
                () = tokio::time::sleep(tick) => {}
            }
        }
        if let Some((_, request)) = in_flight.take()
            && let Ok(Ok(outcome)) = request.await
        {
            self.apply_outcome(outcome);
        }
        tracing::info!("ingest stopped; leaving the consumer group");
        Ok(())
    }

    fn receive(&mut self, mut record: InboundRecord) {
        let partition = record.topic_partition();
        if let Some(resume_at) = self.halted.get_mut(&partition) {
            // Received before the pause took effect: dropped now, read again on resume.
            let earliest = resume_at.map_or(record.offset, |at| at.min(record.offset));
            *resume_at = Some(earliest);
            return;
        }
        if !self.assigned.contains(&partition) {
            return;
        }
        let Some(&position) = self.positions.get(&partition) else {
            // Not positioned yet, or a seek is pending: read again from the position.
            return;
        };
        if record.offset < position {
            // The consumer went back without being asked: it reset itself (an offset outside
            // the log). The partition is positioned again, from what the database says.
            tracing::warn!(
                topic = partition.topic,
                partition = partition.partition,
                offset = record.offset,
                expected = position,
                "the consumer went back on its own: positioning the partition again"
            );
            self.reposition(vec![partition]);
            return;
        }
        if let Verdict::ReadAgain { from } = self.offset_jumps.judge(&partition, position, record.offset) {
            tracing::info!(
                topic = partition.topic,
                partition = partition.partition,
                from,
                to = record.offset,
                "offsets jumped: reading the partition again before taking them for absent"
            );
            self.parts.metrics.offset_jumps_read_again.inc();
            self.seek(partition, from);
            return;
        }
        record.follows = position;
        self.positions.insert(partition, record.offset + 1);
        // A buffer emptied by a seek or a revocation starts its linger again.
        if self.buffer.is_empty() {
            self.buffer_since = Some(Instant::now());
        }
        self.buffer.push(record);
    }

    /// Positions `partitions` again: their buffered records are dropped, and they are read
    /// again from where the database says once positioned.
    fn reposition(&mut self, partitions: Vec<TopicPartition>) {
        for partition in partitions {
            self.buffer.retain(|record| record.topic_partition() != partition);
            self.positions.remove(&partition);
            self.pending_seeks.remove(&partition);
            self.unpositioned.insert(partition);
        }
        self.positioning_due = Instant::now();
    }

    /// The next batch, when there are enough records or the oldest has waited long enough.
    fn take_batch(&mut self) -> Option<Arc<Vec<InboundRecord>>> {
        let since = self.buffer_since.filter(|_| !self.buffer.is_empty())?;
        let settings = &self.parts.settings;
        if self.buffer.len() < settings.batch_size && since.elapsed() < settings.batch_linger {
            return None;
        }
        let take = self.buffer.len().min(settings.batch_size);
        let batch: Vec<InboundRecord> = self.buffer.drain(..take).collect();
        self.buffer_since = if self.buffer.is_empty() { None } else { Some(Instant::now()) };
        Some(Arc::new(batch))
    }

    fn apply_outcome(&mut self, outcome: BatchOutcome) {
        let mut commit = TopicPartitionList::new();
        for (partition, next) in &outcome.next_offsets {
            if self.assigned.contains(partition)
                && let Err(error) =
                    commit.add_partition_offset(&partition.topic, partition.partition, Offset::Offset(*next))
            {
                tracing::warn!(%error, "offset not committed to Kafka");
            }
        }
        if commit.count() > 0
            && let Err(error) = self.consumer.commit(&commit, CommitMode::Async)
        {
            tracing::debug!(%error, "offsets not committed to Kafka (lag tools only; the database has them)");
        }
        for (partition, offset) in outcome.rewind {
            self.rewind(partition, offset);
        }
        tracing::debug!(
            applied = outcome.applied,
            duplicates = outcome.duplicates,
            gaps = outcome.gaps,
            events = outcome.events,
            "batch recorded"
        );
    }

    /// Goes back to `offset` on `partition`: buffered records after it are dropped; a halted
    /// topic goes back there when it resumes.
    fn rewind(&mut self, partition: TopicPartition, offset: i64) {
        self.buffer.retain(|record| record.topic_partition() != partition);
        if !self.assigned.contains(&partition) || self.unpositioned.contains(&partition) {
            return;
        }
        if self.parts.control.is_halted(&partition.topic) {
            self.pause(&partition);
            let resume_at = self.halted.entry(partition).or_insert(None);
            *resume_at = Some(resume_at.map_or(offset, |at| at.min(offset)));
            return;
        }
        self.seek(partition, offset);
    }

    /// Moves the consumer to `offset` on `partition`. Its buffered records from `offset` on
    /// are dropped (a batch never holds a record twice), and so are the records received until
    /// the seek has succeeded.
    fn seek(&mut self, partition: TopicPartition, offset: i64) {
        self.buffer.retain(|record| record.offset < offset || record.topic_partition() != partition);
        self.positions.remove(&partition);
        match self.consumer.seek(&partition.topic, partition.partition, Offset::Offset(offset), BROKER_TIMEOUT) {
            Ok(()) => {
                tracing::debug!(topic = partition.topic, partition = partition.partition, offset, "consumer moved");
                self.pending_seeks.remove(&partition);
                self.positions.insert(partition, offset);
            }
            Err(error) => {
                tracing::debug!(%error, topic = partition.topic, partition = partition.partition, offset, "seek failed; trying again");
                self.pending_seeks.insert(partition, offset);
            }
        }
    }

    fn retry_seeks(&mut self) {
        let pending: Vec<(TopicPartition, i64)> = self.pending_seeks.drain().collect();
        for (partition, offset) in pending {
            if self.assigned.contains(&partition) {
                self.seek(partition, offset);
            }
        }
    }

    fn apply_rebalances(&mut self) {
        let events: Vec<Rebalanced> = std::mem::take(
            &mut *self.consumer.context().rebalances.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for event in events {
            let rebalance = self.rebalance.get_or_insert(RebalanceUnderWay { since: Instant::now(), assigned: false });
            rebalance.assigned |= matches!(event, Rebalanced::Assigned(_));
            match event {
                Rebalanced::Assigned(partitions) => {
                    for partition in partitions {
                        self.assigned.insert(partition.clone());
                        self.reposition(vec![partition]);
                    }
                }
                Rebalanced::Revoked(partitions) => {
                    for partition in partitions {
                        self.assigned.remove(&partition);
                        self.buffer.retain(|record| record.topic_partition() != partition);
                        self.unpositioned.remove(&partition);
                        self.positions.remove(&partition);
                        self.halted.remove(&partition);
                        self.backpressure.remove(&partition);
                        self.pending_seeks.remove(&partition);
                        self.offset_jumps.forget(&partition);
                    }
                }
            }
        }
    }

    /// Ends the rebalance under way once what it assigned is positioned (seeks included): its
    /// length is the time the partitions this consumer holds were not read because of it
    /// (`investigator_rebalance_seconds`). The first one is the join: the replica is ready.
    fn note_rebalance_over(&mut self) {
        let Some(rebalance) = self.rebalance else { return };
        // A halted topic's partitions are positioned when it resumes: they do not hold the
        // rebalance open (nor keep the replica from being ready).
        let waiting = self.unpositioned.iter().any(|partition| !self.parts.control.is_halted(&partition.topic));
        if !rebalance.assigned || waiting || !self.pending_seeks.is_empty() {
            return;
        }
        self.rebalance = None;
        let took = rebalance.since.elapsed();
        self.parts.metrics.rebalance_seconds.observe(took.as_secs_f64());
        tracing::info!(
            took_ms = took.as_millis() as u64,
            partitions = self.assigned.len(),
            first = !self.joined,
            "rebalance over: every assigned partition is read"
        );
        if !self.joined {
            self.joined = true;
            self.parts.health.started(CONSUMER_GROUP);
        }
    }

    /// Pauses the partitions of halted topics; resumes those whose topic was resumed.
    fn apply_control(&mut self) {
        let assigned: Vec<TopicPartition> = self.assigned.iter().cloned().collect();
        for partition in assigned {
            let halted = self.parts.control.is_halted(&partition.topic);
            match (halted, self.halted.contains_key(&partition)) {
                (true, false) => {
                    let first_buffered = self
                        .buffer
                        .iter()
                        .filter(|record| record.topic_partition() == partition)
                        .map(|record| record.offset)
                        .min();
                    self.buffer.retain(|record| record.topic_partition() != partition);
                    self.pause(&partition);
                    self.halted.insert(partition.clone(), first_buffered);
                    if let Some(kind) = self.parts.settings.naming.kind_of_topic(&partition.topic) {
                        self.parts.metrics.halted_topics.with_label_values(&[kind.base_name()]).set(1);
                    }
                }
                (false, true) => {
                    let resume_at = self.halted.remove(&partition).flatten();
                    if let Some(offset) = resume_at
                        && !self.unpositioned.contains(&partition)
                    {
                        self.seek(partition.clone(), offset);
                    }
                    self.resume(&partition);
                    if let Some(kind) = self.parts.settings.naming.kind_of_topic(&partition.topic) {
                        self.parts.metrics.halted_topics.with_label_values(&[kind.base_name()]).set(0);
                    }
                }
                _ => {}
            }
        }
    }

    /// Pauses every partition while the buffer is full, resumes them when it has drained
    /// to half.
    fn apply_backpressure(&mut self) {
        let limit = self.parts.settings.batch_size * BUFFERED_BATCHES;
        if self.buffer.len() >= limit && self.backpressure.is_empty() {
            let partitions: Vec<TopicPartition> =
                self.assigned.iter().filter(|partition| !self.halted.contains_key(*partition)).cloned().collect();
            for partition in &partitions {
                self.pause(partition);
            }
            tracing::debug!(buffered = self.buffer.len(), "buffer full: partitions paused");
            self.backpressure.extend(partitions);
        } else if self.buffer.len() <= limit / 2 && !self.backpressure.is_empty() {
            let partitions: Vec<TopicPartition> = std::mem::take(&mut self.backpressure).into_iter().collect();
            for partition in partitions.iter().filter(|partition| !self.halted.contains_key(*partition)) {
                self.resume(partition);
            }
        }
    }

    fn pause(&self, partition: &TopicPartition) {
        let mut list = TopicPartitionList::new();
        list.add_partition(&partition.topic, partition.partition);
        if let Err(error) = self.consumer.pause(&list) {
            tracing::warn!(%error, topic = partition.topic, partition = partition.partition, "pause failed");
        }
    }

    fn resume(&self, partition: &TopicPartition) {
        let mut list = TopicPartitionList::new();
        list.add_partition(&partition.topic, partition.partition);
        if let Err(error) = self.consumer.resume(&list) {
            tracing::warn!(%error, topic = partition.topic, partition = partition.partition, "resume failed");
        }
    }
}
