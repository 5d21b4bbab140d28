//! The consumer loop: receives records, batches them, hands one batch at a time to the
//! router, and steers the consumer (pause, resume, seek) from what comes back.
//!
//! No I/O happens in librdkafka's callbacks: the rebalance callback only queues what was
//! assigned or revoked. Where a partition resumes is decided inside the batch transaction
//! (the stored offset); the consumer only has to seek back when the router says its records
//! started too late, and commits to Kafka only so that lag tools see progress.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::Addr;
use investigator_projections::offsets::TopicPartition;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::batch::{BatchError, BatchOutcome};
use super::control::Control;
use super::dead_letter::DeadLetterPublisher;
use super::metrics::Metrics;
use super::router::{InvestigatorRouter, ProcessBatch};
use super::{InboundRecord, PipelineSettings};
use crate::kafka::{ClientLogging, KafkaSettings};

/// What the rebalance callback saw.
#[derive(Debug)]
enum Rebalanced {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>),
}

/// The consumer's context: logging, and the rebalances for the loop to act on.
#[derive(Debug, Default)]
pub struct IngestContext {
    logging: ClientLogging,
    rebalances: Mutex<Vec<Rebalanced>>,
}

impl ClientContext for IngestContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.logging.log(level, facility, message)
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.logging.error(error, reason)
    }
}

fn partitions(list: &TopicPartitionList) -> Vec<TopicPartition> {
    list.elements()
        .iter()
        .map(|element| TopicPartition { topic: element.topic().to_owned(), partition: element.partition() })
        .collect()
}

impl ConsumerContext for IngestContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let event = match rebalance {
            Rebalance::Assign(list) => Rebalanced::Assigned(partitions(list)),
            Rebalance::Revoke(list) => Rebalanced::Revoked(partitions(list)),
            Rebalance::Error(error) => {
                tracing::warn!(%error, "rebalance error");
                return;
            }
        };
        match &event {
            Rebalanced::Assigned(partitions) => tracing::info!(partitions = partitions.len(), "partitions assigned"),
            Rebalanced::Revoked(partitions) => tracing::info!(partitions = partitions.len(), "partitions revoked"),
        }
        self.rebalances.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(event);
    }
}

/// Why the ingest stopped.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The consumer could not be created or subscribed.
    #[error("the Kafka consumer could not start")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The router is gone.
    #[error("the router stopped")]
    RouterStopped,
}

type InFlight = Pin<Box<dyn Future<Output = Result<Result<BatchOutcome, BatchError>, actix::MailboxError>>>>;

/// The consumer loop and its state.
pub struct Ingest {
    consumer: StreamConsumer<IngestContext>,
    router: Addr<InvestigatorRouter>,
    control: Control,
    settings: Arc<PipelineSettings>,
    metrics: Metrics,
    dead_letters: Option<Arc<DeadLetterPublisher>>,
    assigned: BTreeSet<TopicPartition>,
    buffer: Vec<InboundRecord>,
    buffer_since: Option<Instant>,
    /// The first offset the log still holds, for partitions asked to go back below it.
    log_start: HashMap<TopicPartition, i64>,
    /// Partitions paused because their topic is halted, and where to resume (the first
    /// record not applied).
    halted: HashMap<TopicPartition, Option<i64>>,
    /// Partitions paused because the buffer is full.
    backpressure: BTreeSet<TopicPartition>,
    /// Seeks that failed and are tried again.
    pending_seeks: HashMap<TopicPartition, i64>,
}

/// How many batches' worth of records the ingest holds before pausing its partitions.
const BUFFERED_BATCHES: usize = 4;
const MAX_DATABASE_BACKOFF: Duration = Duration::from_secs(10);

