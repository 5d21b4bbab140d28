//! How busy the system is, as the drivers see it: the messages waiting on the topics they
//! feed (from the broker's high watermarks, or the embedded bus's heads, against the stored
//! offsets), the messages queued and not yet published, and the pending workflows.

use std::sync::Arc;

use investigator_core::learning::Load;
use investigator_events::thoth::{MessageKind, TopicNaming};
use investigator_projections::{Database, learning};

use super::LearningError;
use crate::kafka::TopicAdmin;

/// The message types the drivers publish.
pub const FED_KINDS: [MessageKind; 8] = [
    MessageKind::UnresolvedPackage,
    MessageKind::UnrevsolvedPackage,
    MessageKind::SiUnanalyzedPackage,
    MessageKind::PackageReleased,
    MessageKind::MissingPackage,
    MessageKind::MissingVersion,
    MessageKind::HashMismatch,
    MessageKind::CveProvided,
];

/// Measures the load.
pub struct LoadProbe {
    database: Database,
    topics: Vec<String>,
    consumer_group: String,
    broker: Option<Arc<TopicAdmin>>,
}

impl LoadProbe {
    /// A probe of the consumer group `consumer_group`'s lag on the fed topics, asking
    /// `broker` for high watermarks (the embedded bus when there is none).
    pub fn new(
        database: Database,
        naming: &TopicNaming,
        consumer_group: String,
        broker: Option<Arc<TopicAdmin>>,
    ) -> Self {
        let topics = FED_KINDS.iter().map(|kind| naming.topic(*kind)).collect();
        LoadProbe { database, topics, consumer_group, broker }
    }

    /// The load now.
    pub async fn measure(&self) -> Result<Load, LearningError> {
        let mut connection = self.database.connection().await?;
        let client = connection.read().await?;
        let stored = learning::consumer_offsets(&client, &self.consumer_group, &self.topics).await?;
        let pending_workflows = learning::pending_workflows(&client).await?;
        let backlog = learning::relay_backlog(&client).await?;
        // A topic never consumed has no stored offset: all of partition 0 is waiting.
        let mut partitions: Vec<(String, i32, i64)> = stored;
        for topic in &self.topics {
            if !partitions.iter().any(|(known, _, _)| known == topic) {
                partitions.push((topic.clone(), 0, 0));
            }
        }
        let highs: Vec<Option<i64>> = match &self.broker {
            Some(broker) => {
                let asked: Vec<(String, i32)> =
                    partitions.iter().map(|(topic, partition, _)| (topic.clone(), *partition)).collect();
                broker.high_watermarks(&asked).await
            }
            None => {
                let heads = learning::bus_heads(&client, &self.topics).await?;
                partitions
                    .iter()
                    .map(|(topic, _, _)| {
                        Some(heads.iter().find(|(known, _)| known == topic).map_or(0, |(_, head)| *head))
                    })
                    .collect()
            }
        };
        let waiting: i64 =
            partitions.iter().zip(highs).map(|((_, _, next), high)| high.map_or(0, |high| (high - next).max(0))).sum();
        Ok(Load { lag: waiting + backlog, pending_workflows })
    }
}
