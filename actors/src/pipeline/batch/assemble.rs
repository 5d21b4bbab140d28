//! Step five of a batch: the decisions become events in record order, failures become dead
//! letters or halts, and the metrics are counted.

use std::collections::BTreeMap;

use investigator_core::decide::{Decision, Rejection, Rule};
use investigator_events::domain::{DomainEvent, EventMetadata, SourceRecord};
use investigator_events::thoth::ThothMessage;
use investigator_projections::offsets::TopicPartition;
use investigator_projections::store::NewEvent;
use investigator_projections::workflow_secrets::StoredSecret;

use super::decisions::{Decided, RuleFailure};
use super::prepare::Prepared;
use crate::pipeline::dead_letter::DeadLetter;
use crate::pipeline::metrics::{Metrics, handler_label};
use crate::pipeline::{InboundRecord, PipelineSettings};

/// The batch's effects, ready to record.
#[derive(Debug, Default)]
pub(super) struct Assembled {
    /// Events to append, in record order.
    pub events: Vec<NewEvent>,
    /// The next offset of every partition with applied records.
    pub next_offsets: BTreeMap<TopicPartition, i64>,
    /// Partitions to halt at a failed record, once the batch has committed.
    pub halts: Vec<Halt>,
    /// Records applied.
    pub applied: usize,
    /// Registry credentials of the workflows requested (kept outside the log).
    pub secrets: Vec<(String, StoredSecret)>,
}

/// A topic to halt at a failed message (`THOTH_INVESTIGATOR_HALT_ON_FAIL`).
#[derive(Debug)]
pub(super) struct Halt {
    /// The failed message's partition.
    pub partition: TopicPartition,
    /// Its offset: where consumption resumes.
    pub offset: i64,
    /// What failed.
    pub reason: String,
}

/// Where an event came from.
pub(super) fn metadata(record: &InboundRecord) -> EventMetadata {
    let id = format!("kafka:{}/{}/{}", record.topic, record.partition, record.offset);
    EventMetadata {
        source: Some(SourceRecord { topic: record.topic.clone(), partition: record.partition, offset: record.offset }),
        correlation_id: Some(id.clone()),
        causation_id: Some(id),
        traceparent: Some(record.traceparent.clone().unwrap_or_else(crate::pipeline::trace::start)),
        origin: Some("kafka".to_owned()),
    }
}

pub(super) fn assemble(
    prepared: Vec<Prepared>,
    mut decided: Decided,
    settings: &PipelineSettings,
    metrics: &Metrics,
) -> Assembled {
    let mut assembled = Assembled::default();
    let mut halted_partitions: Vec<TopicPartition> = Vec::new();
    for (index, item) in prepared.into_iter().enumerate() {
        let partition = item.record().topic_partition();
        if halted_partitions.contains(&partition) {
            continue;
        }
        let record = item.record().clone();
        let message = match &item {
            Prepared::Message { message, .. } => Some(message.clone()),
            _ => None,
        };
        let mut failures: Vec<Failure> = Vec::new();
        let mut decisions: Vec<(Rule, Decision)> = Vec::new();
        match item {
            Prepared::Ignored(_) => {}
            Prepared::DeadLetter(letter) => {
                failures.push(Failure { code: letter.reason_code, reason: letter.reason, attempts: letter.attempts })
            }
            Prepared::Message { .. } => {
                for (handler, result) in decided.decisions.remove(&index).unwrap_or_default() {
                    match result {
                        Ok(decision) => decisions.push((handler, decision)),
                        Err(rejection) => failures.push(rejection_failure(handler, &rejection)),
                    }
                }
                for RuleFailure { handler, reason, attempts } in decided.failures.remove(&index).unwrap_or_default() {
                    failures.push(Failure {
                        code: "handler_failed".to_owned(),
                        reason: format!("{handler:?} failed {attempts} times: {reason}"),
                        attempts,
                    });
                }
            }
        }
        let base_name = settings.naming.kind_of_topic(&record.topic).map(|kind| kind.base_name().to_owned());
        if !failures.is_empty() && base_name.as_ref().is_some_and(|base| settings.halt_on_fail.contains(base)) {
            let reason = Failure::reasons(&failures);
            halted_partitions.push(partition.clone());
            assembled.halts.push(Halt { partition, offset: record.offset, reason });
            continue;
        }
        let metadata = metadata(&record);
        for (handler, mut decision) in decisions {
            for secret in std::mem::take(&mut decision.secrets) {
                assembled.secrets.push((secret.workflow_id, StoredSecret { name: secret.name, data: secret.data }));
            }
            if let Some(message) = &message {
                count_decision(
                    handler,
                    message,
                    &decision,
                    settings.naming.deployment_name().unwrap_or_default(),
                    metrics,
                );
            }
            for (stream, event) in decision.events {
                assembled.events.push(NewEvent { stream, event, metadata: metadata.clone() });
            }
            for note in decision.skipped {
                tracing::debug!(topic = record.topic, offset = record.offset, handler = ?handler, note, "not done");
            }
        }
        if !failures.is_empty() {
            let letter = DeadLetter {
                record: record.clone(),
                reason_code: failures.iter().map(|failure| failure.code.as_str()).collect::<Vec<_>>().join(","),
                reason: Failure::reasons(&failures),
                attempts: failures.iter().map(|failure| failure.attempts).max().unwrap_or(1),
            };
            tracing::warn!(
                topic = record.topic,
                partition = record.partition,
                offset = record.offset,
                reason_code = letter.reason_code,
                reason = letter.reason,
                "dead letter"
            );
            metrics.dead_letters.with_label_values(&[&record.topic, &letter.reason_code]).inc();
            if let Some(kind) = settings.naming.kind_of_topic(&record.topic) {
                metrics.failures.with_label_values(&[&kind.short_type()]).inc();
            }
            let (stream, event) = letter.event();
            assembled.events.push(NewEvent { stream, event, metadata: metadata.clone() });
        }
        assembled.next_offsets.insert(partition, record.offset + 1);
        assembled.applied += 1;
    }
    assembled
}

/// Why one handler did not decide on a record: the parts of its dead letter.
struct Failure {
    /// A dead letter's `reason_code`.
    code: String,
    reason: String,
    attempts: u32,
}

impl Failure {
    /// Every failure's reason, on one line.
    fn reasons(failures: &[Failure]) -> String {
        failures.iter().map(|failure| failure.reason.as_str()).collect::<Vec<_>>().join("; ")
    }
}

fn rejection_failure(handler: Rule, rejection: &Rejection) -> Failure {
    Failure { code: rejection.code().to_owned(), reason: format!("{handler:?}: {rejection}"), attempts: 1 }
}

/// Thoth's counters for one handler's decision.
fn count_decision(handler: Rule, message: &ThothMessage, decision: &Decision, environment: &str, metrics: &Metrics) {
    let kind = message.kind();
    if handler == Rule::Metrics {
        let version = message.version().unwrap_or("None");
        metrics.message_count_by_version.with_label_values(&[&kind.short_type(), version]).inc();
        if let ThothMessage::AdviseJustification(justification) = message {
            metrics
                .advise_justification
                .with_label_values(&[&justification.message, &justification.justification_type, environment])
                .add(justification.count);
        }
        return;
    }
    metrics.processed.with_label_values(&[&handler_label(kind)]).inc();
    for (_, event) in &decision.events {
        if let DomainEvent::WorkflowRequested(request) = event
            && crate::pipeline::metrics::COUNTED_WORKFLOWS.contains(&request.kind)
        {
            metrics.scheduled_workflows.with_label_values(&[kind.base_name(), request.kind.name()]).inc();
        }
    }
}
