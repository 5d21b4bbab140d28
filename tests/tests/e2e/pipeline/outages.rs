//! Outages are retried, data errors are dead-lettered: a database that refuses for reasons of
//! its own (a lock it cannot get in time, connections cut by an administrator) delays the
//! stream, marks the service degraded, and turns no good message into a dead letter.

use std::time::Duration;

use investigator_tests::{TestDatabase, TestKafka, eventually};

use super::messages::{PYPI, unresolved};
use super::{applied_records, assert_each_requested_once, count, publish, serve};

async fn unrecordable(database: &TestDatabase) -> i64 {
    count(&database.database, "SELECT count(*) FROM graph.dead_letter WHERE reason_code = 'unrecordable'").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_the_database_cannot_grant_in_time_is_an_outage_retried_never_a_dead_letter() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::create().await);
    // Every connection of the service gives up on a lock after 100 ms (SQLSTATE 55P03).
    database
        .sql()
        .await
        .batch_execute(&format!("ALTER DATABASE \"{}\" SET lock_timeout = '100ms'", database.name))
        .await
        .expect("lock_timeout");
    let service = serve(&kafka, &database, &[("INVESTIGATOR_INDEX_TIMEOUT_MS", "0")]).await;
    let warm_up: Vec<_> = (0..5).map(|i| unresolved(&format!("before-{i}"), "1.0.0", PYPI)).collect();
    publish(&kafka, &warm_up).await;
    eventually("the first records applied", Duration::from_secs(30), || async {
        applied_records(&database.database).await == 5
    })
    .await;

    // An operator's long transaction holds the workflows' table: every batch that requests a
    // workflow times out on it (a dead letter alone would not).
    let mut holder = database.sql().await;
    let held = holder.transaction().await.expect("begin");
    held.batch_execute("LOCK TABLE graph.workflow_run IN EXCLUSIVE MODE").await.expect("the table locked");
    let during: Vec<_> = (0..20).map(|i| unresolved(&format!("during-{i}"), "1.0.0", PYPI)).collect();
    publish(&kafka, &during).await;
    // Batches time out on the lock again and again meanwhile.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(unrecordable(&database).await, 0, "an outage is no dead letter");
    eventually("the service degraded", Duration::from_secs(30), || async {
        let (_, health) = service.get("/_health").await;
        health.contains("\"degraded\"") && health.contains("pipeline")
    })
    .await;
    let (_, status) = service.get("/api/v1/status").await;
    assert!(status.contains("\"degraded\""), "{status}");
    assert!(service.metric("investigator_database_retries_total").await.unwrap_or(0.0) >= 1.0);
    held.rollback().await.expect("released");

    eventually("every record applied once the lock is released", Duration::from_secs(60), || async {
        applied_records(&database.database).await == 25
    })
    .await;
    assert_each_requested_once(&database, 25).await;
    eventually("ready again", Duration::from_secs(30), || async {
        let (_, health) = service.get("/_health").await;
        health.contains("\"ready\"")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_cut_mid_stream_lose_nothing_and_dead_letter_nothing() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::create().await);
    let _service = serve(&kafka, &database, &[("INVESTIGATOR_INDEX_TIMEOUT_MS", "0")]).await;
    let total = 300;
    let cutter = {
        let name = database.name.clone();
        let admin = database.sql().await;
        tokio::spawn(async move {
            let mut cut = 0;
            for _ in 0..15 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let rows = admin
                    .query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                        &[&name],
                    )
                    .await
                    .expect("terminate");
                cut += rows.len();
            }
            cut
        })
    };
    for round in 0..10 {
        let messages: Vec<_> =
            (0..total / 10).map(|i| unresolved(&format!("cut-{round}-{i}"), "1.0.0", PYPI)).collect();
        publish(&kafka, &messages).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let cut = cutter.await.expect("the cutter");
    assert!(cut > 0, "connections were cut");
    eventually("every record applied", Duration::from_secs(90), || async {
        applied_records(&database.database).await == total as i64
    })
    .await;
    assert_each_requested_once(&database, total as i64).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_statement_timeout_is_an_outage_retried_never_a_dead_letter() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::create().await);
    database
        .sql()
        .await
        .batch_execute(&format!("ALTER DATABASE \"{}\" SET statement_timeout = '1s'", database.name))
        .await
        .expect("statement_timeout");
    let service = serve(&kafka, &database, &[("INVESTIGATOR_INDEX_TIMEOUT_MS", "0")]).await;
    // Requesting a workflow takes longer than the timeout allows (SQLSTATE 57014) until the
    // slowness is taken away; a dead letter alone would not be slowed.
    database
        .sql()
        .await
        .batch_execute(
            "CREATE FUNCTION graph.slow_down() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_sleep(2); RETURN NULL; END $$; \
             CREATE TRIGGER slow_down BEFORE INSERT ON graph.workflow_run \
             FOR EACH STATEMENT EXECUTE FUNCTION graph.slow_down();",
        )
        .await
        .expect("a slow table");
    let messages: Vec<_> = (0..20).map(|i| unresolved(&format!("slow-{i}"), "1.0.0", PYPI)).collect();
    publish(&kafka, &messages).await;
    eventually("the service degraded", Duration::from_secs(30), || async {
        let (_, health) = service.get("/_health").await;
        health.contains("\"degraded\"")
    })
    .await;
    assert_eq!(unrecordable(&database).await, 0, "a timeout is no dead letter");
    database.sql().await.batch_execute("DROP TRIGGER slow_down ON graph.workflow_run").await.expect("fast again");
    eventually("every record applied once the statements are fast again", Duration::from_secs(60), || async {
        applied_records(&database.database).await == 20
    })
    .await;
    assert_each_requested_once(&database, 20).await;
}
