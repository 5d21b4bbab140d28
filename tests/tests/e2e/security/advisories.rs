//! OSV advisory archives built to take memory: a megabyte of zip holding hundreds of
//! megabytes of advisories, read by the real `investigator import-cves` under GNU time.

use std::io::{Cursor, Write};

use investigator_tests::TestDatabase;
use investigator_tests::peak_memory::investigator_with_peak_memory;

use super::MEMORY_CEILING_MIB;
use crate::learning::{bus_env, count, index, seed, seen};

const PYPI: &str = "https://pypi.org/simple";

/// A zip archive of `entries` copies of one advisory whose `details` are `details_bytes`
/// long: the advisory is compressed once and its compressed bytes copied under each name,
/// so building a gigabyte bomb takes a moment.
fn archive_of_copies(entries: usize, details_bytes: usize) -> Vec<u8> {
    let advisory = serde_json::json!({
        "id": "GHSA-bomb-bomb-bomb",
        "details": "d".repeat(details_bytes),
        "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"}, "versions": ["1.0"]}],
    })
    .to_string();
    let mut single = zip::ZipWriter::new(Cursor::new(Vec::new()));
    single.start_file("GHSA-bomb.json", zip::write::SimpleFileOptions::default()).expect("an entry");
    single.write_all(advisory.as_bytes()).expect("written");
    let single = single.finish().expect("finished").into_inner();
    let mut source = zip::ZipArchive::new(Cursor::new(single)).expect("readable");
    let mut copies = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for index in 0..entries {
        let entry = source.by_index(0).expect("the entry");
        copies.raw_copy_file_rename(entry, format!("GHSA-{index:06}.json")).expect("copied");
    }
    copies.finish().expect("finished").into_inner()
}

async fn seeded_database() -> TestDatabase {
    let database = TestDatabase::migrated().await;
    seed(&database.database, vec![index(PYPI, None, true), seen("flask", "1.0", PYPI)]).await;
    database
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_of_huge_details_is_read_keeping_a_bounded_part_of_each() {
    let database = seeded_database().await;
    let directory = tempfile::tempdir().expect("a directory");
    let path = directory.path().join("all.zip");
    let bomb = archive_of_copies(100, 4 * 1024 * 1024 - 1024);
    std::fs::write(&path, &bomb).expect("written");
    let source = path.to_str().expect("a UTF-8 path");

    let (run, peak) = investigator_with_peak_memory(&["import-cves", source], &bus_env(&database, &[])).await;
    println!(
        "import-cves of a {} KiB zip holding 100 advisories of 4 MiB details (400 MiB): peak {peak:.0} MiB",
        bomb.len() / 1024
    );
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(peak < MEMORY_CEILING_MIB, "peak {peak:.0} MiB");
    let details = count(
        &database.database,
        "SELECT max(length(details))::int8 FROM graph.cve WHERE cve_id = 'GHSA-bomb-bomb-bomb'",
    )
    .await;
    assert!((8_192..9_000).contains(&details), "the details kept are cut: {details} characters");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_of_more_advisories_than_the_memory_allowed_is_refused_within_it() {
    let database = seeded_database().await;
    let directory = tempfile::tempdir().expect("a directory");
    let path = directory.path().join("all.zip");
    let bomb = archive_of_copies(40_000, 8 * 1024);
    std::fs::write(&path, &bomb).expect("written");
    let source = path.to_str().expect("a UTF-8 path");

    let (run, peak) = investigator_with_peak_memory(&["import-cves", source], &bus_env(&database, &[])).await;
    println!(
        "import-cves of a {} KiB zip of 40,000 advisories of 8 KiB details (about 330 MiB to keep): peak {peak:.0} MiB",
        bomb.len() / 1024
    );
    assert_ne!(run.code, Some(0), "refused:\n{}", run.stdout);
    assert!(run.stderr.contains("INVESTIGATOR_CVE_MAX_MB"), "the error names the setting:\n{}", run.stderr);
    assert!(peak < MEMORY_CEILING_MIB, "peak {peak:.0} MiB");
}
