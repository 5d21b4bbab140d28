//! Log archives: export, import into a fresh database, and refusal of damaged files.

use std::io::{Read, Write};

use investigator_projections::archive::{self, ArchiveError};
use investigator_projections::replay::{self, ReplayOptions, Unobserved};
use investigator_projections::store;
use investigator_tests::{TestDatabase, investigator};

use crate::knowledge_graph::sync_document;
use crate::replay::mixed_live_graph;

#[tokio::test(flavor = "multi_thread")]
async fn an_exported_log_imported_elsewhere_rebuilds_the_same_graph_and_keeps_idempotency() {
    let source = TestDatabase::migrated().await;
    mixed_live_graph(&source.database, 2_000).await;
    let directory = tempfile::tempdir().expect("temporary directory");
    let file = directory.path().join("log.inv");
    let exported = archive::export(&source.database, &file, None).await.expect("export");

    let target = TestDatabase::migrated().await;
    let imported = archive::import(&target.database, &file, None).await.expect("import");
    assert_eq!(imported, exported);
    replay::replay(&target.database, &ReplayOptions::default(), &mut Unobserved).await.expect("rebuild");

    let source_sums = replay::checksums(&source.database).await.expect("checksums");
    let target_sums = replay::checksums(&target.database).await.expect("checksums");
    assert_eq!(source_sums, target_sums);
    assert!(source_sums.iter().any(|(_, sum)| sum.rows > 100));

    // The idempotency keys came along: syncing a document again appends nothing.
    let client = target.sql().await;
    let head = store::head_position(&client).await.expect("head");
    sync_document(&target.database, "solver/solver-rhel-8-py38-210713010253-a24759ebdaa1442c.json").await;
    assert_eq!(store::head_position(&client).await.expect("head"), head);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_archive_is_refused_whole_and_nothing_is_written() {
    let source = TestDatabase::migrated().await;
    mixed_live_graph(&source.database, 1_000).await;
    let directory = tempfile::tempdir().expect("temporary directory");
    let good = directory.path().join("good.inv");
    archive::export(&source.database, &good, None).await.expect("export");
    let bytes = std::fs::read(&good).expect("archive");

    let truncated = directory.path().join("truncated.inv");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let flipped = directory.path().join("flipped.inv");
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    std::fs::write(&flipped, &damaged).expect("write");
    // Valid compression around altered contents: only the checksum can tell.
    let altered = directory.path().join("altered.inv");
    let mut plain = Vec::new();
    zstd::Decoder::new(bytes.as_slice()).expect("zstd").read_to_end(&mut plain).expect("decompress");
    let at = plain.windows(7).position(|window| window == b"werkzeu").expect("a package name in the archive");
    plain[at] = b'W';
    let mut encoder = zstd::Encoder::new(Vec::new(), 3).expect("zstd");
    encoder.write_all(&plain).expect("compress");
    std::fs::write(&altered, encoder.finish().expect("compress")).expect("write");

    let target = TestDatabase::migrated().await;
    for (file, expected) in [(&truncated, "truncated"), (&flipped, ""), (&altered, "checksum")] {
        let error = archive::import(&target.database, file, None).await.expect_err("damaged");
        assert!(matches!(error, ArchiveError::Invalid { .. }), "{error:?}");
        assert!(error.to_string().contains(expected), "{error}");
        assert!(error.to_string().contains("nothing was imported"), "{error}");
    }
    let client = target.sql().await;
    assert_eq!(store::head_position(&client).await.expect("head"), 0);
    let rows: i64 = client.query_one("SELECT count(*) FROM investigator.event_log", &[]).await.expect("count").get(0);
    assert_eq!(rows, 0);

    let refused = investigator(&["events", "import", &altered.display().to_string()], &target.vars()).await;
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(refused.stderr.contains("checksum"), "{}", refused.stderr);

    let imported = investigator(&["events", "import", &good.display().to_string()], &target.vars()).await;
    assert_eq!(imported.code, Some(0), "{}", imported.stderr);
    assert!(imported.stdout.contains("the rebuilt knowledge graph is live"), "{}", imported.stdout);
    let again = investigator(&["events", "import", &good.display().to_string()], &target.vars()).await;
    assert_eq!(again.code, Some(2), "an archive goes into an empty log only");
}
