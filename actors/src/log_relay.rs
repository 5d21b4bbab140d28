//! Copies of the event log on Kafka, made after the commit by relays that keep their own
//! checkpoint (in `investigator.projection_checkpoint`), so a copy survives a crash, an outage
//! of the broker or of PostgreSQL, and a restart: each relay reads the log after its checkpoint,
//! publishes, waits for every delivery, then moves the checkpoint. A crash between a delivery
//! and the checkpoint publishes those events again (at least once): every record carries its
//! log `position` in a header, by which consumers recognise a repeat.
//!
//! - [`mirror`]: every event, to `<prefix>.thoth.investigator.knowledge-events`.
//! - [`dead_letters`]: every `MessageDeadLettered` event, as the record's kept bytes with the
//!   reason in headers, to `<prefix>.thoth.investigator.dead-letter`.
//! - [`redrives`]: every `DeadLetterRedriven` event with bytes still to publish, to the dead
//!   letter's own topic (the outbox of `POST /api/v1/dead-letters/.../redrive`).
//!
//! A record the topic cannot take (larger than the producer's or the broker's limit) is
//! published as a reference instead (its position, type and size, header `reference: true`),
//! so one oversized event never stalls the copy: the event itself stays in the log
//! (`investigator events tail --from <position>`).
//!
//! A relay runs in one replica at a time, under the singleton lease (`crate::duty`): each move
//! of its checkpoint is fenced by the lease, and a relay whose lease is lost stops. When it
//! starts, a relay whose records all go to its own topic first reads what the topic holds
//! already (the `position` of the last record of each partition) and moves its checkpoint up
//! to it: a replica killed between its deliveries and its checkpoint leaves no repeat for the
//! next holder to publish.

pub mod dead_letters;
pub mod mirror;
pub mod redrives;

use std::time::Duration;

use investigator_projections::Database;
use investigator_projections::lease::{self, LeaseToken};
use investigator_projections::store::{StoredEvent, head_position, read_stored_from, read_stored_of_type};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;

use crate::backoff::Backoff;
use crate::health::Health;
use crate::kafka::{ClientLogging, KafkaSettings};
use crate::pipeline::metrics::Metrics;

/// Events read per round.
const BATCH: i64 = 1_000;
/// The waits between rounds that fail in a row.
const RELAY_BACKOFF: Backoff = Backoff::new(Duration::from_millis(400), Duration::from_secs(10));
/// How long one delivery may take before the round fails (and is tried again).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
/// librdkafka's default `message.max.bytes`, when `KAFKA_MESSAGE_MAX_BYTES` is not set.
const DEFAULT_MESSAGE_MAX_BYTES: u64 = 1_000_000;
/// Room for the key, headers and framing of a record within `message.max.bytes`.
const RECORD_OVERHEAD: u64 = 4_096;
/// How long reading what the topic holds already may take before the relay starts without it.
const TOPIC_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A partition that gives nothing more for this long has been read to its end.
const TOPIC_END_QUIET: Duration = Duration::from_millis(500);

/// Why a round published nothing, or did not move the checkpoint.
#[derive(Debug)]
enum RoundError {
    /// The lease is no longer this replica's: the relay stops.
    LeaseLost(String),
    /// PostgreSQL or Kafka failed: the round is tried again.
    Failed(String),
}

impl From<String> for RoundError {
    fn from(reason: String) -> Self {
        RoundError::Failed(reason)
    }
}

/// A record for the topic, made from one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRecord {
    /// Another topic than the relay's (a re-driven record goes back to its own).
    pub topic: Option<String>,
    /// The record's key (`None`: none, as Thoth sends).
    pub key: Option<String>,
    /// The value; `None` for a record without one (a dead letter of a tombstone).
    pub value: Option<Vec<u8>>,
    /// Headers, besides `position`, which every record gets.
    pub headers: Vec<(&'static str, Vec<u8>)>,
}

/// Which events a relay copies, and how.
pub trait LogCopy: Send + Sync {
    /// Its row in `investigator.projection_checkpoint`, and its name in logs and health.
    const NAME: &'static str;
    /// The type of the events it copies; `None`: all of them.
    const EVENT_TYPE: Option<investigator_events::domain::EventType>;
    /// The base name of its topic.
    const BASE_NAME: &'static str;
    /// Whether every record goes to the relay's own topic, so the topic's last records say how
    /// far the copy got (a re-drive goes to other topics: it cannot tell).
    const RESUMES_FROM_TOPIC: bool = false;

