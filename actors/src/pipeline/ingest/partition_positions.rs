//! Positioning the partitions a rebalance assigned: at the offset stored in PostgreSQL, checked
//! against the log the broker holds ([`crate::pipeline::positioning`]); a stored offset outside
//! it is reset as `INVESTIGATOR_OFFSET_RESET` says, and the reset recorded.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use investigator_events::domain::ConsumerOffsetReset;
use investigator_projections::offsets::{TopicPartition, stored_offsets};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::{BROKER_TIMEOUT, COMPONENT, Ingest};
use crate::pipeline::control::HaltReason;
use crate::pipeline::positioning::{Start, Watermarks, outside, start};

/// How long a probe waits for the record that would show a stored offset is inside the log.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

impl Ingest {
    /// Positions the assigned partitions that are not positioned yet: at the stored offset,
    /// or, when that lies outside the broker's log, where the policy says (recorded). A
    /// failure (the database or the broker away) is tried again later; the partition's
    /// records are dropped meanwhile, and read again once it is positioned.
    pub(super) async fn position_assigned(&mut self) {
        if self.unpositioned.is_empty() || Instant::now() < self.positioning_due {
            return;
        }
        let waiting: Vec<TopicPartition> = self
            .unpositioned
            .iter()
            .filter(|partition| !self.parts.control.is_halted(&partition.topic))
            .cloned()
            .collect();
        if waiting.is_empty() {
            return;
        }
        let stored = match self.stored_offsets().await {
            Ok(stored) => stored,
            Err(reason) => {
                self.positioning_failed(&reason);
                return;
            }
        };
        let mut failed = None;
        for partition in waiting {
            if let Err(reason) = self.position(&partition, stored.get(&partition).copied()).await {
                failed = Some(reason);
            }
        }
        match failed {
            Some(reason) => self.positioning_failed(&reason),
            None => {
                self.positioning_failures = 0;
                if !self.retrying_batch {
                    self.parts.health.recovered(COMPONENT);
                }
            }
        }
    }

    pub(super) fn positioning_failed(&mut self, reason: &str) {
        self.positioning_failures += 1;
        let wait =
            crate::pipeline::settings::outage_backoff(Duration::from_millis(200)).after(self.positioning_failures);
        self.positioning_due = Instant::now() + wait;
        self.parts.health.failed(COMPONENT, reason);
        tracing::warn!(reason, retry_in = ?wait, "partitions not positioned yet: trying again");
    }

    pub(super) async fn stored_offsets(&self) -> Result<HashMap<TopicPartition, i64>, String> {
        let mut connection = self
            .parts
            .database
            .connection()
            .await
            .map_err(|error| investigator_projections::fault::describe(&error))?;
        let transaction = connection.read().await.map_err(|error| investigator_projections::fault::describe(&error))?;
        let stored = stored_offsets(&transaction, &self.parts.settings.consumer_group)
            .await
            .map_err(|error| crate::pipeline::batch::describe(&error))?;
        Ok(stored.into_iter().collect())
    }

