//! Stored offsets the broker's log no longer matches: a topic deleted and created again (a
//! common way to purge a backlog) leaves a stored offset far above the new log's end. The
//! partition is reset as `INVESTIGATOR_OFFSET_RESET` says and the reset recorded, or halted
//! until an operator moves the offset; never a silent drop of the new records. Offsets the log
//! does not hold between records (a transactional producer's commit markers) are read past, but
//! only once the consumer has read the same jump twice.

use std::time::Duration;

use investigator_events::thoth::MessageKind;
use investigator_tests::{Service, TestDatabase, TestKafka, eventually, investigator};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use super::messages::{PYPI, unresolved};
use super::{assert_each_workflow_requested_once, count, publish, serve, service_env};

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

/// A producer of its own (its own connection) with one extra setting.
fn producer(kafka: &TestKafka, setting: (&str, &str)) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", &kafka.bootstrap_servers)
        .set(setting.0, setting.1)
        .create()
        .expect("a producer")
}

/// Sends an unresolved-package record about `package` and waits for its delivery.
async fn send_unresolved(producer: &FutureProducer, topic: &str, package: &str) {
    let payload = unresolved(package, "1.0.0", PYPI).encode();
    let record: FutureRecord<'_, (), String> = FutureRecord::to(topic).payload(&payload);
    producer.send(record, Duration::from_secs(20)).await.map_err(|(error, _)| error).expect("delivered");
}

/// A transactional producer's three transactions of 20 records: commit markers at offsets 20,
/// 41 and 62, which the consumer jumps over (the last one only once more records follow).
async fn publish_in_transactions(kafka: &TestKafka, topic: &str) {
    let producer = producer(kafka, ("transactional.id", &format!("{}.transactions", kafka.deployment)));
    producer.init_transactions(Duration::from_secs(20)).expect("transactions initialised");
    for transaction in 0..3 {
        producer.begin_transaction().expect("a transaction begun");
        for i in 0..20 {
            send_unresolved(&producer, topic, &format!("in-transaction-{transaction}-{i}")).await;
        }
        producer.commit_transaction(Duration::from_secs(20)).expect("the transaction committed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn offsets_a_transactional_producer_leaves_between_its_records_are_read_twice_then_read_past() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::create().await);
    let topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    kafka.create_topics(&kafka.topics(), 1).await;
    publish_in_transactions(&kafka, &topic).await;

    let service = serve(&kafka, &database, &[]).await;
    eventually("every record of the three transactions applied", Duration::from_secs(30), || async {
        stored_offset(&database, &topic).await == Some(62)
    })
    .await;
    assert_each_workflow_requested_once(&database, 60).await;
    assert_eq!(service.metric("investigator_offset_gaps_total").await, Some(2.0), "markers 20 and 41 read past");
    assert_eq!(
        service.metric("investigator_offset_jumps_read_again_total").await,
        Some(2.0),
        "each jump over a marker read a second time before it was taken"
    );
    assert_eq!(service.stop().await, Some(0));
}

/// Eight producers, each on a connection of its own, 100 records a second each, for 8 s, while
/// the service tails the partition: tansu moves the high watermark before it stores a batch, so
/// a consumer at the end of the log is sometimes served a later batch before an earlier one
/// (a plain confluent-kafka consumer skipped a record or two in each of three such runs).
async fn publish_from_concurrent_producers(kafka: &TestKafka, topic: &str, producers: usize, each: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for producer_number in 0..producers {
        let producer = producer(kafka, ("linger.ms", "0"));
        let topic = topic.to_owned();
        tasks.spawn(async move {
            let mut pace = tokio::time::interval(Duration::from_millis(10));
            for i in 0..each {
                pace.tick().await;
                send_unresolved(&producer, &topic, &format!("concurrent-{producer_number}-{i}")).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a producer finished");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partition_written_by_concurrent_producers_while_it_is_tailed_loses_no_record() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::create().await);
    let topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    kafka.create_topics(&kafka.topics(), 1).await;
    let service = serve(&kafka, &database, &[]).await;
    let (producers, each) = (8, 800);
    publish_from_concurrent_producers(&kafka, &topic, producers, each).await;

    let total = (producers * each) as i64;
    eventually("every record applied", Duration::from_secs(60), || async {
        stored_offset(&database, &topic).await == Some(total)
    })
    .await;
    let read_again = service.metric("investigator_offset_jumps_read_again_total").await;
    println!("jumps read again: {read_again:?}");
    assert_eq!(service.metric("investigator_offset_gaps_total").await, Some(0.0), "no offset taken for absent");
    assert_each_workflow_requested_once(&database, total).await;
    assert_eq!(service.stop().await, Some(0));
}
