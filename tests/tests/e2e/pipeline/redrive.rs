//! Re-driving a dead letter is recorded once and published once, however many operators (or
//! retrying clients) ask at the same moment: on Kafka from the log by the re-drive relay, on
//! the embedded bus in the same transaction.

use std::time::Duration;

use investigator_events::thoth::MessageKind;
use investigator_tests::{Service, TestDatabase, TestKafka, eventually};

use super::messages::unresolved;
use super::{count, publish, service_env};

const TOKEN: &str = "redrive-token";
const TORCH: &str = "https://download.pytorch.org/whl/cpu";

/// Four re-drives of the same letter at once: their statuses.
async fn four_at_once(service: &Service, topic: &str) -> Vec<u16> {
    let path = format!("/api/v1/dead-letters/{topic}/0/0/redrive");
    let asks = (0..4).map(|_| service.post(&path, Some(TOKEN), b""));
    let mut statuses: Vec<u16> =
        futures_util::future::join_all(asks).await.into_iter().map(|(status, _)| status).collect();
    statuses.sort_unstable();
    statuses
}

async fn register_torch(service: &Service) {
    let index = format!(r#"{{"url": "{TORCH}", "enabled": true}}"#);
    let (status, body) = service.post("/api/v1/python/package-index", Some(TOKEN), index.as_bytes()).await;
    assert_eq!(status, 201, "{body}");
}

fn assert_one_accepted(statuses: &[u16]) {
    assert_eq!(statuses.iter().filter(|status| **status == 202).count(), 1, "one re-drive accepted: {statuses:?}");
    assert!(statuses.iter().all(|status| [202, 409, 422].contains(status)), "the others refused: {statuses:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_kafka_four_redrives_at_once_publish_the_record_once() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::create().await);
    let service = Service::start(&service_env(&kafka, &database, &[("INVESTIGATOR_API_TOKEN", TOKEN)])).await;
    publish(&kafka, &[unresolved("torch", "2.1.0", TORCH)]).await;
    eventually("the record dead-lettered", Duration::from_secs(30), || async {
        count(&database.database, "SELECT count(*) FROM graph.dead_letter").await == 1
    })
    .await;
    register_torch(&service).await;
    let topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    assert_one_accepted(&four_at_once(&service, &topic).await);
    eventually("the re-driven copy applied", Duration::from_secs(30), || async {
        count(&database.database, "SELECT count(*) FROM graph.workflow_run WHERE package_name = 'torch'").await == 2
    })
    .await;
    assert_eq!(kafka.read_topic(&topic, 2).await.len(), 2, "the record and one copy of it");
    assert_eq!(
        count(
            &database.database,
            "SELECT count(*) FROM investigator.event_log WHERE event_type = 'DeadLetterRedriven'"
        )
        .await,
        1
    );
    let (status, body) = service.post(&format!("/api/v1/dead-letters/{topic}/0/0/redrive"), Some(TOKEN), b"").await;
    assert_eq!(status, 422, "a client's retry re-drives nothing: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_the_embedded_bus_four_redrives_at_once_publish_the_record_once() {
    let database = TestDatabase::create().await;
    let mut env = database.vars();
    env.extend([
        ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()),
        ("INVESTIGATOR_API_TOKEN".to_owned(), TOKEN.to_owned()),
        ("THOTH_SOLVERS".to_owned(), super::SOLVERS.to_owned()),
    ]);
    let service = Service::start(&env).await;
    let message = unresolved("torch", "2.1.0", TORCH).encode();
    let (status, body) =
        service.post("/api/v1/messages/thoth.investigator.unresolved-package", Some(TOKEN), message.as_bytes()).await;
    assert_eq!(status, 202, "{body}");
    eventually("the record dead-lettered", Duration::from_secs(30), || async {
        count(&database.database, "SELECT count(*) FROM graph.dead_letter").await == 1
    })
    .await;
    register_torch(&service).await;
    assert_one_accepted(&four_at_once(&service, "thoth.investigator.unresolved-package").await);
    eventually("the re-driven copy applied", Duration::from_secs(30), || async {
        count(&database.database, "SELECT count(*) FROM graph.workflow_run WHERE package_name = 'torch'").await == 2
    })
    .await;
    assert_eq!(count(&database.database, "SELECT count(*) FROM investigator.bus_record").await, 2, "one copy");
    assert_eq!(
        count(
            &database.database,
            "SELECT count(*) FROM investigator.event_log WHERE event_type = 'DeadLetterRedriven'"
        )
        .await,
        1
    );
}
