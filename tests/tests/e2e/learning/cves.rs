//! `investigator import-cves`: OSV advisories from a directory or a zip, linked to the known
//! versions they affect, each (advisory, version) published once.

use std::io::Write;

use investigator_tests::TestDatabase;

use super::{bus_summary, count, index, learn, seed, seen};

const PYPI: &str = "https://pypi.org/simple";

fn advisory(id: &str, name: &str, affected: serde_json::Value) -> String {
    let mut entry = serde_json::json!({"package": {"ecosystem": "PyPI", "name": name}});
    if let (Some(entry), Some(extra)) = (entry.as_object_mut(), affected.as_object()) {
        entry.extend(extra.clone());
    }
    serde_json::json!({
        "id": id, "summary": format!("{id} summary"), "details": format!("{id} details"),
        "affected": [entry],
        "references": [{"type": "ADVISORY", "url": "https://example.org/advisory"}, {"type": "WEB", "url": format!("https://example.org/{id}")}],
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn advisories_are_linked_and_announced_once_per_version() {
    let database = TestDatabase::migrated().await;
    let db = &database.database;
    seed(
        db,
        vec![
            index(PYPI, None, true),
            seen("django", "3.2.0", PYPI),
            seen("django", "3.2.5", PYPI),
            seen("django", "4.0.0", PYPI),
            seen("requests", "2.25.0", PYPI),
        ],
    )
    .await;
    let directory = tempfile::tempdir().expect("a directory");
    let nested = directory.path().join("PYSEC");
    std::fs::create_dir_all(&nested).expect("a subdirectory");
    let range =
        serde_json::json!({"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.2"}, {"fixed": "3.2.5"}]}]});
    std::fs::write(nested.join("PYSEC-2021-1.json"), advisory("PYSEC-2021-1", "Django", range)).expect("written");
    let listed = serde_json::json!({"versions": ["2.25.0", "2.26.0"]});
    std::fs::write(directory.path().join("GHSA-aaaa.json"), advisory("GHSA-aaaa", "requests", listed))
        .expect("written");
    let source = directory.path().to_str().expect("a UTF-8 path");

    let run = learn(&database, &["import-cves", source], &[]).await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        bus_summary(db).await,
        ["thoth.cve-update.cve-provided django 3.2.0 -", "thoth.cve-update.cve-provided requests 2.25.0 -"]
    );
    assert_eq!(
        count(db, "SELECT count(*) FROM graph.cve WHERE cve_id = 'PYSEC-2021-1' AND details = 'PYSEC-2021-1 details' AND link = 'https://example.org/PYSEC-2021-1'").await,
        1,
        "the advisory is knowledge"
    );
    assert_eq!(count(db, "SELECT count(*) FROM graph.has_vulnerability").await, 2);

    let again = learn(&database, &["import-cves", source], &[]).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stdout.contains("queued 0"), "{}", again.stdout);

    // A zip with one more advisory and a broken document: the broken one is reported, the
    // other one applied.
    let zip_path = directory.path().join("all.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).expect("a zip file"));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("GHSA-bbbb.json", options).expect("an entry");
    let newer = serde_json::json!({"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "4.0"}]}]});
    zip.write_all(advisory("GHSA-bbbb", "django", newer).as_bytes()).expect("written");
    zip.start_file("broken.json", options).expect("an entry");
    zip.write_all(b"{ not json").expect("written");
    zip.finish().expect("a complete zip");

    let zipped = learn(&database, &["import-cves", zip_path.to_str().expect("UTF-8")], &[]).await;
    assert_eq!(zipped.code, Some(1), "a broken document is an error: {}\n{}", zipped.stdout, zipped.stderr);
    assert!(zipped.stdout.contains("broken.json"), "{}", zipped.stdout);
    assert!(zipped.stdout.contains("queued 1"), "{}", zipped.stdout);
    assert_eq!(bus_summary(db).await.len(), 3);
    assert_eq!(count(db, "SELECT count(*) FROM graph.has_vulnerability").await, 3);
}
