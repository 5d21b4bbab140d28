//! The consumer's librdkafka context: its logging, and the rebalances it saw, queued for the
//! loop to act on (no I/O happens in librdkafka's callbacks).

use std::sync::Mutex;

use investigator_projections::offsets::TopicPartition;
use rdkafka::TopicPartitionList;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};

use crate::kafka::ClientLogging;

/// What the rebalance callback saw.
#[derive(Debug)]
pub(super) enum Rebalanced {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>),
}

/// The consumer's context: logging, and the rebalances for the loop to act on.
#[derive(Debug, Default)]
pub struct IngestContext {
    logging: ClientLogging,
    pub(super) rebalances: Mutex<Vec<Rebalanced>>,
}

impl ClientContext for IngestContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.logging.log(level, facility, message)
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.logging.error(error, reason)
    }
}

fn partitions(list: &TopicPartitionList) -> Vec<TopicPartition> {
    list.elements()
        .iter()
        .map(|element| TopicPartition { topic: element.topic().to_owned(), partition: element.partition() })
        .collect()
}

impl ConsumerContext for IngestContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let event = match rebalance {
            Rebalance::Assign(list) => Rebalanced::Assigned(partitions(list)),
            Rebalance::Revoke(list) => Rebalanced::Revoked(partitions(list)),
            Rebalance::Error(error) => {
                tracing::warn!(%error, "rebalance error");
                return;
            }
        };
        match &event {
            Rebalanced::Assigned(partitions) => tracing::info!(partitions = partitions.len(), "partitions assigned"),
            Rebalanced::Revoked(partitions) => tracing::info!(partitions = partitions.len(), "partitions revoked"),
        }
        self.rebalances.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(event);
    }
}
