//! The embedded bus: Thoth messages kept in PostgreSQL when there is no Kafka, read by the
//! pipeline as one-partition topics (partition 0, offsets from 0).

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use crate::Database;
use crate::offsets::TopicPartition;

/// A record on the bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusRecord {
    /// The topic (named as on Kafka: `<deployment>.<base name>`).
    pub topic: String,
    /// Its offset in the topic.
    pub offset: i64,
    /// The message's bytes.
    pub payload: Vec<u8>,
    /// The stored offset the read started from: every record of the topic from there up to
    /// this one's offset was read (the bus hands offsets out without gaps, but records can be
    /// deleted).
    pub read_from: i64,
    /// When it was published (its transaction's time).
    pub published_at: DateTime<Utc>,
}

/// Publishes `messages` (topic, bytes) in one transaction; returns each one's offset, in
/// order.
pub async fn publish(database: &Database, messages: &[(String, Vec<u8>)]) -> Result<Vec<i64>, BusError> {
    let mut client = database.connection().await?;
    let transaction = client.transaction().await?;
    let offsets = publish_in(&transaction, messages).await?;
    transaction.commit().await?;
    Ok(offsets)
}

/// Publishes `messages` inside the caller's transaction (which may also record that they
/// were published); returns each one's offset, in order.
pub async fn publish_in(
    transaction: &deadpool_postgres::Transaction<'_>,
    messages: &[(String, Vec<u8>)],
) -> Result<Vec<i64>, BusError> {
    let mut topics: Vec<&str> = messages.iter().map(|(topic, _)| topic.as_str()).collect();
    topics.sort();
    topics.dedup();
    let mut next: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for topic in topics {
        let count = messages.iter().filter(|(known, _)| known == topic).count() as i64;
        // Locks the head row until commit: offsets are gapless and appear in commit order.
        let row = transaction
            .query_one(
                "INSERT INTO investigator.bus_head (topic, next_offset) VALUES ($1, $2)
                 ON CONFLICT (topic) DO UPDATE SET next_offset = investigator.bus_head.next_offset + $2
                 RETURNING next_offset",
                &[&topic, &count],
            )
            .await?;
        next.insert(topic, row.get::<_, i64>(0) - count);
    }
    let mut offsets = Vec::with_capacity(messages.len());
    let mut names = Vec::with_capacity(messages.len());
    let mut payloads = Vec::with_capacity(messages.len());
    for (topic, payload) in messages {
        let offset = next.get_mut(topic.as_str()).map(|next| {
            *next += 1;
            *next - 1
        });
        offsets.push(offset.unwrap_or_default());
        names.push(topic.as_str());
        payloads.push(payload.as_slice());
    }
    transaction
        .execute(
            "INSERT INTO investigator.bus_record (topic, \"offset\", payload, published_at)
             SELECT topic, \"offset\", payload, now() FROM unnest($1::text[], $2::int8[], $3::bytea[])
                 AS given (topic, \"offset\", payload)",
            &[&names, &offsets, &payloads],
        )
        .await?;
    Ok(offsets)
}

/// Up to `limit` records of `topics` that the consumer group has not applied yet, in offset
/// order per topic.
pub async fn unapplied(
    client: &impl GenericClient,
    consumer_group: &str,
    topics: &[String],
    limit: i64,
) -> Result<Vec<BusRecord>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT record.topic, record.\"offset\", record.payload, coalesce(stored.next_offset, 0), record.published_at
             FROM unnest($2::text[]) AS wanted (topic)
             LEFT JOIN investigator.consumer_offset stored
               ON stored.consumer_group = $1 AND stored.topic = wanted.topic AND stored.partition = 0
             CROSS JOIN LATERAL (
                 SELECT * FROM investigator.bus_record record
                 WHERE record.topic = wanted.topic AND record.\"offset\" >= coalesce(stored.next_offset, 0)
                 ORDER BY record.\"offset\" LIMIT $3) AS record
             ORDER BY record.topic, record.\"offset\"
             LIMIT $3",
            &[&consumer_group, &topics, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| BusRecord {
            topic: row.get(0),
            offset: row.get(1),
            payload: row.get(2),
            read_from: row.get(3),
            published_at: row.get(4),
        })
        .collect())
}

impl BusRecord {
    /// Its partition (the bus has one per topic).
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition { topic: self.topic.clone(), partition: 0 }
    }
}

/// Publishing failed; nothing was published.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// No connection.
    #[error(transparent)]
    Connection(#[from] crate::DatabaseError),
    /// A statement failed.
    #[error("publishing to the embedded bus failed")]
    Database(#[from] tokio_postgres::Error),
}

/// The log of one topic of the bus: its first offset still held and the offset after its last
/// (both 0 for a topic never published to).
pub async fn log_bounds(client: &impl GenericClient, topic: &str) -> Result<(i64, i64), tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT coalesce((SELECT min(\"offset\") FROM investigator.bus_record WHERE topic = $1),
                             (SELECT next_offset FROM investigator.bus_head WHERE topic = $1), 0),
                    coalesce((SELECT next_offset FROM investigator.bus_head WHERE topic = $1), 0)",
            &[&topic],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}