    /// Positions one partition whose stored next offset is `stored`.
    pub(super) async fn position(&mut self, partition: &TopicPartition, stored: Option<i64>) -> Result<(), String> {
        let (low, high) = self
            .consumer
            .fetch_watermarks(&partition.topic, partition.partition, BROKER_TIMEOUT)
            .map_err(|error| format!("the watermarks of {}/{}: {error}", partition.topic, partition.partition))?;
        let log = Watermarks { low, high };
        let policy = self.parts.settings.offset_reset;
        let decided = start(stored, log, self.fresh_start, policy);
        let decided = match (decided, stored) {
            (Start::Reset { .. } | Start::Halt { .. }, Some(stored))
                if !self.confirm_outside(partition, stored, log).await =>
            {
                // The broker's watermarks were behind its log: the stored offset is fine.
                Start::At(stored)
            }
            (decided, _) => decided,
        };
        match decided {
            Start::At(offset) => {
                tracing::info!(
                    topic = partition.topic,
                    partition = partition.partition,
                    offset,
                    "partition positioned"
                );
                self.unpositioned.remove(partition);
                self.show_position(partition, offset, high);
                self.seek(partition.clone(), offset);
            }
            Start::Reset { stored, to } => {
                let reset = ConsumerOffsetReset {
                    consumer_group: self.parts.settings.consumer_group.clone(),
                    topic: partition.topic.clone(),
                    partition: partition.partition,
                    stored_offset: Some(stored),
                    low_watermark: Some(low),
                    high_watermark: Some(high),
                    policy: policy.name().to_owned(),
                    reset_to: to,
                };
                let moved = investigator_projections::offsets::reset(&self.parts.database, reset)
                    .await
                    .map_err(|error| crate::pipeline::batch::describe(&error))?;
                if !moved {
                    // Another consumer moved it meanwhile: decided again on the next round.
                    self.positioning_due = Instant::now() + Duration::from_millis(200);
                    return Ok(());
                }
                tracing::warn!(
                    topic = partition.topic,
                    partition = partition.partition,
                    stored,
                    low,
                    high,
                    policy = policy.name(),
                    reset_to = to,
                    "the stored offset lay outside the broker's log (a topic created again, lost data, retention): reset and recorded"
                );
                self.parts.metrics.offset_resets.with_label_values(&[&partition.topic, policy.name()]).inc();
                self.unpositioned.remove(partition);
                self.show_position(partition, to, high);
                self.seek(partition.clone(), to);
            }
            Start::Halt { stored } => {
                tracing::error!(
                    topic = partition.topic,
                    partition = partition.partition,
                    stored,
                    low,
                    high,
                    "the stored offset lies outside the broker's log: the topic halts (INVESTIGATOR_OFFSET_RESET=halt) until an operator resets the offset and resumes it"
                );
                self.parts.metrics.offset_resets.with_label_values(&[&partition.topic, policy.name()]).inc();
                let reason = HaltReason::OffsetOutOfRange { partition: partition.partition, stored, low, high };
                self.parts.control.halt(&partition.topic, reason);
                if let Some(kind) = self.parts.settings.naming.kind_of_topic(&partition.topic) {
                    self.parts.metrics.halted_topics.with_label_values(&[kind.base_name()]).set(1);
                }
            }
        }
        Ok(())
    }

    /// `current_partition_offsets` and `investigator_consumer_lag` from the moment a partition
    /// is positioned, before any of its records comes (the gauges' task only sees partitions
    /// once a batch has stored their offsets): the offset before the next one read (what a
    /// batch leaves it at too), and the records from there to the high watermark `high`.
    pub(super) fn show_position(&self, partition: &TopicPartition, next: i64, high: i64) {
        let labels = [partition.topic.as_str(), &partition.partition.to_string()];
        self.parts.metrics.partition_offsets.with_label_values(&labels).set(next - 1);
        self.parts.metrics.consumer_lag.with_label_values(&labels).set((high - next).max(0));
    }

    /// Whether the broker really does not hold the record the stored offset implies (the one
    /// before it, or the one at it when the offset lies below the log): a probe reads it. The
    /// watermarks alone are not enough, as some brokers report them late after a burst; moving
    /// an offset back on a stale watermark would apply records twice.
    pub(super) async fn confirm_outside(&self, partition: &TopicPartition, stored: i64, log: Watermarks) -> bool {
        if !outside(stored, log) {
            return false;
        }
        let wanted = if stored > log.high { stored - 1 } else { stored };
        let config = self.probe_config.clone();
        let (topic, number) = (partition.topic.clone(), partition.partition);
        let probe = tokio::task::spawn_blocking(move || probe_holds(&config, &topic, number, wanted));
        match probe.await {
            Ok(Ok(held)) => !held,
            Ok(Err(error)) => {
                // Not confirmed, so nothing is moved; positioning at the stored offset goes on.
                tracing::warn!(%error, topic = partition.topic, partition = partition.partition, "the offset probe failed: keeping the stored offset");
                false
            }
            Err(error) => {
                tracing::warn!(%error, "the offset probe did not finish: keeping the stored offset");
                false
            }
        }
    }
}

/// Whether the broker holds the record at `offset` of the partition: read by a consumer of its
/// own, assigned there, within [`PROBE_TIMEOUT`]. An answer of "out of range", or nothing, is
/// "no".
fn probe_holds(
    config: &ClientConfig,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<bool, rdkafka::error::KafkaError> {
    let consumer: BaseConsumer = config.create()?;
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, partition, Offset::Offset(offset))?;
    consumer.assign(&list)?;
    let deadline = Instant::now() + PROBE_TIMEOUT;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => return Ok(message.offset() == offset),
            Some(Err(error)) => {
                tracing::debug!(%error, topic, partition, offset, "the offset probe read nothing");
                return Ok(false);
            }
            None => {}
        }
    }
    Ok(false)
}
