//! Rebuilding the knowledge graph from the event log alone, blue/green.
//!
//! A replay applies the whole log to a fresh schema (`graph_rebuild_<tag>`) with the same
//! projector as live recording, while the service keeps recording into the live schema.
//! Then, holding the log-head lock (appends wait, briefly), it applies the events that arrived
//! meanwhile and swaps the schemas in one transaction: the old live schema is dropped in that
//! transaction too, which also makes every prepared statement of every connection re-resolve
//! its tables to the new schema. A live projector never races a rebuild: they write different
//! schemas until the swap, and the swap excludes appends.
//!
//! With `verify`, nothing is swapped: each table's checksum in the rebuilt schema is compared
//! with the live one's, and the rebuild is dropped.

mod checksum;
mod deferred;

use std::time::{Duration, Instant};

use deadpool_postgres::Transaction;
use tokio::sync::mpsc;

pub use checksum::{TableChecksum, TableComparison, checksums};

use crate::in_flight::{InFlight, Reserved};
use crate::migrations::{self, MigrationError};
use crate::projector::{self, KNOWLEDGE_GRAPH, ProjectionError};
use crate::schema::SchemaName;
use crate::store::{self, RecordedEvent, StoreError};
use crate::{Connection, Database, DatabaseError};

/// How many bytes of pages a replay reads ahead of its writes, at most.
const READ_AHEAD_BYTES: usize = 2 * store::PAGE_BYTES;

/// The advisory lock a replay holds for its whole run: one replay at a time per database,
/// across processes.
pub const REPLAY_LOCK: i64 = 0x696e_7665_7374_0002;

/// How a replay runs.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Events applied per transaction.
    pub batch_size: i64,
    /// Compare with the live graph instead of swapping.
    pub verify: bool,
    /// How long the swap may wait for readers to let go of the live tables.
    pub swap_lock_timeout: Duration,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions { batch_size: 10_000, verify: false, swap_lock_timeout: Duration::from_secs(30) }
    }
}

/// Told how a replay is going.
pub trait ReplayProgress: Send {
    /// The replay starts; `total` events are in the log now.
    fn started(&mut self, total: u64);
    /// `applied` events of the log have been applied so far.
    fn advanced(&mut self, applied: u64);
    /// The rebuild is complete.
    fn finished(&mut self, applied: u64);
}

/// Progress nobody watches (tests, benchmarks, replays inside other commands' output).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unobserved;

impl ReplayProgress for Unobserved {
    fn started(&mut self, _: u64) {}
    fn advanced(&mut self, _: u64) {}
    fn finished(&mut self, _: u64) {}
}

/// What a replay did.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    /// Events applied.
    pub events: u64,
    /// The last position applied.
    pub position: i64,
    /// Time spent rebuilding (before the swap or the comparison).
    pub rebuild_time: Duration,
    /// Whether the rebuilt graph is now the live one.
    pub swapped: bool,
    /// With `verify`: every table, compared.
    pub comparison: Vec<TableComparison>,
}

impl ReplayReport {
    /// Events applied per second of rebuilding.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.rebuild_time.as_secs_f64().max(1e-9)
    }

    /// With `verify`: the tables whose contents differ.
    pub fn differences(&self) -> impl Iterator<Item = &TableComparison> {
        self.comparison.iter().filter(|table| !table.matches())
    }
}

/// Why a replay stopped. The live graph is untouched unless the swap committed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Another replay holds the lock.
    #[error("another replay is running on this database")]
    AlreadyRunning,
    /// The database has no event log yet.
    #[error("the database has no event log: run `investigator migrate` first")]
    NotMigrated,
    /// The log could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event could not be projected.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// The rebuild schema could not be created.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// No connection.
    #[error(transparent)]
    Connection(#[from] DatabaseError),
    /// The swap could not get the live tables within the lock timeout.
    #[error(
        "the swap could not lock the live knowledge graph within {0:?} (long-running readers?); the live graph is unchanged, run the replay again"
    )]
    SwapTimedOut(Duration),
    /// PostgreSQL failed.
    #[error("replay failed")]
    Database(#[from] tokio_postgres::Error),
}

/// Rebuilds the knowledge graph from the log; swaps it in, or with `verify` compares it.
pub async fn replay(
    database: &Database,
    options: &ReplayOptions,
    progress: &mut dyn ReplayProgress,
) -> Result<ReplayReport, ReplayError> {
    // The lock is transaction-scoped, so it also holds behind a transaction-pooling proxy: a
    // transaction of its own stays open for the whole replay, and the lock ends with it (or
    // with its connection, if we crash).
    let mut lock_holder = database.connection().await?;
    let lock = lock_holder.transaction().await?;
    let locked: bool = lock.query_one("SELECT pg_try_advisory_xact_lock($1)", &[&REPLAY_LOCK]).await?.get(0);
    if !locked {
        return Err(ReplayError::AlreadyRunning);
    }
    let result = replay_locked(database, &lock, options, progress).await;
    if let Err(error) = lock.rollback().await {
        // Its connection is gone, and the lock with it.
        tracing::debug!(error = %error, "the replay lock's transaction ended on its own");
    }
    result
}

