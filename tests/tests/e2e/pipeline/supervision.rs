//! A handler that panics is restarted by its supervisor and its messages are retried:
//! nothing is lost, nothing is dead-lettered.

use std::time::Duration;

use investigator_tests::{TestDatabase, TestKafka, eventually};

use super::messages::*;
use super::{applied_records, count, publish, serve};

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_handler_is_restarted_and_its_messages_are_retried() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[("INVESTIGATOR_INJECT_PANIC", "SolverScheduler:3")]).await;

    let messages: Vec<_> = (0..5).map(|i| unresolved(&format!("panic-package-{i}"), "1.0.0", PYPI)).collect();
    publish(&kafka, &messages).await;
    let db = &database.database;
    eventually("every record applied", Duration::from_secs(60), || async { applied_records(db).await == 5 }).await;

    assert_eq!(count(db, "SELECT count(*) FROM graph.workflow_run WHERE kind = 'solver'").await, 10, "2 solvers x 5");
    assert_eq!(count(db, "SELECT count(*) FROM graph.dead_letter").await, 0, "3 panics stay under 5 attempts");
    let restarts = service.metric("investigator_handler_restarts_total{handler=\"SolverScheduler\"}").await;
    assert_eq!(restarts, Some(3.0), "one restart per panic");
    let exceptions = service.metric("thoth_investigator_exceptions_total{message_type=\"unresolved_package\"}").await;
    assert_eq!(exceptions, Some(3.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handler_that_keeps_panicking_dead_letters_the_message_and_goes_on() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let _service = serve(
        &kafka,
        &database,
        &[("INVESTIGATOR_INJECT_PANIC", "SolverScheduler:2"), ("THOTH_INVESTIGATOR_MAX_RETRIES", "2")],
    )
    .await;

    publish(&kafka, &[unresolved("doomed", "1.0.0", PYPI), unresolved("fine", "1.0.0", PYPI)]).await;
    let db = &database.database;
    eventually("every record applied", Duration::from_secs(60), || async { applied_records(db).await == 2 }).await;
    assert_eq!(
        count(db, "SELECT count(*) FROM graph.dead_letter WHERE reason_code = 'handler_failed' AND attempts = 2").await,
        1
    );
    assert_eq!(count(db, "SELECT count(*) FROM graph.workflow_run WHERE package_name = 'fine'").await, 2);
}
