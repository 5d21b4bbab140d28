//! Domain events: every type survives the log (encode, decode), and payloads of every older
//! schema version, as stored by older builds (fixtures in `fixtures/upcast`), read as the
//! current version.

use std::path::PathBuf;

use investigator_events::domain::*;
use serde_json::{Value, json};

fn fixtures() -> Vec<(PathBuf, Value)> {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upcast");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&directory).expect("fixtures").map(|entry| entry.expect("entry").path()).collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("fixture JSON");
            (path, value)
        })
        .collect()
}

#[test]
fn stored_payloads_of_older_versions_read_as_the_current_version() {
    for (path, fixture) in fixtures() {
        let event_type = fixture["event_type"].as_str().expect("event_type");
        let version = fixture["schema_version"].as_i64().expect("schema_version") as i32;
        let kind = EventType::from_name(event_type).expect("known type");
        let stored = serde_json::to_vec(&fixture["stored"]).expect("stored");
        let current = serde_json::to_vec(&fixture["current"]).expect("current");
        let upcast = DomainEvent::decode(event_type, version, &stored)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let expected = DomainEvent::decode(event_type, kind.current_version(), &current)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert_eq!(upcast, expected, "{}", path.display());
    }
}

#[test]
fn every_older_schema_version_has_a_stored_fixture() {
    let covered: Vec<(String, i64)> = fixtures()
        .iter()
        .map(|(_, fixture)| {
            (
                fixture["event_type"].as_str().unwrap_or_default().to_owned(),
                fixture["schema_version"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    for kind in EventType::ALL {
        for version in 1..kind.current_version() {
            assert!(
                covered.contains(&(kind.name().to_owned(), i64::from(version))),
                "{kind} v{version} has no fixture in tests/fixtures/upcast"
            );
        }
    }
}

#[test]
fn versions_this_build_cannot_read_are_refused_with_a_reason() {
    let error = DomainEvent::decode("IndexEnabled", 2, br#"{"url": "x"}"#).expect_err("from the future");
    assert_eq!(
        error.to_string(),
        "IndexEnabled schema version 2 is not readable by this build (it reads versions 1 to 1)"
    );
    let error = DomainEvent::decode("PackageRenamed", 1, b"{}").expect_err("unknown");
    assert_eq!(error.to_string(), "unknown event type 'PackageRenamed'");
    let error = DomainEvent::decode("IndexEnabled", 1, br#"{"url": 7}"#).expect_err("bad payload");
    assert!(error.to_string().contains("field 'url'"), "{error}");
    let error = DomainEvent::decode("IndexRegistered", 1, b"[]").expect_err("not an object");
    assert!(error.to_string().contains("not a JSON object"), "{error}");
}

fn samples() -> Vec<DomainEvent> {
    let pypi = "https://pypi.org/simple";
    let payloads = [
        ("IndexRegistered", json!({"url": pypi, "verify_ssl": true, "only_if_package_seen": false, "enabled": true})),
        ("IndexEnabled", json!({"url": pypi})),
        ("IndexDisabled", json!({"url": pypi})),
        ("PackageVersionSeen", json!({"package_name": "six", "package_version": "1.16.0", "index_url": pypi})),
        ("VersionMarkedMissing", json!({"package_name": "six", "package_version": "1.16.0", "index_url": pypi})),
        ("PackageMarkedMissing", json!({"package_name": "six", "index_url": pypi})),
        (
            "SourceDistributionFlagSet",
            json!({"package_name": "six", "package_version": "1.16.0", "index_url": pypi, "provides_source_distro": false}),
        ),
        (
            "SolverResultRecorded",
            json!({"document_id": "solver-rhel-8-py38-1-2", "solver_name": "solver-rhel-8-py38", "solver_version": "1", "os_name": "rhel", "os_version": "8", "python_version": "3.8", "datetime": "2021-07-13T01:02:53.000000", "packages": [],
            "errors": [{"package_name": "x", "error_type": "command_error", "details": {"a": 1}, "is_provided_package": true, "is_provided_package_version": false}],
            "unresolved": [{"package_name": "y", "version_spec": "===1"}], "unparsed": [{"requirement": "z===", "details": "bad"}]}),
        ),
        (
            "SecurityIndicatorRecorded",
            json!({"document_id": "security-indicator-1", "datetime": "2021-07-13T01:02:53.000000", "package_name": "six", "package_version": "1.16.0", "index_url": pypi, "error": false,
            "counters": serde_json::to_value(SecurityIndicatorCounters { total_number_of_lines: 1000, ..Default::default() }).expect("counters")}),
        ),
        (
            "CveProvided",
            json!({"package_name": "six", "package_version": "1.16.0", "index_url": pypi, "advisory": {"cve_id": "PYSEC-2021-1", "details": "d"}}),
        ),
        (
            "HashMismatchRecorded",
            json!({"package_name": "six", "package_version": "1.16.0", "index_url": pypi, "missing_from_source": ["a"], "missing_from_database": []}),
        ),
        (
            "WorkflowRequested",
            json!({"workflow_id": "w", "kind": "security-indicator", "namespace": "n", "target": {"package_name": "six"}, "parameters": {"P": "1"}}),
        ),
        ("WorkflowSubmitted", json!({"workflow_id": "w", "namespace": "n"})),
        ("WorkflowStarted", json!({"workflow_id": "w", "started_at": "2026-11-20T10:00:00Z"})),
        ("WorkflowSucceeded", json!({"workflow_id": "w", "finished_at": "2026-11-20T10:00:00Z"})),
        ("WorkflowFailed", json!({"workflow_id": "w", "phase": "Error", "message": "m"})),
        (
            "MessageDeadLettered",
            json!({"topic": "t", "partition": 0, "offset": 5, "payload": {"encoding": "base64", "data": "/w=="}, "reason_code": "malformed_json", "reason": "r", "attempts": 1}),
        ),
        ("DeadLetterRedriven", json!({"topic": "t", "partition": 0, "offset": 5, "republished_offset": 9})),
        ("DeadLetterDiscarded", json!({"topic": "t", "partition": 0, "offset": 5, "reason": "a typo"})),
        (
            "AdviserRunRecorded",
            json!({"adviser_document_id": "adviser-1", "datetime": "2021-07-13T01:02:53.000000", "adviser_version": "0.21.1", "adviser_name": "thoth-adviser", "error": true, "unresolved": ["tensorflow"]}),
        ),
        ("AdviserParked", json!({"adviser_document_id": "adviser-1", "unresolved": [{"package_name": "tensorflow"}]})),
        ("AdviserReRunRequested", json!({"adviser_document_id": "adviser-1", "re_run_job_id": "adviser-2"})),
        (
            "LearningMessageQueued",
            json!({"driver": "releases", "finding": "released/https://pypi.org/simple/six/1.17.0", "attempt": 1, "reason": "new on the index", "topic": "thoth.package-release.package-released", "message": {"package_name": "six"}}),
        ),
        (
            "LearningThrottleChanged",
            json!({"driver": "refresh", "throttled": true, "lag": 2500, "pending_workflows": 10, "max_lag": 2000, "max_pending_workflows": 1000}),
        ),
        (
            "ConsumerOffsetReset",
            json!({"consumer_group": "thoth.investigator", "topic": "t", "partition": 0, "stored_offset": 30004, "low_watermark": 0, "high_watermark": 1, "policy": "earliest", "reset_to": 0}),
        ),
    ];
    payloads
        .into_iter()
        .map(|(event_type, payload)| {
            let kind = EventType::from_name(event_type).expect("known");
            DomainEvent::decode(event_type, kind.current_version(), payload.to_string().as_bytes())
                .unwrap_or_else(|error| panic!("{event_type}: {error}"))
        })
        .collect()
}

#[test]
fn every_event_type_survives_the_log() {
    let samples = samples();
    let mut types: Vec<EventType> = samples.iter().map(DomainEvent::event_type).collect();
    types.sort();
    let mut all = EventType::ALL.to_vec();
    all.sort();
    assert_eq!(types, all, "one sample per type");
    for event in samples {
        let encoded = event.encode();
        let decoded = DomainEvent::decode(encoded.event_type.name(), encoded.schema_version(), &encoded.payload)
            .unwrap_or_else(|error| panic!("{}: {error}", encoded.event_type));
        assert_eq!(decoded, event);
    }
}
