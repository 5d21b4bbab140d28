//! The projector: applies events to the knowledge-graph tables.
//!
//! One code path for everything: [`crate::record`] applies the events it appends inline (in
//! the appending transaction, under the log-head lock, so in position order), and replay
//! applies the whole log to a fresh schema with the same [`apply`]. The rows are a function of
//! the log alone: ids derive from natural keys, timestamps come from the events, and values
//! later events may change remember the position that set them, so batch boundaries do not
//! matter. `RowPlan` (pure) decides the rows; `write` (SQL) stores them.

mod ids;
mod plan;
mod write;

use deadpool_postgres::Transaction;

pub use plan::RowPlanError;
pub use write::WriteStats;

use crate::schema::SchemaName;
use crate::store::RecordedEvent;

/// The projection's name in `investigator.projection_checkpoint`.
pub const KNOWLEDGE_GRAPH: &str = "knowledge_graph";

/// Why events could not be projected.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// An event holds a value the graph cannot take.
    #[error(transparent)]
    Event(#[from] RowPlanError),
    /// PostgreSQL refused or failed.
    #[error("writing the knowledge graph failed")]
    Database(#[from] tokio_postgres::Error),
}

/// Applies `events`, in position order, to the projection tables in `schema`, within the
/// caller's transaction.
pub async fn apply(
    transaction: &Transaction<'_>,
    schema: &SchemaName,
    events: &[RecordedEvent],
) -> Result<WriteStats, ProjectionError> {
    if events.is_empty() {
        return Ok(WriteStats::default());
    }
    let started = std::time::Instant::now();
    let plan = plan::RowPlan::of(events)?;
    let planned = started.elapsed();
    let previous = schema.use_in(transaction).await?;
    let stats = write::write(transaction, &plan).await?;
    previous.restore(transaction).await?;
    tracing::debug!(
        events = events.len(),
        rows = stats.rows,
        plan_ms = planned.as_millis() as u64,
        write_ms = (started.elapsed() - planned).as_millis() as u64,
        schema = %schema,
        "events projected"
    );
    Ok(stats)
}

/// Applies `events` like [`apply`], spreading the writes over two transactions on two
/// connections so that PostgreSQL works on both halves at once. Only for a schema whose
/// foreign keys are deferred (a rebuild): each half's tables are only its own, but rows of
/// one half reference rows of the other.
pub(crate) async fn apply_in_parallel(
    packages: &Transaction<'_>,
    runs: &Transaction<'_>,
    schema: &SchemaName,
    events: &[RecordedEvent],
) -> Result<WriteStats, ProjectionError> {
    if events.is_empty() {
        return Ok(WriteStats::default());
    }
    let plan = plan::RowPlan::of(events)?;
    let (before_packages, before_runs) = tokio::try_join!(schema.use_in(packages), schema.use_in(runs))?;
    let (first, second) = tokio::try_join!(write::write_packages(packages, &plan), write::write_runs(runs, &plan))?;
    tokio::try_join!(before_packages.restore(packages), before_runs.restore(runs))?;
    Ok(WriteStats { rows: first.rows + second.rows })
}

/// Where the projection in `schema` stands: the position of the last event applied to it.
pub async fn checkpoint(transaction: &Transaction<'_>, projection: &str) -> Result<i64, tokio_postgres::Error> {
    let row = transaction
        .query_opt("SELECT position FROM investigator.projection_checkpoint WHERE projection = $1", &[&projection])
        .await?;
    Ok(row.map_or(0, |row| row.get(0)))
}

/// Records that `projection` has applied everything up to `position`.
pub async fn set_checkpoint(
    transaction: &Transaction<'_>,
    projection: &str,
    position: i64,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO investigator.projection_checkpoint (projection, position, updated_at) \
        VALUES ($1, $2, now()) ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position, \
        updated_at = EXCLUDED.updated_at";
    let statement = transaction.prepare(SQL).await?;
    transaction.execute(&statement, &[&projection, &position]).await?;
    Ok(())
}
