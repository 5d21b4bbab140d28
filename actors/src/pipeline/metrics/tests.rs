use investigator_core::decide::Rule;
use investigator_events::thoth::{ConsumerMode, TopicNaming};

use super::*;

#[test]
fn thoths_metric_names_are_exposed() {
    let metrics = Metrics::new("0.1.0");
    metrics.processed.with_label_values(&["unresolved_package"]).inc();
    metrics.halted_topics.with_label_values(&["thoth.repo-init"]).set(1);
    let text = metrics.render();
    assert!(text.contains("thoth_investigator_consumer_info{version=\"0.1.0\"} 1"), "{text}");
    assert!(text.contains("thoth_investigator_processed_total{message_type=\"unresolved_package\"} 1"), "{text}");
    assert!(text.contains("thoth_investigator_halted_topics{base_topic_name=\"thoth.repo-init\"} 1"), "{text}");
}

fn initialised(modes: &[ConsumerMode]) -> String {
    let metrics = Metrics::new("0.1.0");
    let naming = TopicNaming::new(Some("prod".to_owned())).expect("a deployment name");
    metrics.initialise(&KnownLabels {
        naming: &naming,
        modes,
        handlers: &[Rule::SolverScheduler],
        namespaces: &["thoth-middletier"],
        components: &["pipeline"],
    });
    metrics.render()
}

#[test]
fn every_series_with_known_labels_is_at_zero_before_any_traffic() {
    let text = initialised(&[ConsumerMode::Middletier, ConsumerMode::Metrics]);
    for series in [
        "thoth_investigator_processed_total{message_type=\"unresolved_package\"} 0",
        "thoth_investigator_exceptions_total{message_type=\"unresolved_package\"} 0",
        "thoth_investigator_in_progress{message_type=\"unresolved_package\"} 0",
        "thoth_investigator_failures_total{message_type=\"unresolved_package\"} 0",
        "thoth_investigator_halted_topics{base_topic_name=\"thoth.investigator.unresolved-package\"} 0",
        "investigator_dead_letters_total{reason_code=\"malformed_json\",topic=\"prod.thoth.investigator.unresolved-package\"} 0",
        "thoth_investigator_scheduled_workflows_total{message_type=\"thoth.investigator.unresolved-package\",workflow_type=\"solver\"} 0",
        "investigator_records_total{outcome=\"applied\"} 0",
        "investigator_handler_restarts_total{handler=\"SolverScheduler\"} 0",
        "investigator_api_cache_requests_total{outcome=\"hit\"} 0",
        "investigator_workflow_launches_total{kind=\"solver\",outcome=\"created\"} 0",
        "investigator_workflows_waiting{namespace=\"thoth-middletier\"} 0",
        "investigator_workflow_watch_errors_total{namespace=\"thoth-middletier\"} 0",
        "investigator_workflow_transitions_total{event=\"WorkflowStarted\"} 0",
        "investigator_events_appended_total{event_type=\"WorkflowRequested\"} 0",
        "investigator_degraded{component=\"pipeline\"} 0",
        "investigator_learning_rounds_total{driver=\"refresh\",outcome=\"ok\"} 0",
        "investigator_learning_throttled{driver=\"cves\"} 0",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    assert!(text.contains("message_count_by_version_total{message_type=\"unresolved_package\""), "{text}");
}

#[test]
fn the_apis_series_alone_are_at_zero_for_a_read_replica() {
    let metrics = Metrics::new("0.1.0");
    metrics.initialise_api();
    let text = metrics.render();
    for series in [
        "investigator_api_cache_requests_total{outcome=\"hit\"} 0",
        "investigator_api_cache_requests_total{outcome=\"miss\"} 0",
        "investigator_api_cache_requests_total{outcome=\"bypass\"} 0",
        "investigator_events_appended_total{event_type=\"DeadLetterRedriven\"} 0",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    for consumers in ["thoth_investigator_processed_total", "thoth_investigator_halted_topics", "investigator_degraded"]
    {
        assert!(!text.contains(&format!("{consumers}{{")), "{consumers} is the consumers' series:\n{text}");
    }
}

#[test]
fn topics_no_mode_consumes_get_no_series() {
    let text = initialised(&[ConsumerMode::Middletier]);
    assert!(!text.contains("message_count_by_version_total{"), "the metrics mode is off");
    // adviser-trigger is a backend topic only.
    assert!(!text.contains("adviser-trigger"), "{text}");
}

#[test]
fn in_progress_counts_a_batch_while_it_is_in_hand() {
    let metrics = Metrics::new("0.1.0");
    let gauge = |label: &str| metrics.in_progress.with_label_values(&[label]).get();
    {
        let _batch = metrics.track_in_progress([
            MessageKind::UnresolvedPackage,
            MessageKind::UnresolvedPackage,
            MessageKind::MissingVersion,
        ]);
        assert_eq!((gauge("unresolved_package"), gauge("missing_version")), (2, 1));
    }
    assert_eq!((gauge("unresolved_package"), gauge("missing_version")), (0, 0), "back to 0 when dropped");
}

#[test]
fn the_schema_revision_is_one_series_at_one() {
    let metrics = Metrics::new("0.1.0");
    metrics.set_schema("prod", "store/0005_a,graph/0008_b", &[("store", 5), ("graph", 8)]);
    let text = metrics.render();
    assert!(
        text.contains(
            "thoth_database_schema_revision_script{component=\"investigator\",env=\"prod\",revision=\"store/0005_a,graph/0008_b\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("investigator_schema_migrations{set=\"graph\"} 8"), "{text}");
}
