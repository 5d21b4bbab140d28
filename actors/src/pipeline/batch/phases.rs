//! Where a batch's time goes. Each phase is timed on its own, logged with the batch (`batch
//! committed`, at debug) and observed in `investigator_batch_phase_seconds{phase}`, so a
//! change to the write path shows its effect phase by phase (the pipeline bench prints
//! their percentiles from the log).

use std::time::{Duration, Instant};

use super::super::InboundRecord;
use super::super::metrics::Metrics;

/// The phases of a batch. Decoding and listing run before the batch's transaction opens, the
/// rest inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Asking the indexes for the versions of `null`/`*` messages, before the transaction.
    List,
    /// Opening the transaction: the offset rows and the log head, locked.
    Lock,
    /// Decoding and validating the records (before the transaction), choosing their handlers.
    Decode,
    /// Reading the knowledge the batch's decisions need.
    Knowledge,
    /// The handler actors' decisions.
    Decide,
    /// Turning decisions into events, dead letters and halts; storing workflow secrets.
    Assemble,
    /// Appending the events to the log.
    Append,
    /// Projecting them into the knowledge graph.
    Project,
    /// Advancing the stored offsets and committing.
    Commit,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 9] = [
        Phase::List,
        Phase::Lock,
        Phase::Decode,
        Phase::Knowledge,
        Phase::Decide,
        Phase::Assemble,
        Phase::Append,
        Phase::Project,
        Phase::Commit,
    ];

    /// The `phase` label and the stem of the log field (`<name>_ms`).
    pub fn name(self) -> &'static str {
        match self {
            Phase::List => "list",
            Phase::Lock => "lock",
            Phase::Decode => "decode",
            Phase::Knowledge => "knowledge",
            Phase::Decide => "decide",
            Phase::Assemble => "assemble",
            Phase::Append => "append",
            Phase::Project => "project",
            Phase::Commit => "commit",
        }
    }
}

/// How long a batch's oldest record had waited when the batch started.
#[derive(Debug, Clone, Copy)]
pub struct RecordWaits {
    /// Since its Kafka timestamp: the broker, the consumer's fetch and the ingest's buffer
    /// together (`None` without timestamps; wall clocks, so only as good as the producer's).
    pub since_timestamp: Option<Duration>,
    /// Since the consumer handed it to the ingest: the service's own part (the buffer, the
    /// batch before it, outage retries).
    pub since_received: Option<Duration>,
}

impl RecordWaits {
    /// The `since` labels of `investigator_record_wait_seconds`.
    pub const SINCE: [&str; 2] = ["timestamp", "received"];

    pub fn of(records: &[InboundRecord]) -> Self {
        let since_timestamp = records.iter().filter_map(|record| record.timestamp_ms).min().and_then(|oldest| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
            Some(Duration::from_millis(u64::try_from(now - oldest).unwrap_or(0)))
        });
        let since_received = records.iter().map(|record| record.received_at).min().map(|at| at.elapsed());
        RecordWaits { since_timestamp, since_received }
    }

    /// Each wait with its `since` label.
    fn by_label(&self) -> [(&'static str, Option<Duration>); 2] {
        let [timestamp, received] = Self::SINCE;
        [(timestamp, self.since_timestamp), (received, self.since_received)]
    }
}

/// A batch's clock: [`PhaseClock::end`] closes the phase running since the previous end.
#[derive(Debug)]
pub struct PhaseClock {
    started: Instant,
    last: Instant,
    spent: [Duration; Phase::ALL.len()],
}

impl PhaseClock {
    pub fn start() -> Self {
        let now = Instant::now();
        PhaseClock { started: now, last: now, spent: [Duration::ZERO; Phase::ALL.len()] }
    }

    /// Ends `phase` now.
    pub fn end(&mut self, phase: Phase) {
        let now = Instant::now();
        self.spent[phase as usize] += now - self.last;
        self.last = now;
    }

    /// Ends a step that ran two phases one after the other: `first` gets `first_took`
    /// (measured inside the step, as `record_in_timed` measures the append), `second` the
    /// rest of the step.
    pub fn end_split(&mut self, first: Phase, first_took: Duration, second: Phase) {
        let now = Instant::now();
        let step = now - self.last;
        let first_took = first_took.min(step);
        self.spent[first as usize] += first_took;
        self.spent[second as usize] += step - first_took;
        self.last = now;
    }

    pub fn spent(&self, phase: Phase) -> Duration {
        self.spent[phase as usize]
    }

    pub fn total(&self) -> Duration {
        self.last - self.started
    }

