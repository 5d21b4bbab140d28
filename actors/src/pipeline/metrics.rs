//! Prometheus metrics: Thoth's names and labels (Grafana dashboards and alerts keep working),
//! plus the investigator's own, prefixed `investigator_`.

use investigator_events::thoth::MessageKind;
use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

/// Every metric, registered in one registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `thoth_investigator_consumer_info{version}` = 1.
    pub consumer_info: IntGaugeVec,
    /// `thoth_investigator_processed_total{message_type}` (the handler's fixed label).
    pub processed: IntCounterVec,
    /// `thoth_investigator_in_progress{message_type}`: messages of a batch being decided and
    /// recorded now (Thoth's gauge, one message at a time there; a batch at a time here).
    pub in_progress: IntGaugeVec,
    /// `thoth_database_schema_revision_script{component, revision, env}` = 1: the newest
    /// migration the database has.
    pub schema_revision: IntGaugeVec,
    /// `investigator_schema_migrations{set}`: migrations applied, per set (`store`, `graph`).
    pub schema_migrations: IntGaugeVec,
    /// `thoth_investigator_exceptions_total{message_type}`: every failed attempt.
    pub exceptions: IntCounterVec,
    /// `thoth_investigator_failures_total{message_type}`: messages given up on.
    pub failures: IntCounterVec,
    /// `thoth_investigator_scheduled_workflows_total{message_type, workflow_type}`.
    pub scheduled_workflows: IntCounterVec,
    /// `thoth_investigator_halted_topics{base_topic_name}`.
    pub halted_topics: IntGaugeVec,
    /// `thoth_investigator_missing_handler{base_topic_name, message_version}`.
    pub missing_handler: IntGaugeVec,
    /// `message_count_by_version_total{message_type, message_version}` (metrics mode).
    pub message_count_by_version: IntCounterVec,
    /// `current_partition_offsets{topic_name, partition}`: the last applied offset.
    pub partition_offsets: IntGaugeVec,
    /// `thoth_advise_justification_type_number{advise_message, justification_type, thoth_environment}`.
    pub advise_justification: IntGaugeVec,
    /// `investigator_dead_letters_total{topic, reason_code}`.
    pub dead_letters: IntCounterVec,
    /// `investigator_records_total{outcome}`: applied, duplicate (already applied), dropped.
    pub records: IntCounterVec,
    /// `investigator_batches_total`.
    pub batches: IntCounter,
    /// `investigator_batch_seconds`: one batch, from dispatch to commit.
    pub batch_seconds: Histogram,
    /// `investigator_batch_phase_seconds{phase}`: one phase of one batch (`Phase`), so a slow
    /// batch shows where its time went.
    pub batch_phase_seconds: HistogramVec,
    /// `investigator_record_wait_seconds{since}`: how long each batch's oldest record had
    /// waited when its batch started, since its Kafka timestamp (`timestamp`: the producer, the
    /// broker and the service together) and since the ingest got it (`received`: the service
    /// alone). Where the first grows and the second does not, the wait is outside the service.
    pub record_wait_seconds: HistogramVec,
    /// `investigator_rebalance_seconds`: one consumer-group rebalance, from its first callback
    /// to every partition it assigned positioned: how long this replica's partitions went
    /// unread because of it (the first one is the replica's join).
    pub rebalance_seconds: Histogram,
    /// `investigator_database_retries_total`: batches retried because PostgreSQL failed.
    pub database_retries: IntCounter,
    /// `investigator_offset_gaps_total`: offsets read past because the log does not hold them
    /// (transaction markers, compaction, retention).
    pub offset_gaps: IntCounter,
    /// `investigator_offset_jumps_read_again_total`: jumps in a partition's offsets read a
    /// second time before being taken for absent offsets (one per commit marker of a
    /// transactional producer; a broker that served a later batch first shows here too).
    pub offset_jumps_read_again: IntCounter,
    /// `investigator_offset_resets_total{topic, policy}`: stored offsets found outside the
    /// broker's log and reset (or halted) by `INVESTIGATOR_OFFSET_RESET`.
    pub offset_resets: IntCounterVec,
    /// `investigator_degraded{component}`: 1 while the component retries an outage.
    pub degraded: IntGaugeVec,
    /// `investigator_database_standby`: 1 when the graph is read from a hot standby.
    pub database_standby: IntGauge,
    /// `investigator_standby_replay_lag_seconds`: how far that standby's replay is behind its
    /// primary (0 on a primary, and on a standby that has replayed all it received).
    pub standby_replay_lag: Gauge,
    /// `investigator_handler_restarts_total{handler}`.
    pub handler_restarts: IntCounterVec,
    /// `investigator_api_cache_requests_total{outcome}`: hit, miss, bypass (a client's
    /// position was newer than the cached answer).
    pub api_cache: IntCounterVec,
    /// `investigator_workflow_launches_total{kind, outcome}`: created, already_existed,
    /// logged, retried, refused.
    pub workflow_launches: IntCounterVec,
    /// `investigator_workflow_launch_seconds`: one submission to the Kubernetes API.
    pub launch_seconds: Histogram,
    /// `investigator_workflows_waiting{namespace}`: requests in the outbox.
    pub workflows_waiting: IntGaugeVec,
    /// `investigator_workflow_transitions_total{event}`: what the watcher recorded.
    pub workflow_transitions: IntCounterVec,
    /// `investigator_workflow_watch_errors_total{namespace}`.
    pub watch_errors: IntCounterVec,
    /// `investigator_workflow_observations_unrecorded{namespace}`: workflow transitions the
    /// watcher saw and could not record yet (they wait for PostgreSQL, never dropped).
    pub observations_unrecorded: IntGaugeVec,
    /// `investigator_workflow_not_found_total{namespace, missing}`: workflow creates the API
    /// server answered 404, `missing` being `namespace` or `workflows-resource` (Argo's CRD).
    pub workflow_not_found: IntCounterVec,
    /// `investigator_mirror_position`: the last log position published to the mirror topic.
    pub mirror_position: IntGauge,
    /// `investigator_duty_held{duty}`: 1 while this replica holds the duty's lease (and runs
    /// it), 0 otherwise.
    pub duty_held: IntGaugeVec,
    /// `investigator_events_appended_total{event_type}`: events the pipeline, the launcher and
    /// the watcher appended to the log.
    pub events_appended: IntCounterVec,
    /// `investigator_consumer_lag{topic, partition}`: records not applied yet.
    pub consumer_lag: IntGaugeVec,
    /// `investigator_log_head`: the last position of the event log.
    pub log_head: IntGauge,
    /// `investigator_projection_position{projection}`: the last position a projection applied.
    pub projection_position: IntGaugeVec,
    /// `investigator_projection_lag_events{projection}`: events appended and not applied yet.
    pub projection_lag: IntGaugeVec,
    /// `investigator_projection_lag_seconds{projection}`: how long the oldest event a
    /// projection has not applied has waited (0 when it is up to date).
    pub projection_lag_seconds: GaugeVec,
    /// `investigator_db_pool_connections{pool, state}`: `open` and `idle` connections.
    pub pool_connections: IntGaugeVec,
    /// `investigator_learning_rounds_total{driver, outcome}`: ok, throttled, failed.
    pub learning_rounds: IntCounterVec,
    /// `investigator_learning_queued_total{driver}`: findings queued as Thoth messages.
    pub learning_queued: IntCounterVec,
    /// `investigator_learning_throttled{driver}`: 1 while the load holds the driver back.
    pub learning_throttled: IntGaugeVec,
    /// `investigator_learning_index_errors_total{driver, code}`: index requests that failed.
    pub learning_index_errors: IntCounterVec,
    /// `investigator_learning_published_total{topic}`: queued messages published.
    pub learning_published: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric =
        IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|error| panic!("metric {name}: {error}"));
    registry.register(Box::new(metric.clone())).unwrap_or_else(|error| panic!("metric {name}: {error}"));
    metric
}