async fn replay_locked(
    database: &Database,
    lock: &Transaction<'_>,
    options: &ReplayOptions,
    progress: &mut dyn ReplayProgress,
) -> Result<ReplayReport, ReplayError> {
    if !migrations::has_event_log(database).await? {
        return Err(ReplayError::NotMigrated);
    }
    let mut client = database.connection().await?;
    drop_leftover_rebuilds(&mut client).await?;
    let tag = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let rebuild = SchemaName::rebuild(&tag).unwrap_or_else(|| unreachable!("timestamps make valid schema names"));
    let deferred = {
        let transaction = client.transaction().await?;
        transaction.execute("SELECT set_config('client_min_messages', 'warning', true)", &[]).await?;
        migrations::create_graph_schema(&transaction, &rebuild).await?;
        let deferred = deferred::defer(&transaction, &rebuild).await?;
        transaction.commit().await?;
        deferred
    };
    tracing::info!(schema = %rebuild, "rebuilding the knowledge graph");

    let started = Instant::now();
    let total = store::head_position(&client.read().await?).await?;
    progress.started(u64::try_from(total).unwrap_or(0));
    let result = rebuild_into(database, &mut client, &rebuild, options.batch_size, total, progress).await;
    let applied = match result {
        Ok(applied) => applied,
        Err(error) => {
            drop_schema(&mut client, &rebuild).await;
            return Err(error);
        }
    };
    tracing::info!(
        schema = %rebuild,
        applied,
        seconds = started.elapsed().as_secs_f64(),
        "log applied; creating the rebuilt graph's indexes and foreign keys"
    );
    let indexing = Instant::now();
    if let Err(error) = restore_deferred(&mut client, &deferred).await {
        drop_schema(&mut client, &rebuild).await;
        return Err(error);
    }
    tracing::info!(schema = %rebuild, seconds = indexing.elapsed().as_secs_f64(), "indexes and foreign keys created");

    let finish = finish(&mut client, lock, &rebuild, options, applied).await;
    let rebuild_time = started.elapsed();
    match finish {
        Ok((position, events, comparison)) => {
            progress.finished(u64::try_from(position).unwrap_or(0));
            if options.verify {
                drop_schema(&mut client, &rebuild).await;
            }
            Ok(ReplayReport { events, position, rebuild_time, swapped: !options.verify, comparison })
        }
        Err(error) => {
            drop_schema(&mut client, &rebuild).await;
            Err(error)
        }
    }
}

/// Creates the rebuilt graph's deferred indexes and foreign keys, in one transaction.
async fn restore_deferred(client: &mut Connection, deferred: &deferred::Deferred) -> Result<(), ReplayError> {
    let transaction = client.transaction().await?;
    deferred::restore(&transaction, deferred).await?;
    transaction.commit().await?;
    Ok(())
}

/// Applies the log up to `until` (and whatever is there when reading reaches it) to
/// `schema`, a page per transaction; the next page is read and decoded while the current one
/// is written. Returns the last position applied.
async fn rebuild_into(
    database: &Database,
    writer: &mut Connection,
    schema: &SchemaName,
    batch_size: i64,
    until: i64,
    progress: &mut dyn ReplayProgress,
) -> Result<i64, ReplayError> {
    // Pages are read ahead while bytes in flight allow: small pages overlap with the writes,
    // a page of large events waits until the one before it is written.
    let (pages, mut receiver) = mpsc::channel::<Result<(Vec<RecordedEvent>, Reserved), StoreError>>(1);
    let mut reader = database.connection().await?;
    let mut second_writer = database.connection().await?;
    let budget = InFlight::new(READ_AHEAD_BYTES);
    let reading = tokio::spawn(async move {
        let mut after = 0;
        while after < until {
            let mut reserved = budget.none();
            budget.reserve(&mut reserved, store::PAGE_BYTES).await;
            let page = match reader.read().await {
                Ok(transaction) => store::read_page(&transaction, after, batch_size).await,
                Err(source) => Err(StoreError::Database { operation: "reading the log", source }),
            };
            if let Ok((_, bytes)) = &page {
                budget.reserve(&mut reserved, bytes.saturating_sub(store::PAGE_BYTES)).await;
            }
            let last = page.as_ref().ok().and_then(|(events, _)| events.last().map(|event| event.position));
            let stop = page.is_err() || last.is_none();
            let page = page.map(|(events, _)| (events, reserved));
            if pages.send(page).await.is_err() || stop {
                break;
            }
            after = last.unwrap_or(until);
        }
        // Its buffers kept the size of the largest event read: not back into the pool.
        reader.discard();
    });

    let mut applied = 0;
    let mut waited = std::time::Duration::ZERO;
    loop {
        let waiting = std::time::Instant::now();
        let Some(page) = receiver.recv().await else {
            break;
        };
        waited += waiting.elapsed();
        // Released once the page is written, for the reader to go on.
        let (events, _reserved) = page?;
        let Some(last) = events.last().map(|event| event.position) else {
            break;
        };
        let (packages, runs) = tokio::try_join!(writer.transaction(), second_writer.transaction())?;
        projector::apply_in_parallel(&packages, &runs, schema, &events).await?;
        tokio::try_join!(packages.commit(), runs.commit())?;
        applied = last;
        progress.advanced(u64::try_from(applied).unwrap_or(0));
    }
    reading.abort();
    // Its buffers kept the size of the largest event written: not back into the pool.
    second_writer.discard();
    tracing::debug!(waited_for_reading_ms = waited.as_millis() as u64, "rebuild applied the log");
    Ok(applied)
}

