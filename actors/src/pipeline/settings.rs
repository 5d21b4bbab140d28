//! How the pipeline is configured.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use investigator_core::decide::{DecisionSettings, Rule};
use investigator_events::thoth::{ConsumerMode, TopicNaming};

use crate::backoff::Backoff;

/// Everything the pipeline needs to know, read once at start.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// Topic naming (`THOTH_DEPLOYMENT_NAME`).
    pub naming: TopicNaming,
    /// `THOTH_CONSUMER_MODE`.
    pub modes: Vec<ConsumerMode>,
    /// The consumer group whose offsets the database keeps (`KAFKA_CONSUMER_GROUP_ID`).
    pub consumer_group: String,
    /// Attempts per message when a handler fails (`THOTH_INVESTIGATOR_MAX_RETRIES`).
    pub max_retries: u32,
    /// Sleep `backoff * i` after failed attempt `i` (`THOTH_INVESTIGATOR_BACKOFF`).
    pub backoff: Duration,
    /// Base names whose topic halts on a failed message instead of dead-lettering it
    /// (`THOTH_INVESTIGATOR_HALT_ON_FAIL`).
    pub halt_on_fail: BTreeSet<String>,
    /// Records per batch, at most (`INVESTIGATOR_BATCH_SIZE`).
    pub batch_size: usize,
    /// How long a partial batch waits for more records (`INVESTIGATOR_BATCH_LINGER_MS`).
    pub batch_linger: Duration,
    /// What a stored offset outside the broker's log becomes (`INVESTIGATOR_OFFSET_RESET`).
    pub offset_reset: super::positioning::OffsetResetPolicy,
    /// The decision rules' configuration.
    pub decisions: DecisionSettings,
    /// Fault injection for tests (`INVESTIGATOR_INJECT_PANIC`); `None` in production.
    pub panic_injection: Option<PanicInjection>,
}

/// The longest wait between two attempts at what an outage stopped.
const MAX_OUTAGE_WAIT: Duration = Duration::from_secs(10);

impl PipelineSettings {
    /// How long to wait after `failures` failed attempts in a row at a batch that met an
    /// outage (the database or the bus away): from `backoff` (at least 100 ms), doubling, up
    /// to 10 s. A rule that panics is retried after `backoff` times the attempt (Thoth's schedule).
    pub fn outage_wait(&self, failures: u32) -> Duration {
        outage_backoff(self.backoff.max(Duration::from_millis(100))).after(failures)
    }

    /// The topics the configured modes consume.
    pub fn topics(&self) -> Vec<String> {
        self.naming
            .all_topics()
            .into_iter()
            .filter(|(kind, _)| !investigator_core::decide::rules_for(*kind, &self.modes).is_empty())
            .map(|(_, topic)| topic)
            .collect()
    }
}

/// How the ingests space their attempts at what an outage stopped (a batch, the bus,
/// positioning the partitions): from `first`, doubling, up to 10 s.
pub(crate) fn outage_backoff(first: Duration) -> Backoff {
    Backoff::new(first, MAX_OUTAGE_WAIT)
}

/// Makes a handler panic on its next `count` decisions: how the tests show that a panicking
/// handler is restarted and its message retried, not lost.
#[derive(Debug, Clone)]
pub struct PanicInjection {
    /// The handler that panics.
    pub handler: Rule,
    remaining: Arc<AtomicU32>,
}

impl PanicInjection {
    /// `handler` panics `count` times.
    pub fn new(handler: Rule, count: u32) -> Self {
        PanicInjection { handler, remaining: Arc::new(AtomicU32::new(count)) }
    }

    /// Whether `handler` must panic now (counts the panic).
    pub fn should_panic(&self, handler: Rule) -> bool {
        handler == self.handler
            && self.remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1)).is_ok()
    }
}
