//! Appending a batch.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::error::DatabaseContext;
use super::{AppendOutcome, AppendRequest, ExpectedVersion, RecordedEvent, StoreError};
use crate::Database;
use crate::jsonb::JsonbText;
use crate::statements;

const LOCK_HEAD: &str = "SELECT position, now() FROM investigator.log_head WHERE id = 1 FOR UPDATE";
const FIND_BATCH: &str =
    "SELECT first_position, event_count FROM investigator.appended_batch WHERE idempotency_key = $1";
/// One backward index probe per stream (a `max() ... GROUP BY` would read every version).
const STREAM_VERSIONS: &str = "SELECT s.stream_id, (SELECT e.stream_version FROM investigator.event_log e \
     WHERE e.stream_id = s.stream_id ORDER BY e.stream_version DESC LIMIT 1) \
     FROM unnest($1::text[]) AS s (stream_id)";
const INSERT_EVENTS: &str = "INSERT INTO investigator.event_log \
     (position, stream_id, stream_version, event_type, schema_version, payload, metadata, recorded_at) \
     SELECT position, stream_id, stream_version, event_type, schema_version, payload, metadata, $8 \
     FROM unnest($1::int8[], $2::text[], $3::int8[], $4::text[], $5::int4[], $6::jsonb[], $7::jsonb[]) \
     AS batch (position, stream_id, stream_version, event_type, schema_version, payload, metadata)";
const RECORD_BATCH: &str = "INSERT INTO investigator.appended_batch \
     (idempotency_key, first_position, event_count, appended_at) VALUES ($1, $2, $3, $4)";
const MOVE_HEAD: &str = "UPDATE investigator.log_head SET position = $1 WHERE id = 1";
const COPY_EVENTS: &str = "COPY investigator.event_log \
     (position, stream_id, stream_version, event_type, schema_version, payload, metadata, recorded_at) \
     FROM STDIN BINARY";
/// From this many events on, a batch goes in with COPY (one more round trip, much less work
/// per row); smaller ones with one INSERT.
const COPY_FROM: usize = 32;

/// Takes the log-head lock for the rest of the transaction, before it appends: what the
/// transaction reads from then on cannot change under it, as every append waits for the lock.
/// A batch that decides on what the graph holds (a workflow already pending for a target)
/// takes it before reading, so two consumers deciding about the same target at once decide one
/// after the other, the second seeing what the first recorded.
pub async fn lock_head(transaction: &Transaction<'_>) -> Result<(), StoreError> {
    transaction.query_one(LOCK_HEAD, &[]).await.during("locking the log head")?;
    Ok(())
}

/// The version of `stream`'s last event (0: none yet).
pub async fn stream_version(transaction: &Transaction<'_>, stream: &str) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT coalesce((SELECT stream_version FROM investigator.event_log WHERE stream_id = $1 \
        ORDER BY stream_version DESC LIMIT 1), 0)";
    let row = transaction.query_one(SQL, &[&stream]).await.during("reading a stream's version")?;
    Ok(row.get(0))
}

/// Appends a batch in a transaction of its own, and nothing else: the projections catch up
/// with the next [`crate::record`]. Most callers want `record`, which projects too.
pub async fn append(database: &Database, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
    let mut client = database.connection().await?;
    let transaction = client.transaction().await.during("starting a transaction")?;
    let outcome = append_in(&transaction, request).await?;
    transaction.commit().await.during("committing appended events")?;
    Ok(outcome)
}