impl Ingest {
    /// A consumer in the configured group, subscribed to the modes' topics.
    pub fn new(
        kafka: &KafkaSettings,
        settings: Arc<PipelineSettings>,
        router: Addr<InvestigatorRouter>,
        control: Control,
        metrics: Metrics,
        dead_letters: Option<Arc<DeadLetterPublisher>>,
    ) -> Result<Self, IngestError> {
        let mut config = kafka.consumer_config();
        // Bounds librdkafka's prefetch, so a paused pipeline holds little memory.
        config.set("queued.max.messages.kbytes", "16384");
        // A fetch answers as soon as there is data, or after this: the latency floor when
        // messages trickle in (librdkafka's default is 500 ms).
        config.set("fetch.wait.max.ms", "20");
        let consumer: StreamConsumer<IngestContext> = config.create_with_context(IngestContext::default())?;
        let topics = settings.topics();
        let topic_names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&topic_names)?;
        tracing::info!(topics = topics.len(), group = kafka.consumer_group_id, "subscribed");
        Ok(Ingest {
            consumer,
            router,
            control,
            settings,
            metrics,
            dead_letters,
            assigned: BTreeSet::new(),
            buffer: Vec::new(),
            buffer_since: None,
            log_start: HashMap::new(),
            halted: HashMap::new(),
            backpressure: BTreeSet::new(),
            pending_seeks: HashMap::new(),
        })
    }

    /// Runs until `shutdown` resolves; then finishes the batch in flight and leaves the group.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<(), IngestError> {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut in_flight: Option<(Arc<Vec<InboundRecord>>, InFlight)> = None;
        let mut retry: Option<(Arc<Vec<InboundRecord>>, Instant, u32)> = None;
        let tick = self.settings.batch_linger.max(Duration::from_millis(5));
        loop {
            self.apply_rebalances();
            self.apply_control();
            self.retry_seeks();
            if in_flight.is_none() {
                let due = match &retry {
                    Some((records, at, _)) if Instant::now() >= *at => Some(Arc::clone(records)),
                    Some(_) => None,
                    None => self.take_batch(),
                };
                if let Some(records) = due {
                    let request = self
                        .router
                        .send(ProcessBatch { records: Arc::clone(&records), log_start: self.log_start.clone() });
                    in_flight = Some((records, Box::pin(request)));
                }
            }
            self.apply_backpressure();
            let buffer_full = self.buffer.len() >= self.settings.batch_size * BUFFERED_BATCHES;
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                result = async { match &mut in_flight { Some((_, request)) => request.await, None => std::future::pending().await } } => {
                    let Some((records, _)) = in_flight.take() else { continue };
                    match result {
                        Ok(Ok(outcome)) => {
                            retry = None;
                            self.apply_outcome(outcome);
                        }
                        Ok(Err(error)) => {
                            let attempt = retry.as_ref().map_or(1, |(_, _, attempt)| attempt + 1);
                            let wait = (self.settings.backoff.max(Duration::from_millis(100)) * attempt).min(MAX_DATABASE_BACKOFF);
                            self.metrics.database_retries.inc();
                            tracing::warn!(error = %super::batch::describe(&error), attempt, retry_in = ?wait, "batch not recorded: trying again (its partitions stay paused while the buffer is full)");
                            retry = Some((records, Instant::now() + wait, attempt));
                        }
                        Err(_) => return Err(IngestError::RouterStopped),
                    }
                }
                received = self.consumer.recv(), if !buffer_full => match received {
                    Ok(message) => {
                        let record = InboundRecord {
                            topic: message.topic().to_owned(),
                            partition: message.partition(),
                            offset: message.offset(),
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
                    Err(error) => tracing::warn!(%error, "kafka consumer error"),
                },
                () = self.control.changed() => {}
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

    fn receive(&mut self, record: InboundRecord) {
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
        self.buffer_since.get_or_insert_with(Instant::now);
        self.buffer.push(record);
    }

    /// The next batch, when there are enough records or the oldest has waited long enough.
    fn take_batch(&mut self) -> Option<Arc<Vec<InboundRecord>>> {
        let since = self.buffer_since?;
        if self.buffer.len() < self.settings.batch_size && since.elapsed() < self.settings.batch_linger {
            return None;
        }
        let take = self.buffer.len().min(self.settings.batch_size);
        let batch: Vec<InboundRecord> = self.buffer.drain(..take).collect();
        self.buffer_since = if self.buffer.is_empty() { None } else { Some(Instant::now()) };
        Some(Arc::new(batch))
    }

    fn apply_outcome(&mut self, outcome: BatchOutcome) {
        let mut commit = TopicPartitionList::new();
        for (partition, next) in &outcome.next_offsets {
            self.log_start.remove(partition);
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
        if let Some(publisher) = &self.dead_letters {
            for letter in outcome.dead_letters {
                let publisher = Arc::clone(publisher);
                actix::spawn(async move { publisher.publish(&letter).await });
            }
        }
        tracing::debug!(
            applied = outcome.applied,
            duplicates = outcome.duplicates,
            events = outcome.events,
            "batch recorded"
        );
    }

    /// Goes back to `offset` on `partition`: buffered records after it are dropped; a halted
    /// topic goes back there when it resumes.
    fn rewind(&mut self, partition: TopicPartition, offset: i64) {
        self.buffer.retain(|record| record.topic_partition() != partition);
        if !self.assigned.contains(&partition) {
            return;
        }
        if self.control.is_halted(&partition.topic) {
            self.pause(&partition);
            let resume_at = self.halted.entry(partition).or_insert(None);
            *resume_at = Some(resume_at.map_or(offset, |at| at.min(offset)));
            return;
        }
        self.seek(partition, offset);
    }

    fn seek(&mut self, partition: TopicPartition, offset: i64) {
        // Retention may have removed the records from `offset` on; then the log starts later,
        // and that is where the partition continues.
        let low = self
            .consumer
            .fetch_watermarks(&partition.topic, partition.partition, Duration::from_secs(2))
            .map_or(offset, |(low, _)| low);
        let offset = if low > offset {
            tracing::warn!(
                topic = partition.topic,
                partition = partition.partition,
                stored = offset,
                log_start = low,
                "records between the stored offset and the log's start are gone (retention)"
            );
            self.log_start.insert(partition.clone(), low);
            low
        } else {
            offset
        };
        match self.consumer.seek(&partition.topic, partition.partition, Offset::Offset(offset), Duration::from_secs(5))
        {
            Ok(()) => {
                tracing::info!(
                    topic = partition.topic,
                    partition = partition.partition,
                    offset,
                    "moved back to the stored offset"
                );
                self.pending_seeks.remove(&partition);
            }
            Err(error) => {
                tracing::warn!(%error, topic = partition.topic, partition = partition.partition, offset, "seek failed; trying again");
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
            match event {
                Rebalanced::Assigned(partitions) => self.assigned.extend(partitions),
                Rebalanced::Revoked(partitions) => {
                    for partition in partitions {
                        self.assigned.remove(&partition);
                        self.buffer.retain(|record| record.topic_partition() != partition);
                        self.log_start.remove(&partition);
                        self.halted.remove(&partition);
                        self.backpressure.remove(&partition);
                        self.pending_seeks.remove(&partition);
                    }
                }
            }
        }
    }

    /// Pauses the partitions of halted topics; resumes those whose topic was resumed.
    fn apply_control(&mut self) {
        let assigned: Vec<TopicPartition> = self.assigned.iter().cloned().collect();
        for partition in assigned {
            let halted = self.control.is_halted(&partition.topic);
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
                    if let Some(kind) = self.settings.naming.kind_of_topic(&partition.topic) {
                        self.metrics.halted_topics.with_label_values(&[kind.base_name()]).set(1);
                    }
                }
                (false, true) => {
                    let resume_at = self.halted.remove(&partition).flatten();
                    if let Some(offset) = resume_at {
                        self.seek(partition.clone(), offset);
                    }
                    self.resume(&partition);
                    if let Some(kind) = self.settings.naming.kind_of_topic(&partition.topic) {
                        self.metrics.halted_topics.with_label_values(&[kind.base_name()]).set(0);
                    }
                }
                _ => {}
            }
        }
    }

    /// Pauses every partition while the buffer is full, resumes them when it has drained
    /// to half.
    fn apply_backpressure(&mut self) {
        let limit = self.settings.batch_size * BUFFERED_BATCHES;
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
