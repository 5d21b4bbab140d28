//! The knowledge-event mirror: every event of the log, published after its commit to
//! `<prefix>.thoth.investigator.knowledge-events`, exactly in log order, for kafdrop, kcat and
//! any consumer that would rather follow Kafka than the database.
//!
//! Each record's key is the event's stream id (so one stream's events stay in one partition,
//! in order), its value readable JSON (position, stream, version, type, schema version,
//! payload, metadata, time), and its headers say what it is (`event_type`,
//! `schema_version`, `position`, `content-type`, and `traceparent` when the event has one).
//! The last position published is kept in `investigator.projection_checkpoint` (projection
//! `kafka_mirror`) after each delivered batch; after a restart, publishing resumes after it.
//! A crash between a delivery and its checkpoint publishes those events again: consumers
//! recognise a repeat by its `position` header.

use std::time::Duration;

use investigator_events::thoth::TopicNaming;
use investigator_projections::Database;
use investigator_projections::store::{StoredEvent, read_stored_from};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::watch;

use crate::kafka::{ClientLogging, KafkaSettings};
use crate::pipeline::metrics::Metrics;

/// The base name of the mirror topic.
pub const MIRROR_BASE_NAME: &str = "thoth.investigator.knowledge-events";
/// The mirror's row in `investigator.projection_checkpoint`.
const CHECKPOINT: &str = "kafka_mirror";
/// Events published per round.
const BATCH: i64 = 1_000;

/// Publishes the log to the mirror topic.
pub struct KnowledgeMirror {
    producer: FutureProducer<ClientLogging>,
    topic: String,
    database: Database,
    metrics: Metrics,
}

impl KnowledgeMirror {
    /// A mirror of `database`'s log to `naming`'s mirror topic. The producer is idempotent,
    /// so retries keep the order.
    pub fn new(
        settings: &KafkaSettings,
        naming: &TopicNaming,
        database: Database,
        metrics: Metrics,
    ) -> Result<Self, rdkafka::error::KafkaError> {
        let producer =
            settings.client_config().set("enable.idempotence", "true").create_with_context(ClientLogging::default())?;
        Ok(KnowledgeMirror { producer, topic: naming.topic_for_base_name(MIRROR_BASE_NAME), database, metrics })
    }

    /// Publishes until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(topic = self.topic, "mirroring the event log");
        let mut wait = Duration::from_millis(200);
        loop {
            let outcome = self.round().await;
            let pause = match outcome {
                Ok(0) => Duration::from_millis(200),
                Ok(_) => {
                    wait = Duration::from_millis(200);
                    Duration::ZERO
                }
                Err(error) => {
                    tracing::warn!(%error, "the event log could not be mirrored; trying again");
                    wait = (wait * 2).min(Duration::from_secs(10));
                    wait
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = stop.wait_for(|stop| *stop) => return,
                    () = tokio::time::sleep(pause) => {}
                }
            } else if *stop.borrow() {
                return;
            }
        }
    }

    /// Publishes the events after the checkpoint (at most [`BATCH`]); how many.
    async fn round(&self) -> Result<usize, String> {
        let mut connection = self.database.connection().await.map_err(|error| error.to_string())?;
        let client = connection.read().await.map_err(|error| error.to_string())?;
        let after = client
            .query_opt("SELECT position FROM investigator.projection_checkpoint WHERE projection = $1", &[&CHECKPOINT])
            .await
            .map_err(|error| error.to_string())?
            .map_or(0, |row| row.get::<_, i64>(0));
        let events = read_stored_from(&client, after, BATCH).await.map_err(|error| error.to_string())?;
        drop(client);
        drop(connection);
        let Some(last) = events.last().map(|event| event.position) else {
            return Ok(0);
        };
        let deliveries: Vec<_> = events.iter().map(|event| self.send(event)).collect();
        for delivery in futures_util::future::join_all(deliveries).await {
            delivery?;
        }
        let mut connection = self.database.connection().await.map_err(|error| error.to_string())?;
        let transaction = connection.transaction().await.map_err(|error| error.to_string())?;
        transaction
            .execute(
                "INSERT INTO investigator.projection_checkpoint (projection, position, updated_at) VALUES ($1, $2, now())
                 ON CONFLICT (projection) DO UPDATE SET position = excluded.position, updated_at = now()",
                &[&CHECKPOINT, &last],
            )
            .await
            .map_err(|error| error.to_string())?;
        transaction.commit().await.map_err(|error| error.to_string())?;
        self.metrics.mirror_position.set(last);
        Ok(events.len())
    }

    async fn send(&self, event: &StoredEvent) -> Result<(), String> {
        let value = serde_json::to_vec(&event.as_json()).map_err(|error| error.to_string())?;
        let position = event.position.to_string();
        let schema_version = event.schema_version.to_string();
        let traceparent = serde_json::from_slice::<serde_json::Value>(&event.metadata)
            .ok()
            .and_then(|metadata| metadata.get("traceparent").and_then(|value| value.as_str()).map(str::to_owned));
        let mut headers = OwnedHeaders::new()
            .insert(Header { key: "event_type", value: Some(event.event_type.as_str()) })
            .insert(Header { key: "schema_version", value: Some(schema_version.as_str()) })
            .insert(Header { key: "position", value: Some(position.as_str()) })
            .insert(Header { key: "content-type", value: Some("application/json") });
        if let Some(traceparent) = &traceparent {
            headers = headers.insert(Header { key: "traceparent", value: Some(traceparent.as_str()) });
        }
        let record: FutureRecord<'_, str, [u8]> =
            FutureRecord::to(&self.topic).key(event.stream_id.as_str()).payload(value.as_slice()).headers(headers);
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map(drop)
            .map_err(|(error, _)| format!("position {}: {error}", event.position))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn a_mirror_record_is_the_event_as_readable_json() {
        let event = StoredEvent {
            position: 7,
            stream_id: "package:flask".to_owned(),
            stream_version: 2,
            event_type: "PackageVersionSeen".to_owned(),
            schema_version: 1,
            payload: br#"{"package_name":"flask"}"#.to_vec(),
            metadata: br#"{"origin":"kafka"}"#.to_vec(),
            recorded_at: Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).single().expect("a time"),
        };
        let value = event.as_json();
        assert_eq!(value["position"], 7);
        assert_eq!(value["stream"], "package:flask");
        assert_eq!(value["type"], "PackageVersionSeen");
        assert_eq!(value["payload"]["package_name"], "flask");
        assert_eq!(value["metadata"]["origin"], "kafka");
        assert_eq!(value["recorded_at"], "2026-11-24T10:00:00+00:00");
    }
}
