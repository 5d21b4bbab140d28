//! Dead letters: records the investigator could not use, kept with the reason. The
//! `MessageDeadLettered` event (and so the `dead_letter` table) is written in the batch's
//! transaction; the Kafka topic `<prefix>.thoth.investigator.dead-letter` gets a copy of
//! the original bytes after the commit, with the reason and the coordinates in headers.

use std::time::Duration;

use investigator_events::domain::{DeadLetterPayload, DomainEvent, MessageDeadLettered, StreamId};
use investigator_events::thoth::TopicNaming;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::InboundRecord;
use crate::kafka::{ClientLogging, KafkaSettings};

/// The base name of the dead-letter topic.
pub const DEAD_LETTER_BASE_NAME: &str = "thoth.investigator.dead-letter";

/// A record set aside, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The record.
    pub record: InboundRecord,
    /// A stable code: `malformed_json`, `unknown_schema_version`, `unregistered_index`...
    pub reason_code: String,
    /// The reason, for people.
    pub reason: String,
    /// Attempts made.
    pub attempts: u32,
}

impl DeadLetter {
    /// The event that records it.
    pub fn event(&self) -> (StreamId, DomainEvent) {
        let record = &self.record;
        let event = MessageDeadLettered {
            topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
            key: record.key.as_deref().map(DeadLetterPayload::from_bytes),
            payload: DeadLetterPayload::from_bytes(record.payload.as_deref().unwrap_or_default()),
            reason_code: self.reason_code.clone(),
            reason: self.reason.clone(),
            attempts: self.attempts,
        };
        (StreamId::dead_letter(&record.topic, record.partition, record.offset), event.into())
    }
}

/// Publishes dead letters to the deployment's dead-letter topic.
pub struct DeadLetterPublisher {
    producer: FutureProducer<ClientLogging>,
    topic: String,
}

impl DeadLetterPublisher {
    /// A publisher for `naming`'s dead-letter topic.
    pub fn new(settings: &KafkaSettings, naming: &TopicNaming) -> Result<Self, rdkafka::error::KafkaError> {
        let producer = settings.client_config().create_with_context(ClientLogging::default())?;
        Ok(DeadLetterPublisher { producer, topic: naming.topic_for_base_name(DEAD_LETTER_BASE_NAME) })
    }

    /// The topic's full name.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Sends one dead letter; failures are logged (the table already holds it).
    pub async fn publish(&self, letter: &DeadLetter) {
        let partition = letter.record.partition.to_string();
        let offset = letter.record.offset.to_string();
        let headers = OwnedHeaders::new()
            .insert(Header { key: "reason_code", value: Some(letter.reason_code.as_str()) })
            .insert(Header { key: "reason", value: Some(letter.reason.as_str()) })
            .insert(Header { key: "topic", value: Some(letter.record.topic.as_str()) })
            .insert(Header { key: "partition", value: Some(partition.as_str()) })
            .insert(Header { key: "offset", value: Some(offset.as_str()) });
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&self.topic).headers(headers);
        if let Some(payload) = &letter.record.payload {
            record = record.payload(payload.as_slice());
        }
        if let Some(key) = &letter.record.key {
            record = record.key(key.as_slice());
        }
        if let Err((error, _)) = self.producer.send(record, Duration::from_secs(10)).await {
            tracing::warn!(%error, topic = letter.record.topic, offset = letter.record.offset, "dead letter not copied to Kafka (it is in the dead_letter table)");
        }
    }
}
