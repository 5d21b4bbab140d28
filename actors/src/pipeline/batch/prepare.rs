//! Steps one and two of a batch: decode and validate every record, before the transaction
//! opens; then, under its locks, keep the records not yet applied (the stored offsets say
//! which).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use investigator_core::decide::{Rule, rules_for};
use investigator_events::thoth::{ConsumerMode, DecodeReason, MessageKind, ThothMessage, TopicNaming};
use investigator_projections::offsets::TopicPartition;

use crate::pipeline::InboundRecord;
use crate::pipeline::dead_letter::DeadLetter;

/// A record the batch will apply.
#[derive(Debug)]
pub(super) enum Prepared {
    /// A valid message and the handlers it goes to.
    Message { record: InboundRecord, message: Arc<ThothMessage>, handlers: Vec<Rule> },
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

/// What the stored offsets say about the batch's records.
#[derive(Debug, Default)]
pub(super) struct Filtered {
    /// The places in the batch of the records to apply, in batch order.
    pub kept: Vec<usize>,
    /// Records already applied (a redelivery, or a second copy in the batch).
    pub duplicates: usize,
    /// Partitions the consumer read past records never applied: it must go back to the
    /// offset given (its records from there on are not applied now).
    pub rewind: Vec<(TopicPartition, i64)>,
    /// Offsets the consumer read past because the log does not hold them (transaction
    /// markers, compacted or expired records): counted, never waited for.
    pub gaps: u64,
}

/// Keeps, per partition, the records from the stored next offset on that the consumer read
/// without a break. A record is kept when the consumer was reading from at or before the
/// offset expected next (its `follows`): then the offsets in between do not exist in the log,
/// and skipping them is right. When it was reading from beyond it, records in between were
/// received and dropped (a rewind), or never asked for: the partition goes back to the
/// expected offset. Each offset is kept once, however often the batch holds it.
pub(super) fn filter_applied(records: &[InboundRecord], stored: &HashMap<TopicPartition, i64>) -> Filtered {
    let mut filtered = Filtered::default();
    let mut expected: HashMap<TopicPartition, i64> = HashMap::new();
    let mut rewound: HashSet<TopicPartition> = HashSet::new();
    for (index, record) in records.iter().enumerate() {
        let partition = record.topic_partition();
        if rewound.contains(&partition) {
            continue;
        }
        let next = expected.entry(partition.clone()).or_insert_with(|| stored.get(&partition).copied().unwrap_or(0));
        if record.offset < *next {
            filtered.duplicates += 1;
            continue;
        }
        if record.follows > *next {
            filtered.rewind.push((partition.clone(), *next));
            rewound.insert(partition);
            continue;
        }
        filtered.gaps += u64::try_from(record.offset - *next).unwrap_or(0);
        *next = record.offset + 1;
        filtered.kept.push(index);
    }
    filtered
}

/// Decodes a record and finds its handlers, or says why it cannot be used.
pub(super) fn prepare(record: InboundRecord, naming: &TopicNaming, modes: &[ConsumerMode]) -> Prepared {
    let Some(kind) = naming.kind_of_topic(&record.topic) else {
        return dead_letter(record, "unknown_topic", "not a Thoth message topic of this deployment".to_owned());
    };
    if rules_for(kind, modes).is_empty() {
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
    let handlers = rules_for(kind, &accepting);
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
        .filter(|mode| **mode != ConsumerMode::Metrics && !rules_for(kind, &[**mode]).is_empty())
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
    use std::sync::LazyLock;
    use std::time::Instant;

    use super::*;

    /// One moment for every record, so that records with the same coordinates compare equal.
    static RECEIVED_AT: LazyLock<Instant> = LazyLock::new(Instant::now);

    fn record(partition: i32, offset: i64) -> InboundRecord {
        read(partition, offset, offset)
    }

    /// A record the consumer got while reading from `follows`.
    fn read(partition: i32, offset: i64, follows: i64) -> InboundRecord {
        InboundRecord {
            topic: "t".to_owned(),
            partition,
            offset,
            follows,
            key: None,
            payload: Some(b"{}".to_vec()),
            traceparent: None,
            timestamp_ms: None,
            received_at: *RECEIVED_AT,
        }
    }

    fn kept(filtered: &Filtered, records: &[InboundRecord]) -> Vec<InboundRecord> {
        filtered.kept.iter().map(|index| records[*index].clone()).collect()
    }

    fn tp(partition: i32) -> TopicPartition {
        TopicPartition { topic: "t".to_owned(), partition }
    }

    #[test]
    fn records_before_the_stored_offset_are_duplicates() {
        let records = [record(0, 3), record(0, 4), record(0, 5), record(1, 0)];
        let stored = HashMap::from([(tp(0), 5), (tp(1), 0)]);
        let filtered = filter_applied(&records, &stored);
        assert_eq!(filtered.duplicates, 2);
        assert_eq!(kept(&filtered, &records), vec![record(0, 5), record(1, 0)]);
        assert!(filtered.rewind.is_empty());
    }

    #[test]
    fn a_partition_read_from_beyond_the_stored_offset_is_rewound() {
        // The consumer was positioned at 7: records 5 and 6 were never read.
        let records = [read(0, 7, 7), read(0, 8, 8)];
        let stored = HashMap::from([(tp(0), 5)]);
        let filtered = filter_applied(&records, &stored);
        assert!(filtered.kept.is_empty());
        assert_eq!(filtered.rewind, vec![(tp(0), 5)]);
    }

    #[test]
    fn offsets_the_log_does_not_hold_are_read_past_and_counted() {
        // A transactional producer: data at 0, 2 and 4, commit markers at 1, 3 and 5. After a
        // batch ending at 2 the stored offset is 3, a marker; the consumer read on from 3.
        let records = [read(0, 4, 3), read(0, 6, 5)];
        let stored = HashMap::from([(tp(0), 3)]);
        let filtered = filter_applied(&records, &stored);
        assert_eq!(kept(&filtered, &records), records.to_vec());
        assert!(filtered.rewind.is_empty());
        assert_eq!(filtered.gaps, 2);
    }

    #[test]
    fn the_same_offset_twice_in_a_batch_is_kept_once() {
        let records = [read(0, 5, 5), read(0, 6, 6), read(0, 5, 5), read(0, 6, 6), read(0, 7, 7)];
        let filtered = filter_applied(&records, &HashMap::from([(tp(0), 5)]));
        assert_eq!(kept(&filtered, &records), vec![read(0, 5, 5), read(0, 6, 6), read(0, 7, 7)]);
        assert_eq!(filtered.duplicates, 2);
    }

    #[test]
    fn a_break_inside_a_partition_keeps_what_came_before_it() {
        // 5 and 6 read in order, then a record read from 9 on: 7 and 8 were skipped.
        let records = [read(0, 5, 5), read(0, 6, 6), read(0, 9, 9), read(0, 10, 10), record(1, 0)];
        let filtered = filter_applied(&records, &HashMap::from([(tp(0), 5), (tp(1), 0)]));
        assert_eq!(kept(&filtered, &records), vec![read(0, 5, 5), read(0, 6, 6), record(1, 0)]);
        assert_eq!(filtered.rewind, vec![(tp(0), 7)]);
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
