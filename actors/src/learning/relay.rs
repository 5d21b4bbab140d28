//! The outbox relay: publishes the queued learning messages after their commit, in log
//! order, on the deployment's Thoth topics (as Thoth's producers write them: JSON, no key, no
//! headers), or on the embedded bus when there is no Kafka.
//!
//! Each round holds the relay's checkpoint row locked while it publishes, so relays in two
//! processes take turns. On the bus, the records and the checkpoint commit together: each
//! message is published exactly once. On Kafka, the checkpoint moves after every delivery is
//! confirmed; a crash in between publishes those messages again, which the pipeline absorbs
//! (a gap already requested is not requested twice).
//!
//! Inside `serve` the relay runs in one replica at a time, under the singleton lease
//! (`crate::duty`): each round's commit is fenced by it ([`OutboxRelay::fenced_by`]), and a
//! relay whose lease is lost stops.

use std::time::Duration;

use investigator_events::domain::{DomainEvent, EventType};
use investigator_events::error_chain::one_line;
use investigator_events::thoth::{MessageKind, ThothMessage};
use investigator_projections::learning::QueuedMessage;
use investigator_projections::lease::{self, LeaseToken};
use investigator_projections::{Database, learning};
use tokio::sync::watch;

use super::LearningError;
use crate::backoff::Backoff;
use crate::message_sink::MessageSink;
use crate::pipeline::metrics::Metrics;

/// Messages published per round.
const BATCH: i64 = 500;
/// The waits between rounds that fail in a row.
const RELAY_BACKOFF: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));

/// Publishes the outbox.
pub struct OutboxRelay {
    database: Database,
    sink: MessageSink,
    metrics: Option<Metrics>,
    lease: Option<LeaseToken>,
}

impl OutboxRelay {
    /// A relay of `database`'s outbox to `sink` (on the bus, the records commit with the
    /// relay's checkpoint: each message is published exactly once).
    pub fn new(database: Database, sink: MessageSink, metrics: Option<Metrics>) -> Self {
        OutboxRelay { database, sink, metrics, lease: None }
    }

    /// The same relay, each round's commit fenced by `lease` (inside `serve`; the `learn`
    /// command, run by an operator, has no lease).
    #[must_use]
    pub fn fenced_by(mut self, lease: LeaseToken) -> Self {
        self.lease = Some(lease);
        self
    }

    /// Publishes everything queued; returns how many messages were published.
    pub async fn drain(&self) -> Result<usize, LearningError> {
        let mut total = 0;
        loop {
            let published = self.round().await?;
            total += published;
            if published == 0 {
                return Ok(total);
            }
        }
    }

    /// Publishes until `stop` turns true, backing off while publishing fails.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut failures = 0;
        loop {
            let pause = match self.round().await {
                Ok(0) => Duration::from_millis(500),
                Ok(_) => Duration::ZERO,
                Err(LearningError::LeaseLost(error)) => {
                    tracing::info!(%error, "the lease is lost: the learning relay stops");
                    return;
                }
                Err(error) => {
                    tracing::warn!(error = %investigator_projections::fault::describe(&error),
                                   "the queued learning messages could not be published; trying again");
                    failures += 1;
                    RELAY_BACKOFF.after(failures)
                }
            };
            if pause.is_zero() {
                failures = 0;
                if *stop.borrow() {
                    return;
                }
                continue;
            }
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One round: up to [`BATCH`] messages.
    async fn round(&self) -> Result<usize, LearningError> {
        let mut client = self.database.connection().await?;
        let transaction = client.transaction().await?;
        let checkpoint = learning::lock_relay_checkpoint(&transaction).await?;
        let (queued, head) = learning::queued_after(&transaction, checkpoint, BATCH).await?;
        let last = match queued.last() {
            Some(last) if queued.len() as i64 == BATCH => last.position,
            _ => head,
        };
        let messages: Vec<ThothMessage> = queued.iter().filter_map(decode).collect();
        self.sink
            .publish_in(&transaction, &messages)
            .await
            .map_err(|error| LearningError::Relay { reason: one_line(&error) })?;
        if last > checkpoint {
            learning::set_relay_checkpoint(&transaction, last).await?;
        }
        if let Some(token) = &self.lease {
            lease::fence(&transaction, token).await.map_err(|error| {
                if error.is_lost() {
                    LearningError::LeaseLost(error)
                } else {
                    LearningError::Relay { reason: error.to_string() }
                }
            })?;
        }
        transaction.commit().await?;
        if let Some(metrics) = &self.metrics {
            for message in &messages {
                metrics.learning_published.with_label_values(&[message.kind().base_name()]).inc();
            }
        }
        if !messages.is_empty() {
            tracing::info!(published = messages.len(), up_to = last, "learning messages published");
        }
        Ok(messages.len())
    }
}

/// The Thoth message a queued event holds (read through the event catalogue, so an older
/// schema version is upcast); `None` (and a warning) for one that cannot be read, which is
/// passed over rather than blocking every message after it.
fn decode(queued: &QueuedMessage) -> Option<ThothMessage> {
    let outcome = DomainEvent::decode(EventType::LearningMessageQueued.name(), queued.schema_version, &queued.payload)
        .map_err(|error| error.to_string())
        .and_then(|event| match event {
            DomainEvent::LearningMessageQueued(queued) => Ok(queued),
            other => Err(format!("a {} event", other.event_type())),
        })
        .and_then(|queued| {
            let kind =
                MessageKind::from_base_name(&queued.topic).ok_or_else(|| format!("unknown topic {}", queued.topic))?;
            let bytes = serde_json::to_vec(&queued.message).map_err(|error| error.to_string())?;
            ThothMessage::decode(kind, &bytes).map_err(|error| error.to_string())
        });
    match outcome {
        Ok(message) => Some(message),
        Err(reason) => {
            tracing::warn!(position = queued.position, reason, "a queued learning message cannot be read; passed over");
            None
        }
    }
}