    /// The record for `event`; `None` when the event needs none.
    fn record(&self, event: &StoredEvent) -> Option<RelayRecord>;
}

/// Publishes the log to one topic, after its checkpoint.
pub struct LogRelay<C: LogCopy> {
    copy: C,
    producer: FutureProducer<ClientLogging>,
    topic: String,
    largest_record: u64,
    database: Database,
    metrics: Metrics,
    health: Health,
    kafka: KafkaSettings,
    lease: LeaseToken,
}

/// What a relay needs besides its copy and topic.
pub struct RelayContext {
    /// The database whose log is copied.
    pub database: Database,
    /// The service's metrics.
    pub metrics: Metrics,
    /// Where a failing relay says so.
    pub health: Health,
    /// The holding of the singleton lease that fences every checkpoint move.
    pub lease: LeaseToken,
}

impl<C: LogCopy> LogRelay<C> {
    /// A relay of the log to `topic`. The producer is idempotent, so retries keep the order.
    pub fn new(copy: C, kafka: &KafkaSettings, topic: String, context: RelayContext) -> Result<Self, KafkaError> {
        let producer =
            kafka.client_config().set("enable.idempotence", "true").create_with_context(ClientLogging::default())?;
        let largest_record =
            kafka.message_max_bytes.unwrap_or(DEFAULT_MESSAGE_MAX_BYTES).saturating_sub(RECORD_OVERHEAD);
        let RelayContext { database, metrics, health, lease } = context;
        Ok(LogRelay { copy, producer, topic, largest_record, database, metrics, health, kafka: kafka.clone(), lease })
    }

