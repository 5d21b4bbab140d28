//! The `InvestigatorRouter` actor: takes batches from the ingest, one at a time and in order
//! (an atomic response: the next batch starts only when the previous one has committed), and
//! runs them through [`process_batch`].

use std::collections::HashMap;
use std::sync::Arc;

use actix::{Actor, ActorFutureExt, AtomicResponse, Context, WrapFuture};
use investigator_projections::offsets::TopicPartition;
use tracing::Instrument;

use super::InboundRecord;
use super::batch::{BatchContext, BatchError, BatchOutcome, describe, process_batch, process_batch_with_poison};

/// Record these, in order.
#[derive(Debug, Clone)]
pub struct ProcessBatch {
    /// The records, in the order the consumer received them.
    pub records: Arc<Vec<InboundRecord>>,
    /// Where the log starts now, for partitions whose stored offset it no longer holds.
    pub log_start: HashMap<TopicPartition, i64>,
}

impl actix::Message for ProcessBatch {
    type Result = Result<BatchOutcome, BatchError>;
}

/// Routes batches to the handlers and records what they decide.
pub struct InvestigatorRouter {
    context: BatchContext,
}

impl InvestigatorRouter {
    /// A router over `context`.
    pub fn new(context: BatchContext) -> Self {
        InvestigatorRouter { context }
    }
}

impl Actor for InvestigatorRouter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // One batch in the mailbox besides the one being recorded: the ingest keeps the rest.
        ctx.set_mailbox_capacity(1);
    }
}

impl actix::Handler<ProcessBatch> for InvestigatorRouter {
    type Result = AtomicResponse<Self, Result<BatchOutcome, BatchError>>;

    fn handle(&mut self, batch: ProcessBatch, _ctx: &mut Context<Self>) -> Self::Result {
        let context = self.context.clone();
        // One span per batch (exported when OTLP is on); the first record's trace context is a
        // field, so a batch can be found from a producer's trace.
        let span = tracing::info_span!(
            "record batch",
            records = batch.records.len(),
            first_traceparent = batch.records.first().and_then(|record| record.traceparent.as_deref()),
        );
        AtomicResponse::new(Box::pin(
            async move { route(&context, &batch).await }.instrument(span).into_actor(self).map(|result, _, _| result),
        ))
    }
}

/// Records the batch; if the data itself is refused (not the database being away), records
/// the records one by one so only the one at fault becomes a dead letter.
async fn route(context: &BatchContext, batch: &ProcessBatch) -> Result<BatchOutcome, BatchError> {
    match process_batch(context, &batch.records, &batch.log_start).await {
        Err(error) if !error.is_transient() && batch.records.len() > 1 => {
            tracing::warn!(error = %describe(&error), records = batch.records.len(), "batch refused: recording its records one by one");
            let mut merged = BatchOutcome::default();
            for record in batch.records.iter() {
                let single = std::slice::from_ref(record);
                let outcome = match process_batch(context, single, &batch.log_start).await {
                    Err(error) if !error.is_transient() => {
                        process_batch_with_poison(context, single, &batch.log_start, &describe(&error)).await?
                    }
                    other => other?,
                };
                merged.merge(outcome);
            }
            Ok(merged)
        }
        Err(error) if !error.is_transient() => {
            let Some(record) = batch.records.first() else { return Err(error) };
            process_batch_with_poison(context, std::slice::from_ref(record), &batch.log_start, &describe(&error)).await
        }
        other => other,
    }
}
