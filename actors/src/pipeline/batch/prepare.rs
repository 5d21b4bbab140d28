//! Step one of a batch: keep the records not yet applied (the stored offsets say which),
//! and decode and validate them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use investigator_core::decide::{Handler, handlers_for};
use investigator_events::thoth::{ConsumerMode, DecodeReason, MessageKind, ThothMessage, TopicNaming};
use investigator_projections::offsets::TopicPartition;

use crate::pipeline::InboundRecord;
use crate::pipeline::dead_letter::DeadLetter;

/// A record the batch will apply.
#[derive(Debug)]
pub(super) enum Prepared {
    /// A valid message and the handlers it goes to.
    Message { record: InboundRecord, message: Arc<ThothMessage>, handlers: Vec<Handler> },
    /// A record that cannot be used.
    DeadLetter(DeadLetter),
    /// A record no configured mode handles (a topic we do not consume in these modes).
    Ignored(InboundRecord),
}

impl Prepared {
    pub(super) fn record(&self) -> &InboundRecord {
        match self {
            Prepared::Message { record, .. } | Prepared::Ignored(record) => record,
            Prepared::DeadLetter(letter) => &letter.record,
        }
    }
}

/// What the stored offsets say about one partition's records in the batch.
#[derive(Debug, Default)]
pub(super) struct Filtered {
    /// Records to apply, in batch order.
    pub kept: Vec<InboundRecord>,
    /// Records already applied (a redelivery).
    pub duplicates: usize,
    /// Partitions whose records start after the stored offset: the consumer must go back to it.
    pub rewind: Vec<(TopicPartition, i64)>,
}

/// Keeps, per partition, the records at or after the stored next offset. A partition whose
/// first record lies beyond that offset is skipped and rewound (records in between were
/// received and dropped, or never received): unless the log itself no longer holds them
/// (`log_start`: the partition's first offset, when the consumer found it above the stored
/// one, as retention leaves it).
pub(super) fn filter_applied(
    records: &[InboundRecord],
    stored: &HashMap<TopicPartition, i64>,
    log_start: &HashMap<TopicPartition, i64>,
) -> Filtered {
    let mut by_partition: BTreeMap<TopicPartition, Vec<&InboundRecord>> = BTreeMap::new();
    for record in records {
        by_partition.entry(record.topic_partition()).or_default().push(record);
    }
    let mut filtered = Filtered::default();
    let mut keep = std::collections::HashSet::new();
    for (partition, partition_records) in by_partition {
        let next = stored.get(&partition).copied().unwrap_or(0);
        let fresh: Vec<&InboundRecord> =
            partition_records.iter().copied().filter(|record| record.offset >= next).collect();
        filtered.duplicates += partition_records.len() - fresh.len();
        let Some(first) = fresh.first() else {
            continue;
        };
        let gone_before_first = log_start.get(&partition).is_some_and(|start| first.offset <= *start);
        if first.offset > next && !gone_before_first {
            filtered.rewind.push((partition, next));
            continue;
        }
        keep.extend(fresh.iter().map(|record| (record.topic_partition(), record.offset)));
    }
    filtered.kept =
        records.iter().filter(|record| keep.contains(&(record.topic_partition(), record.offset))).cloned().collect();
    filtered
}

/// Decodes a record and finds its handlers, or says why it cannot be used.
pub(super) fn prepare(record: InboundRecord, naming: &TopicNaming, modes: &[ConsumerMode]) -> Prepared {
    let Some(kind) = naming.kind_of_topic(&record.topic) else {
        return dead_letter(record, "unknown_topic", "not a Thoth message topic of this deployment".to_owned());
    };
    if handlers_for(kind, modes).is_empty() {
        return Prepared::Ignored(record);
    }
    let Some(payload) = record.payload.as_deref() else {
        return dead_letter(record, "empty_record", "the record has no value (a tombstone)".to_owned());
    };
    let message = match ThothMessage::decode(kind, payload) {
        Ok(message) => message,
        Err(error) => {
            let code = decode_reason_code(&error.reason);
            return dead_letter(record, code, error.to_string());
        }
    };
    let version = message.handled_version().to_owned();
    let accepting: Vec<ConsumerMode> = modes.iter().copied().filter(|mode| kind.is_handled(*mode, &version)).collect();
    let handlers = handlers_for(kind, &accepting);
    if handlers.is_empty() || !accepts_in_every_handling_mode(kind, modes, &accepting) {
        return dead_letter(
            record,
            "unknown_schema_version",
            format!(
                "{} version {version} has no handler (handled: {})",
                kind.base_name(),
                kind.spec().handled_versions.join(", ")
            ),
        );
    }
    Prepared::Message { record, message: Arc::new(message), handlers }
}

