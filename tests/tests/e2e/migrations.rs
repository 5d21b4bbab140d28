//! `investigator migrate`: applied once, safe to repeat, strict about history.

use investigator_projections::migrations::{self, MigrationError};
use investigator_tests::{TestDatabase, investigator};

#[tokio::test(flavor = "multi_thread")]
async fn migrate_applies_everything_once_and_then_nothing() {
    let db = TestDatabase::create().await;
    let first = investigator(&["migrate"], &db.vars()).await;
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(first.stdout.contains("applied  store/0001_event_log"), "{}", first.stdout);
    assert!(first.stdout.contains("applied  graph/0004_runs"), "{}", first.stdout);

    // Several processes at once take turns.
    let vars = db.vars();
    let (a, b) = tokio::join!(investigator(&["migrate"], &vars), investigator(&["migrate"], &vars));
    for run in [a, b] {
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(run.stdout.contains("0 migration(s) applied"), "{}", run.stdout);
    }
    let tables: i64 = db
        .sql()
        .await
        .query_one("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'graph'", &[])
        .await
        .expect("count")
        .get(0);
    assert!(tables > 20, "{tables}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_or_unknown_migration_stops_everything() {
    let db = TestDatabase::migrated().await;
    let client = db.sql().await;
    client.batch_execute("UPDATE graph.schema_migrations SET checksum = 'x' WHERE version = 2").await.expect("tamper");
    let error = migrations::migrate(&db.database).await.expect_err("changed");
    assert!(matches!(error, MigrationError::Changed { set: "graph", version: 2, .. }), "{error:?}");

    client
        .batch_execute(
            "UPDATE graph.schema_migrations SET checksum = (SELECT checksum FROM graph.schema_migrations WHERE version = 1) \
             WHERE version = 2; \
             DELETE FROM graph.schema_migrations WHERE version = 2; \
             INSERT INTO investigator.schema_migrations (version, name, checksum) VALUES (99, 'from_the_future', 'y')",
        )
        .await
        .expect("tamper");
    let error = migrations::migrate(&db.database).await.expect_err("newer database");
    assert!(matches!(error, MigrationError::Unknown { set: "store", version: 99, .. }), "{error:?}");
    assert!(error.to_string().contains("newer investigator"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_per_line_and_a_bad_format_is_refused() {
    let db = TestDatabase::create().await;
    let mut vars = db.vars();
    vars.push(("RUST_LOG".to_owned(), "info".to_owned()));
    vars.push(("INVESTIGATOR_LOG_FORMAT".to_owned(), "json".to_owned()));
    let run = investigator(&["migrate"], &vars).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}")))
        .collect();
    let applied = lines.iter().find(|line| line["fields"]["message"] == "migration applied").expect("a log line");
    assert_eq!(applied["level"], "INFO");
    assert!(applied["fields"]["version"].is_number() && applied["timestamp"].is_string(), "{applied}");

    vars.push(("INVESTIGATOR_LOG_FORMAT".to_owned(), "xml".to_owned()));
    let refused = investigator(&["migrate"], &vars).await;
    assert_eq!(refused.code, Some(2));
    assert!(refused.stderr.contains("INVESTIGATOR_LOG_FORMAT"), "{}", refused.stderr);
}
