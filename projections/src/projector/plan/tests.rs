//! The projector's folding rules, event by event, without a database: what the SQL in
//! `write/` then applies against stored rows (the end-to-end tests cover that half).

use chrono::TimeZone;

use super::*;

fn recorded(position: i64, stream: StreamId, event: impl Into<DomainEvent>) -> RecordedEvent {
    RecordedEvent {
        position,
        stream,
        stream_version: position,
        event: event.into(),
        metadata: EventMetadata::default(),
        recorded_at: Utc.timestamp_opt(1_700_000_000 + position, 0).single().expect("valid time"),
    }
}

fn workflow_event(position: i64, event: impl Into<DomainEvent>) -> RecordedEvent {
    recorded(position, StreamId::workflow("w"), event)
}

#[test]
fn a_batch_folds_to_one_row_per_key_as_if_applied_one_by_one() {
    let url = "https://pypi.org/simple";
    let seen = |version: &str| PackageVersionSeen {
        package_name: "six".to_owned(),
        package_version: version.to_owned(),
        index_url: url.to_owned(),
    };
    let missing = VersionMarkedMissing {
        package_name: "six".to_owned(),
        package_version: "1.0".to_owned(),
        index_url: url.to_owned(),
    };
    let plan = RowPlan::of(&[
        recorded(1, StreamId::package("six"), seen("1.0")),
        recorded(2, StreamId::package("six"), missing),
        recorded(3, StreamId::package("six"), seen("1.0")),
        recorded(4, StreamId::package("six"), seen("2.0")),
        recorded(5, StreamId::index(url), IndexDisabled { url: url.to_owned() }),
    ])
    .expect("plan");
    assert_eq!(plan.entities.len(), 2);
    let first = &plan.entities[&ids::entity("six", Some("1.0"), Some(url))];
    assert_eq!((first.missing_position, first.present_position), (2, 3), "the latest of each kind");
    assert_eq!(first.first_seen_at.timestamp(), 1_700_000_001, "first seen by the first event");
    assert_eq!(plan.indexes.len(), 1, "the index is referenced, registered or not");
    assert_eq!(plan.indexes[&ids::index(url)].enabled, Some((false, 5)));
    assert_eq!(plan.flag_entities.len(), 2);
}

#[test]
fn a_workflow_status_only_moves_forward() {
    let plan = RowPlan::of(&[
        workflow_event(
            1,
            WorkflowStarted { workflow_id: "w".to_owned(), started_at: "2026-11-20T10:00:00Z".to_owned() },
        ),
        workflow_event(2, WorkflowSubmitted { workflow_id: "w".to_owned(), namespace: "n".to_owned() }),
    ])
    .expect("plan");
    let row = &plan.workflows["w"];
    assert_eq!((row.status.name, row.status.rank, row.status.position), ("running", 3, 1));
    assert_eq!(row.namespace.as_deref(), Some("n"));
    assert!(row.submitted_at.is_some() && row.started_at.is_some());
}

#[test]
fn an_event_with_a_value_the_graph_cannot_take_is_an_error_naming_its_position() {
    let error = RowPlan::of(&[workflow_event(
        9,
        WorkflowStarted { workflow_id: "w".to_owned(), started_at: "yesterday".to_owned() },
    )])
    .expect_err("not a timestamp");
    assert_eq!(error.position, 9);
    assert_eq!(
        error.to_string(),
        "cannot project the WorkflowStarted event at position 9: 'yesterday' is not an RFC 3339 timestamp"
    );
}

fn dead_letter_key() -> (String, i32, i64) {
    ("thoth.unresolved-package".to_owned(), 0, 7)
}

fn dead_letter_event(position: i64, event: impl Into<DomainEvent>) -> RecordedEvent {
    let (topic, partition, offset) = dead_letter_key();
    recorded(position, StreamId::dead_letter(&topic, partition, offset), event)
}

#[test]
fn a_dead_letter_keeps_its_record_and_takes_the_latest_operator_decision() {
    let (topic, partition, offset) = dead_letter_key();
    let plan = RowPlan::of(&[
        dead_letter_event(
            1,
            MessageDeadLettered {
                topic: topic.clone(),
                partition,
                offset,
                key: None,
                payload: DeadLetterPayload::from_bytes(b"{not json"),
                reason_code: "invalid_json".to_owned(),
                reason: "expected a value".to_owned(),
                attempts: 1,
            },
        ),
        dead_letter_event(
            2,
            DeadLetterRedriven {
                topic: topic.clone(),
                partition,
                offset,
                republished_offset: Some(8),
                republish: None,
            },
        ),
        dead_letter_event(3, DeadLetterDiscarded { topic, partition, offset, reason: Some("a test".to_owned()) }),
    ])
    .expect("plan");
    let letter = &plan.dead_letters[&dead_letter_key()];
    assert_eq!((letter.reason_code.as_str(), letter.position), ("invalid_json", 1));
    assert_eq!(letter.payload, json!({"encoding": "text", "data": "{not json"}));
    assert_eq!(plan.dead_letter_statuses[&dead_letter_key()], ("discarded", 3), "the latest decision wins");
}

