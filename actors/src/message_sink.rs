//! Where the Thoth messages the investigator writes go: the deployment's Kafka topics (as
//! Thoth's producers write them), or the embedded bus when there is no Kafka. One sink for
//! every writer: the API's publish endpoint and the learning relay.
//!
//! The two differ in one way a caller must know: records on the bus can join the caller's
//! transaction ([`MessageSink::publish_in`]) and so commit exactly when it does; records sent
//! to Kafka are out as soon as they are delivered, whatever becomes of the transaction.

use std::sync::Arc;
use std::time::Duration;

use investigator_events::thoth::{ThothMessage, TopicNaming};
use investigator_projections::bus::{self, BusError};
use investigator_projections::{Database, Transaction};

use crate::kafka::{Delivered, KafkaError, KafkaSettings, ThothPublisher};

/// Kafka, when the deployment has it, else the embedded bus.
#[derive(Clone)]
pub enum MessageSink {
    /// The deployment's Kafka topics.
    Kafka(Arc<ThothPublisher>),
    /// The embedded bus in `database`, topics named as on Kafka.
    Bus {
        /// Where the bus is kept.
        database: Database,
        /// The topics' names.
        naming: TopicNaming,
    },
}

/// Nothing or only part was published; the caller publishes again (a message delivered twice
/// is absorbed downstream, as Thoth's consumers absorb a producer's retry).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Kafka did not confirm a delivery.
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    /// The bus could not be written.
    #[error(transparent)]
    Bus(#[from] BusError),
}

impl MessageSink {
    /// Kafka when `kafka` is set (records given up after `timeout`), else the bus in
    /// `database`.
    pub fn new(
        kafka: Option<&KafkaSettings>,
        naming: &TopicNaming,
        database: &Database,
        timeout: Duration,
    ) -> Result<Self, KafkaError> {
        Ok(match kafka {
            Some(kafka) => MessageSink::Kafka(Arc::new(ThothPublisher::new(kafka, naming.clone(), timeout)?)),
            None => MessageSink::Bus { database: database.clone(), naming: naming.clone() },
        })
    }

    /// Publishes `messages`; gives where each landed, in order. On the bus they commit together,
    /// in a transaction of their own.
    pub async fn publish(&self, messages: &[ThothMessage]) -> Result<Vec<Delivered>, SinkError> {
        match self {
            MessageSink::Kafka(publisher) => delivered(publisher, messages).await,
            MessageSink::Bus { database, naming } => {
                let records = bus_records(naming, messages);
                let offsets = bus::publish(database, &records).await?;
                Ok(on_the_bus(records, offsets))
            }
        }
    }

    /// Publishes `messages`; on the bus inside `transaction`, so they are published exactly when
    /// it commits. Gives where each landed, in order.
    pub async fn publish_in(
        &self,
        transaction: &Transaction<'_>,
        messages: &[ThothMessage],
    ) -> Result<Vec<Delivered>, SinkError> {
        match self {
            MessageSink::Kafka(publisher) => delivered(publisher, messages).await,
            MessageSink::Bus { naming, .. } => {
                let records = bus_records(naming, messages);
                let offsets = bus::publish_in(transaction, &records).await?;
                Ok(on_the_bus(records, offsets))
            }
        }
    }
}

/// Every delivery report, or the first failure.
async fn delivered(publisher: &ThothPublisher, messages: &[ThothMessage]) -> Result<Vec<Delivered>, SinkError> {
    publisher.publish_all(messages).await.into_iter().map(|outcome| outcome.map_err(SinkError::from)).collect()
}

/// The bus records of `messages`: their topic, and their JSON as Thoth's producers write it.
fn bus_records(naming: &TopicNaming, messages: &[ThothMessage]) -> Vec<(String, Vec<u8>)> {
    messages.iter().map(|message| (naming.topic(message.kind()), message.encode().into_bytes())).collect()
}

/// Where bus records landed: partition 0 of their topic, at the offsets the bus gave.
fn on_the_bus(records: Vec<(String, Vec<u8>)>, offsets: Vec<i64>) -> Vec<Delivered> {
    records.into_iter().zip(offsets).map(|((topic, _), offset)| Delivered { topic, partition: 0, offset }).collect()
}