    /// Observes every phase in the histogram and logs the batch's profile.
    pub fn report(&self, metrics: &Metrics, records: usize, events: usize, waits: RecordWaits) {
        for phase in Phase::ALL {
            metrics.batch_phase_seconds.with_label_values(&[phase.name()]).observe(self.spent(phase).as_secs_f64());
        }
        metrics.batch_seconds.observe(self.total().as_secs_f64());
        for (since, wait) in waits.by_label() {
            if let Some(wait) = wait {
                metrics.record_wait_seconds.with_label_values(&[since]).observe(wait.as_secs_f64());
            }
        }
        let ms = |phase: Phase| self.spent(phase).as_micros() as f64 / 1e3;
        tracing::debug!(
            records,
            events,
            oldest_record_waited_ms = waits.since_timestamp.map(|waited| waited.as_millis() as u64),
            oldest_record_held_ms = waits.since_received.map(|held| held.as_micros() as f64 / 1e3),
            total_ms = self.total().as_micros() as f64 / 1e3,
            list_ms = ms(Phase::List),
            lock_ms = ms(Phase::Lock),
            decode_ms = ms(Phase::Decode),
            knowledge_ms = ms(Phase::Knowledge),
            decide_ms = ms(Phase::Decide),
            assemble_ms = ms(Phase::Assemble),
            append_ms = ms(Phase::Append),
            project_ms = ms(Phase::Project),
            commit_ms = ms(Phase::Commit),
            "batch committed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_step_gives_the_first_phase_its_time_and_the_rest_to_the_second() {
        let mut clock = PhaseClock::start();
        std::thread::sleep(Duration::from_millis(30));
        clock.end_split(Phase::Append, Duration::from_millis(10), Phase::Project);
        assert_eq!(clock.spent(Phase::Append), Duration::from_millis(10));
        assert!(clock.spent(Phase::Project) >= Duration::from_millis(20), "{:?}", clock.spent(Phase::Project));
        assert_eq!(clock.spent(Phase::Append) + clock.spent(Phase::Project), clock.total());
    }

    #[test]
    fn a_part_longer_than_the_step_is_cut_to_it() {
        let mut clock = PhaseClock::start();
        clock.end_split(Phase::Append, Duration::from_secs(60), Phase::Project);
        assert!(clock.spent(Phase::Append) < Duration::from_secs(1));
        assert_eq!(clock.spent(Phase::Append), clock.total());
    }

    fn received(ago: Duration, timestamp_ms: Option<i64>) -> InboundRecord {
        InboundRecord {
            topic: "t".to_owned(),
            partition: 0,
            offset: 0,
            follows: 0,
            key: None,
            payload: None,
            traceparent: None,
            timestamp_ms,
            received_at: Instant::now() - ago,
        }
    }

    #[test]
    fn a_batch_reports_its_oldest_records_wait_since_its_timestamp_and_since_the_ingest_got_it() {
        let now_ms =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64;
        // The record the ingest got first is not the one the producer stamped first.
        let records = [
            received(Duration::from_millis(40), Some(now_ms - 90)),
            received(Duration::from_millis(400), Some(now_ms - 500)),
            received(Duration::from_millis(10), Some(now_ms - 2_000)),
        ];
        let waits = RecordWaits::of(&records);
        let since_timestamp = waits.since_timestamp.expect("timestamps");
        assert!((2_000..2_500).contains(&since_timestamp.as_millis()), "{since_timestamp:?}");
        let since_received = waits.since_received.expect("records");
        assert!((400..900).contains(&since_received.as_millis()), "{since_received:?}");

        let without_timestamps = RecordWaits::of(&[received(Duration::ZERO, None)]);
        assert_eq!(without_timestamps.since_timestamp, None);
        assert_eq!(RecordWaits::of(&[]).since_received, None);
    }

    #[test]
    fn a_batchs_report_observes_each_wait_it_knows_under_its_label() {
        let metrics = Metrics::new("test");
        let count = |since: &str| metrics.record_wait_seconds.with_label_values(&[since]).get_sample_count();
        let clock = PhaseClock::start();
        clock.report(&metrics, 1, 1, RecordWaits::of(&[received(Duration::from_millis(30), None)]));
        assert_eq!((count("timestamp"), count("received")), (0, 1));
        let sum = metrics.record_wait_seconds.with_label_values(&["received"]).get_sample_sum();
        assert!((0.03..1.0).contains(&sum), "{sum}");
    }

    #[test]
    fn phases_are_listed_in_their_order_with_distinct_names() {
        for (index, phase) in Phase::ALL.iter().enumerate() {
            assert_eq!(*phase as usize, index);
        }
        let names: std::collections::BTreeSet<&str> = Phase::ALL.iter().map(|phase| phase.name()).collect();
        assert_eq!(names.len(), Phase::ALL.len());
    }
}
