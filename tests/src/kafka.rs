//! A deployment of its own per test on the shared broker.

use std::time::{Duration, Instant};

use investigator_actors::kafka::{ClientLogging, KafkaSettings, TopicAdmin};
use investigator_events::thoth::TopicNaming;
use investigator_ops::Settings;
use rdkafka::admin::AdminOptions;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use uuid::Uuid;

use crate::{environment, teardown};

const TIMEOUT: Duration = Duration::from_secs(20);

/// A Thoth deployment name unique to one test: its 19 topics are fresh, and are deleted when
/// the value is dropped.
pub struct TestKafka {
    /// `THOTH_DEPLOYMENT_NAME` of this test.
    pub deployment: String,
    /// The broker.
    pub bootstrap_servers: String,
    naming: TopicNaming,
}

/// A record read back from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Full topic name.
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Key bytes, if any.
    pub key: Option<Vec<u8>>,
    /// How many headers it has.
    pub header_count: usize,
    /// Value bytes.
    pub payload: Vec<u8>,
}

impl TestKafka {
    /// A new deployment name on the broker of `KAFKA_BOOTSTRAP_SERVERS`; no topic is created.
    pub fn new() -> Self {
        crate::init_logging();
        let deployment = format!("test-{}", &Uuid::new_v4().simple().to_string()[..12]);
        let naming = TopicNaming::new(Some(deployment.clone())).expect("test deployment names are valid");
        TestKafka { deployment, bootstrap_servers: environment::kafka_bootstrap_servers(), naming }
    }

