//! The broker killed and started again mid-stream, its topics kept in an object store: the
//! producer and the service reconnect on their own, and every message's effects are applied
//! exactly once.

use std::time::Duration;

use investigator_actors::kafka::{KafkaSettings, ThothPublisher};
use investigator_events::thoth::{ThothMessage, TopicNaming};
use investigator_tests::durable_broker::DurableBroker;
use investigator_tests::{Service, TestDatabase, eventually};

use super::messages::{PYPI, unresolved};
use super::{SOLVERS, applied_records, count};

const MESSAGES: usize = 200;

async fn publish_all(publisher: &ThothPublisher, messages: &[ThothMessage]) {
    for outcome in publisher.publish_all(messages).await {
        outcome.expect("delivered (the producer retries while the broker is down)");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_broker_restarted_mid_stream_loses_nothing_and_doubles_nothing() {
    let mut broker = DurableBroker::start().await;
    let database = TestDatabase::create().await;
    let deployment = format!("restart-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut env = database.vars();
    env.extend(
        [
            ("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers()),
            ("THOTH_DEPLOYMENT_NAME", deployment.clone()),
            ("THOTH_SOLVERS", SOLVERS.to_owned()),
        ]
        .map(|(name, value)| (name.to_owned(), value)),
    );
    let mut service = Service::start(&env).await;
    let naming = TopicNaming::new(Some(deployment)).expect("a valid deployment name");
    let publisher =
        ThothPublisher::new(&KafkaSettings::new(broker.bootstrap_servers()), naming, Duration::from_secs(90))
            .expect("a producer");
    let messages: Vec<ThothMessage> =
        (0..MESSAGES).map(|i| unresolved(&format!("restart-{i}"), "1.0.0", PYPI)).collect();
    let (first, second) = messages.split_at(MESSAGES / 2);

    publish_all(&publisher, first).await;
    let db = &database.database;
    eventually("some records applied", Duration::from_secs(60), || async { applied_records(db).await > 0 }).await;
    broker.restart(Duration::from_secs(2)).await;
    publish_all(&publisher, second).await;

    eventually("every record applied after the restart", Duration::from_secs(120), || async {
        applied_records(db).await >= MESSAGES as i64
    })
    .await;
    assert!(service.exited().is_none(), "the service rode out the restart");
    let workflows = 2 * MESSAGES as i64;
    assert_eq!(
        count(db, "SELECT count(DISTINCT payload ->> 'workflow_id') FROM investigator.event_log WHERE event_type = 'WorkflowRequested'").await,
        workflows,
        "every message's workflows requested"
    );
    assert_eq!(
        count(db, "SELECT count(*) FROM investigator.event_log WHERE event_type = 'WorkflowRequested'").await,
        workflows,
        "none twice"
    );
    assert_eq!(count(db, "SELECT count(*) FROM graph.dead_letter").await, 0);
    service.stop().await;
}
