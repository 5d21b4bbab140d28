//! Log archives: the whole event log in one compact file, to back it up or move it.
//!
//! Format: a zstd stream of frames, each a little-endian u32 length and a postcard-encoded
//! [`Frame`]: one `Header`, the events in position order, the idempotency batches, and a
//! trailer with the counts and the SHA-256 of every byte before it. Version 1 ends with a
//! `Trailer`; version 2, written when a key is set (`INVESTIGATOR_ARCHIVE_KEY`), with a
//! `SignedTrailer` that adds an HMAC-SHA256 of the same bytes under the key ([`ArchiveKey`]).
//! The SHA-256 proves the file is whole; only the HMAC proves who wrote it.
//!
//! Import reads the file twice: the first pass checks all of it (framing, order, counts,
//! digest, signature, that every event is readable by this build) and writes nothing; the
//! second writes it, in one transaction, into an empty log. An archive is outside input, and
//! a few kilobytes of zstd can expand to gigabytes: a frame's length is checked against
//! [`MAX_FRAME_BYTES`] before anything is read or allocated for it ([`frames`]), and the
//! pages written are bounded in bytes as well as in frames.

mod frames;
mod key;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use investigator_events::domain::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::in_flight::{InFlight, Reserved};
use crate::jsonb::JsonbText;
use crate::store::{self, StoreError, StoredEvent};
use crate::{Database, DatabaseError};
use frames::{ArchiveReader, FrameError, FrameWriter};
pub use key::ArchiveKey;

const MAGIC: &str = "investigator-event-log";
/// Archives without a signature.
const FORMAT_UNSIGNED: u32 = 1;
/// Archives signed with an HMAC-SHA256 under an [`ArchiveKey`].
const FORMAT_SIGNED: u32 = 2;
/// The largest frame an archive may hold, checked before anything is read for it. The
/// largest events come from documents (a solver result is about the size of its document)
/// and dead letters (a record of at most Kafka's 1 MB by default). Memory during import and
/// the replay after it grows with the frame: 12 frames of 16 MiB took `events import` to
/// 222–240 MiB, of 28–31 MiB to 365 (RELIABILITY.md, Security). Export refuses an event
/// larger than this, naming its position, rather than write an archive that would not
/// import.
pub const MAX_FRAME_BYTES: u32 = 16 * 1024 * 1024;
/// Frames per page written during import, at most.
const PAGE: i64 = 5_000;
/// Bytes of frames per page written during import, at most (a larger frame is a page of its
/// own).
const PAGE_BYTES: usize = 8 * 1024 * 1024;
/// Bytes of frames read during import and not yet written, at most (a frame larger than
/// this is read once every frame before it is written).
const IN_FLIGHT_BYTES: usize = 2 * PAGE_BYTES;

