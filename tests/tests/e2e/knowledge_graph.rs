//! The knowledge-graph projection: what each event does to Thoth's tables, and the upstream
//! defects it does not repeat.

use std::path::PathBuf;

use investigator_core::documents::document_events;
use investigator_events::documents::Document;
use investigator_events::domain::*;
use investigator_projections::store::{self, AppendRequest, NewEvent};
use investigator_projections::{Database, record};
use investigator_tests::TestDatabase;
use tokio_postgres::Row;

const PYPI: &str = "https://pypi.org/simple";

pub(crate) fn documents_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/documents")
}

/// Records one event on its own, as a message would.
pub(crate) async fn record_event(database: &Database, stream: StreamId, event: impl Into<DomainEvent>) {
    let request = AppendRequest {
        events: vec![NewEvent { stream, event: event.into(), metadata: EventMetadata::default() }],
        ..AppendRequest::default()
    };
    record(database, request).await.expect("record");
}

/// Syncs a document of the test data, as `investigator sync` does.
pub(crate) async fn sync_document(database: &Database, relative: &str) {
    let bytes = std::fs::read(documents_dir().join(relative)).expect("test document");
    let document = Document::parse(&bytes).expect("valid document");
    let events = document_events(&document).expect("events");
    let request = AppendRequest::for_document(events, EventMetadata::default());
    record(database, request).await.expect("record document");
}