fn gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let metric =
        IntGaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|error| panic!("metric {name}: {error}"));
    registry.register(Box::new(metric.clone())).unwrap_or_else(|error| panic!("metric {name}: {error}"));
    metric
}

impl Metrics {
    /// Registers every metric. Names and labels are constants, so registering cannot fail
    /// except by a programming error (a duplicate name), which the unit test catches.
    pub fn new(service_version: &str) -> Self {
        let registry = Registry::new();
        let consumer_info = gauge(&registry, "thoth_investigator_consumer_info", "Investigator version", &["version"]);
        let offset_gaps = IntCounter::new(
            "investigator_offset_gaps_total",
            "Offsets read past because the log does not hold them (transaction markers, compaction)",
        )
        .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(offset_gaps.clone())).unwrap_or_else(|error| panic!("{error}"));
        let offset_jumps_read_again = IntCounter::new(
            "investigator_offset_jumps_read_again_total",
            "Jumps in a partition's offsets read a second time before being taken for absent offsets",
        )
        .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(offset_jumps_read_again.clone())).unwrap_or_else(|error| panic!("{error}"));
        let offset_resets = counter(
            &registry,
            "investigator_offset_resets_total",
            "Stored offsets found outside the broker's log and reset or halted (INVESTIGATOR_OFFSET_RESET)",
            &["topic", "policy"],
        );
        let degraded = gauge(
            &registry,
            "investigator_degraded",
            "1 while a component retries an outage (PostgreSQL, the pooler, the broker)",
            &["component"],
        );
        let database_standby =
            IntGauge::new("investigator_database_standby", "1 when the graph is read from a hot standby")
                .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(database_standby.clone())).unwrap_or_else(|error| panic!("{error}"));
        let standby_replay_lag = Gauge::new(
            "investigator_standby_replay_lag_seconds",
            "How far the standby the graph is read from is behind its primary",
        )
        .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(standby_replay_lag.clone())).unwrap_or_else(|error| panic!("{error}"));
        consumer_info.with_label_values(&[service_version]).set(1);
        let batches =
            IntCounter::new("investigator_batches_total", "Batches recorded").unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(batches.clone())).unwrap_or_else(|error| panic!("{error}"));
        let database_retries =
            IntCounter::new("investigator_database_retries_total", "Batches retried because PostgreSQL failed")
                .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(database_retries.clone())).unwrap_or_else(|error| panic!("{error}"));
        let batch_seconds = Histogram::with_opts(
            HistogramOpts::new("investigator_batch_seconds", "Time to decide and record one batch")
                .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
        )
        .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(batch_seconds.clone())).unwrap_or_else(|error| panic!("{error}"));
        let batch_phase_seconds = HistogramVec::new(
            HistogramOpts::new("investigator_batch_phase_seconds", "Time one batch spent in one phase")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            &["phase"],
        )
        .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(batch_phase_seconds.clone())).unwrap_or_else(|error| panic!("{error}"));
        let record_wait_seconds = HistogramVec::new(
            HistogramOpts::new(
                "investigator_record_wait_seconds",
                "How long a batch's oldest record had waited when the batch started",
            )
            .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0]),
            &["since"],
        )
        .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(record_wait_seconds.clone())).unwrap_or_else(|error| panic!("{error}"));
        let rebalance_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "investigator_rebalance_seconds",
                "One consumer-group rebalance, from its first callback to every assigned partition positioned",
            )
            .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
        )
        .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(rebalance_seconds.clone())).unwrap_or_else(|error| panic!("{error}"));
        let launch_seconds = Histogram::with_opts(
            HistogramOpts::new("investigator_workflow_launch_seconds", "One workflow submission")
                .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
        )
        .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(launch_seconds.clone())).unwrap_or_else(|error| panic!("{error}"));
        let mirror_position =
            IntGauge::new("investigator_mirror_position", "Last log position published to the mirror topic")
                .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(mirror_position.clone())).unwrap_or_else(|error| panic!("{error}"));
        let log_head = IntGauge::new("investigator_log_head", "Last position of the event log")
            .unwrap_or_else(|error| panic!("{error}"));
        registry.register(Box::new(log_head.clone())).unwrap_or_else(|error| panic!("{error}"));
        Metrics {
            learning_rounds: counter(
                &registry,
                "investigator_learning_rounds_total",
                "Rounds of a learning driver",
                &["driver", "outcome"],
            ),
            learning_queued: counter(
                &registry,
                "investigator_learning_queued_total",
                "Findings queued as Thoth messages",
                &["driver"],
            ),
            learning_throttled: gauge(
                &registry,
                "investigator_learning_throttled",
                "1 while the system's load holds the driver back",
                &["driver"],
            ),
            learning_index_errors: counter(
                &registry,
                "investigator_learning_index_errors_total",
                "Package index requests that failed",
                &["driver", "code"],
            ),
            learning_published: counter(
                &registry,
                "investigator_learning_published_total",
                "Queued learning messages published",
                &["topic"],
            ),
            log_head,
            events_appended: counter(
                &registry,
                "investigator_events_appended_total",
                "Events appended to the log",
                &["event_type"],
            ),
            consumer_lag: gauge(
                &registry,
                "investigator_consumer_lag",
                "Records not applied yet",
                &["topic", "partition"],
            ),
            projection_position: gauge(
                &registry,
                "investigator_projection_position",
                "Last log position a projection applied",
                &["projection"],
            ),
            projection_lag_seconds: {
                let metric = GaugeVec::new(
                    Opts::new(
                        "investigator_projection_lag_seconds",
                        "How long the oldest event not applied by a projection has waited",
                    ),
                    &["projection"],
                )
                .unwrap_or_else(|error| panic!("{error}"));
                registry.register(Box::new(metric.clone())).unwrap_or_else(|error| panic!("{error}"));
                metric
            },
            projection_lag: gauge(
                &registry,
                "investigator_projection_lag_events",
                "Events appended and not applied by a projection yet",
                &["projection"],
            ),
            pool_connections: gauge(
                &registry,
                "investigator_db_pool_connections",
                "PostgreSQL connections of a pool",
                &["pool", "state"],
            ),
            mirror_position,
            rebalance_seconds,
            duty_held: gauge(
                &registry,
                "investigator_duty_held",
                "1 while this replica holds the duty's lease and runs it",
                &["duty"],
            ),
            workflow_launches: counter(
                &registry,
                "investigator_workflow_launches_total",
                "Workflow submissions by outcome",
                &["kind", "outcome"],
            ),
            workflows_waiting: gauge(
                &registry,
                "investigator_workflows_waiting",
                "Requested workflows not submitted yet",
                &["namespace"],
            ),
            workflow_transitions: counter(
                &registry,
                "investigator_workflow_transitions_total",
                "Workflow transitions recorded by the watcher",
                &["event"],
            ),
            watch_errors: counter(
                &registry,
                "investigator_workflow_watch_errors_total",
                "Failures of the workflow watch",
                &["namespace"],
            ),
            observations_unrecorded: gauge(
                &registry,
                "investigator_workflow_observations_unrecorded",
                "Workflow transitions seen on the cluster and not recorded yet",
                &["namespace"],
            ),
            workflow_not_found: counter(
                &registry,
                "investigator_workflow_not_found_total",
                "Workflow creates answered 404: the namespace or Argo's Workflow resource is missing",
                &["namespace", "missing"],
            ),
            launch_seconds,
            processed: counter(
                &registry,
                "thoth_investigator_processed_total",
                "Messages processed",
                &["message_type"],
            ),
            exceptions: counter(&registry, "thoth_investigator_exceptions_total", "Failed attempts", &["message_type"]),
            in_progress: gauge(
                &registry,
                "thoth_investigator_in_progress",
                "Messages being processed now",
                &["message_type"],
            ),
            schema_revision: gauge(
                &registry,
                "thoth_database_schema_revision_script",
                "The newest schema migration the database has",
                &["component", "revision", "env"],
            ),
            schema_migrations: gauge(
                &registry,
                "investigator_schema_migrations",
                "Schema migrations applied, per set",
                &["set"],
            ),
            failures: counter(
                &registry,
                "thoth_investigator_failures_total",
                "Messages given up on",
                &["message_type"],
            ),
            scheduled_workflows: counter(
                &registry,
                "thoth_investigator_scheduled_workflows_total",
                "Workflows requested",
                &["message_type", "workflow_type"],
            ),
            halted_topics: gauge(&registry, "thoth_investigator_halted_topics", "Halted topics", &["base_topic_name"]),
            missing_handler: gauge(
                &registry,
                "thoth_investigator_missing_handler",
                "Messages of a version no handler accepts",
                &["base_topic_name", "message_version"],
            ),
            message_count_by_version: counter(
                &registry,
                "message_count_by_version_total",
                "Messages by type and version",
                &["message_type", "message_version"],
            ),
            partition_offsets: gauge(
                &registry,
                "current_partition_offsets",
                "Last applied offset",
                &["topic_name", "partition"],
            ),
            advise_justification: gauge(
                &registry,
                "thoth_advise_justification_type_number",
                "Advise justifications by type",
                &["advise_message", "justification_type", "thoth_environment"],
            ),
            dead_letters: counter(
                &registry,
                "investigator_dead_letters_total",
                "Dead-lettered records",
                &["topic", "reason_code"],
            ),
            records: counter(&registry, "investigator_records_total", "Records by outcome", &["outcome"]),
            handler_restarts: counter(
                &registry,
                "investigator_handler_restarts_total",
                "Handler restarts",
                &["handler"],
            ),
            api_cache: counter(
                &registry,
                "investigator_api_cache_requests_total",
                "Cacheable API reads by outcome",
                &["outcome"],
            ),
            registry,
            consumer_info,
            batches,
            batch_seconds,
            batch_phase_seconds,
            record_wait_seconds,
            database_retries,
            offset_gaps,
            offset_jumps_read_again,
            offset_resets,
            degraded,
            database_standby,
            standby_replay_lag,
        }
    }

    /// Counts `kinds` (one per message) in `thoth_investigator_in_progress` until the guard
    /// is dropped, however the batch ends (committed, failed, or unwound).
    pub fn track_in_progress(&self, kinds: impl IntoIterator<Item = MessageKind>) -> InProgress {
        let mut counts: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        for kind in kinds {
            *counts.entry(handler_label(kind)).or_default() += 1;
        }
        for (label, count) in &counts {
            self.in_progress.with_label_values(&[label]).add(*count);
        }
        InProgress { gauge: self.in_progress.clone(), counts }
    }

    /// Records the schema the database has: Thoth's revision metric, named by the newest
    /// migration of each set (`store/0005_workflow_secrets,graph/0008_...`), and the counts.
    pub fn set_schema(&self, deployment: &str, revision: &str, applied: &[(&str, usize)]) {
        self.schema_revision.reset();
        self.schema_revision.with_label_values(&["investigator", revision, deployment]).set(1);
        for (set, count) in applied {
            self.schema_migrations.with_label_values(&[set]).set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::warn!(%error, "metrics could not be encoded");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// Messages counted as in progress; they stop counting when this is dropped.
#[must_use = "the messages stop counting as in progress when this is dropped"]
pub struct InProgress {
    gauge: IntGaugeVec,
    counts: std::collections::BTreeMap<String, i64>,
}

impl Drop for InProgress {
    fn drop(&mut self) {
        for (label, count) in &self.counts {
            self.gauge.with_label_values(&[label]).sub(*count);
        }
    }
}

mod known_labels;

pub use known_labels::{COUNTED_WORKFLOWS, DEAD_LETTER_REASONS, KnownLabels, handler_label};

#[cfg(test)]
mod tests;
