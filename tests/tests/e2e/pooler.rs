//! Behind pgbouncer in transaction pooling, as Thoth deploys PostgreSQL (Debian's pgbouncer
//! 1.18: no prepared statements across transactions, no session state): every command works,
//! a stream is applied exactly once with no dead letter, concurrent API reads all answer, and a
//! pgbouncer restarted mid-stream loses and doubles nothing. Each test runs a pgbouncer of its
//! own, so it holds whatever pooler the rest of the run goes through.

use std::time::Duration;

use investigator_tests::{Service, TestDatabase, TestPooler, eventually, investigator};

use crate::pipeline::{SOLVERS, assert_each_requested_once, count};

const PYPI: &str = "https://pypi.org/simple";

/// The environment of a deployment on the embedded bus whose database is reached through
/// `pooler`.
fn pooled_env(database: &TestDatabase, pooler: &TestPooler) -> (String, Vec<(String, String)>) {
    let deployment = format!("pooled-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let env = vec![
        ("DATABASE_URL".to_owned(), pooler.url_for(&database.name)),
        // Empty is unset, and overrides the broker of the test run: the embedded bus.
        ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()),
        ("THOTH_DEPLOYMENT_NAME".to_owned(), deployment.clone()),
        ("THOTH_SOLVERS".to_owned(), SOLVERS.to_owned()),
        ("INVESTIGATOR_INDEX_TIMEOUT_MS".to_owned(), "0".to_owned()),
    ];
    (deployment, env)
}

/// A messaging-CLI file of `count` unresolved-package messages, `prefix`-named.
fn messages_file(directory: &std::path::Path, prefix: &str, count: usize) -> std::path::PathBuf {
    let messages: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            serde_json::json!({"topic_name": "thoth.investigator.unresolved-package", "message_contents": {
                "package_name": format!("{prefix}-{i}"), "package_version": "1.0.0", "index_url": PYPI}})
        })
        .collect();
    let path = directory.join(format!("{prefix}.json"));
    std::fs::write(&path, serde_json::to_vec(&messages).expect("JSON")).expect("the messages file");
    path
}