    /// The environment `investigator` (and thoth-messaging) would get for this deployment.
    /// The consumer group is the deployment's own: tests that share a group would rebalance
    /// each other's consumers (and wait for each other's killed ones).
    pub fn vars(&self) -> Vec<(String, String)> {
        vec![
            ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), self.bootstrap_servers.clone()),
            ("THOTH_DEPLOYMENT_NAME".to_owned(), self.deployment.clone()),
            ("KAFKA_CONSUMER_GROUP_ID".to_owned(), format!("{}.investigator", self.deployment)),
        ]
    }

    /// The investigator's settings for this deployment.
    pub fn settings(&self) -> Settings {
        Settings::from_vars(self.vars()).expect("test settings are valid")
    }

    /// Topic naming of this deployment.
    pub fn naming(&self) -> &TopicNaming {
        &self.naming
    }

    /// Every Thoth topic name of this deployment.
    pub fn topics(&self) -> Vec<String> {
        self.naming.topic_names()
    }

    fn kafka_settings(&self) -> KafkaSettings {
        KafkaSettings::new(self.bootstrap_servers.clone())
    }

    /// The number of records in each of this deployment's topics (`None`: the topic does not exist).
    pub async fn topic_records(&self) -> Vec<(String, Option<u64>)> {
        let admin = TopicAdmin::new(&self.kafka_settings(), TIMEOUT).expect("admin client");
        admin
            .describe(&self.topics())
            .await
            .expect("describe topics")
            .into_iter()
            .map(|topic| (topic.name, topic.partitions.map(|_| topic.records)))
            .collect()
    }

    /// Records in all of this deployment's topics together.
    pub async fn total_records(&self) -> u64 {
        self.topic_records().await.into_iter().filter_map(|(_, records)| records).sum()
    }

    /// Reads this deployment's topics from the beginning until `count` records have arrived
    /// (then half a second more, so that extra records are seen too), or until 20 s passed.
    /// Partitions are assigned directly, without joining a consumer group.
    pub async fn read_records(&self, count: usize) -> Vec<Record> {
        self.read_matching(count, |topic| self.naming.kind_of_topic(topic).is_some()).await
    }

    /// Reads one topic from the beginning, as [`TestKafka::read_records`] does.
    pub async fn read_topic(&self, topic: &str, count: usize) -> Vec<Record> {
        self.read_matching(count, |name| name == topic).await
    }

    /// Reads one topic from the beginning until `done` says the records read so far are
    /// enough (then half a second more), or until 20 s passed.
    pub async fn read_topic_until(&self, topic: &str, done: impl Fn(&[Record]) -> bool) -> Vec<Record> {
        self.read_until(|name| name == topic, done).await
    }

    /// Creates the given topics with `partitions` partitions each.
    pub async fn create_topics(&self, topics: &[String], partitions: i32) {
        let admin = TopicAdmin::new(&self.kafka_settings(), TIMEOUT).expect("admin client");
        let options = investigator_actors::kafka::TopicOptions {
            partitions,
            replication_factor: 1,
            retention_ms: None,
            topic_settings: Default::default(),
        };
        admin.create(topics, &options).await.expect("topics created");
    }

    /// Deletes the given topics (as an operator purging a backlog does), and waits until the
    /// broker no longer lists them.
    pub async fn delete_topics(&self, topics: &[String]) {
        let admin: rdkafka::admin::AdminClient<ClientLogging> =
            self.kafka_settings().client_config().create_with_context(ClientLogging::default()).expect("admin client");
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        for outcome in
            admin.delete_topics(&names, &AdminOptions::new().operation_timeout(Some(TIMEOUT))).await.expect("delete")
        {
            outcome.map_err(|(topic, error)| format!("{topic}: {error}")).expect("topic deleted");
        }
        let listed = TopicAdmin::new(&self.kafka_settings(), TIMEOUT).expect("admin client");
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            let described = listed.describe(topics).await.expect("describe topics");
            if described.iter().all(|topic| topic.partitions.is_none()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the broker still lists {topics:?}");
    }

    /// Sends raw bytes with `headers` (name, value) to a topic (to send what Thoth's library
    /// never would).
    pub async fn send_raw_with_headers(&self, topic: &str, payload: &[u8], headers: &[(&str, &str)]) {
        let producer: rdkafka::producer::FutureProducer<ClientLogging> =
            self.kafka_settings().client_config().create_with_context(ClientLogging::default()).expect("producer");
        let mut owned = rdkafka::message::OwnedHeaders::new();
        for (key, value) in headers {
            owned = owned.insert(rdkafka::message::Header { key, value: Some(*value) });
        }
        let record: rdkafka::producer::FutureRecord<'_, (), [u8]> =
            rdkafka::producer::FutureRecord::to(topic).payload(payload).headers(owned);
        producer.send(record, TIMEOUT).await.map_err(|(error, _)| error).expect("raw record delivered");
    }

    /// Sends raw bytes of up to 16 MB to a topic, past the producer's default 1 MB limit.
    pub async fn send_raw_large(&self, topic: &str, payload: &[u8]) {
        let producer: rdkafka::producer::FutureProducer<ClientLogging> = self
            .kafka_settings()
            .client_config()
            .set("message.max.bytes", (16 * 1024 * 1024).to_string())
            .create_with_context(ClientLogging::default())
            .expect("producer");
        let record: rdkafka::producer::FutureRecord<'_, (), [u8]> =
            rdkafka::producer::FutureRecord::to(topic).payload(payload);
        producer.send(record, TIMEOUT).await.map_err(|(error, _)| error).expect("large record delivered");
    }

    /// Sends each of `payloads` to `partition` of `topic`, in order.
    pub async fn send_to_partition(&self, topic: &str, partition: i32, payloads: &[Vec<u8>]) {
        let producer: rdkafka::producer::FutureProducer<ClientLogging> =
            self.kafka_settings().client_config().create_with_context(ClientLogging::default()).expect("producer");
        let sends = payloads.iter().map(|payload| {
            let record: rdkafka::producer::FutureRecord<'_, (), [u8]> =
                rdkafka::producer::FutureRecord::to(topic).partition(partition).payload(payload.as_slice());
            producer.send(record, TIMEOUT)
        });
        for sent in futures_util::future::join_all(sends).await {
            sent.map_err(|(error, _)| error).expect("record delivered");
        }
    }

    /// Sends raw bytes to a topic (to send what Thoth's library never would).
    pub async fn send_raw(&self, topic: &str, payload: &[u8]) {
        let producer: rdkafka::producer::FutureProducer<ClientLogging> =
            self.kafka_settings().client_config().create_with_context(ClientLogging::default()).expect("producer");
        let record: rdkafka::producer::FutureRecord<'_, (), [u8]> =
            rdkafka::producer::FutureRecord::to(topic).payload(payload);
        producer.send(record, TIMEOUT).await.map_err(|(error, _)| error).expect("raw record delivered");
    }

    async fn read_matching(&self, count: usize, wanted: impl Fn(&str) -> bool) -> Vec<Record> {
        self.read_until(wanted, |records| records.len() >= count).await
    }

    async fn read_until(&self, wanted: impl Fn(&str) -> bool, done: impl Fn(&[Record]) -> bool) -> Vec<Record> {
        let mut config = self.kafka_settings().consumer_config();
        config.set("group.id", format!("{}-reader", self.deployment));
        let consumer: StreamConsumer<ClientLogging> =
            config.create_with_context(ClientLogging::default()).expect("test consumer");
        let metadata = consumer.fetch_metadata(None, TIMEOUT).expect("topic metadata");
        let mut assignment = TopicPartitionList::new();
        for topic in metadata.topics().iter().filter(|topic| wanted(topic.name())) {
            for partition in topic.partitions() {
                assignment
                    .add_partition_offset(topic.name(), partition.id(), Offset::Beginning)
                    .expect("valid assignment");
            }
        }
        drop(metadata);
        consumer.assign(&assignment).expect("assign partitions");
        drop(assignment);

        let mut records = Vec::new();
        let deadline = Instant::now() + TIMEOUT;
        let mut settle: Option<Instant> = None;
        loop {
            let now = Instant::now();
            let until = settle.unwrap_or(deadline);
            if now >= until {
                break;
            }
            match tokio::time::timeout(until - now, consumer.recv()).await {
                Ok(Ok(message)) => {
                    records.push(Record {
                        topic: message.topic().to_owned(),
                        partition: message.partition(),
                        offset: message.offset(),
                        key: message.key().map(<[u8]>::to_vec),
                        header_count: message.headers().map_or(0, |headers| headers.count()),
                        payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                    });
                    if settle.is_none() && done(&records) {
                        settle = Some(Instant::now() + Duration::from_millis(500));
                    }
                }
                Ok(Err(error)) => panic!("consumer error: {error}"),
                Err(_) => break,
            }
        }
        tokio::task::spawn_blocking(move || drop(consumer)).await.expect("consumer closed");
        records
    }
}

impl Default for TestKafka {
    fn default() -> Self {
        TestKafka::new()
    }
}

impl Drop for TestKafka {
    fn drop(&mut self) {
        let settings = self.kafka_settings();
        let mut topics = self.topics();
        topics.push(self.naming.topic_for_base_name("thoth.investigator.dead-letter"));
        topics.push(self.naming.topic_for_base_name("thoth.investigator.knowledge-events"));
        teardown::run_to_completion(async move {
            let admin: rdkafka::admin::AdminClient<ClientLogging> =
                match settings.client_config().create_with_context(ClientLogging::default()) {
                    Ok(admin) => admin,
                    Err(error) => return eprintln!("teardown: no admin client: {error}"),
                };
            let names: Vec<&str> = topics.iter().map(String::as_str).collect();
            // Topics the test never created answer UnknownTopic; that is fine.
            let _ = admin.delete_topics(&names, &AdminOptions::new().operation_timeout(Some(TIMEOUT))).await;
        });
    }
}