/// A version the metrics mode counts but the working mode cannot handle is still unknown.
fn accepts_in_every_handling_mode(kind: MessageKind, modes: &[ConsumerMode], accepting: &[ConsumerMode]) -> bool {
    modes
        .iter()
        .filter(|mode| **mode != ConsumerMode::Metrics && !handlers_for(kind, &[**mode]).is_empty())
        .all(|mode| accepting.contains(mode))
}

fn dead_letter(record: InboundRecord, reason_code: &str, reason: String) -> Prepared {
    Prepared::DeadLetter(DeadLetter { record, reason_code: reason_code.to_owned(), reason, attempts: 1 })
}

fn decode_reason_code(reason: &DecodeReason) -> &'static str {
    match reason {
        DecodeReason::MalformedJson { .. } => "malformed_json",
        DecodeReason::NotAnObject { .. } => "not_an_object",
        DecodeReason::MissingField => "missing_field",
        DecodeReason::DuplicateField => "duplicate_field",
        DecodeReason::InvalidValue { .. } => "invalid_value",
        DecodeReason::UnknownTopic => "unknown_topic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partition: i32, offset: i64) -> InboundRecord {
        InboundRecord {
            topic: "t".to_owned(),
            partition,
            offset,
            key: None,
            payload: Some(b"{}".to_vec()),
            traceparent: None,
        }
    }

    fn tp(partition: i32) -> TopicPartition {
        TopicPartition { topic: "t".to_owned(), partition }
    }

    #[test]
    fn records_before_the_stored_offset_are_duplicates() {
        let records = [record(0, 3), record(0, 4), record(0, 5), record(1, 0)];
        let stored = HashMap::from([(tp(0), 5), (tp(1), 0)]);
        let filtered = filter_applied(&records, &stored, &HashMap::new());
        assert_eq!(filtered.duplicates, 2);
        assert_eq!(filtered.kept, vec![record(0, 5), record(1, 0)]);
        assert!(filtered.rewind.is_empty());
    }

    #[test]
    fn a_partition_that_starts_past_the_stored_offset_is_rewound() {
        let records = [record(0, 7), record(0, 8)];
        let stored = HashMap::from([(tp(0), 5)]);
        let filtered = filter_applied(&records, &stored, &HashMap::new());
        assert!(filtered.kept.is_empty());
        assert_eq!(filtered.rewind, vec![(tp(0), 5)]);
        // Still a gap after a rewind: rewound again, never skipped.
        let filtered = filter_applied(&records, &stored, &HashMap::from([(tp(0), 5)]));
        assert_eq!(filtered.rewind, vec![(tp(0), 5)]);
        // The log starts at 7 now (retention removed 5 and 6): accepted.
        let filtered = filter_applied(&records, &stored, &HashMap::from([(tp(0), 7)]));
        assert_eq!(filtered.kept, records.to_vec());
    }

    #[test]
    fn undecodable_records_and_tombstones_are_dead_letters() {
        let naming = TopicNaming::new(Some("test".to_owned())).expect("valid name");
        let topic = naming.topic(MessageKind::UnresolvedPackage);
        let modes = [ConsumerMode::Middletier];
        let mut broken = record(0, 0);
        broken.topic = topic.clone();
        broken.payload = Some(b"{not json".to_vec());
        let Prepared::DeadLetter(letter) = prepare(broken, &naming, &modes) else { panic!("expected a dead letter") };
        assert_eq!(letter.reason_code, "malformed_json");
        let mut tombstone = record(0, 1);
        tombstone.topic = topic;
        tombstone.payload = None;
        let Prepared::DeadLetter(letter) = prepare(tombstone, &naming, &modes) else {
            panic!("expected a dead letter")
        };
        assert_eq!(letter.reason_code, "empty_record");
    }

    #[test]
    fn an_unknown_schema_version_is_a_dead_letter() {
        let naming = TopicNaming::new(Some("test".to_owned())).expect("valid name");
        let mut future = record(0, 0);
        future.topic = naming.topic(MessageKind::MissingVersion);
        future.payload = Some(
            br#"{"component_name": "c", "service_version": "1", "version": "v9", "index_url": "https://pypi.org/simple", "package_name": "a", "package_version": "1"}"#
                .to_vec(),
        );
        let Prepared::DeadLetter(letter) = prepare(future, &naming, &[ConsumerMode::Backend, ConsumerMode::Metrics])
        else {
            panic!("expected a dead letter")
        };
        assert_eq!(letter.reason_code, "unknown_schema_version");
    }
}