async fn emit_file(env: &[(String, String)], path: &std::path::Path) {
    let sent = investigator(&["emit", "--from-file", &path.display().to_string()], env).await;
    assert_eq!(sent.code, Some(0), "{}", sent.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn through_pgbouncer_every_command_works_and_a_stream_is_applied_exactly_once() {
    let (database, pooler) = (TestDatabase::create().await, TestPooler::start());
    let (_, env) = pooled_env(&database, &pooler);
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let service = Service::start(&env).await;
    let messages = 2_000;
    emit_file(&env, &messages_file(scratch.path(), "pooled", messages)).await;

    // 400 reads at once while the stream is applied: none may fail for the pooler.
    let reads = (0..400).map(|i| {
        let path = match i % 4 {
            0 => "/api/v1/status".to_owned(),
            1 => format!("/api/v1/python/package/versions?name=pooled-{i}"),
            2 => "/api/v1/dead-letters".to_owned(),
            _ => "/api/v1/events?limit=20".to_owned(),
        };
        let service = &service;
        async move { (path.clone(), service.get(&path).await.0) }
    });
    let answers = futures_util::future::join_all(reads).await;
    let failed: Vec<_> = answers.iter().filter(|(_, status)| *status >= 500).collect();
    assert!(failed.is_empty(), "{} of 400 reads failed: {:?}", failed.len(), &failed[..failed.len().min(5)]);

    eventually("every message applied", Duration::from_secs(120), || async {
        count(&database.database, "SELECT coalesce(sum(next_offset), 0)::int8 FROM investigator.consumer_offset").await
            == messages as i64
    })
    .await;
    assert_each_requested_once(&database, messages as i64).await;
    let (_, metrics) = service.get("/metrics").await;
    assert!(!metrics.contains("investigator_degraded{component=\"pipeline\"} 1"), "no outage through the pooler");
    drop(service);

    // Every command, twice: a second process must not meet the first one's statements.
    let archive = scratch.path().join("log.archive");
    let document = format!("{}/data/documents", env!("CARGO_MANIFEST_DIR"));
    for round in 0..2 {
        let archive_path = archive.display().to_string();
        let _ = std::fs::remove_file(&archive);
        for args in [
            vec!["migrate"],
            vec!["events", "export", archive_path.as_str()],
            vec!["events", "tail", "--last", "3"],
            vec!["replay", "--verify"],
            vec!["replay"],
            vec!["offsets", "reset", "--topic", "thoth.investigator.unresolved-package", "--to", "latest"],
        ] {
            let run = investigator(&args, &env).await;
            assert_eq!(run.code, Some(0), "round {round}: investigator {}: {}", args.join(" "), run.stderr);
        }
        let synced = investigator(&["sync", &document], &env).await;
        // Three sample documents are broken on purpose; the others sync (or are there already).
        assert!(synced.stdout.contains("3 failed"), "round {round}: {}\n{}", synced.stdout, synced.stderr);
        assert!(!synced.stderr.contains("prepared statement"), "{}", synced.stderr);
    }
    let imported = TestDatabase::create().await;
    let import_env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| {
            if name == "DATABASE_URL" {
                (name.clone(), pooler.url_for(&imported.name))
            } else {
                (name.clone(), value.clone())
            }
        })
        .collect();
    let run = investigator(&["events", "import", &archive.display().to_string()], &import_env).await;
    assert_eq!(run.code, Some(0), "events import: {}", run.stderr);
    assert_eq!(count(&imported.database, "SELECT count(*) FROM graph.workflow_run").await, messages as i64 * 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn pgbouncer_restarted_mid_stream_loses_nothing_and_doubles_nothing() {
    let (database, pooler) = (TestDatabase::create().await, TestPooler::start());
    let (_, env) = pooled_env(&database, &pooler);
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let service = Service::start(&env).await;
    let rounds = 4;
    let per_round = 150;
    for round in 0..rounds {
        emit_file(&env, &messages_file(scratch.path(), &format!("restart-{round}"), per_round)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Every client connection is cut, mid-batch or not.
        pooler.restart();
    }
    let total = (rounds * per_round) as i64;
    eventually("every message applied", Duration::from_secs(120), || async {
        count(&database.database, "SELECT coalesce(sum(next_offset), 0)::int8 FROM investigator.consumer_offset").await
            == total
    })
    .await;
    assert_each_requested_once(&database, total).await;
    eventually("healthy again", Duration::from_secs(30), || async {
        let (_, health) = service.get("/_health").await;
        health.contains("\"ready\"")
    })
    .await;
}

/// Statements left prepared on the two server connections (each asked in turn, in the simple
/// protocol, which prepares nothing).
async fn prepared_on_the_servers(pooled_url: &str) -> i64 {
    let (client, connection) =
        tokio_postgres::connect(pooled_url, tokio_postgres::NoTls).await.expect("through pgbouncer");
    tokio::spawn(connection);
    let mut total = 0;
    for _ in 0..2 {
        let messages = client.simple_query("SELECT count(*) FROM pg_prepared_statements").await.expect("the count");
        total += messages
            .iter()
            .find_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).and_then(|count| count.parse::<i64>().ok()),
                _ => None,
            })
            .expect("a row");
    }
    total
}

/// The lease is taken and renewed every few seconds by every replica: a statement still open
/// at its transaction's commit (a row holding it) is closed after, on whichever server
/// connection pgbouncer hands out then, and stays prepared on the first, where another
/// process's statement of the same name fails ("prepared statement "s11" already exists").
#[tokio::test(flavor = "multi_thread")]
async fn taking_and_renewing_the_lease_leaves_no_statement_prepared_on_the_servers() {
    use investigator_projections::lease;
    let database = TestDatabase::migrated().await;
    let pooler = TestPooler::with_two_server_connections_in_turn();
    let url = pooler.url_for(&database.name);
    // Both server connections opened: two transactions at once.
    let (first, second) = (
        investigator_projections::Database::connect_lazy(&url, 1).expect("a pool"),
        investigator_projections::Database::connect_lazy(&url, 1).expect("a pool"),
    );
    let (mut one, mut two) = (first.connection().await.expect("one"), second.connection().await.expect("two"));
    let (a, b) = (one.transaction().await.expect("a"), two.transaction().await.expect("b"));
    a.batch_execute("SELECT 1").await.expect("a server");
    b.batch_execute("SELECT 1").await.expect("another server");
    drop((a, b));
    drop((one, two));
    let ttl = Duration::from_secs(30);
    let held = lease::acquire(&first, "pooler-test", "replica-a", ttl).await.expect("taken").expect("free");
    lease::renew(&first, &held.token, ttl).await.expect("renewed").expect("still held");
    assert!(lease::acquire(&second, "pooler-test", "replica-b", ttl).await.expect("asked").is_none());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(prepared_on_the_servers(&url).await, 0, "statements left prepared on the server connections");
}
