//! `investigator events tail | export | import`.

use std::io::Write;
use std::time::Duration;

use investigator_events::domain::EventType;
use investigator_events::excerpt::excerpt;
use investigator_projections::replay::ReplayOptions;
use investigator_projections::store::{self, StoredEvent, TailFilter};
use investigator_projections::{archive, migrations};

use crate::cli::{ArchiveArgs, ImportArgs, TailArgs};
use crate::error::CliError;
use crate::settings::Settings;

const PAGE: i64 = 1_000;
const FOLLOW_INTERVAL: Duration = Duration::from_millis(500);

/// Prints events as JSON lines; with `--follow`, keeps going as events arrive.
pub async fn tail(settings: &Settings, args: &TailArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(event_type) = &args.event_type {
        known_event_type(event_type)?;
    }
    let database = super::database_with_log(settings).await?;
    let mut connection = database.connection().await?;
    let filter = TailFilter { event_type: args.event_type.as_deref(), stream_id: args.stream.as_deref() };
    let mut after = match args.from {
        Some(from) => from - 1,
        None => store::start_of_last(&connection.read().await?, args.last, filter).await?,
    };
    loop {
        let page = store::read_stored_from(&connection.read().await?, after, PAGE).await?;
        let Some(last) = page.last().map(|event| event.position) else {
            if !args.follow {
                return Ok(());
            }
            out.flush()?;
            tokio::time::sleep(FOLLOW_INTERVAL).await;
            continue;
        };
        for event in page.iter().filter(|event| selected(event, args)) {
            writeln!(out, "{}", event.as_json())?;
        }
        after = last;
    }
}

/// The key archives are signed and checked with (`INVESTIGATOR_ARCHIVE_KEY`), when set.
fn archive_key(settings: &Settings) -> Option<archive::ArchiveKey> {
    settings.archive_key.as_ref().map(|key| archive::ArchiveKey::new(key.expose().as_bytes()))
}

/// `--type` names an event type of the catalogue, or the error lists them: a misspelt type
/// would otherwise select nothing and look like an empty log.
fn known_event_type(event_type: &str) -> Result<EventType, CliError> {
    EventType::from_name(event_type).ok_or_else(|| {
        let known: Vec<&str> = EventType::ALL.iter().map(|known| known.name()).collect();
        CliError::InvalidArgument {
            argument: "--type",
            reason: format!("'{}' is not an event type; the types are {}", excerpt(event_type), known.join(", ")),
        }
    })
}

fn selected(event: &StoredEvent, args: &TailArgs) -> bool {
    args.stream.as_ref().is_none_or(|stream| *stream == event.stream_id)
        && args.event_type.as_ref().is_none_or(|event_type| *event_type == event.event_type)
}

/// Writes the log to an archive.
pub async fn export(settings: &Settings, args: &ArchiveArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let database = super::database_with_log(settings).await?;
    let summary = archive::export(&database, &args.file, archive_key(settings).as_ref()).await?;
    writeln!(
        out,
        "exported {} event(s) (positions 1 to {}) and {} idempotency key(s) to {}",
        summary.events,
        summary.last_position,
        summary.batches,
        args.file.display()
    )?;
    Ok(())
}

/// Loads an archive into the empty log, then rebuilds the graph from it.
pub async fn import(settings: &Settings, args: &ImportArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let database = super::database(settings)?;
    migrations::migrate(&database).await?;
    let summary = archive::import(&database, &args.file, archive_key(settings).as_ref()).await?;
    writeln!(
        out,
        "imported {} event(s) (positions 1 to {}) and {} idempotency key(s) from {}",
        summary.events,
        summary.last_position,
        summary.batches,
        args.file.display()
    )?;
    if args.no_replay {
        writeln!(out, "the knowledge graph is not rebuilt yet: run `investigator replay`")?;
        return Ok(());
    }
    super::replay::rebuild(&database, &ReplayOptions::default(), out).await
}
