//! Reading the log by position.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use investigator_events::domain::EventType;

use super::error::DatabaseContext;
use super::{RecordedEvent, StoreError, StoredEvent};
use crate::jsonb::JsonbBytes;

const READ_FROM: &str = "SELECT position, stream_id, stream_version, event_type, schema_version, payload, metadata, \
     recorded_at FROM investigator.event_log WHERE position > $1 ORDER BY position LIMIT $2";
const READ_OF_TYPE: &str = "SELECT position, stream_id, stream_version, event_type, schema_version, payload, \
     metadata, recorded_at FROM investigator.event_log WHERE position > $1 AND position <= $2 AND event_type = $3 \
     ORDER BY position";

/// The position of the last committed event (0 for an empty log).
pub async fn head_position(client: &impl GenericClient) -> Result<i64, StoreError> {
    let row = client
        .query_one("SELECT position FROM investigator.log_head WHERE id = 1", &[])
        .await
        .during("reading the log head")?;
    Ok(row.get(0))
}

/// Up to `limit` events after position `after`, in order, as stored.
pub async fn read_stored_from(
    client: &impl GenericClient,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let statement = client.prepare(READ_FROM).await.during("reading the log")?;
    let rows = client.query(&statement, &[&after, &limit]).await.during("reading the log")?;
    Ok(rows.iter().map(stored_event).collect())
}

/// The events of type `event_type` after position `after` and up to `until`, in order, as
/// stored.
pub async fn read_stored_of_type(
    client: &impl GenericClient,
    after: i64,
    until: i64,
    event_type: EventType,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows = client.query(READ_OF_TYPE, &[&after, &until, &event_type.name()]).await.during("reading the log")?;
    Ok(rows.iter().map(stored_event).collect())
}

fn stored_event(row: &tokio_postgres::Row) -> StoredEvent {
    StoredEvent {
        position: row.get(0),
        stream_id: row.get(1),
        stream_version: row.get(2),
        event_type: row.get(3),
        schema_version: row.get(4),
        payload: row.get::<_, JsonbBytes<'_>>(5).0.to_vec(),
        metadata: row.get::<_, JsonbBytes<'_>>(6).0.to_vec(),
        recorded_at: row.get::<_, DateTime<Utc>>(7),
    }
}

/// Up to `limit` events after position `after`, in order, decoded.
pub async fn read_from(client: &impl GenericClient, after: i64, limit: i64) -> Result<Vec<RecordedEvent>, StoreError> {
    read_stored_from(client, after, limit)
        .await?
        .iter()
        .map(|stored| stored.decode().map_err(|source| StoreError::Unreadable { position: stored.position, source }))
        .collect()
}
