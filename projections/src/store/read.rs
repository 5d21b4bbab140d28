//! Reading the log by position.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use futures_util::TryStreamExt;
use investigator_events::domain::EventType;

use super::error::DatabaseContext;
use super::{RecordedEvent, StoreError, StoredEvent};
use crate::jsonb::JsonbBytes;

const READ_FROM: &str = "SELECT position, stream_id, stream_version, event_type, schema_version, payload, metadata, \
     recorded_at FROM investigator.event_log WHERE position > $1 ORDER BY position LIMIT $2";
const READ_OF_TYPE: &str = "SELECT position, stream_id, stream_version, event_type, schema_version, payload, \
     metadata, recorded_at FROM investigator.event_log WHERE position > $1 AND position <= $2 AND event_type = $3 \
     ORDER BY position";

/// The position of the `$1 + 1`-th last event of a type (`$2`, or any) and stream (`$3`, or
/// any): walked back from the head on the primary key, so it reads as far back as the
/// events asked for lie.
const NTH_LAST_SELECTED: &str = "SELECT position FROM investigator.event_log \
     WHERE ($2::text IS NULL OR event_type = $2) AND ($3::text IS NULL OR stream_id = $3) \
     ORDER BY position DESC OFFSET $1 LIMIT 1";

/// A page read from the log holds at most this many bytes of payloads and metadata, or one
/// event when that event alone is larger. Events are small (a page of 10,000 takes a few
/// MiB), so pages are counted in events; but the log may hold large ones (a document's
/// result, a dead letter's record, an imported archive's), and a page of thousands of those
/// would take gigabytes.
pub const PAGE_BYTES: usize = 8 * 1024 * 1024;

/// The position of the last committed event (0 for an empty log).
pub async fn head_position(client: &impl GenericClient) -> Result<i64, StoreError> {
    let row = client
        .query_one("SELECT position FROM investigator.log_head WHERE id = 1", &[])
        .await
        .during("reading the log head")?;
    Ok(row.get(0))
}

/// Which events a reader of the log's tail wants: `None` is any.
#[derive(Debug, Clone, Copy, Default)]
pub struct TailFilter<'a> {
    /// Only events of this type.
    pub event_type: Option<&'a str>,
    /// Only events of this stream.
    pub stream_id: Option<&'a str>,
}

/// The position after which the last `count` events `filter` selects lie (0 when the log
/// holds fewer), so that reading from there and filtering shows exactly those: the last
/// `count` of that type, not the events of that type among the last `count` positions.
pub async fn start_of_last(client: &impl GenericClient, count: i64, filter: TailFilter<'_>) -> Result<i64, StoreError> {
    if count <= 0 {
        return head_position(client).await;
    }
    let row = client
        .query_opt(NTH_LAST_SELECTED, &[&(count - 1), &filter.event_type, &filter.stream_id])
        .await
        .during("finding where the tail starts")?;
    Ok(row.map_or(0, |row| row.get::<_, i64>(0) - 1))
}

/// Up to `limit` events after position `after`, in order, as stored; fewer when more would
/// take over [`PAGE_BYTES`] (callers go on from the last position, so a shorter page is no
/// end). Rows are taken one at a time from the server's stream: the row that would overflow
/// the page is left for the next one, and the rest of the page is never held.
pub async fn read_stored_from(
    client: &impl GenericClient,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let statement = client.prepare(READ_FROM).await.during("reading the log")?;
    let parameters: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&after, &limit];
    let rows = client.query_raw(&statement, parameters).await.during("reading the log")?;
    futures_util::pin_mut!(rows);
    let mut events = Vec::new();
    let mut bytes = 0;
    while let Some(row) = rows.try_next().await.during("reading the log")? {
        let row_bytes = row.get::<_, JsonbBytes<'_>>(5).0.len() + row.get::<_, JsonbBytes<'_>>(6).0.len();
        if !events.is_empty() && bytes + row_bytes > PAGE_BYTES {
            break;
        }
        bytes += row_bytes;
        events.push(stored_event(&row));
    }
    Ok(events)
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
    Ok(read_page(client, after, limit).await?.0)
}

/// As [`read_from`], with the bytes the page's payloads and metadata took as stored.
pub async fn read_page(
    client: &impl GenericClient,
    after: i64,
    limit: i64,
) -> Result<(Vec<RecordedEvent>, usize), StoreError> {
    let stored = read_stored_from(client, after, limit).await?;
    let bytes = stored.iter().map(|event| event.payload.len() + event.metadata.len()).sum();
    let events = stored
        .iter()
        .map(|stored| stored.decode().map_err(|source| StoreError::Unreadable { position: stored.position, source }))
        .collect::<Result<_, _>>()?;
    Ok((events, bytes))
}
