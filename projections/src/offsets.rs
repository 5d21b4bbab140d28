//! Kafka consumer offsets, kept in PostgreSQL and written in the same transaction as the
//! effects of the records before them: the database, not Kafka, says where each partition
//! resumes.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use investigator_events::domain::{ConsumerOffsetReset, EventMetadata, StreamId};

use crate::store::{AppendRequest, NewEvent};

/// A partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// The full topic name.
    pub topic: String,
    pub partition: i32,
}

/// Locks the offset rows of `partitions` for the rest of the transaction and returns the next
/// offset to apply for each. A partition without a row starts at the offset given with it
/// (the first record the consumer received). Rows are locked in a fixed order, so two
/// consumers that briefly share partitions during a rebalance wait for each other instead of
/// deadlocking; the second one then sees the offsets the first one wrote.
pub async fn lock_offsets(
    client: &impl GenericClient,
    consumer_group: &str,
    partitions: &[(TopicPartition, i64)],
) -> Result<HashMap<TopicPartition, i64>, tokio_postgres::Error> {
    let topics: Vec<&str> = partitions.iter().map(|(key, _)| key.topic.as_str()).collect();
    let numbers: Vec<i32> = partitions.iter().map(|(key, _)| key.partition).collect();
    let starts: Vec<i64> = partitions.iter().map(|(_, start)| *start).collect();
    client
        .execute(
            "INSERT INTO investigator.consumer_offset (consumer_group, topic, partition, next_offset, updated_at)
             SELECT $1, topic, partition, start, now()
             FROM unnest($2::text[], $3::int4[], $4::int8[]) AS given (topic, partition, start)
             ORDER BY topic, partition
             ON CONFLICT (consumer_group, topic, partition) DO NOTHING",
            &[&consumer_group, &topics, &numbers, &starts],
        )
        .await?;
    let rows = client
        .query(
            "SELECT topic, partition, next_offset FROM investigator.consumer_offset
             WHERE consumer_group = $1
               AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int4[]))
             ORDER BY topic, partition
             FOR UPDATE",
            &[&consumer_group, &topics, &numbers],
        )
        .await?;
    Ok(rows.iter().map(|row| (TopicPartition { topic: row.get(0), partition: row.get(1) }, row.get(2))).collect())
}

/// Moves the partitions' next offsets (rows locked by [`lock_offsets`] in this transaction).
pub async fn advance_offsets(
    client: &impl GenericClient,
    consumer_group: &str,
    next_offsets: &[(TopicPartition, i64)],
) -> Result<(), tokio_postgres::Error> {
    let topics: Vec<&str> = next_offsets.iter().map(|(key, _)| key.topic.as_str()).collect();
    let numbers: Vec<i32> = next_offsets.iter().map(|(key, _)| key.partition).collect();
    let nexts: Vec<i64> = next_offsets.iter().map(|(_, next)| *next).collect();
    client
        .execute(
            "UPDATE investigator.consumer_offset AS stored
             SET next_offset = given.next, updated_at = now()
             FROM unnest($2::text[], $3::int4[], $4::int8[]) AS given (topic, partition, next)
             WHERE stored.consumer_group = $1 AND stored.topic = given.topic AND stored.partition = given.partition",
            &[&consumer_group, &topics, &numbers, &nexts],
        )
        .await?;
    Ok(())
}

/// Every stored offset of a consumer group, by topic and partition.
pub async fn stored_offsets(
    client: &impl GenericClient,
    consumer_group: &str,
) -> Result<Vec<(TopicPartition, i64)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT topic, partition, next_offset FROM investigator.consumer_offset
             WHERE consumer_group = $1 ORDER BY topic, partition",
            &[&consumer_group],
        )
        .await?;
    Ok(rows.iter().map(|row| (TopicPartition { topic: row.get(0), partition: row.get(1) }, row.get(2))).collect())
}

/// Moves a partition's stored offset to `reset.reset_to` and records why
/// ([`ConsumerOffsetReset`]), in one transaction, if the stored offset is still
/// `reset.stored_offset` (another consumer may have moved it meanwhile: then nothing is done
/// and `false` returned).
pub async fn reset(database: &crate::Database, reset: ConsumerOffsetReset) -> Result<bool, crate::RecordError> {
    let mut connection = database.connection().await?;
    let transaction = connection.transaction().await?;
    let partition = TopicPartition { topic: reset.topic.clone(), partition: reset.partition };
    let current = lock_offsets(&transaction, &reset.consumer_group, &[(partition.clone(), reset.reset_to)]).await?;
    // A missing row was just created at `reset_to` (unless another consumer created it
    // first); otherwise the row must still hold what the reset was decided on.
    let expected = reset.stored_offset.or(Some(reset.reset_to));
    if current.get(&partition).copied() != expected {
        return Ok(false);
    }
    advance_offsets(&transaction, &reset.consumer_group, &[(partition, reset.reset_to)]).await?;
    let stream = StreamId::consumer_offset(&reset.consumer_group, &reset.topic, reset.partition);
    let event = NewEvent { stream, event: reset.into(), metadata: EventMetadata::default() };
    crate::record_in(&transaction, AppendRequest { idempotency_key: None, expected: Vec::new(), events: vec![event] })
        .await?;
    transaction.commit().await?;
    Ok(true)
}
