//! `investigator check-packages`: packages, versions and artifacts the index no longer
//! serves are reported once each, and a slow, failing or garbled index reports nothing false.

use investigator_tests::TestDatabase;
use investigator_tests::fake_index::{FakeIndex, Fault};

use super::{bus_messages, bus_summary, index, learn, seed, seen, solved};

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
const D: &str = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";
const E: &str = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

#[tokio::test(flavor = "multi_thread")]
async fn each_change_on_the_index_is_reported_once_and_failures_report_nothing() {
    let fake = FakeIndex::start().await;
    let url = fake.simple_url();
    fake.put_project("flask", &[("2.0.1", "flask-2.0.1.tar.gz", A), ("2.0.2", "flask-2.0.2.tar.gz", B)]);
    fake.put_project("six", &[("1.16.0", "six-1.16.0.tar.gz", C)]);
    let database = TestDatabase::migrated().await;
    let db = &database.database;
    seed(
        db,
        vec![
            index(&url, None, true),
            solved(
                "solver-rhel-8-py38-seed",
                ("rhel", "8", "3.8"),
                &[
                    ("flask", "2.0.1", &url, &[A]),
                    ("flask", "2.0.2", &url, &[B]),
                    ("six", "1.16.0", &url, &[C]),
                    ("gone", "1.0", &url, &[D]),
                ],
            ),
            seen("flask", "1.0", &url),
        ],
    )
    .await;

    // A slow project, a garbled one and a failing one: errors, and nothing reported missing.
    fake.fail_with("/simple/six/", Fault::Delay(std::time::Duration::from_secs(3)));
    fake.fail_with("/simple/flask/", Fault::MalformedJson);
    fake.fail_with("/simple/gone/", Fault::Status(503));
    let failing = learn(&database, &["check-packages"], &[("INVESTIGATOR_LEARNING_INDEX_TIMEOUT_MS", "500")]).await;
    assert_eq!(failing.code, Some(1), "{}\n{}", failing.stdout, failing.stderr);
    for name in ["six", "flask", "gone"] {
        assert!(
            failing.stdout.lines().any(|line| line.starts_with("error") && line.contains(name)),
            "{name}: {}",
            failing.stdout
        );
    }
    assert!(bus_messages(db).await.is_empty(), "no false missing: {:?}", bus_summary(db).await);

    fake.clear_faults();
    let run = learn(&database, &["check-packages"], &[]).await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        bus_summary(db).await,
        ["thoth.package-update.missing-package gone - -", "thoth.package-update.missing-package-version flask 1.0 -"],
    );

    fake.put_project("flask", &[("2.0.1", "flask-2.0.1.tar.gz", A), ("2.0.2", "flask-2.0.2.tar.gz", E)]);
    let changed = learn(&database, &["check-packages"], &[]).await;
    assert_eq!(changed.code, Some(0), "{}\n{}", changed.stdout, changed.stderr);
    let messages = bus_messages(db).await;
    let mismatches: Vec<&serde_json::Value> = messages
        .iter()
        .filter(|(topic, _)| topic == "thoth.package-update.hash-mismatch")
        .map(|(_, message)| message)
        .collect();
    assert_eq!(mismatches.len(), 1, "{messages:?}");
    assert_eq!(mismatches[0]["package_version"], "2.0.2");
    assert_eq!(mismatches[0]["missing_from_source"], serde_json::json!([B]));
    assert_eq!(mismatches[0]["missing_from_database"], serde_json::json!([E]));

    let again = learn(&database, &["check-packages"], &[]).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stdout.contains("queued 0"), "{}", again.stdout);
    assert_eq!(bus_messages(db).await.len(), 3, "each finding once");
}