/// Under the log-head lock: applies what arrived during the rebuild, then swaps (or
/// compares). Returns the final position, the events applied in all, and the comparison.
async fn finish(
    client: &mut Connection,
    lock: &Transaction<'_>,
    rebuild: &SchemaName,
    options: &ReplayOptions,
    applied: i64,
) -> Result<(i64, u64, Vec<TableComparison>), ReplayError> {
    let transaction = client.transaction().await?;
    let head: i64 =
        transaction.query_one("SELECT position FROM investigator.log_head WHERE id = 1 FOR UPDATE", &[]).await?.get(0);
    let mut position = applied;
    while position < head {
        let events = store::read_from(&transaction, position, 10_000).await?;
        let Some(last) = events.last().map(|event| event.position) else {
            break;
        };
        projector::apply(&transaction, rebuild, &events).await?;
        position = last;
    }
    let events = u64::try_from(position).unwrap_or(0);
    let live = SchemaName::live();
    if options.verify {
        let comparison = checksum::compare(&transaction, &live, rebuild).await?;
        transaction.rollback().await?;
        return Ok((position, events, comparison));
    }
    // A replay whose lock was lost (its connection died) may run beside another one now: it
    // must not swap.
    lock.execute("SELECT 1", &[]).await?;
    swap(&transaction, &live, rebuild, options.swap_lock_timeout).await?;
    projector::set_checkpoint(&transaction, KNOWLEDGE_GRAPH, position).await?;
    transaction.commit().await?;
    tracing::info!(position, schema = %live, "the rebuilt knowledge graph is live");
    Ok((position, events, Vec::new()))
}

async fn swap(
    transaction: &Transaction<'_>,
    live: &SchemaName,
    rebuild: &SchemaName,
    lock_timeout: Duration,
) -> Result<(), ReplayError> {
    let timeout = format!("{}ms", lock_timeout.as_millis());
    transaction.execute("SELECT set_config('lock_timeout', $1, true)", &[&timeout]).await?;
    transaction.execute("SELECT set_config('client_min_messages', 'warning', true)", &[]).await?;
    let retired = format!("{live}_retired");
    // Schema names are SchemaName-validated; DDL takes no parameters.
    let swapped = transaction
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {retired} CASCADE; \
             ALTER SCHEMA {live} RENAME TO {retired}; \
             ALTER SCHEMA {rebuild} RENAME TO {live}; \
             DROP SCHEMA {retired} CASCADE;"
        ))
        .await;
    match swapped {
        Ok(()) => Ok(()),
        Err(error) if error.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
            Err(ReplayError::SwapTimedOut(lock_timeout))
        }
        Err(error) => Err(error.into()),
    }
}

/// Rebuild schemas left by replays that were killed (we hold the replay lock, so none is in
/// use).
async fn drop_leftover_rebuilds(client: &mut Connection) -> Result<(), tokio_postgres::Error> {
    let rows = client
        .read()
        .await?
        .query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'graph\\_rebuild\\_%' ORDER BY nspname", &[])
        .await?;
    for row in rows {
        if let Some(schema) = SchemaName::new(row.get(0)) {
            tracing::warn!(schema = %schema, "dropping the schema an interrupted replay left behind");
            drop_schema(client, &schema).await;
        }
    }
    Ok(())
}

async fn drop_schema(client: &mut Connection, schema: &SchemaName) {
    if schema == &SchemaName::live() {
        return;
    }
    let dropped = async {
        let transaction = client.transaction().await?;
        transaction.execute("SELECT set_config('client_min_messages', 'warning', true)", &[]).await?;
        transaction.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await?;
        transaction.commit().await
    };
    if let Err(error) = dropped.await {
        tracing::warn!(schema = %schema, error = %crate::fault::describe(&error), "could not drop a rebuild schema");
    }
}
