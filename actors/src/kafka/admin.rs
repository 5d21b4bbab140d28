//! Topic administration: creating Thoth's topics on clusters that do not create them on
//! first use (`auto.create.topics.enable=false`, as in Thoth's own Strimzi cluster).

use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;

use crate::kafka::{ClientLogging, KafkaError, KafkaSettings, TopicSettings};

/// How topics are created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicOptions {
    /// Partitions per topic (Thoth uses 1).
    pub partitions: i32,
    /// Replicas per partition (Thoth uses 1).
    pub replication_factor: i32,
    /// `retention.ms`; the broker's default when `None`.
    pub retention_ms: Option<i64>,
    /// Compression settings from Thoth's `KAFKA_TOPIC_*` variables.
    pub topic_settings: TopicSettings,
}

/// What happened to one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicOutcome {
    /// It was created.
    Created,
    /// It was there already; its settings were left as they were.
    AlreadyExisted,
    /// The broker refused it.
    Failed(String),
}

/// A topic as the cluster sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDescription {
    /// The full topic name.
    pub name: String,
    /// Its partition count, or `None` when the topic does not exist.
    pub partitions: Option<usize>,
    /// Records currently held.
    pub records: u64,
}

/// The pause between two attempts to reach a cluster that does not answer.
const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// An admin client for one cluster.
pub struct TopicAdmin {
    admin: Arc<AdminClient<ClientLogging>>,
    /// For metadata: a client whose event queue we can serve after a failure, so its context
    /// learns why (an admin client's logs and errors wait unread on a queue nobody polls).
    probe: Arc<BaseProducer<ClientLogging>>,
    bootstrap_servers: String,
    timeout: Duration,
}

impl TopicAdmin {
    /// An admin client whose requests give up after `timeout`.
    pub fn new(settings: &KafkaSettings, timeout: Duration) -> Result<Self, KafkaError> {
        let admin = settings
            .client_config()
            .create_with_context(ClientLogging::default())
            .map_err(|source| KafkaError::Client { role: "admin client", source })?;
        let probe = settings
            .client_config()
            .create_with_context(ClientLogging::default())
            .map_err(|source| KafkaError::Client { role: "admin client", source })?;
        Ok(TopicAdmin {
            admin: Arc::new(admin),
            probe: Arc::new(probe),
            bootstrap_servers: settings.bootstrap_servers.clone(),
            timeout,
        })
    }

