//! `investigator topics create | list`.

use investigator_tests::{TestKafka, investigator};
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;

#[tokio::test(flavor = "multi_thread")]
async fn topics_create_makes_every_topic_with_the_asked_partitions_and_retention() {
    let kafka = TestKafka::new();
    let run =
        investigator(&["topics", "create", "--partitions", "3", "--retention-ms", "3600000"], &kafka.vars()).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("21 topics: 21 created, 0 already existed, 0 failed"), "{}", run.stdout);

    let admin = TestAdmin::new(&kafka);
    let ours = ["thoth.investigator.dead-letter", "thoth.investigator.knowledge-events"]
        .map(|base| kafka.naming().topic_for_base_name(base));
    for topic in kafka.topics().into_iter().chain(ours) {
        assert!(topic.starts_with(&format!("{}.thoth.", kafka.deployment)));
        assert_eq!(admin.partitions(&topic), Some(3), "{topic}");
        assert_eq!(admin.retention_ms(&topic).await.as_deref(), Some("3600000"), "{topic}");
    }

    let again = investigator(&["topics", "create", "--partitions", "5"], &kafka.vars()).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stdout.contains("21 topics: 0 created, 21 already existed, 0 failed"), "{}", again.stdout);
    assert_eq!(admin.partitions(&kafka.topics()[0]), Some(3), "existing topics are left as they are");

    let list = investigator(&["topics", "list"], &kafka.vars()).await;
    assert_eq!(list.code, Some(0), "{}", list.stderr);
    assert_eq!(
        list.stdout.lines().filter(|line| line.starts_with("present    3 partition(s)          0 record(s)")).count(),
        21,
        "{}",
        list.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn topics_commands_without_a_cluster_say_which_setting_is_missing() {
    let run = investigator(&["topics", "create"], &[("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new())]).await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("KAFKA_BOOTSTRAP_SERVERS: not set"), "{}", run.stderr);
}

struct TestAdmin {
    admin: AdminClient<DefaultClientContext>,
}

impl TestAdmin {
    fn new(kafka: &TestKafka) -> Self {
        let admin = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &kafka.bootstrap_servers)
            .create()
            .expect("admin client");
        TestAdmin { admin }
    }

    fn partitions(&self, topic: &str) -> Option<usize> {
        let metadata = self.admin.inner().fetch_metadata(Some(topic), std::time::Duration::from_secs(10)).ok()?;
        metadata.topics().first().map(|topic| topic.partitions().len())
    }

    async fn retention_ms(&self, topic: &str) -> Option<String> {
        let results =
            self.admin.describe_configs([&ResourceSpecifier::Topic(topic)], &AdminOptions::new()).await.ok()?;
        let resource = results.into_iter().next()?.ok()?;
        resource.get("retention.ms").and_then(|entry| entry.value.clone())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_names_an_unreachable_broker_within_seconds_and_gives_up_after_the_startup_timeout() {
    let database = investigator_tests::TestDatabase::create().await;
    // A loopback port nothing listens on.
    let nowhere = investigator_tests::free_address().to_string();
    let mut env = database.vars();
    env.extend([
        ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), nowhere.clone()),
        ("INVESTIGATOR_KAFKA_STARTUP_TIMEOUT_S".to_owned(), "12".to_owned()),
    ]);
    let started = std::time::Instant::now();
    let run = investigator(&["serve"], &env).await;
    let took = started.elapsed();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(took < std::time::Duration::from_secs(30), "gave up after {took:?}");
    let warnings: Vec<&str> = run.stderr.lines().filter(|line| line.contains("does not answer yet")).collect();
    // Attempts of 3 s, 2 s apart: warnings at about 3 and 8 s, the end at about 13 s.
    assert!(warnings.len() >= 2, "a warning per attempt: {}", run.stderr);
    assert!(warnings.iter().all(|line| line.contains(&nowhere)), "each names the cluster: {warnings:?}");
    let gave_up = format!("error: the Kafka cluster at {nowhere} did not answer within ");
    assert!(
        run.stderr
            .lines()
            .any(|line| line.starts_with(&gave_up) && line.ends_with("(INVESTIGATOR_KAFKA_STARTUP_TIMEOUT_S)")),
        "{}",
        run.stderr
    );

    env.push(("INVESTIGATOR_KAFKA_STARTUP_TIMEOUT_S".to_owned(), "0".to_owned()));
    let refused = investigator(&["serve"], &env).await;
    assert_ne!(refused.code, Some(0));
    assert!(refused.stderr.contains("INVESTIGATOR_KAFKA_STARTUP_TIMEOUT_S"), "{}", refused.stderr);
}
