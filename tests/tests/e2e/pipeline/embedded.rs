//! Without Kafka: `investigator emit` puts messages on the embedded bus in the database and
//! `investigator serve` reads them, with the same offsets and exactly-once path.

use std::time::Duration;

use investigator_tests::{Service, TestDatabase, eventually, investigator};

use super::{SOLVERS, applied_records, texts};

#[tokio::test(flavor = "multi_thread")]
async fn without_kafka_serve_reads_what_emit_puts_on_the_embedded_bus() {
    let database = TestDatabase::create().await;
    let deployment = format!("bus-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut env = database.vars();
    env.extend([
        // Empty is unset, and overrides the broker of the test run.
        ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()),
        ("THOTH_DEPLOYMENT_NAME".to_owned(), deployment.clone()),
        ("THOTH_SOLVERS".to_owned(), SOLVERS.to_owned()),
    ]);
    let service = Service::start(&env).await;
    let unresolved = r#"{"package_name": "flask", "package_version": "2.0.1", "index_url": "https://pypi.org/simple"}"#;
    let sent = investigator(&["emit", "thoth.investigator.unresolved-package", "--json", unresolved], &env).await;
    assert_eq!(sent.code, Some(0), "{}", sent.stderr);
    assert!(sent.stdout.contains("(embedded bus, offset 0)"), "{}", sent.stdout);
    let db = &database.database;
    eventually("the message applied", Duration::from_secs(30), || async { applied_records(db).await == 1 }).await;
    assert_eq!(texts(db, "SELECT kind FROM graph.workflow_run").await, ["solver", "solver"]);

    service.kill().await;
    let missing = r#"{"package_name": "six", "package_version": "1.16.0", "index_url": "https://pypi.org/simple"}"#;
    let sent = investigator(&["emit", "thoth.package-update.missing-package-version", "--json", missing], &env).await;
    assert_eq!(sent.code, Some(0), "{}", sent.stderr);
    let _service = Service::start(&env).await;
    eventually("the next message applied after a restart", Duration::from_secs(30), || async {
        applied_records(db).await == 2
    })
    .await;
    assert_eq!(
        texts(db, "SELECT kind FROM graph.workflow_run ORDER BY kind").await,
        ["kebechet-administrator", "solver", "solver"],
        "nothing applied twice"
    );
    let topic = format!("{deployment}.thoth.investigator.unresolved-package");
    assert_eq!(
        texts(
            db,
            &format!("SELECT topic FROM investigator.consumer_offset WHERE topic = '{topic}' AND next_offset = 1")
        )
        .await,
        [topic],
        "bus offsets are stored like Kafka's"
    );
}
