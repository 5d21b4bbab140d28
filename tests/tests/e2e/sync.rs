//! `investigator sync`, `replay --verify` and `events tail`, as a user runs them.

use investigator_tests::{TestDatabase, investigator};
use serde_json::Value;

use crate::knowledge_graph::documents_dir;

#[tokio::test(flavor = "multi_thread")]
async fn sync_loads_good_documents_names_each_bad_one_and_is_idempotent() {
    let db = TestDatabase::create().await;
    let documents = documents_dir().display().to_string();

    let first = investigator(&["sync", &documents], &db.vars()).await;
    assert_eq!(first.code, Some(1), "some documents are invalid: {}", first.stderr);
    let out = &first.stdout;
    assert!(out.contains("15 document(s): 12 synced, 0 already present, 3 failed"), "{out}");
    let failure = |file: &str| {
        out.lines().find(|line| line.starts_with("failed") && line.contains(file)).unwrap_or_default().to_owned()
    };
    assert!(
        failure("solver-rhel-8-py38-210801000000-0000000000000bad.json")
            .contains("field 'result.tree[0].dependencies[0].specifier': invalid type: integer `7`, expected a string"),
        "{out}"
    );
    assert!(
        failure("solver-nonsense-210801000001-0000000000000bad.json").contains("field 'metadata.document_id'"),
        "{out}"
    );
    assert!(failure("truncated.json").contains("truncated"), "{out}");

    let again =
        investigator(&["sync", &format!("{documents}/solver"), &format!("{documents}/adviser")], &db.vars()).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stdout.contains("12 document(s): 0 synced, 12 already present, 0 failed"), "{}", again.stdout);

    let verified = investigator(&["replay", "--verify"], &db.vars()).await;
    assert_eq!(verified.code, Some(0), "{}\n{}", verified.stdout, verified.stderr);

    let tail = investigator(&["events", "tail", "--from", "1", "--type", "AdviserParked"], &db.vars()).await;
    assert_eq!(tail.code, Some(0), "{}", tail.stderr);
    let lines: Vec<Value> = tail.stdout.lines().map(|line| serde_json::from_str(line).expect("JSON lines")).collect();
    assert_eq!(lines.len(), 1, "{}", tail.stdout);
    assert_eq!(lines[0]["payload"]["unresolved"][0]["package_name"], "tensorflow");
    assert_eq!(lines[0]["stream"], "adviser:adviser-210714091502-7c1f3b1a9d2e4f60");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_tail_shows_the_last_events_of_a_type_and_refuses_an_unknown_type() {
    let db = TestDatabase::create().await;
    let solver_documents = documents_dir().join("solver").display().to_string();
    let adviser_documents = documents_dir().join("adviser").display().to_string();
    // Solver results first, adviser documents after them: the last solver results lie further
    // back than the last two positions.
    for documents in [&solver_documents, &adviser_documents] {
        let synced = investigator(&["sync", documents], &db.vars()).await;
        assert_eq!(synced.code, Some(0), "{}", synced.stderr);
    }
    let positions = |stdout: &str| -> Vec<(i64, String)> {
        stdout
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("JSON lines"))
            .map(|event| {
                (event["position"].as_i64().expect("a position"), event["type"].as_str().unwrap_or_default().to_owned())
            })
            .collect()
    };
    let every = investigator(&["events", "tail", "--from", "1", "--type", "SolverResultRecorded"], &db.vars()).await;
    let every = positions(&every.stdout);
    assert!(every.len() > 2, "the documents hold several solver results: {every:?}");
    let newest = investigator(&["events", "tail", "--last", "1"], &db.vars()).await;
    assert_ne!(positions(&newest.stdout)[0].1, "SolverResultRecorded", "the newest event is of another type");

    let last_two = investigator(&["events", "tail", "--type", "SolverResultRecorded", "--last", "2"], &db.vars()).await;
    assert_eq!(last_two.code, Some(0), "{}", last_two.stderr);
    assert_eq!(positions(&last_two.stdout), every[every.len() - 2..], "the last two of the type, wherever they lie");

    let unknown = investigator(&["events", "tail", "--type", "SolverResultRecordd"], &db.vars()).await;
    assert_eq!(unknown.code, Some(2), "a misspelt type is a wrong invocation: {}", unknown.stderr);
    assert!(unknown.stderr.contains("--type: 'SolverResultRecordd' is not an event type"), "{}", unknown.stderr);
    assert!(unknown.stderr.contains("SolverResultRecorded, ") || unknown.stderr.contains(", SolverResultRecorded"));
    assert!(unknown.stdout.is_empty(), "{}", unknown.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_that_need_a_database_say_so() {
    // Empty counts as unset (and overrides what the test process has): the private server is
    // used, and without PostgreSQL's binaries that is a clear error.
    let missing = investigator(
        &["migrate"],
        &[
            ("DATABASE_URL".to_owned(), String::new()),
            ("INVESTIGATOR_POSTGRES_BIN".to_owned(), "/nonexistent/bin".to_owned()),
        ],
    )
    .await;
    assert_eq!(missing.code, Some(2));
    assert!(missing.stderr.contains("no PostgreSQL server binaries were found"), "{}", missing.stderr);
    assert!(missing.stderr.contains("apt-get install postgresql"), "{}", missing.stderr);
    let nothing = investigator(
        &["sync", "/nonexistent/documents"],
        &[("DATABASE_URL".to_owned(), "postgresql://127.0.0.1:1/x".to_owned())],
    )
    .await;
    assert_eq!(nothing.code, Some(2));
    assert!(nothing.stderr.contains("/nonexistent/documents"), "{}", nothing.stderr);

    let empty = TestDatabase::create().await;
    let tail = investigator(&["events", "tail"], &empty.vars()).await;
    assert_eq!(tail.code, Some(2));
    assert!(tail.stderr.contains("has no event log yet: run `investigator migrate`"), "{}", tail.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_database_url_a_private_server_under_the_data_directory_is_used() {
    let cluster = investigator_tests::PrivateCluster::directory();
    let env = [
        ("DATABASE_URL".to_owned(), String::new()),
        ("INVESTIGATOR_DATA_DIR".to_owned(), cluster.path().display().to_string()),
    ];
    let migrated = investigator(&["migrate"], &env).await;
    assert_eq!(migrated.code, Some(0), "{}", migrated.stderr);
    assert!(cluster.path().join("postgres/data/PG_VERSION").is_file(), "the cluster is under the data directory");
    let solver_documents = documents_dir().join("solver").display().to_string();
    let synced = investigator(&["sync", &solver_documents], &env).await;
    assert_eq!(synced.code, Some(0), "the next command finds the running server: {}", synced.stderr);
    let tail = investigator(&["events", "tail", "--last", "1"], &env).await;
    assert_eq!(tail.code, Some(0), "{}", tail.stderr);
    assert!(tail.stdout.contains("\"type\":\"SolverResultRecorded\""), "{}", tail.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_tail_follow_prints_events_as_they_are_appended() {
    use tokio::io::AsyncBufReadExt;

    let db = TestDatabase::migrated().await;
    let mut child = tokio::process::Command::new(investigator_tests::investigator_binary())
        .args(["events", "tail", "--follow"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start tail");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();

    crate::knowledge_graph::sync_document(&db.database, "adviser/adviser-210719164833-d4e80a2b6f915c37.json").await;
    let line = tokio::time::timeout(std::time::Duration::from_secs(10), lines.next_line())
        .await
        .expect("a line within 10 s")
        .expect("read")
        .expect("a line");
    let event: Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!(event["type"], "AdviserRunRecorded");
    assert_eq!(event["position"], 1);
    child.start_kill().expect("stop tail");
}
