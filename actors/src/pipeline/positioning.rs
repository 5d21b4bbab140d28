//! Where a partition starts when it is assigned: the stored offset, checked against the log the
//! broker holds. A stored offset outside the log (a topic deleted and created again, a broker
//! that lost its data, records removed by retention) is moved as `INVESTIGATOR_OFFSET_RESET`
//! says, the way Kafka's own `auto.offset.reset` would, and recorded; never silently.

use std::fmt;
use std::str::FromStr;

/// What to do with a stored offset outside the log (`INVESTIGATOR_OFFSET_RESET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OffsetResetPolicy {
    /// Start at the first record the broker holds (the default, as Thoth's consumer's
    /// `auto.offset.reset`).
    #[default]
    Earliest,
    /// Start after the last record the broker holds.
    Latest,
    /// Do not consume the partition's topic until an operator acts (`investigator offsets
    /// reset`, then `/resume`).
    Halt,
}

impl OffsetResetPolicy {
    /// The setting's words.
    pub const NAMES: [&'static str; 3] = ["earliest", "latest", "halt"];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            OffsetResetPolicy::Earliest => "earliest",
            OffsetResetPolicy::Latest => "latest",
            OffsetResetPolicy::Halt => "halt",
        }
    }
}

impl FromStr for OffsetResetPolicy {
    type Err = ();

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        match word {
            "earliest" => Ok(OffsetResetPolicy::Earliest),
            "latest" => Ok(OffsetResetPolicy::Latest),
            "halt" => Ok(OffsetResetPolicy::Halt),
            _ => Err(()),
        }
    }
}

impl fmt::Display for OffsetResetPolicy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// The log of a partition as the broker holds it: `low` is its first offset, `high` the offset
/// after its last record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watermarks {
    /// The first offset held.
    pub low: i64,
    /// The offset after the last record held.
    pub high: i64,
}

/// Where a partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At this offset: the stored one, or where a partition never consumed starts
    /// (`KAFKA_CONSUMER_AUTO_OFFSET_RESET`).
    At(i64),
    /// The stored offset lies outside the log: move it here (and record that) first.
    Reset {
        /// The stored offset.
        stored: i64,
        /// Where it moves.
        to: i64,
    },
    /// The stored offset lies outside the log and the policy halts its topic.
    Halt {
        /// The stored offset.
        stored: i64,
    },
}

/// Where a partition with `stored` (its stored next offset, if any) starts, given the log.
/// `fresh` is where a partition never consumed starts (`earliest` or `latest`).
pub fn start(stored: Option<i64>, log: Watermarks, fresh: OffsetResetPolicy, policy: OffsetResetPolicy) -> Start {
    let Some(stored) = stored else {
        return match fresh {
            OffsetResetPolicy::Latest => Start::At(log.high),
            OffsetResetPolicy::Earliest | OffsetResetPolicy::Halt => Start::At(log.low),
        };
    };
    if (log.low..=log.high).contains(&stored) {
        return Start::At(stored);
    }
    match policy {
        OffsetResetPolicy::Earliest => Start::Reset { stored, to: log.low },
        OffsetResetPolicy::Latest => Start::Reset { stored, to: log.high },
        OffsetResetPolicy::Halt => Start::Halt { stored },
    }
}

/// Whether a stored offset lies outside the log: where a probe of the broker must confirm it
/// before anything is moved (see the ingest).
pub fn outside(stored: i64, log: Watermarks) -> bool {
    !(log.low..=log.high).contains(&stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: Watermarks = Watermarks { low: 10, high: 20 };

    #[test]
    fn a_stored_offset_inside_the_log_is_where_consumption_resumes() {
        for stored in [10, 15, 20] {
            assert_eq!(
                start(Some(stored), LOG, OffsetResetPolicy::Earliest, OffsetResetPolicy::Halt),
                Start::At(stored)
            );
        }
    }

    #[test]
    fn a_partition_never_consumed_starts_where_auto_offset_reset_says() {
        assert_eq!(start(None, LOG, OffsetResetPolicy::Earliest, OffsetResetPolicy::Halt), Start::At(10));
        assert_eq!(start(None, LOG, OffsetResetPolicy::Latest, OffsetResetPolicy::Halt), Start::At(20));
    }

    #[test]
    fn a_stored_offset_beyond_the_log_is_reset_as_the_policy_says() {
        // A topic deleted and created again: 30,004 stored, the new log ends at 1.
        let log = Watermarks { low: 0, high: 1 };
        let fresh = OffsetResetPolicy::Earliest;
        assert_eq!(
            start(Some(30_004), log, fresh, OffsetResetPolicy::Earliest),
            Start::Reset { stored: 30_004, to: 0 }
        );
        assert_eq!(start(Some(30_004), log, fresh, OffsetResetPolicy::Latest), Start::Reset { stored: 30_004, to: 1 });
        assert_eq!(start(Some(30_004), log, fresh, OffsetResetPolicy::Halt), Start::Halt { stored: 30_004 });
    }

    #[test]
    fn a_stored_offset_below_the_log_is_reset_too() {
        // Retention removed records 5 to 9 before they were applied.
        assert_eq!(
            start(Some(5), LOG, OffsetResetPolicy::Earliest, OffsetResetPolicy::Earliest),
            Start::Reset { stored: 5, to: 10 }
        );
        assert!(outside(5, LOG) && outside(21, LOG) && !outside(20, LOG));
    }
}
