//! Log archives written by someone else: a few kilobytes of zstd expanding to gigabytes of
//! frames, with a SHA-256 trailer that matches (anyone can compute it), read by the real
//! `investigator events import` (which then rebuilds the graph) under GNU time; and the key
//! that makes an archive's origin checkable.
//!
//! The archives are written here the way an outsider would: with postcard and types of the
//! same shape as the format documented in `projections::archive`.

use std::io::Write;
use std::path::Path;

use investigator_projections::archive::{self, ArchiveError, ArchiveKey, MAX_FRAME_BYTES};
use investigator_projections::store;
use investigator_tests::peak_memory::investigator_with_peak_memory;
use investigator_tests::{TestDatabase, investigator};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::MEMORY_CEILING_MIB;
use crate::knowledge_graph::sync_document;

/// The archive format's frames, as `projections::archive` documents them (the variants in
/// the same order: postcard numbers them).
#[derive(Serialize)]
enum Frame {
    Header {
        magic: String,
        format: u32,
        exported_at: String,
        last_position: i64,
    },
    Event(ArchivedEvent),
    #[allow(dead_code)]
    Batch {
        idempotency_key: String,
        first_position: i64,
        event_count: i32,
        appended_at_micros: i64,
    },
    Trailer {
        events: u64,
        batches: u64,
        sha256: Vec<u8>,
    },
    SignedTrailer {
        events: u64,
        batches: u64,
        sha256: Vec<u8>,
        hmac_sha256: Vec<u8>,
    },
}

#[derive(Serialize)]
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

/// A dead letter whose record is `size` bytes of text: a valid event of any size.
fn dead_letter(position: i64, size: usize) -> Frame {
    let payload = serde_json::json!({
        "topic": "thoth.investigator.unresolved-package", "partition": 0, "offset": position,
        "payload": {"encoding": "text", "data": "x".repeat(size)},
        "reason_code": "malformed_json", "reason": "not JSON", "attempts": 1,
    });
    Frame::Event(ArchivedEvent {
        position,
        stream_id: format!("dead-letter:thoth.investigator.unresolved-package/0/{position}"),
        stream_version: 1,
        event_type: "MessageDeadLettered".to_owned(),
        schema_version: 1,
        payload: payload.to_string(),
        metadata: "{}".to_owned(),
        recorded_at_micros: 1_700_000_000_000_000,
    })
}

/// Writes `events` as an archive of `format` whose SHA-256 trailer matches its contents
/// (format 2 gets a made-up signature); gives the compressed size.
fn write_archive(path: &Path, format: u32, events: impl Iterator<Item = Frame>) -> usize {
    let mut out = zstd::Encoder::new(std::fs::File::create(path).expect("created"), 19).expect("zstd");
    let mut digest = Sha256::new();
    let mut write = |frame: &Frame, digest: Option<&mut Sha256>| {
        let bytes = postcard::to_stdvec(frame).expect("encoded");
        let length = u32::try_from(bytes.len()).expect("a u32 length").to_le_bytes();
        if let Some(digest) = digest {
            digest.update(length);
            digest.update(&bytes);
        }
        out.write_all(&length).expect("written");
        out.write_all(&bytes).expect("written");
    };
    let mut count = 0;
    let events: Vec<Frame> = events.collect();
    let last_position = i64::try_from(events.len()).expect("few events");
    let header = Frame::Header {
        magic: "investigator-event-log".to_owned(),
        format,
        exported_at: "2026-11-25T00:00:00+00:00".to_owned(),
        last_position,
    };
    write(&header, Some(&mut digest));
    for event in &events {
        write(event, Some(&mut digest));
        count += 1;
    }
    let sha256 = digest.finalize().to_vec();
    let trailer = if format == 2 {
        Frame::SignedTrailer { events: count, batches: 0, sha256, hmac_sha256: vec![7; 32] }
    } else {
        Frame::Trailer { events: count, batches: 0, sha256 }
    };
    write(&trailer, None);
    out.finish().expect("finished");
    usize::try_from(std::fs::metadata(path).expect("written").len()).expect("a size")
}

async fn log_is_empty(database: &TestDatabase) -> bool {
    let client = database.sql().await;
    let rows: i64 = client.query_one("SELECT count(*) FROM investigator.event_log", &[]).await.expect("n").get(0);
    rows == 0 && store::head_position(&client).await.expect("head") == 0
}