#[test]
fn a_workflow_keeps_its_first_request_and_a_finished_one_is_not_reopened() {
    let request = |namespace: &str| WorkflowRequested {
        workflow_id: "w".to_owned(),
        kind: WorkflowKind::Solver,
        namespace: namespace.to_owned(),
        target: WorkflowTarget { package_name: Some("six".to_owned()), ..WorkflowTarget::default() },
        parameters: serde_json::Map::new(),
        trigger: Some("UnresolvedPackageMessage".to_owned()),
        version_source: None,
    };
    let plan = RowPlan::of(&[
        workflow_event(1, request("first")),
        workflow_event(
            2,
            WorkflowFailed {
                workflow_id: "w".to_owned(),
                phase: "Error".to_owned(),
                finished_at: Some("2026-11-20T10:00:00Z".to_owned()),
                message: Some("OOMKilled".to_owned()),
            },
        ),
        workflow_event(3, request("second")),
        workflow_event(4, WorkflowSubmitted { workflow_id: "w".to_owned(), namespace: "third".to_owned() }),
    ])
    .expect("plan");
    let row = &plan.workflows["w"];
    assert_eq!(row.namespace.as_deref(), Some("first"), "the first request's facts are kept");
    assert_eq!(row.package_name.as_deref(), Some("six"));
    assert_eq!((row.status.name, row.status.position), ("failed", 2), "a later request does not reopen it");
    assert_eq!(row.status.phase.as_deref(), Some("Error"));
    assert_eq!(row.status.message.as_deref(), Some("OOMKilled"));
}

fn adviser_run(document_id: &str, re_run_of: Option<&str>, unresolved: &[&str]) -> AdviserRunRecorded {
    AdviserRunRecorded {
        adviser_document_id: document_id.to_owned(),
        datetime: "2026-11-20T10:00:00.000000".to_owned(),
        adviser_version: "0.1".to_owned(),
        adviser_name: "thoth-adviser".to_owned(),
        source_type: None,
        origin: None,
        recommendation_type: None,
        re_run_adviser_id: re_run_of.map(str::to_owned),
        error: !unresolved.is_empty(),
        error_msg: None,
        parameters: serde_json::Map::new(),
        runtime_environment: serde_json::Map::new(),
        unresolved: unresolved.iter().map(|name| (*name).to_owned()).collect(),
    }
}

#[test]
fn only_a_re_run_that_resolves_everything_settles_the_run_it_re_ran() {
    let plan = RowPlan::of(&[
        recorded(1, StreamId::adviser("a"), adviser_run("a", None, &["flask"])),
        recorded(2, StreamId::adviser("b"), adviser_run("b", Some("a"), &["click"])),
        recorded(3, StreamId::adviser("c"), adviser_run("c", Some("b"), &[])),
    ])
    .expect("plan");
    assert!(plan.adviser_runs[&ids::adviser_run("a")].need_re_run, "failed with packages left unresolved");
    assert!(!plan.adviser_runs[&ids::adviser_run("c")].need_re_run);
    assert!(!plan.parked.contains_key("a"), "b left click unresolved: a stays as it was");
    assert_eq!(plan.parked["b"].resolved, Some((3, "c".to_owned())));
    assert_eq!(plan.unresolved_links.len(), 2, "one link per run and unresolved package");
}

#[test]
fn a_learning_finding_asked_again_keeps_when_it_was_first_queued() {
    let queued = |attempt: u32| LearningMessageQueued {
        driver: "refresh".to_owned(),
        finding: "unsolved six 1.0".to_owned(),
        attempt,
        reason: "never solved".to_owned(),
        topic: "unresolved-package".to_owned(),
        message: json!({}),
    };
    let plan = RowPlan::of(&[
        recorded(1, StreamId::learning("refresh"), queued(1)),
        recorded(5, StreamId::learning("refresh"), queued(2)),
    ])
    .expect("plan");
    let row = &plan.learning["unsolved six 1.0"];
    assert_eq!((row.attempt, row.position), (2, 5));
    assert_eq!(row.first_at.timestamp(), 1_700_000_001);
    assert_eq!(row.at.timestamp(), 1_700_000_005);
}
