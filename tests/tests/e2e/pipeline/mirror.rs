//! The knowledge-event mirror: every event of the log on `<prefix>.thoth.investigator.knowledge-events`,
//! in log order, keyed by stream, readable JSON, and resuming where it stopped after a restart.

use std::time::Duration;

use investigator_tests::{TestDatabase, TestKafka, eventually};
use serde_json::Value;

use super::messages::{PYPI, unresolved};
use super::{count, publish, serve};

async fn head(database: &TestDatabase) -> i64 {
    count(&database.database, "SELECT position FROM investigator.log_head").await
}

/// One more message (two more solver workflows, six in all), then `serve` started again: the
/// service once every event up to the log's head is mirrored.
async fn restarted_with_one_more_message(kafka: &TestKafka, database: &TestDatabase) -> investigator_tests::Service {
    publish(kafka, &[unresolved("jinja2", "3.0.0", PYPI)]).await;
    let service = serve(kafka, database, &[]).await;
    eventually("the events after the restart mirrored", Duration::from_secs(30), || async {
        let workflows =
            count(&database.database, "SELECT count(*) FROM graph.workflow_run WHERE status = 'submitted'").await;
        let head = head(database).await;
        workflows == 6 && service.metric("investigator_mirror_position").await == Some(head as f64)
    })
    .await;
    service
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_reaches_the_mirror_once_in_order_across_a_restart() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[]).await;
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI), unresolved("click", "8.0.0", PYPI)]).await;
    eventually("the first events mirrored", Duration::from_secs(30), || async {
        let head = head(&database).await;
        head > 1 && service.metric("investigator_mirror_position").await == Some(head as f64)
    })
    .await;
    assert_eq!(service.stop().await, Some(0));

    let _service = restarted_with_one_more_message(&kafka, &database).await;

    let head = head(&database).await;
    let topic = kafka.naming().topic_for_base_name("thoth.investigator.knowledge-events");
    let records = kafka.read_topic(&topic, usize::try_from(head).expect("a count")).await;
    let positions: Vec<i64> = records
        .iter()
        .map(|record| {
            let value: Value = serde_json::from_slice(&record.payload).expect("readable JSON");
            assert_eq!(record.key.as_deref(), value["stream"].as_str().map(str::as_bytes), "keyed by stream");
            assert!(value["type"].is_string() && value["payload"].is_object(), "{value}");
            assert!(record.header_count >= 4, "event type, schema version, position, content type");
            value["position"].as_i64().expect("a position")
        })
        .collect();
    assert_eq!(positions, (1..=head).collect::<Vec<_>>(), "every event once, in log order");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_too_large_for_the_topic_is_mirrored_as_a_reference_and_the_mirror_goes_on() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[("INVESTIGATOR_INDEX_TIMEOUT_MS", "0")]).await;
    let topic = kafka.naming().topic(investigator_events::thoth::MessageKind::UnresolvedPackage);
    // 600 kB of quotes: its dead letter's event is twice that as JSON, above the 1 MB limit.
    let quotes = format!("{{\"package_name\": {}", "\"".repeat(600_000));
    kafka.send_raw(&topic, quotes.as_bytes()).await;
    publish(&kafka, &[unresolved("after-the-large-one", "1.0.0", PYPI)]).await;
    eventually("every event mirrored", Duration::from_secs(60), || async {
        let head = head(&database).await;
        let submitted =
            count(&database.database, "SELECT count(*) FROM graph.workflow_run WHERE status = 'submitted'").await;
        submitted == 2 && service.metric("investigator_mirror_position").await == Some(head as f64)
    })
    .await;
    let head = head(&database).await;
    let records = kafka
        .read_topic(&kafka.naming().topic_for_base_name("thoth.investigator.knowledge-events"), head as usize)
        .await;
    let values: Vec<Value> =
        records.iter().map(|record| serde_json::from_slice(&record.payload).expect("readable JSON")).collect();
    let positions: Vec<i64> = values.iter().map(|value| value["position"].as_i64().expect("a position")).collect();
    assert_eq!(positions, (1..=head).collect::<Vec<_>>(), "every position once, in order: no stall, no repeat");
    let reference = values.iter().find(|value| value["reference"] == true).expect("a reference record");
    assert_eq!(reference["type"], "MessageDeadLettered");
    assert!(reference["size"].as_u64().is_some_and(|size| size > 1_000_000), "{reference}");
    assert!(service.log_text().contains("an event too large for the topic"), "{}", service.log_text());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mirror_stopped_between_its_deliveries_and_its_checkpoint_publishes_nothing_twice() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[]).await;
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI), unresolved("click", "8.0.0", PYPI)]).await;
    let delivered = std::cell::Cell::new(0);
    eventually("the first events mirrored", Duration::from_secs(30), || async {
        let head = head(&database).await;
        delivered.set(head);
        head > 2 && service.metric("investigator_mirror_position").await == Some(head as f64)
    })
    .await;
    assert_eq!(service.stop().await, Some(0));
    // As if the process had died after the deliveries and before the checkpoint's commit.
    database
        .sql()
        .await
        .execute("UPDATE investigator.projection_checkpoint SET position = 1 WHERE projection = 'kafka_mirror'", &[])
        .await
        .expect("checkpoint moved back");

    let service = restarted_with_one_more_message(&kafka, &database).await;

    let head = head(&database).await;
    assert!(head > delivered.get(), "events after the restart");
    let topic = kafka.naming().topic_for_base_name("thoth.investigator.knowledge-events");
    // Read on for half a second after the head's count: repeats are on the topic already.
    let records = kafka.read_topic_until(&topic, |records| records.len() as i64 >= head).await;
    let positions: Vec<i64> = records
        .iter()
        .map(|record| {
            let value: Value = serde_json::from_slice(&record.payload).expect("readable JSON");
            value["position"].as_i64().expect("a position")
        })
        .collect();
    assert_eq!(positions, (1..=head).collect::<Vec<_>>(), "the delivered events were not published again");
    assert_eq!(service.stop().await, Some(0));
}
