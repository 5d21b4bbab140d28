//! The ingest when there is no Kafka: reads the embedded bus (`investigator_projections::bus`)
//! from the stored offsets and hands the records to the recorder, the same way the Kafka
//! ingest does. It keeps no position of its own: every read starts at what the database says
//! is applied, so a rewind, a halt or a crash needs nothing special.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use investigator_projections::Database;
use investigator_projections::bus::unapplied;

use super::control::Control;
use super::ingest::IngestError;
use super::recorder::{BatchRecorder, RecordBatch};
use super::{InboundRecord, PipelineSettings};
use crate::health::Health;

/// How often an idle bus is looked at.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// Reads the embedded bus.
pub struct BusIngest {
    database: Database,
    recorder: Addr<BatchRecorder>,
    control: Control,
    settings: Arc<PipelineSettings>,
    health: Health,
}

impl BusIngest {
    /// An ingest over `database`'s bus.
    pub fn new(
        database: Database,
        settings: Arc<PipelineSettings>,
        recorder: Addr<BatchRecorder>,
        control: Control,
        health: Health,
    ) -> Self {
        BusIngest { database, recorder, control, settings, health }
    }

    /// Runs until `shutdown` resolves (the batch in flight finishes first).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), IngestError> {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut failures: u32 = 0;
        tracing::info!(topics = self.settings.topics().len(), "reading the embedded bus (no KAFKA_BOOTSTRAP_SERVERS)");
        loop {
            let wait = match self.next_batch().await {
                Ok(records) if records.is_empty() => {
                    // The bus answers and nothing is waiting: whatever failed before is over.
                    failures = 0;
                    self.health.recovered("pipeline");
                    IDLE_POLL
                }
                Ok(records) => {
                    let request = self.recorder.send(RecordBatch { records: Arc::new(records) });
                    match request.await {
                        Ok(Ok(outcome)) => {
                            failures = 0;
                            self.health.recovered("pipeline");
                            tracing::debug!(applied = outcome.applied, events = outcome.events, "bus batch recorded");
                            Duration::ZERO
                        }
                        Ok(Err(error)) => {
                            failures += 1;
                            let reason = super::batch::describe(&error);
                            self.health.failed("pipeline", &reason);
                            tracing::warn!(error = %reason, attempt = failures, "bus batch not recorded (an outage): trying again; nothing is dead-lettered");
                            self.settings.outage_wait(failures)
                        }
                        Err(_) => return Err(IngestError::RecorderStopped),
                    }
                }
                Err(error) => {
                    failures += 1;
                    let reason = super::batch::describe(&error);
                    self.health.failed("pipeline", &reason);
                    tracing::warn!(error = %reason, attempt = failures, "the embedded bus cannot be read: trying again");
                    self.settings.outage_wait(failures)
                }
            };
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(wait) => {}
                () = self.control.changed() => {}
            }
        }
        tracing::info!("bus ingest stopped");
        Ok(())
    }

    async fn next_batch(&self) -> Result<Vec<InboundRecord>, investigator_projections::DatabaseError> {
        let topics: Vec<String> =
            self.settings.topics().into_iter().filter(|topic| !self.control.is_halted(topic)).collect();
        let mut connection = self.database.connection().await?;
        let limit = self.settings.batch_size as i64;
        let unreachable = |error: tokio_postgres::Error| investigator_projections::DatabaseError::Unreachable {
            target: self.database.target().to_owned(),
            source: Box::new(error),
        };
        let client = connection.read().await.map_err(unreachable)?;
        let records = unapplied(&client, &self.settings.consumer_group, &topics, limit).await.map_err(unreachable)?;
        // Each topic's records were read from its stored offset on, in order: the first
        // follows that offset, each next one the record before it.
        let mut previous: Option<(String, i64)> = None;
        Ok(records
            .into_iter()
            .map(|record| {
                let follows = match &previous {
                    Some((topic, offset)) if *topic == record.topic => offset + 1,
                    _ => record.read_from,
                };
                previous = Some((record.topic.clone(), record.offset));
                (record, follows)
            })
            .map(|(record, follows)| InboundRecord {
                topic: record.topic,
                partition: 0,
                offset: record.offset,
                follows,
                key: None,
                payload: Some(record.payload),
                traceparent: Some(super::trace::start()),
                timestamp_ms: Some(record.published_at.timestamp_millis()),
                received_at: std::time::Instant::now(),
            })
            .collect())
    }
}