#[tokio::test(flavor = "multi_thread")]
async fn a_frame_larger_than_a_frame_may_hold_is_refused_before_it_is_read() {
    let target = TestDatabase::migrated().await;
    let directory = tempfile::tempdir().expect("a directory");
    let path = directory.path().join("bomb.inv");
    let compressed = write_archive(&path, 1, std::iter::once(dead_letter(1, 200 * 1024 * 1024)));

    let file = path.display().to_string();
    let (run, peak) = investigator_with_peak_memory(&["events", "import", &file], &target.vars()).await;
    println!("events import of a {} KiB archive holding one 200 MiB frame: peak {peak:.0} MiB", compressed / 1024);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("frame 2 (after event position 0) claims"), "the frame is named:\n{}", run.stderr);
    assert!(run.stderr.contains(&format!("more than the {MAX_FRAME_BYTES} a frame may hold")), "{}", run.stderr);
    assert!(peak < MEMORY_CEILING_MIB, "peak {peak:.0} MiB");
    assert!(log_is_empty(&target).await, "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_of_frames_at_the_limit_is_imported_and_replayed_within_bounded_memory() {
    let target = TestDatabase::migrated().await;
    let directory = tempfile::tempdir().expect("a directory");
    let path = directory.path().join("bomb.inv");
    let size = usize::try_from(MAX_FRAME_BYTES).expect("a size") - 64 * 1024;
    let compressed = write_archive(&path, 1, (1..=12).map(|position| dead_letter(position, size)));

    let file = path.display().to_string();
    let (run, peak) = investigator_with_peak_memory(&["events", "import", &file], &target.vars()).await;
    println!(
        "events import (and the replay after it) of a {} KiB archive of 12 frames of {} MiB: peak {peak:.0} MiB",
        compressed / 1024,
        size / (1024 * 1024)
    );
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("the rebuilt knowledge graph is live"), "{}", run.stdout);
    assert!(peak < MEMORY_CEILING_MIB, "peak {peak:.0} MiB");
    let client = target.sql().await;
    let letters: i64 = client.query_one("SELECT count(*) FROM graph.dead_letter", &[]).await.expect("n").get(0);
    assert_eq!(letters, 12, "every event was imported and projected");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_key_only_an_archive_signed_with_it_is_imported() {
    let source = TestDatabase::migrated().await;
    sync_document(&source.database, "solver/solver-rhel-8-py38-210713010253-a24759ebdaa1442c.json").await;
    let directory = tempfile::tempdir().expect("a directory");
    let signed = directory.path().join("signed.inv");
    let keyed = |database: &TestDatabase, key: &str| {
        let mut vars = database.vars();
        vars.push(("INVESTIGATOR_ARCHIVE_KEY".to_owned(), key.to_owned()));
        vars
    };
    let exported = investigator(&["events", "export", &signed.display().to_string()], &keyed(&source, "k3y-one")).await;
    assert_eq!(exported.code, Some(0), "{}", exported.stderr);

    // A forged archive whose SHA-256 matches, unsigned or with a made-up signature.
    let forged = directory.path().join("forged.inv");
    write_archive(&forged, 1, (1..=3).map(|position| dead_letter(position, 10)));
    let forged_signed = directory.path().join("forged-signed.inv");
    write_archive(&forged_signed, 2, (1..=3).map(|position| dead_letter(position, 10)));

    let target = TestDatabase::migrated().await;
    let key = ArchiveKey::new("k3y-one");
    for (file, expected) in [
        (&forged, "it is not signed, and INVESTIGATOR_ARCHIVE_KEY is set"),
        (&forged_signed, "its signature does not match"),
    ] {
        let error = archive::import(&target.database, file, Some(&key)).await.expect_err("refused");
        assert!(matches!(error, ArchiveError::Invalid { .. }), "{error:?}");
        assert!(error.to_string().contains(expected), "{error}");
    }
    let other_key = ArchiveKey::new("k3y-two");
    let error = archive::import(&target.database, &signed, Some(&other_key)).await.expect_err("another key");
    assert!(error.to_string().contains("its signature does not match"), "{error}");
    assert!(log_is_empty(&target).await, "nothing was written");

    let refused = investigator(&["events", "import", &forged.display().to_string()], &keyed(&target, "k3y-one")).await;
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    let imported = investigator(&["events", "import", &signed.display().to_string()], &keyed(&target, "k3y-one")).await;
    assert_eq!(imported.code, Some(0), "{}", imported.stderr);
    assert!(!log_is_empty(&target).await);
}

/// Records dead letters whose records are `sizes` bytes long, at positions 1, 2...
async fn record_dead_letters(database: &TestDatabase, sizes: &[usize]) {
    use investigator_events::domain::{DeadLetterPayload, EventMetadata, MessageDeadLettered, StreamId};
    use investigator_projections::store::{AppendRequest, NewEvent};
    let events = sizes
        .iter()
        .zip(0..)
        .map(|(size, offset)| NewEvent {
            stream: StreamId::dead_letter("thoth.investigator.unresolved-package", 0, offset),
            event: MessageDeadLettered {
                topic: "thoth.investigator.unresolved-package".to_owned(),
                partition: 0,
                offset,
                key: None,
                payload: DeadLetterPayload::Text("x".repeat(*size)),
                reason_code: "malformed_json".to_owned(),
                reason: "not JSON".to_owned(),
                attempts: 1,
            }
            .into(),
            metadata: EventMetadata::default(),
        })
        .collect();
    let request = AppendRequest { idempotency_key: None, expected: Vec::new(), events };
    investigator_projections::record(&database.database, request).await.expect("recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_of_the_log_hold_a_bounded_number_of_bytes_or_one_larger_event() {
    let database = TestDatabase::migrated().await;
    let five = 5 * 1024 * 1024;
    record_dead_letters(&database, &[five, five, 3 * five, 10, 10]).await;
    let client = database.sql().await;
    let mut pages = Vec::new();
    let mut after = 0;
    loop {
        let page = store::read_stored_from(&client, after, 100).await.expect("read");
        let Some(last) = page.last().map(|event| event.position) else { break };
        pages.push(page.iter().map(|event| event.position).collect::<Vec<_>>());
        after = last;
    }
    assert_eq!(pages, [vec![1], vec![2], vec![3], vec![4, 5]], "{} bytes a page at most", store::PAGE_BYTES);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_larger_than_a_frame_may_hold_is_not_exported() {
    let database = TestDatabase::migrated().await;
    record_dead_letters(&database, &[10, usize::try_from(MAX_FRAME_BYTES).expect("a size")]).await;
    let directory = tempfile::tempdir().expect("a directory");
    let error = archive::export(&database.database, &directory.path().join("log.inv"), None)
        .await
        .expect_err("too large for a frame");
    assert!(matches!(error, ArchiveError::EventTooLarge { position: 2 }), "{error:?}");
    assert!(error.to_string().contains("the event at position 2"), "{error}");
}
