//! `investigator sync`: Thoth documents into the knowledge graph.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use investigator_actors::backoff::Backoff;
use investigator_core::documents::document_events;
use investigator_events::documents::Document;
use investigator_events::domain::{EventMetadata, EventType};
use investigator_events::error_chain::one_line;
use investigator_projections::store::{AppendOutcome, AppendRequest};
use investigator_projections::{Database, RecordError, migrations, record};

use crate::cli::SyncArgs;
use crate::error::CliError;
use crate::settings::Settings;

/// What became of one document.
pub(crate) enum Outcome {
    /// Recorded, with this many events, the last at `position`.
    Synced { document_id: String, events: usize, position: i64, event_types: Vec<EventType> },
    /// The same content was recorded before, its last event at `position`.
    AlreadyPresent { document_id: String, position: i64 },
    /// The document cannot be used, and why.
    Failed(String),
    /// PostgreSQL refused the document's events (a value it cannot store, such as text with a
    /// NUL character); `cause` is the database's own message, for the operator's eyes only:
    /// it may quote the document's values and the schema.
    Refused { document_id: String, cause: String },
}

/// Syncs every document; a bad one is reported and the others proceed.
pub async fn run(settings: &Settings, args: &SyncArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let files = document_files(&args.paths)?;
    let database = super::database(settings)?;
    migrations::migrate(&database).await?;

    let (mut synced, mut present, mut failed) = (0, 0, 0);
    for file in &files {
        match sync_file(&database, file).await? {
            Outcome::Synced { document_id, events, .. } => {
                synced += 1;
                writeln!(out, "synced   {}  ({document_id}, {events} event(s))", file.display())?;
            }
            Outcome::AlreadyPresent { document_id, .. } => {
                present += 1;
                writeln!(out, "present  {}  ({document_id}, already synced with this content)", file.display())?;
            }
            Outcome::Failed(reason) => {
                failed += 1;
                writeln!(out, "failed   {}: {reason}", file.display())?;
            }
            Outcome::Refused { document_id, cause } => {
                failed += 1;
                writeln!(out, "failed   {}: document {document_id}: {cause}", file.display())?;
            }
        }
    }
    writeln!(out, "{} document(s): {synced} synced, {present} already present, {failed} failed", files.len())?;
    tracing::info!(documents = files.len(), synced, present, failed, "sync finished");
    if failed > 0 {
        return Err(CliError::SyncFailed { failed, total: files.len() });
    }
    Ok(())
}

/// One document into the graph. Errors that concern the document are an `Outcome`; losing
/// the database stops the whole sync.
async fn sync_file(database: &Database, file: &Path) -> Result<Outcome, CliError> {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(error) => return Ok(Outcome::Failed(format!("cannot read it: {error}"))),
    };
    sync_bytes(database, &bytes, "sync", None).await
}

/// One document's bytes into the graph (`origin` says how it came: `sync`, `api`).
pub(crate) async fn sync_bytes(
    database: &Database,
    bytes: &[u8],
    origin: &str,
    traceparent: Option<&str>,
) -> Result<Outcome, CliError> {
    let document = match Document::parse(bytes) {
        Ok(document) => document,
        Err(error) => return Ok(Outcome::Failed(error.to_string())),
    };
    let events = match document_events(&document) {
        Ok(events) => events,
        Err(error) => return Ok(Outcome::Failed(format!("document {}: {error}", document.document_id()))),
    };
    let metadata = EventMetadata {
        causation_id: Some(format!("document:{}", events.document_id)),
        correlation_id: Some(format!("document:{}", events.document_id)),
        origin: Some(origin.to_owned()),
        traceparent: traceparent.map(str::to_owned),
        ..EventMetadata::default()
    };
    let count = events.events.len();
    let document_id = events.document_id.clone();
    let request = AppendRequest::for_document(events, metadata);
    match record_retrying_outages(database, request, &document_id).await {
        Ok(AppendOutcome::Appended(recorded)) => Ok(Outcome::Synced {
            document_id,
            events: count,
            event_types: recorded.iter().map(|event| event.event.event_type()).collect(),
            position: recorded.last().map_or(0, |event| event.position),
        }),
        Ok(AppendOutcome::AlreadyAppended { first_position, event_count }) => {
            Ok(Outcome::AlreadyPresent { document_id, position: first_position + i64::from(event_count) - 1 })
        }
        Err(RecordError::Connection(error)) => Err(error.into()),
        Err(error) => Ok(Outcome::Refused { document_id, cause: one_line(&error) }),
    }
}

/// How many times a document's recording is tried while PostgreSQL or the pooler fails.
const RECORD_ATTEMPTS: u32 = 5;
/// The waits between those attempts.
const RECORD_BACKOFF: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));

/// Records `request`, trying again (after 0.2, 0.4, 0.8, 1.6 s) when the database failed for a
/// reason of its own (a lost connection, a pooler's error, a timeout): an outage is retried,
/// never reported as the document's fault. The idempotency key keeps a retry after a commit
/// whose answer was lost from recording the document twice.
async fn record_retrying_outages(
    database: &Database,
    request: AppendRequest,
    document_id: &str,
) -> Result<AppendOutcome, RecordError> {
    let mut attempt = 1;
    loop {
        match record(database, request.clone()).await {
            Err(error) if attempt < RECORD_ATTEMPTS && is_outage(&error) => {
                tracing::warn!(
                    document = document_id,
                    attempt,
                    error = %investigator_projections::fault::describe(&error),
                    "recording the document failed for a reason of the database's; trying again"
                );
                tokio::time::sleep(RECORD_BACKOFF.after(attempt)).await;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// A failure of PostgreSQL or the pooler, not of the document.
fn is_outage(error: &RecordError) -> bool {
    use investigator_projections::fault::Fault;
    investigator_events::error_chain::find_cause::<tokio_postgres::Error>(error).is_some()
        && Fault::of(error) == Fault::Outage
}

/// The files named, with directories expanded to their `*.json` files (recursively, in
/// name order).
fn document_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut files = Vec::new();
    for path in paths {
        let metadata =
            std::fs::metadata(path).map_err(|source| CliError::Read { what: path.display().to_string(), source })?;
        if metadata.is_dir() {
            collect_json(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn collect_json(directory: &Path, files: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let read = |source| CliError::Read { what: directory.display().to_string(), source };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(directory)
        .map_err(read)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read)?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_json(&entry, files)?;
        } else if entry.extension().is_some_and(|extension| extension == "json") {
            files.push(entry);
        }
    }
    Ok(())
}
