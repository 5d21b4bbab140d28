//! Offsets that jump forward, read a second time before they are believed.
//!
//! A partition's next record normally has the offset after the one before it. A jump is
//! right where the log holds nothing (a transaction's commit marker, compacted or expired
//! records), but a broker can also hand a consumer a later batch before an earlier one is
//! readable: tansu 0.6 moves a partition's high watermark before it stores the batch, so a
//! consumer tailing a partition that several producers write at once was seen to skip 648
//! records for good (confluent-kafka's consumer, 8 producers, one run in five). Taken for
//! absent offsets, such a jump would let the batch store an offset past records it never
//! applied. So the first time a partition jumps from one offset to another, the ingest
//! reads it again from where the jump starts; only the same jump seen again is accepted.

use std::collections::HashMap;

use investigator_projections::offsets::TopicPartition;

/// The jumps seen once and not yet confirmed or resolved, one per partition.
#[derive(Debug, Default)]
pub(super) struct OffsetJumps {
    suspected: HashMap<TopicPartition, Jump>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Jump {
    from: i64,
    to: i64,
}

/// What to do with a record that `follows` one offset and has another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// No jump, or the jump seen the time before: take the record.
    Take,
    /// A jump not seen before: drop the record and read the partition again from `from`.
    ReadAgain { from: i64 },
}

impl OffsetJumps {
    /// Judges a record at `offset` read while the partition's next offset was `follows`
    /// (never above `offset`: a consumer that goes back is positioned again elsewhere).
    pub(super) fn judge(&mut self, partition: &TopicPartition, follows: i64, offset: i64) -> Verdict {
        if offset <= follows {
            // A record that reaches the suspected jump's far end without a jump resolves it:
            // the skipped records were only late.
            if self.suspected.get(partition).is_some_and(|jump| offset >= jump.to) {
                self.suspected.remove(partition);
            }
            return Verdict::Take;
        }
        let jump = Jump { from: follows, to: offset };
        if self.suspected.get(partition) == Some(&jump) {
            self.suspected.remove(partition);
            return Verdict::Take;
        }
        self.suspected.insert(partition.clone(), jump);
        Verdict::ReadAgain { from: follows }
    }

    /// Forgets what was seen of `partition` (revoked, or positioned again from the database).
    pub(super) fn forget(&mut self, partition: &TopicPartition) {
        self.suspected.remove(partition);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(number: i32) -> TopicPartition {
        TopicPartition { topic: "thoth.investigator.unresolved-package".to_owned(), partition: number }
    }

    #[test]
    fn consecutive_offsets_are_taken() {
        let mut jumps = OffsetJumps::default();
        assert_eq!(jumps.judge(&partition(0), 0, 0), Verdict::Take);
        assert_eq!(jumps.judge(&partition(0), 1, 1), Verdict::Take);
    }

    #[test]
    fn a_jump_is_read_again_and_taken_when_it_comes_back() {
        let mut jumps = OffsetJumps::default();
        // A commit marker at 3: records 0..=2, then 4.
        assert_eq!(jumps.judge(&partition(0), 3, 4), Verdict::ReadAgain { from: 3 });
        assert_eq!(jumps.judge(&partition(0), 3, 4), Verdict::Take);
        // The next marker is a new jump: read again once more.
        assert_eq!(jumps.judge(&partition(0), 7, 8), Verdict::ReadAgain { from: 7 });
    }

    #[test]
    fn a_jump_that_was_only_late_records_is_resolved_by_reading_them() {
        let mut jumps = OffsetJumps::default();
        assert_eq!(jumps.judge(&partition(0), 100, 748), Verdict::ReadAgain { from: 100 });
        // Read again: the records were there after all.
        for offset in 100..=748 {
            assert_eq!(jumps.judge(&partition(0), offset, offset), Verdict::Take);
        }
        // Resolved: the same coordinates, met again after a rewind, are suspected afresh.
        assert_eq!(jumps.judge(&partition(0), 100, 748), Verdict::ReadAgain { from: 100 });
    }

    #[test]
    fn a_different_jump_from_the_same_place_is_read_again() {
        let mut jumps = OffsetJumps::default();
        assert_eq!(jumps.judge(&partition(0), 10, 20), Verdict::ReadAgain { from: 10 });
        // Read again, a shorter jump: still not seen twice.
        assert_eq!(jumps.judge(&partition(0), 10, 15), Verdict::ReadAgain { from: 10 });
        assert_eq!(jumps.judge(&partition(0), 10, 15), Verdict::Take);
    }

    #[test]
    fn partitions_are_judged_apart_and_forgotten_alone() {
        let mut jumps = OffsetJumps::default();
        assert_eq!(jumps.judge(&partition(0), 3, 4), Verdict::ReadAgain { from: 3 });
        assert_eq!(jumps.judge(&partition(1), 3, 4), Verdict::ReadAgain { from: 3 });
        jumps.forget(&partition(1));
        assert_eq!(jumps.judge(&partition(0), 3, 4), Verdict::Take);
        assert_eq!(jumps.judge(&partition(1), 3, 4), Verdict::ReadAgain { from: 3 });
    }
}
