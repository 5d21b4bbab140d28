//! Each kind of message, produced to the broker, becomes the events, projections and
//! workflow requests thoth-wire.md §3.7 describes (with Thoth's quirks fixed).

use std::time::Duration;

use investigator_events::thoth::MessageKind;
use investigator_tests::{TestDatabase, TestKafka, eventually, investigator};

use super::messages::*;
use super::{applied_records, count, publish, serve, texts};

#[tokio::test(flavor = "multi_thread")]
async fn every_message_kind_leads_to_its_effects_and_bad_records_to_dead_letters() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[]).await;

    let messages = vec![
        unresolved("Flask", "2.0.1", PYPI),
        unresolved("flask", "2.0.1", "https://unknown.example.org/simple"),
        released("requests", "2.31.0"),
        unrevsolved("urllib3", "2.0.0"),
        missing_version("six", "1.16.0"),
        adviser_trigger("adviser-e2e-1"),
        kebechet_run_url("kebechet-run-url-e2e-1"),
        source_distro("requests", "2.31.0", false),
        solved("flask", "2.0.1", "solver-rhel-8-py38"),
    ];
    publish(&kafka, &messages).await;
    let unresolved_topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    kafka.send_raw(&unresolved_topic, b"{not json").await;
    let future_version = br#"{"component_name": "c", "service_version": "1", "version": "v9", "index_url": "https://pypi.org/simple", "package_name": "six", "package_version": "1.0"}"#;
    kafka.send_raw(&kafka.naming().topic(MessageKind::MissingVersion), future_version).await;

    let total = messages.len() as i64 + 2;
    eventually("every record applied", Duration::from_secs(60), || async {
        applied_records(&database.database).await == total
    })
    .await;

    let db = &database.database;
    let kinds = texts(db, "SELECT kind || ':' || count(*) FROM graph.workflow_run GROUP BY kind ORDER BY kind").await;
    assert_eq!(
        kinds,
        [
            "adviser:1",
            "kebechet-administrator:2",
            "kebechet-run-url:1",
            "revsolver:2",
            "security-indicator:1",
            "solver:4",
        ],
        "flask and requests get both solvers; requests and urllib3 a revsolver; six and the solved flask a \
         kebechet-administrator; the solved flask its security indicators"
    );
    let solver_targets = texts(
        db,
        "SELECT package_name || ' ' || package_version || ' ' || solver_name FROM graph.workflow_run
         WHERE kind = 'solver' ORDER BY 1",
    )
    .await;
    assert_eq!(
        solver_targets,
        [
            "flask 2.0.1 solver-fedora-35-py310",
            "flask 2.0.1 solver-rhel-8-py38",
            "requests 2.31.0 solver-fedora-35-py310",
            "requests 2.31.0 solver-rhel-8-py38",
        ]
    );
    eventually("the log launcher wrote every workflow to the log", Duration::from_secs(20), || async {
        texts(db, "SELECT status FROM graph.workflow_run").await.iter().all(|status| status == "submitted")
    })
    .await;
    let run_url_metadata =
        texts(db, "SELECT parameters ->> 'KEBECHET_METADATA' FROM graph.workflow_run WHERE kind = 'kebechet-run-url'")
            .await;
    assert!(run_url_metadata[0].contains("numpy"), "the metadata is passed on: {run_url_metadata:?}");
    assert_eq!(
        texts(db, "SELECT workflow_id FROM graph.workflow_run WHERE kind = 'adviser'").await,
        ["adviser-e2e-1"],
        "user-triggered workflows keep the job id"
    );

    let dead = texts(db, "SELECT reason_code FROM graph.dead_letter ORDER BY reason_code").await;
    assert_eq!(dead, ["malformed_json", "unknown_schema_version", "unregistered_index"]);
    assert_eq!(
        count(db, "SELECT count(*) FROM graph.python_package_version_entity WHERE package_name = 'six' AND is_missing")
            .await,
        1,
        "missing-package-version marks the version missing"
    );
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM investigator.event_log WHERE event_type = 'SourceDistributionFlagSet'
             AND metadata -> 'source' ->> 'topic' LIKE '%update-provides-source-distro'"
        )
        .await,
        1
    );

    let dead_letter_topic = kafka.naming().topic_for_base_name("thoth.investigator.dead-letter");
    let copies = kafka.read_topic(&dead_letter_topic, 3).await;
    assert_eq!(copies.len(), 3, "each dead letter is copied to the dead-letter topic");
    assert!(copies.iter().any(|record| record.payload == b"{not json"), "with the original bytes");
    assert!(
        copies.iter().all(|record| record.header_count == 9),
        "and the reason, coordinates, event type, content type, trace and log position in headers"
    );
    assert!(
        copies.iter().all(|record| record.key.as_deref().is_some_and(|key| key.starts_with(b"dead-letter:"))),
        "keyed by the dead letter's stream"
    );

    let processed = service.metric("thoth_investigator_processed_total{message_type=\"unresolved_package\"}").await;
    assert_eq!(processed, Some(1.0), "Thoth's metrics count handled messages");
    let (status, body) = service.get("/_health").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"status\":\"ready\""), "{body}");
    assert_eq!(service.stop().await, Some(0), "SIGTERM stops the service cleanly");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_halted_topic_waits_for_resume_and_then_catches_up() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[("INVESTIGATOR_API_TOKEN", "s3cret")]).await;

    let (status, body) = service.post("/halt/thoth.investigator.unrevsolved-package", Some("s3cret"), b"").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = service.post("/halt/thoth.no-such-topic", Some("s3cret"), b"").await;
    assert_eq!(status, 422);
    assert!(body.contains("No corresponding message type found"), "{body}");

    publish(&kafka, &[unrevsolved("urllib3", "2.0.0"), released("requests", "2.31.0")]).await;
    eventually("the other topic is applied", Duration::from_secs(60), || async {
        applied_records(&database.database).await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let db = &database.database;
    assert_eq!(count(db, "SELECT count(*) FROM graph.workflow_run WHERE package_name = 'urllib3'").await, 0, "halted");
    assert_eq!(
        service
            .metric("thoth_investigator_halted_topics{base_topic_name=\"thoth.investigator.unrevsolved-package\"}")
            .await,
        Some(1.0)
    );

    let (status, body) = service.post("/resume/thoth.investigator.unrevsolved-package", Some("s3cret"), b"").await;
    assert_eq!(status, 200);
    assert!(body.contains("Successfully resumed consumption of"), "{body}");
    eventually("the halted message is applied after resume", Duration::from_secs(60), || async {
        count(db, "SELECT count(*) FROM graph.workflow_run WHERE package_name = 'urllib3'").await == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_on_a_halt_on_fail_topic_halts_it_at_the_message() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let _service =
        serve(&kafka, &database, &[("THOTH_INVESTIGATOR_HALT_ON_FAIL", "thoth.investigator.unresolved-package")]).await;

    publish(
        &kafka,
        &[
            unresolved("flask", "2.0.1", "https://unknown.example.org/simple"),
            unresolved("click", "8.1.0", PYPI),
            released("attrs", "23.1.0"),
        ],
    )
    .await;
    let db = &database.database;
    eventually("the other topic is applied", Duration::from_secs(60), || async {
        count(db, "SELECT count(*) FROM graph.workflow_run WHERE package_name = 'attrs'").await > 0
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(count(db, "SELECT count(*) FROM graph.dead_letter").await, 0, "no dead letter: the topic halted");
    assert_eq!(
        count(db, "SELECT count(*) FROM graph.workflow_run WHERE package_name = 'click'").await,
        0,
        "nothing after the failed message is applied"
    );
    assert_eq!(
        count(db, "SELECT next_offset FROM investigator.consumer_offset WHERE topic LIKE '%unresolved-package'").await,
        0,
        "the stored offset stays at the failed message"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parked_adviser_is_re_run_once_when_its_last_package_is_solved_for_its_environment() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let parked = crate::knowledge_graph::documents_dir().join("adviser/adviser-210714091502-7c1f3b1a9d2e4f60.json");
    let synced = investigator_tests::investigator(&["sync", &parked.display().to_string()], &database.vars()).await;
    assert_eq!(synced.code, Some(0), "{}", synced.stderr);
    let db = &database.database;
    assert_eq!(texts(db, "SELECT status FROM graph.parked_adviser").await, ["parked"], "it waits for tensorflow");

    let service = serve(&kafka, &database, &[]).await;
    publish(
        &kafka,
        &[
            solved("tensorflow", "2.5.0", "solver-fedora-35-py310"),
            solved("tensorflow", "2.5.0", "solver-rhel-8-py38"),
            solved("tensorflow", "2.5.0", "solver-rhel-8-py38"),
        ],
    )
    .await;
    eventually("every record applied", Duration::from_secs(60), || async { applied_records(db).await == 3 }).await;

    let re_runs =
        texts(db, "SELECT parameters ->> 'THOTH_ADVISER_METADATA' FROM graph.workflow_run WHERE kind = 'adviser'")
            .await;
    assert_eq!(re_runs.len(), 1, "one re-run, though the solver result came twice and for another environment too");
    assert!(
        re_runs[0].contains("adviser-210714091502-7c1f3b1a9d2e4f60"),
        "it names the run it repeats: {}",
        re_runs[0]
    );
    assert_eq!(texts(db, "SELECT status FROM graph.parked_adviser").await, ["re-run-requested"]);
    drop(service);
}

/// The loop closed through Ceph's naming: a solver workflow's name is the id of the document
/// the solver writes, and Thoth's tools (and `investigator sync`) read the solver back as that
/// id without its last two parts (`<solver>-<yymmddHHMMSS>-<hex>`). A name without the time
/// read back as `solver-rhel-8`, and the document was refused.
#[tokio::test(flavor = "multi_thread")]
async fn the_document_a_requested_solver_writes_under_its_workflows_name_is_synced_as_that_solvers() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[]).await;
    let published = chrono::Utc::now();
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI)]).await;
    let sql = "SELECT workflow_id FROM graph.workflow_run WHERE solver_name = 'solver-rhel-8-py38'";
    eventually("the solver workflow requested", Duration::from_secs(30), || async {
        count(&database.database, &format!("SELECT count(*) FROM ({sql}) requested")).await == 1
    })
    .await;
    assert_eq!(service.stop().await, Some(0));
    let name: String = database.sql().await.query_one(sql, &[]).await.expect("the workflow's name").get(0);

    let parts: Vec<&str> = name.rsplitn(3, '-').collect();
    assert_eq!(parts[2], "solver-rhel-8-py38", "{name}");
    assert!(parts[0].len() == 16 && parts[0].bytes().all(|byte| byte.is_ascii_hexdigit()), "{name}");
    let named_at = chrono::NaiveDateTime::parse_from_str(parts[1], "%y%m%d%H%M%S")
        .unwrap_or_else(|error| panic!("{name}: the time part does not read as yymmddHHMMSS: {error}"));
    let drift = (named_at.and_utc() - published).num_seconds().abs();
    assert!(drift <= 60, "{name}: named {drift} s away from the record's publication");

    let fixture =
        crate::knowledge_graph::documents_dir().join("solver/solver-rhel-8-py38-210713010253-a24759ebdaa1442c.json");
    let mut document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture).expect("the solver document")).expect("JSON");
    document["metadata"]["document_id"] = serde_json::Value::from(name.clone());
    let ceph = tempfile::tempdir().expect("a directory for the document");
    std::fs::write(ceph.path().join(format!("{name}.json")), document.to_string()).expect("the document written");
    let synced = investigator(&["sync", &ceph.path().display().to_string()], &database.vars()).await;
    assert_eq!(synced.code, Some(0), "{}\n{}", synced.stdout, synced.stderr);
    assert!(synced.stdout.contains("1 document(s): 1 synced"), "{}", synced.stdout);
    let solved_in = texts(
        &database.database,
        "SELECT os_name || '-' || os_version || '-' || python_version FROM graph.python_package_version \
         WHERE package_name = 'flask' AND package_version = '2.0.1'",
    )
    .await;
    assert_eq!(solved_in, ["rhel-8-3.8"]);
}
