//! Log archives: the whole event log in one compact file, to back it up or move it.
//!
//! Format (version 1): a zstd stream of frames, each a little-endian u32 length and a
//! postcard-encoded [`Frame`]: one `Header`, the events in position order, the idempotency
//! batches, and a `Trailer` with the counts and the SHA-256 of every byte before it. Import
//! reads the file twice: the first pass checks all of it (framing, order, counts, digest,
//! that every event is readable by this build) and writes nothing; the second writes it, in
//! one transaction, into an empty log.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use investigator_events::domain::DomainEvent;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::jsonb::JsonbText;
use crate::store::{self, StoreError, StoredEvent};
use crate::{Database, DatabaseError};

const MAGIC: &str = "investigator-event-log";
const FORMAT: u32 = 1;
/// Larger frames are refused on import: no event comes near it, a corrupt length would.
const MAX_FRAME: u32 = 256 * 1024 * 1024;
const PAGE: i64 = 5_000;

/// One record of an archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Frame {
    Header { magic: String, format: u32, exported_at: String, last_position: i64 },
    Event(ArchivedEvent),
    Batch { idempotency_key: String, first_position: i64, event_count: i32, appended_at_micros: i64 },
    Trailer { events: u64, batches: u64, sha256: Vec<u8> },
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
    /// Events.
    pub events: u64,
    /// Idempotency batches.
    pub batches: u64,
    /// The last position.
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