async fn query(database: &Database, sql: &str) -> Vec<Row> {
    database
        .connection()
        .await
        .expect("connection")
        .read()
        .await
        .expect("a read transaction")
        .query(sql, &[])
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

fn seen(name: &str, version: &str) -> PackageVersionSeen {
    PackageVersionSeen {
        package_name: name.to_owned(),
        package_version: version.to_owned(),
        index_url: PYPI.to_owned(),
    }
}

const FLASK_RHEL: &str = "solver/solver-rhel-8-py38-210713010253-a24759ebdaa1442c.json";
const FLASK_FEDORA: &str = "solver/solver-fedora-35-py310-211116142207-3e9b0c7d52f14a88.json";

#[tokio::test(flavor = "multi_thread")]
async fn a_solver_document_fills_thoth_tables_with_the_real_specifiers() {
    let db = TestDatabase::migrated().await;
    sync_document(&db.database, FLASK_RHEL).await;

    let versions = query(
        &db.database,
        "SELECT v.package_name, v.package_version, i.url, v.os_name, v.os_version, v.python_version, \
         v.metadata->>'Name', v.solver_entry->>'package_version', l.license_identifier \
         FROM graph.python_package_version v JOIN graph.python_package_index i ON i.id = v.python_package_index_id \
         LEFT JOIN graph.python_package_license l ON l.id = v.package_license",
    )
    .await;
    assert_eq!(versions.len(), 1);
    let row = &versions[0];
    let text = |i: usize| row.get::<_, Option<String>>(i);
    assert_eq!(
        (0..9).map(text).collect::<Vec<_>>(),
        ["flask", "2.0.1", PYPI, "rhel", "8", "3.8", "Flask", "2.0.1", "BSD-3-Clause"].map(|s| Some(s.to_owned()))
    );

    // Thoth stored `*` for every dependency (it read a key the solver no longer writes).
    let edges = query(
        &db.database,
        "SELECT e.package_name, e.package_version, d.version_range, d.extra, d.marker_evaluation_result \
         FROM graph.depends_on d JOIN graph.python_package_version_entity e ON e.id = d.entity_id \
         WHERE e.package_name IN ('werkzeug', 'asgiref') ORDER BY 1, 2",
    )
    .await;
    assert!(!edges.is_empty());
    for edge in &edges {
        let name: String = edge.get(0);
        let range: String = edge.get(2);
        let extra: Option<String> = edge.get(3);
        match name.as_str() {
            "werkzeug" => assert_eq!((range.as_str(), extra.as_deref()), (">=2.0", None)),
            _ => assert_eq!((range.as_str(), extra.as_deref()), (">=3.2", Some("async"))),
        }
        assert!(edge.get::<_, bool>(4));
    }
    let solved = query(&db.database, "SELECT document_id, error FROM graph.solved").await;
    assert_eq!(solved.len(), 1);
    assert_eq!(solved[0].get::<_, String>(0), "solver-rhel-8-py38-210713010253-a24759ebdaa1442c");
    assert!(!solved[0].get::<_, bool>(1));
    let imports = query(&db.database, "SELECT import_package_name FROM graph.import_package ORDER BY 1").await;
    assert!(imports.iter().any(|row| row.get::<_, String>(0) == "flask"));
    let hashes = query(&db.database, "SELECT count(*) FROM graph.has_artifact").await;
    assert_eq!(hashes[0].get::<_, i64>(0), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_unresolved_and_unparsed_solves_are_recorded_as_errors() {
    let db = TestDatabase::migrated().await;
    sync_document(&db.database, "solver/solver-rhel-8-py38-210714073312-6a3c8e1f05b9d274.json").await;
    sync_document(&db.database, "solver/solver-fedora-35-py310-211122194003-f05d7b2c38e1a946.json").await;
    let rows = query(
        &db.database,
        "SELECT v.package_name, v.package_version, s.error, s.error_unsolvable, s.error_unparseable, s.is_provided \
         FROM graph.solved s JOIN graph.python_package_version v ON v.id = s.version_id ORDER BY 1",
    )
    .await;
    let summary: Vec<(String, bool, bool, bool)> =
        rows.iter().map(|row| (row.get(0), row.get(2), row.get(3), row.get(4))).collect();
    assert!(summary.contains(&("tensorflow".to_owned(), true, false, false)), "{summary:?}");
    assert!(summary.contains(&("pyobjc".to_owned(), true, true, false)), "{summary:?}");
    assert!(summary.iter().any(|(_, error, _, unparseable)| *error && *unparseable), "{summary:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_flags_follow_the_latest_evidence_in_every_environment() {
    let db = TestDatabase::migrated().await;
    sync_document(&db.database, FLASK_RHEL).await;
    sync_document(&db.database, FLASK_FEDORA).await;
    let flags = || async {
        query(
            &db.database,
            "SELECT v.os_name, v.is_missing, e.is_missing FROM graph.python_package_version v \
             JOIN graph.python_package_version_entity e ON e.id = v.entity_id \
             WHERE v.package_name = 'flask' ORDER BY 1",
        )
        .await
        .iter()
        .map(|row| (row.get::<_, bool>(1), row.get::<_, bool>(2)))
        .collect::<Vec<_>>()
    };
    assert_eq!(flags().await, [(false, false), (false, false)]);

    let missing = VersionMarkedMissing {
        package_name: "flask".to_owned(),
        package_version: "2.0.1".to_owned(),
        index_url: PYPI.to_owned(),
    };
    record_event(&db.database, StreamId::package("flask"), missing).await;
    assert_eq!(flags().await, [(true, true), (true, true)], "every environment, as Thoth");

    // Thoth never reset the flag; a newer sighting on the index does here.
    record_event(&db.database, StreamId::package("flask"), seen("flask", "2.0.1")).await;
    assert_eq!(flags().await, [(false, false), (false, false)]);

    let gone = PackageMarkedMissing { package_name: "flask".to_owned(), index_url: PYPI.to_owned() };
    record_event(&db.database, StreamId::package("flask"), gone).await;
    assert_eq!(flags().await, [(true, true), (true, true)]);
    record_event(&db.database, StreamId::package("flask"), seen("flask", "2.1.0")).await;
    let newer = query(
        &db.database,
        "SELECT is_missing FROM graph.python_package_version_entity WHERE package_name = 'flask' \
         AND package_version = '2.1.0'",
    )
    .await;
    assert!(!newer[0].get::<_, bool>(0), "a release seen after the package went missing is not missing");
    assert_eq!(flags().await, [(true, true), (true, true)], "older versions stay missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn hash_mismatch_marks_the_artifact_absent_and_a_new_sighting_restores_it() {
    let db = TestDatabase::migrated().await;
    sync_document(&db.database, FLASK_RHEL).await;
    let hashes: Vec<String> = query(&db.database, "SELECT artifact_hash_sha256 FROM graph.python_artifact ORDER BY 1")
        .await
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mismatch = HashMismatchRecorded {
        package_name: "flask".to_owned(),
        package_version: "2.0.1".to_owned(),
        index_url: PYPI.to_owned(),
        missing_from_source: vec![hashes[0].clone()],
        missing_from_database: vec!["a".repeat(64)],
    };
    record_event(&db.database, StreamId::package("flask"), mismatch).await;
    let present =
        query(&db.database, "SELECT artifact_hash_sha256, present FROM graph.python_artifact ORDER BY 1").await;
    let present: Vec<(String, bool)> = present.iter().map(|row| (row.get(0), row.get(1))).collect();
    assert!(present.contains(&(hashes[0].clone(), false)), "Thoth's update never ran; here it does: {present:?}");
    assert!(present.contains(&(hashes[1].clone(), true)));
    assert!(present.contains(&("a".repeat(64), true)), "the index's new hash is known now");

    // A later solver run sees the artifact on the index again.
    sync_document(&db.database, FLASK_FEDORA).await;
    let restored = query(
        &db.database,
        &format!("SELECT present FROM graph.python_artifact WHERE artifact_hash_sha256 = '{}'", hashes[0]),
    )
    .await;
    assert!(restored[0].get::<_, bool>(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_solver_result_replaces_the_dependencies_and_keeps_every_run() {
    let db = TestDatabase::migrated().await;
    let result = |document_id: &str, datetime: &str, dependency: &str| {
        let event = SolverResultRecorded {
            document_id: document_id.to_owned(),
            solver_name: "solver-rhel-8-py38".to_owned(),
            solver_version: "1.13.1".to_owned(),
            os_name: "rhel".to_owned(),
            os_version: "8".to_owned(),
            python_version: "3.8".to_owned(),
            datetime: datetime.to_owned(),
            duration: Some(3),
            platform: None,
            packages: vec![SolvedPackage {
                package_name: "demo".to_owned(),
                package_version: "1.0".to_owned(),
                installed_version: "1.0".to_owned(),
                index_url: PYPI.to_owned(),
                importlib_metadata: Default::default(),
                sha256: Vec::new(),
                imports: Vec::new(),
                license: None,
                dependencies: vec![SolvedDependency {
                    package_name: dependency.to_owned(),
                    specifier: String::new(),
                    extras: Vec::new(),
                    extra: Vec::new(),
                    marker: None,
                    marker_evaluated: None,
                    marker_evaluation_result: true,
                    marker_evaluation_error: None,
                    resolved_versions: vec![ResolvedVersions { index: None, versions: vec!["1.0".to_owned()] }],
                }],
            }],
            errors: Vec::new(),
            unresolved: Vec::new(),
            unparsed: Vec::new(),
        };
        (StreamId::solver_document(document_id), event)
    };
    let dependencies = || async {
        query(
            &db.database,
            "SELECT e.package_name, d.version_range FROM graph.depends_on d \
             JOIN graph.python_package_version_entity e ON e.id = d.entity_id",
        )
        .await
        .iter()
        .map(|row| (row.get::<_, String>(0), row.get::<_, String>(1)))
        .collect::<Vec<_>>()
    };
    let (stream, newer) = result("solver-rhel-8-py38-211201000000-b", "2021-12-01T00:00:00.000000", "six");
    record_event(&db.database, stream, newer).await;
    // An older run recorded later (a late sync) does not win.
    let (stream, older) = result("solver-rhel-8-py38-210101000000-a", "2021-01-01T00:00:00.000000", "attrs");
    record_event(&db.database, stream, older).await;
    assert_eq!(dependencies().await, [("six".to_owned(), "*".to_owned())]);
    let solved = query(&db.database, "SELECT document_id FROM graph.solved").await;
    assert_eq!(solved[0].get::<_, String>(0), "solver-rhel-8-py38-211201000000-b");
    let runs = query(&db.database, "SELECT count(*) FROM graph.solver_run").await;
    assert_eq!(runs[0].get::<_, i64>(0), 2, "Thoth's solved kept one row; every run is kept here");

    let (stream, newest) = result("solver-rhel-8-py38-220101000000-c", "2022-01-01T00:00:00.000000", "attrs");
    record_event(&db.database, stream, newest).await;
    assert_eq!(dependencies().await, [("attrs".to_owned(), "*".to_owned())]);
}

#[tokio::test(flavor = "multi_thread")]
async fn entities_without_an_index_or_version_are_not_duplicated() {
    let db = TestDatabase::migrated().await;
    sync_document(&db.database, "adviser/adviser-210714091502-7c1f3b1a9d2e4f60.json").await;
    // Two different documents naming the same unresolved package.
    let mut second =
        std::fs::read_to_string(documents_dir().join("adviser/adviser-210714091502-7c1f3b1a9d2e4f60.json"))
            .expect("document");
    second = second.replace("adviser-210714091502-7c1f3b1a9d2e4f60", "adviser-210714091502-0000000000000002");
    let document = Document::parse(second.as_bytes()).expect("valid");
    let events = document_events(&document).expect("events");
    for event in events.events {
        record_event(&db.database, events.stream.clone(), event).await;
    }
    let entities = query(
        &db.database,
        "SELECT count(*) FROM graph.python_package_version_entity WHERE package_name = 'tensorflow' \
         AND package_version IS NULL AND python_package_index_id IS NULL",
    )
    .await;
    assert_eq!(entities[0].get::<_, i64>(0), 1, "NULLs are not distinct (Thoth's storages#2729)");
    let parked =
        query(&db.database, "SELECT adviser_document_id, status, solver_name FROM graph.parked_adviser ORDER BY 1")
            .await;
    assert_eq!(parked.len(), 2);
    assert_eq!(parked[0].get::<_, String>(1), "parked");
    assert_eq!(parked[0].get::<_, Option<String>>(2).as_deref(), Some("solver-rhel-8-py38"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_successful_re_run_settles_the_parked_advise() {
    let db = TestDatabase::migrated().await;
    sync_document(&db.database, "adviser/adviser-210714091502-7c1f3b1a9d2e4f60.json").await;
    sync_document(&db.database, "adviser/adviser-210719164833-d4e80a2b6f915c37.json").await;
    let parked = query(&db.database, "SELECT status, resolved_by FROM graph.parked_adviser").await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].get::<_, String>(0), "resolved");
    assert_eq!(parked[0].get::<_, Option<String>>(1).as_deref(), Some("adviser-210719164833-d4e80a2b6f915c37"));
    let runs =
        query(&db.database, "SELECT adviser_document_id, need_re_run FROM graph.adviser_run ORDER BY datetime").await;
    assert_eq!(runs.len(), 2);
    assert!(runs[0].get::<_, bool>(1) && !runs[1].get::<_, bool>(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_status_is_the_furthest_step_whatever_order_the_events_come_in() {
    let db = TestDatabase::migrated().await;
    let id = "solver-rhel-8-py38-0a1b2c3d";
    let stream = StreamId::workflow(id);
    let requested = WorkflowRequested {
        workflow_id: id.to_owned(),
        kind: WorkflowKind::Solver,
        namespace: "thoth-middletier".to_owned(),
        target: WorkflowTarget { package_name: Some("flask".to_owned()), ..WorkflowTarget::default() },
        parameters: Default::default(),
        trigger: Some("thoth.investigator.unresolved-package".to_owned()),
        version_source: None,
    };
    record_event(&db.database, stream.clone(), requested).await;
    // The watcher saw it start before the launcher recorded the submission.
    record_event(
        &db.database,
        stream.clone(),
        WorkflowStarted { workflow_id: id.to_owned(), started_at: "2026-11-20T10:00:00Z".to_owned() },
    )
    .await;
    record_event(
        &db.database,
        stream.clone(),
        WorkflowSubmitted { workflow_id: id.to_owned(), namespace: "thoth-middletier".to_owned() },
    )
    .await;
    let status = || async {
        let rows =
            query(&db.database, "SELECT status, kind, package_name, started_at IS NOT NULL FROM graph.workflow_run")
                .await;
        (
            rows[0].get::<_, String>(0),
            rows[0].get::<_, Option<String>>(1),
            rows[0].get::<_, Option<String>>(2),
            rows[0].get::<_, bool>(3),
        )
    };
    assert_eq!(status().await, ("running".to_owned(), Some("solver".to_owned()), Some("flask".to_owned()), true));
    let failed = WorkflowFailed {
        workflow_id: id.to_owned(),
        phase: "Error".to_owned(),
        finished_at: None,
        message: Some("pod deleted".to_owned()),
    };
    record_event(&db.database, stream, failed).await;
    assert_eq!(status().await.0, "failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_appended_without_projecting_are_caught_up_by_the_next_record() {
    let db = TestDatabase::migrated().await;
    let unprojected = AppendRequest {
        events: vec![NewEvent {
            stream: StreamId::package("six"),
            event: seen("six", "1.16.0").into(),
            metadata: EventMetadata::default(),
        }],
        ..AppendRequest::default()
    };
    store::append(&db.database, unprojected).await.expect("append only");
    record_event(&db.database, StreamId::package("attrs"), seen("attrs", "21.2.0")).await;
    let names: Vec<String> =
        query(&db.database, "SELECT package_name FROM graph.python_package_version_entity ORDER BY 1")
            .await
            .iter()
            .map(|row| row.get(0))
            .collect();
    assert_eq!(names, ["attrs", "six"]);
    let checkpoint = query(&db.database, "SELECT position FROM investigator.projection_checkpoint").await;
    assert_eq!(checkpoint[0].get::<_, i64>(0), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn recording_leaves_the_transactions_search_path_as_it_found_it() {
    let db = TestDatabase::migrated().await;
    let mut connection = db.database.connection().await.expect("connection");
    let transaction = connection.transaction().await.expect("transaction");
    let before: String = transaction.query_one("SHOW search_path", &[]).await.expect("search_path").get(0);
    let request = AppendRequest {
        events: vec![NewEvent {
            stream: StreamId::package("six"),
            event: seen("six", "1.16.0").into(),
            metadata: EventMetadata::default(),
        }],
        ..AppendRequest::default()
    };
    investigator_projections::record_in(&transaction, request).await.expect("recorded");
    let after: String = transaction.query_one("SHOW search_path", &[]).await.expect("search_path").get(0);
    assert_eq!(after, before);
    assert_ne!(after, "graph", "the projection's schema is not left behind");
    transaction.commit().await.expect("commit");
}
