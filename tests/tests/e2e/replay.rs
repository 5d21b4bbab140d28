//! Replay: the knowledge graph rebuilt from the log alone equals the live one, the swap is
//! safe while recording goes on, and an interrupted replay harms nothing.

use std::time::Duration;

use investigator_projections::replay::{self, REPLAY_LOCK, ReplayError, ReplayOptions, ReplayReport, Unobserved};
use investigator_projections::{Database, record, store};
use investigator_tests::workload::Workload;
use investigator_tests::{TestDatabase, investigator, investigator_binary};

use crate::knowledge_graph::{documents_dir, sync_document};

async fn run_replay(database: &Database, verify: bool, batch_size: i64) -> Result<ReplayReport, ReplayError> {
    let options = ReplayOptions { batch_size, verify, ..ReplayOptions::default() };
    replay::replay(database, &options, &mut Unobserved).await
}

/// A live graph built the way the service builds it: one message's effects at a time.
pub(crate) async fn mixed_live_graph(database: &Database, events: usize) {
    for request in Workload::new(2026).requests(events) {
        record(database, request).await.expect("record");
    }
    for entry in ["solver", "adviser"] {
        let mut files: Vec<_> = std::fs::read_dir(documents_dir().join(entry))
            .expect("test documents")
            .map(|entry| entry.expect("entry").path())
            .collect();
        files.sort();
        for file in files {
            let relative = file.strip_prefix(documents_dir()).expect("inside").to_string_lossy().into_owned();
            sync_document(database, &relative).await;
        }
    }
}

fn assert_identical(report: &ReplayReport) {
    let differing: Vec<_> = report.differences().collect();
    assert!(differing.is_empty(), "tables differ: {differing:#?}");
    assert!(report.comparison.len() >= 20, "every table was compared: {:?}", report.comparison);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_graph_equals_the_live_one_after_a_mixed_workload_whatever_the_batch_size() {
    let db = TestDatabase::migrated().await;
    mixed_live_graph(&db.database, 3_000).await;

    for batch_size in [7, 100_000] {
        let report = run_replay(&db.database, true, batch_size).await.expect("replay");
        assert_identical(&report);
        assert!(!report.swapped);
        assert!(report.events > 3_000);
    }
    let filled = run_replay(&db.database, true, 1_000).await.expect("replay");
    let empty: Vec<&str> = filled
        .comparison
        .iter()
        .filter(|table| table.live.as_ref().is_some_and(|sum| sum.rows == 0))
        .map(|table| table.table.as_str())
        .collect();
    assert!(empty.is_empty(), "the workload leaves no table empty, so every rule was compared: {empty:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_finds_a_table_that_no_longer_matches_the_log() {
    let db = TestDatabase::migrated().await;
    mixed_live_graph(&db.database, 500).await;
    let client = db.sql().await;
    client
        .batch_execute(
            "UPDATE graph.python_package_version SET is_missing = NOT is_missing \
             WHERE id = (SELECT min(id) FROM graph.python_package_version)",
        )
        .await
        .expect("tamper");
    let report = run_replay(&db.database, true, 1_000).await.expect("replay");
    let differing: Vec<&str> = report.differences().map(|table| table.table.as_str()).collect();
    assert_eq!(differing, ["python_package_version"]);

    // A real replay repairs it.
    run_replay(&db.database, false, 1_000).await.expect("replay");
    assert_identical(&run_replay(&db.database, true, 1_000).await.expect("replay"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_swap_happens_while_recording_goes_on_and_loses_nothing() {
    let db = TestDatabase::migrated().await;
    let pool = db.pool(6);
    let mut workload = Workload::new(99);
    for request in workload.requests(1_500) {
        record(&pool, request).await.expect("record");
    }
    let recorder = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut recorded = 0;
            for request in workload.requests(600) {
                record(&pool, request).await.expect("recording goes on through the swap");
                recorded += 1;
            }
            recorded
        })
    };
    let report = run_replay(&pool, false, 500).await.expect("replay");
    assert!(report.swapped);
    let recorded = recorder.await.expect("recorder");
    assert!(recorded > 0);

    let mut connection = pool.connection().await.expect("connection");
    let client = connection.read().await.expect("a read transaction");
    let head = store::head_position(&client).await.expect("head");
    let checkpoint: i64 = client
        .query_one("SELECT position FROM investigator.projection_checkpoint WHERE projection = 'knowledge_graph'", &[])
        .await
        .expect("checkpoint")
        .get(0);
    assert_eq!(checkpoint, head, "every event is in the live graph");
    assert_identical(&run_replay(&pool, true, 10_000).await.expect("replay"));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_one_replay_runs_at_a_time() {
    let db = TestDatabase::migrated().await;
    let holder = db.sql().await;
    holder.execute("SELECT pg_advisory_lock($1)", &[&REPLAY_LOCK]).await.expect("lock");
    let error = run_replay(&db.database, false, 100).await.expect_err("locked");
    assert!(matches!(error, ReplayError::AlreadyRunning), "{error:?}");
    holder.execute("SELECT pg_advisory_unlock($1)", &[&REPLAY_LOCK]).await.expect("unlock");
    run_replay(&db.database, false, 100).await.expect("free again");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_replay_leaves_the_live_graph_intact_and_can_run_again() {
    let db = TestDatabase::migrated().await;
    // A log big enough for the replay to take a while: appended in large batches, then
    // projected by a first replay.
    for chunk in Workload::new(5).requests(20_000).chunks(200) {
        let events = chunk.iter().flat_map(|request| request.events.clone()).collect();
        store::append(&db.database, investigator_projections::store::AppendRequest { events, ..Default::default() })
            .await
            .expect("append");
    }
    run_replay(&db.database, false, 10_000).await.expect("first build");

    let mut child = tokio::process::Command::new(investigator_binary())
        .args(["replay", "--batch-size", "50"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("start the replay");
    // Let it get into the rebuild, then kill it without a chance to clean up.
    let client = db.sql().await;
    let mut rebuilding = false;
    for _ in 0..200 {
        let schemas: i64 = client
            .query_one("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'graph\\_rebuild\\_%'", &[])
            .await
            .expect("schemas")
            .get(0);
        if schemas > 0 {
            rebuilding = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(rebuilding, "the replay started rebuilding");
    tokio::time::sleep(Duration::from_millis(150)).await;
    child.start_kill().expect("kill");
    let status = child.wait().await.expect("wait");
    assert!(!status.success(), "it was killed, not finished");

    let verified = investigator(&["replay", "--verify"], &db.vars()).await;
    assert_eq!(verified.code, Some(0), "{}\n{}", verified.stdout, verified.stderr);
    assert!(verified.stdout.contains("every table of the rebuilt graph equals the live one"), "{}", verified.stdout);
    let leftovers: i64 = client
        .query_one("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'graph\\_rebuild\\_%'", &[])
        .await
        .expect("schemas")
        .get(0);
    assert_eq!(leftovers, 0, "the next replay dropped what the killed one left");
}