/// One record of an archive. New variants go at the end: postcard numbers them in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Frame {
    Header { magic: String, format: u32, exported_at: String, last_position: i64 },
    Event(ArchivedEvent),
    Batch { idempotency_key: String, first_position: i64, event_count: i32, appended_at_micros: i64 },
    Trailer { events: u64, batches: u64, sha256: Vec<u8> },
    SignedTrailer { events: u64, batches: u64, sha256: Vec<u8>, hmac_sha256: Vec<u8> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ArchivedEvent {
    position: i64,
    stream_id: String,
    stream_version: i64,
    event_type: String,
    schema_version: i32,
    payload: String,
    metadata: String,
    recorded_at_micros: i64,
}

/// What an export or import moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ArchiveSummary {
    pub events: u64,
    /// Idempotency batches.
    pub batches: u64,
    pub last_position: i64,
}

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The file could not be read or written.
    #[error("cannot {action} {path}")]
    Io {
        /// `read`, `write`, `create`.
        action: &'static str,
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid archive; nothing was imported.
    #[error("{path} is not a valid event-log archive: {reason}; nothing was imported")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An event is larger than an archive frame may be.
    #[error("the event at position {position} is larger than an archive frame may be ({MAX_FRAME_BYTES} bytes)")]
    EventTooLarge {
        /// The event's position.
        position: i64,
    },
    /// Import goes into an empty log only.
    #[error("the event log already holds {events} event(s): an archive is imported into an empty log only")]
    LogNotEmpty {
        /// Events in the log.
        events: i64,
    },
    /// Reading the log failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No connection.
    #[error(transparent)]
    Connection(#[from] DatabaseError),
    /// PostgreSQL failed.
    #[error("the archive could not be written to the database")]
    Database(#[from] tokio_postgres::Error),
}

/// Writes every event (and idempotency batch) of the log to `path`; signs it when a `key`
/// is given.
pub async fn export(
    database: &Database,
    path: &Path,
    key: Option<&ArchiveKey>,
) -> Result<ArchiveSummary, ArchiveError> {
    let io = |action, source| ArchiveError::Io { action, path: path.display().to_string(), source };
    let mut client = database.connection().await?;
    // One snapshot for the whole export, so events and batches agree.
    let transaction = client
        .build_transaction()
        .read_only(true)
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .start()
        .await?;
    let last_position = store::head_position(&transaction).await?;

    let file = File::create(path).map_err(|source| io("create", source))?;
    let encoder = zstd::Encoder::new(BufWriter::new(file), 3).map_err(|source| io("write", source))?;
    let mut writer = FrameWriter::new(encoder, key);
    let format = if key.is_some() { FORMAT_SIGNED } else { FORMAT_UNSIGNED };
    let header = Frame::Header { magic: MAGIC.to_owned(), format, exported_at: Utc::now().to_rfc3339(), last_position };
    writer.write(&header).map_err(|source| io("write", source))?;

    let mut summary = ArchiveSummary { last_position, ..ArchiveSummary::default() };
    let mut after = 0;
    while after < last_position {
        let page = store::read_stored_from(&transaction, after, PAGE).await?;
        let Some(last) = page.last().map(|event| event.position) else {
            break;
        };
        for event in page {
            let position = event.position;
            match writer.write(&Frame::Event(archived(event))) {
                Ok(()) => summary.events += 1,
                Err(source) if source.kind() == std::io::ErrorKind::FileTooLarge => {
                    return Err(ArchiveError::EventTooLarge { position });
                }
                Err(source) => return Err(io("write", source)),
            }
        }
        after = last;
    }
    let batches = transaction
        .query(
            "SELECT idempotency_key, first_position, event_count, appended_at FROM investigator.appended_batch \
             WHERE first_position <= $1 ORDER BY first_position",
            &[&last_position],
        )
        .await?;
    for row in batches {
        let appended_at: DateTime<Utc> = row.get(3);
        let frame = Frame::Batch {
            idempotency_key: row.get(0),
            first_position: row.get(1),
            event_count: row.get(2),
            appended_at_micros: appended_at.timestamp_micros(),
        };
        writer.write(&frame).map_err(|source| io("write", source))?;
        summary.batches += 1;
    }
    transaction.commit().await?;

    let trailer = writer.trailer(summary.events, summary.batches);
    writer.write(&trailer).map_err(|source| io("write", source))?;
    let mut buffered = writer.into_inner().finish().map_err(|source| io("write", source))?;
    buffered.flush().map_err(|source| io("write", source))?;
    Ok(summary)
}

/// Checks `path` whole (with `key`: that it is signed with it), then writes it into the
/// (empty) log in one transaction; memory stays flat (pages of events flow from a reading
/// thread, bounded in bytes). The projections are not touched: rebuild them with a replay.
pub async fn import(
    database: &Database,
    path: &Path,
    key: Option<&ArchiveKey>,
) -> Result<ArchiveSummary, ArchiveError> {
    let summary = {
        let (owned, key) = (path.to_owned(), key.cloned());
        tokio::task::spawn_blocking(move || verify(&owned, key.as_ref()))
            .await
            .map_err(|error| invalid(path_text(path), format!("the checking thread failed: {error}")))??
    };

    let mut client = database.connection().await?;
    let transaction = client.transaction().await?;
    let head: i64 =
        transaction.query_one("SELECT position FROM investigator.log_head WHERE id = 1 FOR UPDATE", &[]).await?.get(0);
    if head > 0 {
        return Err(ArchiveError::LogNotEmpty { events: head });
    }

    // A frame is read only while the pages read and not yet written leave room for it: small
    // frames are read ahead of the writes, large ones one at a time.
    let (pages, mut receiver) = tokio::sync::mpsc::channel::<Result<(Vec<Frame>, Reserved), ArchiveError>>(1);
    let (reading_path, reading_key) = (path.to_owned(), key.cloned());
    let budget = InFlight::new(IN_FLIGHT_BYTES);
    let runtime = tokio::runtime::Handle::current();
    let reading = tokio::task::spawn_blocking(move || {
        let mut reader = match ArchiveReader::open(&reading_path, reading_key.as_ref()) {
            Ok(reader) => reader,
            Err(error) => return drop(pages.blocking_send(Err(error))),
        };
        let mut page = ImportPage::new(budget.none());
        loop {
            // A frame that would overflow the page starts the next one: the page goes first.
            let before_reading = |size: usize| {
                if page.bytes + size > PAGE_BYTES && !page.frames.is_empty() {
                    let full = std::mem::replace(&mut page, ImportPage::new(budget.none()));
                    pages.blocking_send(Ok((full.frames, full.reserved))).map_err(|_| ())?;
                }
                runtime.block_on(budget.reserve(&mut page.reserved, size));
                Ok(())
            };
            match reader.next_frame_after(before_reading) {
                Ok(Some((frame, size))) => {
                    page.frames.push(frame);
                    page.bytes += size;
                    if page.frames.len() >= PAGE as usize {
                        let full = std::mem::replace(&mut page, ImportPage::new(budget.none()));
                        if pages.blocking_send(Ok((full.frames, full.reserved))).is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => break,
                Err(FrameError::Stopped) => return,
                Err(FrameError::Archive(error)) => return drop(pages.blocking_send(Err(error))),
            }
        }
        let _ = pages.blocking_send(Ok((page.frames, page.reserved)));
    });
    while let Some(page) = receiver.recv().await {
        // The reservation is released once the page is written.
        let (frames, _reserved) = page?;
        write_frames(&transaction, frames).await?;
    }
    let _ = reading.await;
    transaction
        .execute("UPDATE investigator.log_head SET position = $1 WHERE id = 1", &[&summary.last_position])
        .await?;
    transaction.commit().await?;
    // The connection's buffers kept the size of the largest frame written; a pooled
    // connection would hold that memory as long as the process runs.
    client.discard();
    Ok(summary)
}

/// Frames read during import, not yet sent to be written.
struct ImportPage {
    frames: Vec<Frame>,
    bytes: usize,
    reserved: Reserved,
}

impl ImportPage {
    fn new(reserved: Reserved) -> Self {
        ImportPage { frames: Vec::new(), bytes: 0, reserved }
    }
}

/// Reads the whole archive and checks it (with `key`: that it is signed with it); writes
/// nothing.
pub fn verify(path: &Path, key: Option<&ArchiveKey>) -> Result<ArchiveSummary, ArchiveError> {
    let mut reader = ArchiveReader::open(path, key)?;
    let mut summary = ArchiveSummary::default();
    while let Some((frame, _)) = reader.next_frame()? {
        if let Frame::Event(event) = &frame {
            DomainEvent::decode(&event.event_type, event.schema_version, event.payload.as_bytes()).map_err(
                |error| {
                    invalid(
                        path_text(path),
                        format!("the event at position {} cannot be read: {error}", event.position),
                    )
                },
            )?;
            summary.events += 1;
            summary.last_position = event.position;
        } else if matches!(frame, Frame::Batch { .. }) {
            summary.batches += 1;
        }
    }
    Ok(summary)
}

async fn write_frames(
    transaction: &deadpool_postgres::Transaction<'_>,
    frames: Vec<Frame>,
) -> Result<(), ArchiveError> {
    const EVENTS: &str = "INSERT INTO investigator.event_log (position, stream_id, stream_version, event_type, \
        schema_version, payload, metadata, recorded_at) SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[], \
        $4::text[], $5::int4[], $6::jsonb[], $7::jsonb[], $8::timestamptz[])";
    const BATCH: &str = "INSERT INTO investigator.appended_batch (idempotency_key, first_position, event_count, \
        appended_at) VALUES ($1, $2, $3, $4)";
    let mut events = Vec::new();
    for frame in frames {
        match frame {
            Frame::Event(event) => events.push(event),
            Frame::Batch { idempotency_key, first_position, event_count, appended_at_micros } => {
                let appended_at = micros(appended_at_micros);
                transaction.execute(BATCH, &[&idempotency_key, &first_position, &event_count, &appended_at]).await?;
            }
            Frame::Header { .. } | Frame::Trailer { .. } | Frame::SignedTrailer { .. } => {}
        }
    }
    if events.is_empty() {
        return Ok(());
    }
    let positions: Vec<i64> = events.iter().map(|event| event.position).collect();
    let streams: Vec<&str> = events.iter().map(|event| event.stream_id.as_str()).collect();
    let versions: Vec<i64> = events.iter().map(|event| event.stream_version).collect();
    let types: Vec<&str> = events.iter().map(|event| event.event_type.as_str()).collect();
    let schema_versions: Vec<i32> = events.iter().map(|event| event.schema_version).collect();
    let payloads: Vec<JsonbText<'_>> = events.iter().map(|event| JsonbText(event.payload.as_bytes())).collect();
    let metadata: Vec<JsonbText<'_>> = events.iter().map(|event| JsonbText(event.metadata.as_bytes())).collect();
    let recorded: Vec<DateTime<Utc>> = events.iter().map(|event| micros(event.recorded_at_micros)).collect();
    let statement = transaction.prepare(EVENTS).await?;
    transaction
        .execute(
            &statement,
            &[&positions, &streams, &versions, &types, &schema_versions, &payloads, &metadata, &recorded],
        )
        .await?;
    Ok(())
}

fn micros(value: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(value).unwrap_or_default()
}

fn archived(event: StoredEvent) -> ArchivedEvent {
    ArchivedEvent {
        position: event.position,
        stream_id: event.stream_id,
        stream_version: event.stream_version,
        event_type: event.event_type,
        schema_version: event.schema_version,
        payload: String::from_utf8_lossy(&event.payload).into_owned(),
        metadata: String::from_utf8_lossy(&event.metadata).into_owned(),
        recorded_at_micros: event.recorded_at.timestamp_micros(),
    }
}

fn path_text(path: &Path) -> String {
    path.display().to_string()
}

fn invalid(path: String, reason: impl Into<String>) -> ArchiveError {
    ArchiveError::Invalid { path, reason: reason.into() }
}
