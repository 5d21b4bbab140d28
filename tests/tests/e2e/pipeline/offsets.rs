//! Stored offsets the broker's log no longer matches: a topic deleted and created again (a
//! common way to purge a backlog) leaves a stored offset far above the new log's end. The
//! partition is reset as `INVESTIGATOR_OFFSET_RESET` says and the reset recorded, or halted
//! until an operator moves the offset; never a silent drop of the new records.

use std::time::Duration;

use investigator_events::thoth::MessageKind;
use investigator_tests::{Service, TestDatabase, TestKafka, eventually, investigator};

use super::messages::{PYPI, unresolved};
use super::{count, publish, service_env};

const TOKEN: &str = "offsets-test-token";

/// Five records applied, the service stopped, the topic deleted and created again with one new
/// record on it: the situation the service meets when it starts again.
async fn recreated_topic(kafka: &TestKafka, database: &TestDatabase, extra: &[(&str, &str)]) -> String {
    let topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    let service = Service::start(&service_env(kafka, database, extra)).await;
    let before: Vec<_> = (0..5).map(|i| unresolved(&format!("before-{i}"), "1.0.0", PYPI)).collect();
    publish(kafka, &before).await;
    eventually("the first five records applied", Duration::from_secs(30), || async {
        stored_offset(database, &topic).await == Some(5)
    })
    .await;
    assert_eq!(service.stop().await, Some(0));
    kafka.delete_topics(std::slice::from_ref(&topic)).await;
    kafka.create_topics(std::slice::from_ref(&topic), 1).await;
    publish(kafka, &[unresolved("after-recreation", "1.0.0", PYPI)]).await;
    topic
}

async fn stored_offset(database: &TestDatabase, topic: &str) -> Option<i64> {
    database
        .sql()
        .await
        .query_opt("SELECT next_offset FROM investigator.consumer_offset WHERE topic = $1 AND partition = 0", &[&topic])
        .await
        .expect("stored offset")
        .map(|row| row.get(0))
}

async fn requested_for(database: &TestDatabase, name: &str) -> i64 {
    count(&database.database, &format!("SELECT count(*) FROM graph.workflow_run WHERE package_name = '{name}'")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_topic_created_again_is_read_from_its_start_and_the_reset_is_recorded() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::create().await);
    let topic = recreated_topic(&kafka, &database, &[]).await;

    let service = Service::start(&service_env(&kafka, &database, &[])).await;
    eventually("the new topic's first record applied", Duration::from_secs(30), || async {
        requested_for(&database, "after-recreation").await == 2
    })
    .await;
    assert_eq!(stored_offset(&database, &topic).await, Some(1));

    let reset: serde_json::Value = database
        .sql()
        .await
        .query_one(
            "SELECT payload FROM investigator.event_log WHERE event_type = 'ConsumerOffsetReset' AND stream_id = $1",
            &[&format!("consumer-offset:{}.investigator/{topic}/0", kafka.deployment)],
        )
        .await
        .expect("one reset recorded")
        .get(0);
    assert_eq!(reset["stored_offset"], 5);
    assert_eq!(reset["low_watermark"], 0);
    assert_eq!(reset["high_watermark"], 1);
    assert_eq!(reset["policy"], "earliest");
    assert_eq!(reset["reset_to"], 0);

    let (_, status) = service.get("/api/v1/status").await;
    let status: serde_json::Value = serde_json::from_str(&status).expect("JSON");
    let shown = &status["offset_resets"][0];
    assert_eq!(
        (shown["topic"].as_str(), shown["stored_offset"].as_i64(), shown["reset_to"].as_i64()),
        (Some(topic.as_str()), Some(5), Some(0))
    );
    let label = format!("investigator_offset_resets_total{{policy=\"earliest\",topic=\"{topic}\"}}");
    assert_eq!(service.metric(&label).await, Some(1.0));
    assert!(service.log_text().contains("the stored offset lay outside the broker's log"), "{}", service.log_text());
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_halt_policy_the_topic_waits_for_an_operator_to_move_the_offset() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::create().await);
    let policy = [("INVESTIGATOR_OFFSET_RESET", "halt"), ("INVESTIGATOR_API_TOKEN", TOKEN)];
    let topic = recreated_topic(&kafka, &database, &policy).await;

    let service = Service::start(&service_env(&kafka, &database, &policy)).await;
    eventually("the topic halted", Duration::from_secs(30), || async {
        let (_, status) = service.get("/api/v1/status").await;
        status.contains(&format!("\"{topic}\""))
            && serde_json::from_str::<serde_json::Value>(&status).expect("JSON")["halted_topics"]
                .as_array()
                .is_some_and(|halted| halted.iter().any(|name| name == topic.as_str()))
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(requested_for(&database, "after-recreation").await, 0, "nothing consumed while halted");
    assert_eq!(stored_offset(&database, &topic).await, Some(5), "the stored offset is left to the operator");

    let env = service_env(&kafka, &database, &policy);
    let moved = investigator(
        &["offsets", "reset", "--topic", "thoth.investigator.unresolved-package", "--to", "earliest"],
        &env,
    )
    .await;
    assert_eq!(moved.code, Some(0), "{}", moved.stderr);
    assert!(moved.stdout.contains(&format!("{topic} [0]: 5 -> 0")), "{}", moved.stdout);
    let (status, body) = service
        .request(
            "POST",
            "/resume/thoth.investigator.unresolved-package",
            &[("authorization", &format!("Bearer {TOKEN}"))],
            b"",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    eventually("the record applied after the operator's reset", Duration::from_secs(30), || async {
        requested_for(&database, "after-recreation").await == 2
    })
    .await;
    let operator = count(
        &database.database,
        "SELECT count(*) FROM investigator.event_log WHERE event_type = 'ConsumerOffsetReset' AND payload ->> 'policy' = 'operator'",
    )
    .await;
    assert_eq!(operator, 1, "the operator's reset is in the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operators_reset_of_nonsense_is_refused_with_a_clear_error() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::migrated().await);
    let env = service_env(&kafka, &database, &[]);
    let bad_topic = investigator(&["offsets", "reset", "--topic", "no.such.topic\n", "--to", "earliest"], &env).await;
    assert_eq!(bad_topic.code, Some(2), "{}", bad_topic.stderr);
    assert!(
        bad_topic.stderr.contains("--topic: 'no.such.topic\\n' is not one of Thoth's message topics"),
        "{}",
        bad_topic.stderr
    );
    let bad_target =
        investigator(&["offsets", "reset", "--topic", "thoth.investigator.unresolved-package", "--to=-3"], &env).await;
    assert_eq!(bad_target.code, Some(2), "{}", bad_target.stderr);
    assert!(bad_target.stderr.contains("--to: '-3' is not earliest, latest or an offset"), "{}", bad_target.stderr);
}
