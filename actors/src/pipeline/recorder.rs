//! The `BatchRecorder` actor: takes batches from the ingest, one at a time and in order
//! (an atomic response: the next batch starts only when the previous one has committed), and
//! runs them through [`process_batch`].

use std::sync::Arc;

use actix::{Actor, ActorFutureExt, AtomicResponse, Context, WrapFuture};
use investigator_projections::fault::Fault;
use tracing::Instrument;

use super::InboundRecord;
use super::batch::{BatchContext, BatchError, BatchOutcome, Kept, describe, process_batch, record_refused};

/// Record these, in order.
#[derive(Debug, Clone)]
pub struct RecordBatch {
    /// The records, in the order the consumer received them.
    pub records: Arc<Vec<InboundRecord>>,
}

impl actix::Message for RecordBatch {
    type Result = Result<BatchOutcome, BatchError>;
}

/// Records batches: each one's decisions, events, graph rows and offsets in one transaction.
pub struct BatchRecorder {
    context: BatchContext,
}

impl BatchRecorder {
    /// A recorder over `context`.
    pub fn new(context: BatchContext) -> Self {
        BatchRecorder { context }
    }
}

impl Actor for BatchRecorder {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // One batch in the mailbox besides the one being recorded: the ingest keeps the rest.
        ctx.set_mailbox_capacity(1);
    }
}

impl actix::Handler<RecordBatch> for BatchRecorder {
    type Result = AtomicResponse<Self, Result<BatchOutcome, BatchError>>;

    fn handle(&mut self, batch: RecordBatch, _ctx: &mut Context<Self>) -> Self::Result {
        let context = self.context.clone();
        // One span per batch (exported when OTLP is on); the first record's trace context is a
        // field, so a batch can be found from a producer's trace.
        let span = tracing::info_span!(
            "record batch",
            records = batch.records.len(),
            first_traceparent = batch.records.first().and_then(|record| record.traceparent.as_deref()),
        );
        AtomicResponse::new(Box::pin(
            async move { record(&context, &batch).await }.instrument(span).into_actor(self).map(|result, _, _| result),
        ))
    }
}

/// Records the batch. An outage fails it whole (the ingest retries it, and nothing becomes a
/// dead letter); when the database refuses the data itself, its records are recorded one by
/// one, so only a record at fault becomes a dead letter.
async fn record(context: &BatchContext, batch: &RecordBatch) -> Result<BatchOutcome, BatchError> {
    let refusal = match process_batch(context, &batch.records).await {
        Err(error) if error.fault() == Fault::Data => error,
        other => return other,
    };
    let [record] = batch.records.as_slice() else {
        tracing::warn!(error = %describe(&refusal), records = batch.records.len(), "batch refused as data: recording its records one by one");
        let mut merged = BatchOutcome::default();
        for record in batch.records.iter() {
            let outcome = match process_batch(context, std::slice::from_ref(record)).await {
                Err(error) if error.fault() == Fault::Data => refuse(context, record, &error).await?,
                other => other?,
            };
            merged.merge(outcome);
        }
        return Ok(merged);
    };
    refuse(context, record, &refusal).await
}

/// Dead-letters a record whose effects the database refused as data; if even the dead letter
/// with the record's bytes is refused, one with its coordinates only.
async fn refuse(
    context: &BatchContext,
    record: &InboundRecord,
    refusal: &BatchError,
) -> Result<BatchOutcome, BatchError> {
    match record_refused(context, record, refusal, Kept::Whole).await {
        Err(error) if error.fault() == Fault::Data => {
            tracing::error!(error = %describe(&error), topic = record.topic, offset = record.offset, "the dead letter itself was refused: keeping the record's coordinates only");
            record_refused(context, record, refusal, Kept::CoordinatesOnly).await
        }
        other => other,
    }
}
