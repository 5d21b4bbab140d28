//! Which topics are halted, and why: shared by the ingest loop (which pauses their
//! partitions), the batch processing (a failure on a halt-on-fail topic) and the HTTP side
//! (`/halt/{base}`, `/resume/{base}`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// Why a topic is halted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaltReason {
    /// An operator asked (`/halt/{base}`).
    Operator,
    /// A message failed on a topic whose policy is to halt; consumption resumes at it.
    Failure {
        /// The partition of the failed message.
        partition: i32,
        offset: i64,
        /// What failed.
        reason: String,
    },
    /// A partition's stored offset lies outside the log the broker holds and
    /// `INVESTIGATOR_OFFSET_RESET` is `halt`: an operator resets the offset (`investigator
    /// offsets reset`), then resumes the topic.
    OffsetOutOfRange {
        partition: i32,
        /// Its stored next offset.
        stored: i64,
        /// The first offset the broker holds.
        low: i64,
        /// The offset after the last record the broker holds.
        high: i64,
    },
    /// Too many workflows of the namespace its messages lead to are waiting to be submitted
    /// (the launcher's back-pressure); resumed when the outbox drains.
    Backpressure { namespace: String },
}

/// Halted topics (full names), with a wake-up for the ingest loop.
#[derive(Debug, Clone, Default)]
pub struct Control {
    halted: Arc<Mutex<BTreeMap<String, HaltReason>>>,
    changed: Arc<Notify>,
}

impl Control {
    fn halted_map(&self) -> MutexGuard<'_, BTreeMap<String, HaltReason>> {
        // A panic while holding this lock cannot leave the map half-updated (single inserts
        // and removals), so a poisoned lock is still usable.
        self.halted.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Halts `topic`.
    pub fn halt(&self, topic: &str, reason: HaltReason) {
        self.halted_map().insert(topic.to_owned(), reason);
        self.changed.notify_one();
    }

    /// Halts `topic` unless it is halted already (for whatever reason); whether it halted it.
    pub fn halt_unless_halted(&self, topic: &str, reason: HaltReason) -> bool {
        let mut halted = self.halted_map();
        if halted.contains_key(topic) {
            return false;
        }
        halted.insert(topic.to_owned(), reason);
        drop(halted);
        self.changed.notify_one();
        true
    }

    /// Resumes `topic` if it is halted for `reason` exactly; whether it was.
    pub fn resume_if_halted_for(&self, topic: &str, reason: &HaltReason) -> bool {
        let mut halted = self.halted_map();
        if halted.get(topic) != Some(reason) {
            return false;
        }
        halted.remove(topic);
        drop(halted);
        self.changed.notify_one();
        true
    }

    /// Resumes `topic`; whether it was halted.
    pub fn resume(&self, topic: &str) -> bool {
        let was_halted = self.halted_map().remove(topic).is_some();
        self.changed.notify_one();
        was_halted
    }

    /// Whether `topic` is halted.
    pub fn is_halted(&self, topic: &str) -> bool {
        self.halted_map().contains_key(topic)
    }

    /// The halted topics and why.
    pub fn halted(&self) -> BTreeMap<String, HaltReason> {
        self.halted_map().clone()
    }

    /// Resolves when a topic is halted or resumed.
    pub async fn changed(&self) {
        self.changed.notified().await
    }
}