    /// Creates each topic that does not exist, and reports every topic's outcome.
    pub async fn create(
        &self,
        topics: &[String],
        options: &TopicOptions,
    ) -> Result<Vec<(String, TopicOutcome)>, KafkaError> {
        let retention = options.retention_ms.map(|ms| ms.to_string());
        let compression_level = options.topic_settings.compression_level.map(|level| level.to_string());
        let new_topics: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|topic| {
                let mut new_topic =
                    NewTopic::new(topic, options.partitions, TopicReplication::Fixed(options.replication_factor));
                if let Some(retention) = &retention {
                    new_topic = new_topic.set("retention.ms", retention);
                }
                if let Some(compression) = &options.topic_settings.compression_type {
                    new_topic = new_topic.set("compression.type", compression);
                }
                if let Some(level) = &compression_level {
                    new_topic = new_topic.set("compression.level", level);
                }
                new_topic
            })
            .collect();
        let admin_options = AdminOptions::new().operation_timeout(Some(Timeout::After(self.timeout)));
        let results = self.admin.create_topics(new_topics.iter(), &admin_options).await.map_err(|source| {
            KafkaError::Admin { bootstrap_servers: self.bootstrap_servers.as_str().into(), source }
        })?;
        Ok(results
            .into_iter()
            .map(|result| match result {
                Ok(topic) => (topic, TopicOutcome::Created),
                Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => (topic, TopicOutcome::AlreadyExisted),
                Err((topic, code)) => (topic, TopicOutcome::Failed(code.to_string())),
            })
            .collect())
    }

    /// The high watermark (the offset the next record will get) of each partition, `None` for
    /// a partition the cluster does not answer for. The requests run concurrently.
    pub async fn high_watermarks(&self, partitions: &[(String, i32)]) -> Vec<Option<i64>> {
        self.watermarks(partitions).await.into_iter().map(|marks| marks.map(|(_, high)| high)).collect()
    }

    /// The low and high watermarks of each of `partitions` (the first offset the broker holds,
    /// and the offset after its last record); `None` for one the broker did not answer about.
    pub async fn watermarks(&self, partitions: &[(String, i32)]) -> Vec<Option<(i64, i64)>> {
        let timeout = Timeout::After(self.timeout);
        let asked = partitions.iter().map(|(topic, partition)| {
            let (admin, topic, partition) = (Arc::clone(&self.admin), topic.clone(), *partition);
            tokio::task::spawn_blocking(move || admin.inner().fetch_watermarks(&topic, partition, timeout).ok())
        });
        futures_util::future::join_all(asked).await.into_iter().map(|answer| answer.ok().flatten()).collect()
    }

    /// For each of `topics`: whether it exists, its partitions and how many records it holds
    /// (the sum over partitions of high minus low watermark).
    pub async fn describe(&self, topics: &[String]) -> Result<Vec<TopicDescription>, KafkaError> {
        let probe = Arc::clone(&self.probe);
        let timeout = Timeout::After(self.timeout);
        let wanted = topics.to_vec();
        let described = tokio::task::spawn_blocking(move || {
            let client = probe.client();
            let metadata = client.fetch_metadata(None, timeout)?;
            wanted
                .into_iter()
                .map(|name| {
                    let Some(topic) = metadata.topics().iter().find(|topic| topic.name() == name) else {
                        return Ok(TopicDescription { name, partitions: None, records: 0 });
                    };
                    let mut records = 0;
                    for partition in topic.partitions() {
                        let (low, high) = client.fetch_watermarks(&name, partition.id(), timeout)?;
                        records += u64::try_from(high - low).unwrap_or(0);
                    }
                    Ok(TopicDescription { name, partitions: Some(topic.partitions().len()), records })
                })
                .collect::<Result<Vec<_>, rdkafka::error::KafkaError>>()
        })
        .await
        .unwrap_or_else(|join_error| std::panic::resume_unwind(join_error.into_panic()));
        described.map_err(|source| KafkaError::Metadata {
            bootstrap_servers: self.bootstrap_servers.clone(),
            broker_said: self.why_it_failed().map(String::into_boxed_str),
            source,
        })
    }

    /// Returns once the cluster answers a metadata request. Until then it warns after each
    /// failed attempt (each lasts this client's timeout), naming the cluster and why, so an
    /// operator sees within seconds what `serve` waits for; after `deadline` the error names
    /// the cluster and the last failure.
    pub async fn wait_until_reachable(&self, deadline: Duration) -> Result<(), KafkaError> {
        let started = tokio::time::Instant::now();
        let mut failed_attempts = 0_u32;
        loop {
            let failure = match self.describe(&[]).await {
                Ok(_) => {
                    if failed_attempts > 0 {
                        tracing::info!(
                            bootstrap_servers = %self.bootstrap_servers,
                            waited_s = started.elapsed().as_secs(),
                            "the Kafka cluster answers"
                        );
                    }
                    return Ok(());
                }
                Err(failure) => failure,
            };
            failed_attempts += 1;
            let waited = started.elapsed();
            if waited >= deadline {
                return Err(KafkaError::Unreachable {
                    bootstrap_servers: self.bootstrap_servers.as_str().into(),
                    waited_s: waited.as_secs(),
                    last: Box::new(failure),
                });
            }
            tracing::warn!(
                bootstrap_servers = %self.bootstrap_servers,
                waited_s = waited.as_secs(),
                gives_up_after_s = deadline.as_secs(),
                error = %investigator_events::error_chain::one_line(&failure),
                "the Kafka cluster does not answer yet: asking again before topics are created and consumed"
            );
            tokio::time::sleep(RETRY_PAUSE.min(deadline.saturating_sub(waited))).await;
        }
    }

    /// The last error librdkafka reported to the metadata client: its queue is served now
    /// (briefly: the events are already there once a request has failed).
    fn why_it_failed(&self) -> Option<String> {
        for _ in 0..10 {
            self.probe.poll(Duration::from_millis(10));
        }
        self.probe.context().last_failure()
    }
}
