//! Publishing Thoth messages as Thoth's producers do: the record value is the message's JSON
//! (pydantic's `.json()` bytes), with no key and no headers, on the deployment's topic.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use investigator_events::thoth::{ThothMessage, TopicNaming};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use crate::kafka::LastFailure;
use crate::kafka::metadata::topic_names;
use crate::kafka::{ClientLogging, KafkaError, KafkaSettings};

/// Writes Thoth messages to their topics.
pub struct ThothPublisher {
    producer: Arc<FutureProducer<ClientLogging>>,
    /// Why the producer's last request failed, as librdkafka reported it.
    last_failure: LastFailure,
    naming: TopicNaming,
    bootstrap_servers: String,
    timeout: Duration,
}

/// Where a record landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The full topic name.
    pub topic: String,
    pub partition: i32,
    /// The record's offset.
    pub offset: i64,
}

impl ThothPublisher {
    /// A publisher that gives up on a record after `timeout` (librdkafka's
    /// `message.timeout.ms`; it retries on its own until then).
    pub fn new(settings: &KafkaSettings, naming: TopicNaming, timeout: Duration) -> Result<Self, KafkaError> {
        let context = ClientLogging::default();
        let last_failure = context.last_failure_handle();
        let producer = settings
            .client_config()
            .set("message.timeout.ms", timeout.as_millis().to_string())
            .create_with_context(context)
            .map_err(|source| KafkaError::Client { role: "producer", source })?;
        Ok(ThothPublisher {
            producer: Arc::new(producer),
            last_failure,
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
        let existing = topic_names(
            move || producer.client().fetch_metadata(None, Timeout::After(timeout)),
            &self.bootstrap_servers,
            &self.last_failure,
        )
        .await?;
        Ok(wanted.difference(&existing).cloned().collect())
    }

    /// Sends every message and waits for every delivery report; the outcomes come back in the
    /// order of `messages`, so a caller can tell exactly what was sent. All records are queued
    /// before the first report is awaited, so the round trips overlap.
    pub async fn publish_all(&self, messages: &[ThothMessage]) -> Vec<Result<Delivered, KafkaError>> {
        let mut pending = Vec::with_capacity(messages.len());
        for message in messages {
            let topic = self.topic_of(message);
            let payload = message.encode();
            let record: FutureRecord<'_, (), String> = FutureRecord::to(&topic).payload(&payload);
            let queued = self.producer.send_result(record).map_err(|(source, _)| source);
            pending.push((topic, queued));
        }

        let mut outcomes = Vec::with_capacity(pending.len());
        for (topic, queued) in pending {
            let delivered = match queued {
                Ok(delivery) => match delivery.await {
                    Ok(Ok(report)) => Ok(report),
                    Ok(Err((source, _))) => Err(source),
                    Err(_) => Err(rdkafka::error::KafkaError::Canceled),
                },
                Err(source) => Err(source),
            };
            outcomes.push(match delivered {
                Ok(report) => {
                    tracing::debug!(topic = %topic, partition = report.partition, offset = report.offset, "record delivered");
                    Ok(Delivered { topic, partition: report.partition, offset: report.offset })
                }
                Err(source) => Err(KafkaError::Delivery { topic, source }),
            });
        }
        outcomes
    }

    /// Sends bytes as they are to `topic` (a dead letter published again), and waits for the
    /// delivery report.
    pub async fn publish_bytes(&self, topic: &str, payload: &[u8]) -> Result<Delivered, KafkaError> {
        let record: FutureRecord<'_, (), [u8]> = FutureRecord::to(topic).payload(payload);
        match self.producer.send(record, self.timeout).await {
            Ok(report) => Ok(Delivered { topic: topic.to_owned(), partition: report.partition, offset: report.offset }),
            Err((source, _)) => Err(KafkaError::Delivery { topic: topic.to_owned(), source }),
        }
    }
}