/// Appends a batch inside the caller's transaction, holding the log-head lock until that
/// transaction ends. Checks the idempotency key, then every expected stream version; on a
/// conflict nothing is written and the transaction is to be rolled back.
pub async fn append_in(transaction: &Transaction<'_>, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
    let lock = transaction.prepare(LOCK_HEAD).await.during("locking the log head")?;
    let head = transaction.query_one(&lock, &[]).await.during("locking the log head")?;
    let head_position: i64 = head.get(0);
    let recorded_at: DateTime<Utc> = head.get(1);

    // Read after the lock is held, so these see every batch committed before ours.
    let (already, mut stream_versions) = tokio::try_join!(
        find_batch(transaction, request.idempotency_key.as_deref()),
        current_versions(transaction, &request),
    )?;
    if let Some((first_position, event_count)) = already {
        return Ok(AppendOutcome::AlreadyAppended { first_position, event_count });
    }
    for (stream, expected) in &request.expected {
        let actual = stream_versions.get(stream.as_str()).copied().unwrap_or(0);
        let holds = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::Exactly(version) => actual == *version,
        };
        if !holds {
            return Err(StoreError::Conflict { stream: stream.clone(), expected: *expected, actual });
        }
    }
    if request.events.is_empty() {
        return Ok(AppendOutcome::Appended(Vec::new()));
    }

    let count = request.events.len();
    let mut columns = Columns::with_capacity(count);
    let mut recorded = Vec::with_capacity(count);
    for (offset, new) in request.events.into_iter().enumerate() {
        let position = head_position + 1 + offset as i64;
        let version = stream_versions.entry(new.stream.as_str().to_owned()).or_insert(0);
        *version += 1;
        let encoded = new.event.encode();
        columns.positions.push(position);
        columns.streams.push(new.stream.as_str().to_owned());
        columns.versions.push(*version);
        columns.types.push(encoded.event_type.name());
        columns.schema_versions.push(encoded.schema_version());
        columns.payloads.push(encoded.payload);
        // Metadata is plain strings and numbers: serialising it cannot fail.
        columns.metadata.push(serde_json::to_vec(&new.metadata).unwrap_or_else(|_| b"{}".to_vec()));
        recorded.push(RecordedEvent {
            position,
            stream: new.stream,
            stream_version: *version,
            event: new.event,
            metadata: new.metadata,
            recorded_at,
        });
    }
    let last_position = head_position + count as i64;
    let first_position = head_position + 1;
    let event_count = count as i32;

    let payloads: Vec<JsonbText<'_>> = columns.payloads.iter().map(|payload| JsonbText(payload)).collect();
    let metadata: Vec<JsonbText<'_>> = columns.metadata.iter().map(|metadata| JsonbText(metadata)).collect();
    if count >= COPY_FROM {
        copy_events(transaction, &columns, &payloads, &metadata, recorded_at).await?;
    } else {
        let params: [&(dyn ToSql + Sync); 8] = [
            &columns.positions,
            &columns.streams,
            &columns.versions,
            &columns.types,
            &columns.schema_versions,
            &payloads,
            &metadata,
            &recorded_at,
        ];
        statements::execute(transaction, INSERT_EVENTS, &params).await.during("appending events")?;
    }
    if let Some(key) = &request.idempotency_key {
        statements::execute(transaction, RECORD_BATCH, &[key, &first_position, &event_count, &recorded_at])
            .await
            .during("recording the idempotency key")?;
    }
    statements::execute(transaction, MOVE_HEAD, &[&last_position]).await.during("moving the log head")?;
    Ok(AppendOutcome::Appended(recorded))
}

async fn copy_events(
    transaction: &Transaction<'_>,
    columns: &Columns,
    payloads: &[JsonbText<'_>],
    metadata: &[JsonbText<'_>],
    recorded_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    const TYPES: [Type; 8] =
        [Type::INT8, Type::TEXT, Type::INT8, Type::TEXT, Type::INT4, Type::JSONB, Type::JSONB, Type::TIMESTAMPTZ];
    let sink = transaction.copy_in(COPY_EVENTS).await.during("appending events")?;
    let writer = BinaryCopyInWriter::new(sink, &TYPES);
    futures_util::pin_mut!(writer);
    for i in 0..columns.positions.len() {
        let row: [&(dyn ToSql + Sync); 8] = [
            &columns.positions[i],
            &columns.streams[i],
            &columns.versions[i],
            &columns.types[i],
            &columns.schema_versions[i],
            &payloads[i],
            &metadata[i],
            &recorded_at,
        ];
        writer.as_mut().write(&row).await.during("appending events")?;
    }
    writer.finish().await.during("appending events")?;
    Ok(())
}

#[derive(Default)]
struct Columns {
    positions: Vec<i64>,
    streams: Vec<String>,
    versions: Vec<i64>,
    types: Vec<&'static str>,
    schema_versions: Vec<i32>,
    payloads: Vec<Vec<u8>>,
    metadata: Vec<Vec<u8>>,
}

impl Columns {
    fn with_capacity(count: usize) -> Self {
        Columns {
            positions: Vec::with_capacity(count),
            streams: Vec::with_capacity(count),
            versions: Vec::with_capacity(count),
            types: Vec::with_capacity(count),
            schema_versions: Vec::with_capacity(count),
            payloads: Vec::with_capacity(count),
            metadata: Vec::with_capacity(count),
        }
    }
}

async fn find_batch(transaction: &Transaction<'_>, key: Option<&str>) -> Result<Option<(i64, i32)>, StoreError> {
    let Some(key) = key else {
        return Ok(None);
    };
    let rows = statements::query(transaction, FIND_BATCH, &[&key]).await.during("checking the idempotency key")?;
    Ok(rows.first().map(|row| (row.get(0), row.get(1))))
}

/// The current version of every stream the request touches (absent: no event yet).
async fn current_versions(
    transaction: &Transaction<'_>,
    request: &AppendRequest,
) -> Result<HashMap<String, i64>, StoreError> {
    let mut streams: Vec<&str> = request.events.iter().map(|event| event.stream.as_str()).collect();
    streams.extend(request.expected.iter().map(|(stream, _)| stream.as_str()));
    streams.sort_unstable();
    streams.dedup();
    let rows = statements::query(transaction, STREAM_VERSIONS, &[&streams]).await.during("reading stream versions")?;
    Ok(rows
        .into_iter()
        .filter_map(|row| row.get::<_, Option<i64>>(1).map(|version| (row.get::<_, String>(0), version)))
        .collect())
}
