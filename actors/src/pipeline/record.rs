//! A Kafka record as the pipeline carries it: owned bytes and coordinates.

use std::time::Instant;

use investigator_projections::offsets::TopicPartition;

/// One record, copied out of the consumer's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRecord {
    /// The full topic name.
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Where the consumer was reading this partition from when it got this record: the offset
    /// after the record before it, or where it was last positioned. Offsets from `follows` up
    /// to `offset` do not exist (transaction markers, compaction, retention); a record whose
    /// `follows` lies beyond the stored offset was read past records never applied.
    pub follows: i64,
    /// The key, if any (Thoth sends none).
    pub key: Option<Vec<u8>>,
    /// The value; `None` for a tombstone.
    pub payload: Option<Vec<u8>>,
    /// The W3C trace context: the producer's `traceparent` header when it sent a valid one,
    /// else a trace started at ingest.
    pub traceparent: Option<String>,
    /// The record's Kafka timestamp (the producer's create time, or the broker's append time),
    /// or its publication time on the embedded bus, in milliseconds since the epoch; `None`
    /// when the broker gave none. It is part of the names of the workflows the record asks for
    /// (the same on every delivery), and measures how long records wait before their batch.
    pub timestamp_ms: Option<i64>,
    /// When the consumer (or the bus) handed the record to the ingest. Against
    /// `timestamp_ms` it splits a record's wait before its batch into the broker's part and
    /// the service's own.
    pub received_at: Instant,
}

impl InboundRecord {
    /// The record's partition.
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition { topic: self.topic.clone(), partition: self.partition }
    }
}