/// Writes every event (and idempotency batch) of the log to `path`.
pub async fn export(database: &Database, path: &Path) -> Result<ArchiveSummary, ArchiveError> {
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
    let mut writer = FrameWriter { out: encoder, digest: Sha256::new() };
    let header =
        Frame::Header { magic: MAGIC.to_owned(), format: FORMAT, exported_at: Utc::now().to_rfc3339(), last_position };
    writer.write(&header).map_err(|source| io("write", source))?;

    let mut summary = ArchiveSummary { last_position, ..ArchiveSummary::default() };
    let mut after = 0;
    while after < last_position {
        let page = store::read_stored_from(&transaction, after, PAGE).await?;
        let Some(last) = page.last().map(|event| event.position) else {
            break;
        };
        for event in page {
            writer.write(&Frame::Event(archived(event))).map_err(|source| io("write", source))?;
            summary.events += 1;
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

    let sha256 = writer.digest.clone().finalize().to_vec();
    writer
        .write(&Frame::Trailer { events: summary.events, batches: summary.batches, sha256 })
        .map_err(|source| io("write", source))?;
    let mut buffered = writer.out.finish().map_err(|source| io("write", source))?;
    buffered.flush().map_err(|source| io("write", source))?;
    Ok(summary)
}

/// Checks `path` whole, then writes it into the (empty) log in one transaction; memory stays
/// flat (pages of events flow from a reading thread). The projections are not touched:
/// rebuild them with a replay.
pub async fn import(database: &Database, path: &Path) -> Result<ArchiveSummary, ArchiveError> {
    let summary = {
        let owned = path.to_owned();
        tokio::task::spawn_blocking(move || verify(&owned))
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

    let (pages, mut receiver) = tokio::sync::mpsc::channel::<Result<Vec<Frame>, ArchiveError>>(2);
    let reading_path = path.to_owned();
    let reading = tokio::task::spawn_blocking(move || {
        let mut reader = match ArchiveReader::open(&reading_path) {
            Ok(reader) => reader,
            Err(error) => return drop(pages.blocking_send(Err(error))),
        };
        let mut page = Vec::with_capacity(PAGE as usize);
        loop {
            match reader.next_frame() {
                Ok(Some(frame)) => {
                    page.push(frame);
                    if page.len() >= PAGE as usize && pages.blocking_send(Ok(std::mem::take(&mut page))).is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(error) => return drop(pages.blocking_send(Err(error))),
            }
        }
        let _ = pages.blocking_send(Ok(page));
    });
    while let Some(page) = receiver.recv().await {
        write_frames(&transaction, page?).await?;
    }
    let _ = reading.await;
    transaction
        .execute("UPDATE investigator.log_head SET position = $1 WHERE id = 1", &[&summary.last_position])
        .await?;
    transaction.commit().await?;
    Ok(summary)
}

/// Reads the whole archive and checks it; writes nothing.
pub fn verify(path: &Path) -> Result<ArchiveSummary, ArchiveError> {
    let mut reader = ArchiveReader::open(path)?;
    let mut summary = ArchiveSummary::default();
    while let Some(frame) = reader.next_frame()? {
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
            Frame::Header { .. } | Frame::Trailer { .. } => {}
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

/// Writes length-prefixed frames and keeps the digest of every byte written.
struct FrameWriter<W: Write> {
    out: W,
    digest: Sha256,
}

impl<W: Write> FrameWriter<W> {
    fn write(&mut self, frame: &Frame) -> std::io::Result<()> {
        let bytes = postcard::to_stdvec(frame).map_err(std::io::Error::other)?;
        let length = u32::try_from(bytes.len()).map_err(std::io::Error::other)?.to_le_bytes();
        self.digest.update(length);
        self.digest.update(&bytes);
        self.out.write_all(&length)?;
        self.out.write_all(&bytes)
    }
}

/// Reads frames and checks, as it goes, everything that can be checked: the header first,
/// positions contiguous from 1, the trailer's counts and digest, nothing after the trailer.
struct ArchiveReader {
    input: zstd::Decoder<'static, BufReader<File>>,
    path: String,
    digest: Sha256,
    seen_header: bool,
    finished: bool,
    events: u64,
    batches: u64,
    last_position: i64,
}

impl ArchiveReader {
    fn open(path: &Path) -> Result<Self, ArchiveError> {
        let file =
            File::open(path).map_err(|source| ArchiveError::Io { action: "read", path: path_text(path), source })?;
        let input = zstd::Decoder::new(file).map_err(|source| ArchiveError::Io {
            action: "read",
            path: path_text(path),
            source,
        })?;
        Ok(ArchiveReader {
            input,
            path: path_text(path),
            digest: Sha256::new(),
            seen_header: false,
            finished: false,
            events: 0,
            batches: 0,
            last_position: 0,
        })
    }

    fn fail(&self, reason: impl Into<String>) -> ArchiveError {
        invalid(self.path.clone(), reason)
    }

    /// The next frame; `None` after a valid trailer.
    fn next_frame(&mut self) -> Result<Option<Frame>, ArchiveError> {
        if self.finished {
            return Ok(None);
        }
        let mut length = [0u8; 4];
        self.read_exact(&mut length, "a frame length")?;
        let size = u32::from_le_bytes(length);
        if size > MAX_FRAME {
            return Err(self.fail(format!("a frame claims {size} bytes, more than any frame can have")));
        }
        let mut bytes = vec![0u8; size as usize];
        self.read_exact(&mut bytes, "a frame")?;
        let frame: Frame =
            postcard::from_bytes(&bytes).map_err(|error| self.fail(format!("a frame is damaged: {error}")))?;
        match &frame {
            Frame::Header { magic, format, .. } => {
                if self.seen_header {
                    return Err(self.fail("a second header"));
                }
                if magic != MAGIC || *format != FORMAT {
                    return Err(self.fail(format!(
                        "format '{magic}' version {format}, this build reads '{MAGIC}' version {FORMAT}"
                    )));
                }
                self.seen_header = true;
            }
            _ if !self.seen_header => return Err(self.fail("it does not start with a header")),
            Frame::Event(event) => {
                if event.position != self.last_position + 1 {
                    return Err(
                        self.fail(format!("event positions jump from {} to {}", self.last_position, event.position))
                    );
                }
                if self.batches > 0 {
                    return Err(self.fail("an event after the idempotency batches"));
                }
                self.last_position = event.position;
                self.events += 1;
            }
            Frame::Batch { .. } => self.batches += 1,
            Frame::Trailer { events, batches, sha256 } => {
                let expected = self.digest.clone().finalize();
                if sha256.as_slice() != expected.as_slice() {
                    return Err(self.fail("the checksum does not match the contents"));
                }
                if (*events, *batches) != (self.events, self.batches) {
                    return Err(self.fail(format!(
                        "the trailer counts {events} events and {batches} batches, the file holds {} and {}",
                        self.events, self.batches
                    )));
                }
                let mut rest = [0u8; 1];
                match self.input.read(&mut rest) {
                    Ok(0) => {}
                    Ok(_) => return Err(self.fail("there are bytes after the trailer")),
                    Err(error) => return Err(self.fail(format!("cannot decompress the end: {error}"))),
                }
                self.finished = true;
                return Ok(None);
            }
        }
        self.digest.update(length);
        self.digest.update(&bytes);
        Ok(Some(frame))
    }

    fn read_exact(&mut self, buffer: &mut [u8], what: &str) -> Result<(), ArchiveError> {
        self.input.read_exact(buffer).map_err(|error| {
            if error.kind() == std::io::ErrorKind::UnexpectedEof {
                self.fail(format!("it ends before {what} (truncated?)"))
            } else {
                self.fail(format!("cannot decompress {what}: {error}"))
            }
        })
    }
}