    /// Publishes until `stop` turns true, or the lease is lost.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(
            relay = C::NAME,
            topic = self.topic,
            generation = self.lease.generation,
            "copying the event log"
        );
        if C::RESUMES_FROM_TOPIC
            && let Err(RoundError::LeaseLost(reason)) = self.resume_from_topic().await
        {
            tracing::info!(relay = C::NAME, reason, "the lease is lost: the relay stops");
            return;
        }
        let mut failures = 0;
        loop {
            let pause = match self.round().await {
                Ok(0) => Duration::from_millis(200),
                Ok(_) => {
                    failures = 0;
                    self.health.recovered(C::NAME);
                    Duration::ZERO
                }
                Err(RoundError::LeaseLost(reason)) => {
                    tracing::info!(relay = C::NAME, reason, "the lease is lost: the relay stops");
                    return;
                }
                Err(RoundError::Failed(error)) => {
                    self.health.failed(C::NAME, &error);
                    tracing::warn!(relay = C::NAME, %error, "the event log could not be copied; trying again");
                    failures += 1;
                    RELAY_BACKOFF.after(failures)
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = stop.wait_for(|stop| *stop) => return,
                    () = tokio::time::sleep(pause) => {}
                }
            } else if *stop.borrow() {
                return;
            }
        }
    }

    /// Moves the checkpoint up to the position the topic holds already, when it is ahead (a
    /// holder killed between its deliveries and its checkpoint). The least of the partitions'
    /// last positions: each partition holds its records in the order they were sent, so every
    /// record up to it was delivered; a partition that is empty, or whose last record has no
    /// position, says nothing can be skipped. Failing to read the topic only means repeats.
    async fn resume_from_topic(&self) -> Result<(), RoundError> {
        let (kafka, topic) = (self.kafka.clone(), self.topic.clone());
        let published = tokio::task::spawn_blocking(move || last_published_position(&kafka, &topic)).await;
        let published = match published {
            Ok(Ok(Some(position))) => position,
            Ok(Ok(None)) => return Ok(()),
            Ok(Err(error)) => {
                tracing::warn!(relay = C::NAME, %error, "what the topic holds could not be read; copying from the checkpoint");
                return Ok(());
            }
            Err(error) => {
                tracing::warn!(relay = C::NAME, %error, "what the topic holds could not be read; copying from the checkpoint");
                return Ok(());
            }
        };
        let describe = |error: &dyn std::error::Error| investigator_events::error_chain::one_line(error);
        let mut connection = self.database.connection().await.map_err(|error| describe(&error))?;
        let transaction = connection.read().await.map_err(|error| describe(&error))?;
        let checkpoint = investigator_projections::projector::checkpoint(&transaction, C::NAME)
            .await
            .map_err(|error| describe(&error))?;
        let head = head_position(&transaction).await.map_err(|error| describe(&error))?;
        drop(transaction);
        drop(connection);
        // A position beyond the log's head is another log's (a database started afresh with the
        // topic kept): it says nothing about this one.
        if published <= checkpoint || published > head {
            return Ok(());
        }
        self.move_checkpoint(published).await?;
        tracing::info!(
            relay = C::NAME,
            from = checkpoint,
            to = published,
            "checkpoint moved to what the topic holds already"
        );
        Ok(())
    }

    /// Moves the checkpoint to `position`, fenced by the lease.
    async fn move_checkpoint(&self, position: i64) -> Result<(), RoundError> {
        let describe = |error: &dyn std::error::Error| investigator_events::error_chain::one_line(error);
        let mut connection = self.database.connection().await.map_err(|error| describe(&error))?;
        let transaction = connection.transaction().await.map_err(|error| describe(&error))?;
        investigator_projections::projector::set_checkpoint(&transaction, C::NAME, position)
            .await
            .map_err(|error| describe(&error))?;
        match lease::fence(&transaction, &self.lease).await {
            Ok(()) => {}
            Err(lost) if lost.is_lost() => return Err(RoundError::LeaseLost(lost.to_string())),
            Err(error) => return Err(RoundError::Failed(describe(&error))),
        }
        transaction.commit().await.map_err(|error| describe(&error))?;
        Ok(())
    }

    /// Publishes what follows the checkpoint (a page of the log); how many events it read.
    async fn round(&self) -> Result<usize, RoundError> {
        let describe = |error: &(dyn std::error::Error + 'static)| investigator_projections::fault::describe(error);
        let mut connection = self.database.connection().await.map_err(|error| describe(&error))?;
        let transaction = connection.read().await.map_err(|error| describe(&error))?;
        let after = investigator_projections::projector::checkpoint(&transaction, C::NAME)
            .await
            .map_err(|error| describe(&error))?;
        let (events, read_to) = match C::EVENT_TYPE {
            None => {
                let events = read_stored_from(&transaction, after, BATCH).await.map_err(|error| describe(&error))?;
                let read_to = events.last().map_or(after, |event| event.position);
                (events, read_to)
            }
            Some(event_type) => {
                // The events of one type among the next page of positions: the checkpoint
                // moves past the page even when it holds none.
                let head = head_position(&transaction).await.map_err(|error| describe(&error))?;
                let read_to = head.min(after + BATCH * 10);
                let events = read_stored_of_type(&transaction, after, read_to, event_type)
                    .await
                    .map_err(|error| describe(&error))?;
                (events, read_to)
            }
        };
        drop(transaction);
        drop(connection);
        if read_to == after {
            if C::EVENT_TYPE.is_none() {
                // Where the mirror stands, also right after a restart with nothing new.
                self.metrics.mirror_position.set(after);
            }
            return Ok(0);
        }
        let deliveries: Vec<_> = events.iter().map(|event| self.publish(event)).collect();
        for delivery in futures_util::future::join_all(deliveries).await {
            delivery?;
        }
        self.move_checkpoint(read_to).await?;
        if C::EVENT_TYPE.is_none() {
            self.metrics.mirror_position.set(read_to);
        }
        Ok(usize::try_from(read_to - after).unwrap_or(usize::MAX))
    }

    /// Publishes one event's record, or a reference to it when the topic cannot take it.
    async fn publish(&self, event: &StoredEvent) -> Result<(), String> {
        let Some(record) = self.copy.record(event) else {
            return Ok(());
        };
        let size = record.value.as_ref().map_or(0, Vec::len) as u64;
        if size > self.largest_record {
            return self.too_large(event, &record, size).await;
        }
        match self.send(event, &record).await {
            Err(KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)) => {
                self.too_large(event, &record, size).await
            }
            Err(error) => Err(format!("position {}: {error}", event.position)),
            Ok(()) => Ok(()),
        }
    }

    /// A record the topic cannot take: a reference to it instead, on the relay's own topic. On
    /// another topic (a re-drive) a reference would mean nothing to its readers: the record is
    /// left out, loudly (the event stays in the log).
    async fn too_large(&self, event: &StoredEvent, record: &RelayRecord, size: u64) -> Result<(), String> {
        if record.topic.is_some() {
            tracing::error!(
                relay = C::NAME,
                position = event.position,
                size,
                "a record too large for its topic is not published"
            );
            return Ok(());
        }
        self.publish_reference(event, size).await
    }

    async fn publish_reference(&self, event: &StoredEvent, size: u64) -> Result<(), String> {
        tracing::warn!(
            relay = C::NAME,
            position = event.position,
            event_type = event.event_type,
            size,
            limit = self.largest_record,
            "an event too large for the topic: a reference to it is published instead"
        );
        let value = serde_json::json!({
            "position": event.position,
            "stream": event.stream_id,
            "type": event.event_type,
            "size": size,
            "reference": true,
            "reason": "the record is larger than the topic takes; read the event from the log",
        });
        let reference = RelayRecord {
            topic: None,
            key: Some(event.stream_id.clone()),
            value: Some(value.to_string().into_bytes()),
            headers: vec![
                ("event_type", event.event_type.clone().into_bytes()),
                ("reference", b"true".to_vec()),
                ("content-type", b"application/json".to_vec()),
            ],
        };
        self.send(event, &reference).await.map_err(|error| format!("position {}: {error}", event.position))
    }

    async fn send(&self, event: &StoredEvent, record: &RelayRecord) -> Result<(), KafkaError> {
        let position = event.position.to_string();
        let mut headers = OwnedHeaders::new().insert(Header { key: "position", value: Some(position.as_str()) });
        for (key, value) in &record.headers {
            headers = headers.insert(Header { key, value: Some(value.as_slice()) });
        }
        let topic = record.topic.as_deref().unwrap_or(&self.topic);
        let mut kafka_record: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic).headers(headers);
        if let Some(key) = &record.key {
            kafka_record = kafka_record.key(key.as_str());
        }
        if let Some(value) = &record.value {
            kafka_record = kafka_record.payload(value.as_slice());
        }
        self.producer.send(kafka_record, DELIVERY_TIMEOUT).await.map(drop).map_err(|(error, _)| error)
    }
}

