//! Recording: appending events and projecting them in one transaction.

use std::time::{Duration, Instant};

use deadpool_postgres::Transaction;

use crate::projector::{self, KNOWLEDGE_GRAPH, ProjectionError};
use crate::schema::SchemaName;
use crate::store::{self, AppendOutcome, AppendRequest, RecordedEvent, StoreError};
use crate::{Database, DatabaseError};

/// Events read per query while catching up.
const CATCH_UP_PAGE: i64 = 5_000;

/// Why recording failed. Nothing was recorded: the transaction rolled back.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The log refused the batch (a conflict) or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The events could not be projected.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// No connection.
    #[error(transparent)]
    Connection(#[from] DatabaseError),
    /// PostgreSQL failed around the append.
    #[error("recording events failed")]
    Database(#[from] tokio_postgres::Error),
}

/// Appends a batch and applies it to the live knowledge graph, in one transaction.
pub async fn record(database: &Database, request: AppendRequest) -> Result<AppendOutcome, RecordError> {
    let mut client = database.connection().await?;
    let transaction = client.transaction().await?;
    let outcome = record_in(&transaction, request).await?;
    transaction.commit().await?;
    Ok(outcome)
}

/// Where the time of one [`record_in_timed`] went: the batch's profile shows both.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecordTimings {
    /// The log: the head lock, the idempotency and version checks, the rows.
    pub append: Duration,
    /// The knowledge graph: a catch-up if it was behind, the batch's rows, the checkpoint.
    pub projection: Duration,
}

/// Appends a batch and applies it to the live knowledge graph, inside the caller's
/// transaction (which may also hold, say, the Kafka offsets of the records it came from).
/// If the projection is behind the log (events appended without projecting, a log imported),
/// it catches up first, so the graph never skips an event. The transaction's `search_path` is
/// as it was before.
pub async fn record_in(transaction: &Transaction<'_>, request: AppendRequest) -> Result<AppendOutcome, RecordError> {
    Ok(record_in_timed(transaction, request).await?.0)
}

/// [`record_in`], telling how long the append and the projection took.
pub async fn record_in_timed(
    transaction: &Transaction<'_>,
    request: AppendRequest,
) -> Result<(AppendOutcome, RecordTimings), RecordError> {
    let started = Instant::now();
    let outcome = store::append_in(transaction, request).await?;
    let mut timings = RecordTimings { append: started.elapsed(), projection: Duration::ZERO };
    let AppendOutcome::Appended(events) = &outcome else {
        return Ok((outcome, timings));
    };
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok((outcome, timings));
    };
    let live = SchemaName::live();
    catch_up_to(transaction, &live, first.position - 1).await?;
    projector::apply(transaction, &live, events).await?;
    projector::set_checkpoint(transaction, KNOWLEDGE_GRAPH, last.position).await?;
    timings.projection = started.elapsed() - timings.append;
    Ok((outcome, timings))
}

/// Applies the events between the live projection's checkpoint and `position` (the caller
/// holds the log-head lock, so no event can commit in between).
async fn catch_up_to(transaction: &Transaction<'_>, schema: &SchemaName, position: i64) -> Result<(), RecordError> {
    let mut applied = projector::checkpoint(transaction, KNOWLEDGE_GRAPH).await?;
    if applied < position {
        tracing::info!(from = applied, to = position, "the knowledge graph is behind the log: catching up");
    }
    while applied < position {
        let events: Vec<RecordedEvent> =
            store::read_from(transaction, applied, CATCH_UP_PAGE.min(position - applied)).await?;
        let Some(last) = events.last() else {
            break;
        };
        projector::apply(transaction, schema, &events).await?;
        applied = last.position;
    }
    Ok(())
}
