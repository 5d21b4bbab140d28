//! Publishing Thoth messages as Thoth's producers do: the record value is the message's JSON
//! (pydantic's `.json()` bytes), with no key and no headers, on the deployment's topic.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use investigator_events::thoth::{ThothMessage, TopicNaming};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use crate::kafka::metadata::topic_list;
use crate::kafka::{ClientLogging, KafkaError, KafkaSettings};

/// Writes Thoth messages to their topics.
pub struct ThothPublisher {
    producer: Arc<FutureProducer<ClientLogging>>,
    naming: TopicNaming,
    bootstrap_servers: String,
    timeout: Duration,
}

/// Where a record landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The full topic name.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The record's offset.
    pub offset: i64,
}

impl ThothPublisher {
    /// A publisher that gives up on a record after `timeout` (librdkafka's
    /// `message.timeout.ms`; it retries on its own until then).
    pub fn new(settings: &KafkaSettings, naming: TopicNaming, timeout: Duration) -> Result<Self, KafkaError> {
        let producer = settings
            .client_config()
            .set("message.timeout.ms", timeout.as_millis().to_string())
            .create_with_context(ClientLogging::default())
            .map_err(|source| KafkaError::Client {
                role: "producer",
                source,
            })?;
        Ok(ThothPublisher {
            producer: Arc::new(producer),
            naming,
            bootstrap_servers: settings.bootstrap_servers.clone(),
            timeout,
        })
    }

    /// The topic a message goes to.
    pub fn topic_of(&self, message: &ThothMessage) -> String {
        self.naming.topic(message.kind())
    }

    /// The topics among those of `messages` that the cluster does not have. Asking for the
    /// whole topic list (rather than for these topics) never creates a topic as a side effect.
    pub async fn missing_topics(&self, messages: &[ThothMessage]) -> Result<Vec<String>, KafkaError> {
        let wanted: BTreeSet<String> = messages.iter().map(|message| self.topic_of(message)).collect();
        let producer = Arc::clone(&self.producer);
        let timeout = self.timeout;
        let existing: BTreeSet<String> = topic_list(
            move || producer.client().fetch_metadata(None, Timeout::After(timeout)),
            &self.bootstrap_servers,
        )
        .await?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
        Ok(wanted.difference(&existing).cloned().collect())
    }

    /// Sends every message and waits for each delivery report. All records are queued before
    /// the first report is awaited, so the round trips overlap.
    pub async fn publish_all(&self, messages: &[ThothMessage]) -> Result<Vec<Delivered>, KafkaError> {
        let mut pending = Vec::with_capacity(messages.len());
        for message in messages {
            let topic = self.topic_of(message);
            let payload = message.encode();
            let record: FutureRecord<'_, (), String> = FutureRecord::to(&topic).payload(&payload);
            let delivery = self
                .producer
                .send_result(record)
                .map_err(|(source, _)| KafkaError::Delivery {
                    topic: topic.clone(),
                    source,
                })?;
            pending.push((topic, delivery));
        }

        let mut delivered = Vec::with_capacity(pending.len());
        for (topic, delivery) in pending {
            let report = delivery.await.map_err(|_| KafkaError::Delivery {
                topic: topic.clone(),
                source: rdkafka::error::KafkaError::Canceled,
            })?;
            let outcome = report.map_err(|(source, _)| KafkaError::Delivery {
                topic: topic.clone(),
                source,
            })?;
            tracing::debug!(topic = %topic, partition = outcome.partition, offset = outcome.offset, "record delivered");
            delivered.push(Delivered {
                topic,
                partition: outcome.partition,
                offset: outcome.offset,
            });
        }
        Ok(delivered)
    }

    /// Waits until every queued record is delivered or failed.
    pub async fn flush(&self) -> Result<(), KafkaError> {
        let producer = Arc::clone(&self.producer);
        let timeout = self.timeout;
        tokio::task::spawn_blocking(move || producer.flush(Timeout::After(timeout)))
            .await
            .unwrap_or_else(|join_error| std::panic::resume_unwind(join_error.into_panic()))
            .map_err(|source| KafkaError::Delivery {
                topic: "(flush)".to_owned(),
                source,
            })
    }
}