/// The least over `topic`'s partitions of the largest `position` header among their last
/// records; `None` when a partition is empty, a record has no readable position, or the topic
/// cannot be read in time (nothing can be skipped then).
fn last_published_position(kafka: &KafkaSettings, topic: &str) -> Result<Option<i64>, KafkaError> {
    let mut config = kafka.client_config();
    // Partitions are assigned, never subscribed: the group is only a name librdkafka wants.
    config.set("group.id", "investigator-relay-resume");
    config.set("enable.auto.commit", "false");
    let consumer: BaseConsumer<ClientLogging> = config.create_with_context(ClientLogging::default())?;
    let metadata = consumer.fetch_metadata(Some(topic), TOPIC_READ_TIMEOUT)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|listed| listed.name() == topic)
        .flat_map(|listed| listed.partitions().iter().map(|partition| partition.id()))
        .collect();
    if partitions.is_empty() {
        return Ok(None);
    }
    let mut least: Option<i64> = None;
    for partition in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, partition, TOPIC_READ_TIMEOUT)?;
        if high <= low {
            return Ok(None);
        }
        let mut assignment = TopicPartitionList::new();
        // From the last record by the watermark, then on until nothing more comes: some brokers
        // (tansu) report a high watermark short of the partition's end.
        assignment.add_partition_offset(topic, partition, Offset::Offset(high - 1))?;
        consumer.assign(&assignment)?;
        let deadline = std::time::Instant::now() + TOPIC_READ_TIMEOUT;
        let mut last: Option<i64> = None;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            // The first record may take a connection and a fetch; the end is a quiet spell.
            let wait = if last.is_none() { left } else { TOPIC_END_QUIET.min(left) };
            match consumer.poll(wait) {
                Some(Ok(message)) if message.partition() == partition => {
                    // A record without a position is not ours: nothing can be told.
                    let Some(position) = position_header(&message) else {
                        return Ok(None);
                    };
                    // The largest, not the last: a repeat of an earlier round may come after.
                    last = Some(last.map_or(position, |last| last.max(position)));
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => break,
            }
        }
        let Some(last) = last else {
            return Ok(None);
        };
        least = Some(least.map_or(last, |least| least.min(last)));
    }
    Ok(least)
}

/// The `position` header of a record the relay published.
fn position_header(message: &impl Message) -> Option<i64> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|header| header.key == "position")
        .and_then(|header| header.value)
        .and_then(|value| std::str::from_utf8(value).ok())
        .and_then(|value| value.parse().ok())
}
