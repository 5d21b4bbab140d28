//! The pipeline end to end: Thoth messages on the broker, `investigator serve`, and what ends
//! up in the log, the graph and the workflow requests.

mod behaviour;
mod broker_restart;
pub(crate) mod crash_safety;
mod embedded;
mod knowledge;
mod listing;
pub(crate) mod messages;
mod mirror;
mod offsets;
mod outages;
mod poison;
mod redrive;
mod supervision;

use investigator_projections::Database;

/// The rows of a query as one text column each.
pub async fn texts(database: &Database, sql: &str) -> Vec<String> {
    let mut connection = database.connection().await.expect("a connection");
    let client = connection.read().await.expect("a read transaction");
    client.query(sql, &[]).await.expect(sql).iter().map(|row| row.get(0)).collect()
}

/// One count.
pub async fn count(database: &Database, sql: &str) -> i64 {
    let mut connection = database.connection().await.expect("a connection");
    let client = connection.read().await.expect("a read transaction");
    client.query_one(sql, &[]).await.expect(sql).get(0)
}

/// Every one of `packages` unresolved-package records was applied once: its two solver
/// workflows requested once each, and nothing dead-lettered.
pub async fn assert_each_requested_once(database: &TestDatabase, packages: i64) {
    assert_eq!(applied_records(&database.database).await, packages, "every record applied");
    assert_each_workflow_requested_once(database, packages).await;
}

/// `packages` unresolved-package records of distinct packages led to two solver workflows each,
/// none requested twice, and nothing was dead-lettered.
pub async fn assert_each_workflow_requested_once(database: &TestDatabase, packages: i64) {
    let db = &database.database;
    assert_eq!(
        count(db, "SELECT count(DISTINCT package_name) FROM graph.workflow_run").await,
        packages,
        "every package's record applied"
    );
    assert_eq!(count(db, "SELECT count(*) FROM graph.workflow_run").await, packages * 2, "two solvers each");
    assert_eq!(
        count(
            db,
            "SELECT count(DISTINCT payload ->> 'workflow_id') FROM investigator.event_log WHERE event_type = 'WorkflowRequested'"
        )
        .await,
        packages * 2,
        "no workflow requested twice"
    );
    assert_eq!(count(db, "SELECT count(*) FROM graph.dead_letter").await, 0, "no dead letter, unrecordable or other");
}

/// The sum of the stored next offsets of a group (records applied).
pub async fn applied_records(database: &Database) -> i64 {
    count(database, "SELECT coalesce(sum(next_offset), 0)::int8 FROM investigator.consumer_offset").await
}

use std::time::Duration;

use investigator_actors::kafka::{KafkaSettings, ThothPublisher};
use investigator_events::thoth::ThothMessage;
use investigator_tests::{Service, TestDatabase, TestKafka};

/// The two solvers the pipeline tests configure.
pub const SOLVERS: &str = "solver-rhel-8-py38,solver-fedora-35-py310";

/// The environment of `investigator serve` for this deployment and database, plus `extra`.
pub fn service_env(kafka: &TestKafka, database: &TestDatabase, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = kafka.vars();
    env.extend(database.vars());
    env.push(("THOTH_SOLVERS".to_owned(), SOLVERS.to_owned()));
    env.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    env
}

/// Starts `investigator serve` for this deployment and database.
pub async fn serve(kafka: &TestKafka, database: &TestDatabase, extra: &[(&str, &str)]) -> Service {
    Service::start(&service_env(kafka, database, extra)).await
}

/// Publishes messages with the investigator's own publisher (thoth-messaging's bytes).
pub async fn publish(kafka: &TestKafka, messages: &[ThothMessage]) {
    let publisher = ThothPublisher::new(
        &KafkaSettings::new(kafka.bootstrap_servers.clone()),
        kafka.naming().clone(),
        Duration::from_secs(30),
    )
    .expect("publisher");
    for outcome in publisher.publish_all(messages).await {
        outcome.expect("delivered");
    }
}
