//! The harness itself: fresh databases and topics per test, cleaned up afterwards.

use investigator_tests::{TestDatabase, TestKafka, investigator};

#[tokio::test(flavor = "multi_thread")]
async fn each_test_database_is_fresh_and_is_dropped_afterwards() {
    let first = TestDatabase::create().await;
    let second = TestDatabase::create().await;
    assert_ne!(first.name, second.name);

    let info = first.database.server_info().await.expect("reachable");
    assert_eq!(info.database, first.name);
    assert!(info.version.starts_with(|c: char| c.is_ascii_digit()), "{}", info.version);

    let client = first.sql().await;
    client.batch_execute("CREATE TABLE only_here (id int)").await.expect("create table");
    let other = second.sql().await;
    let visible: i64 = other
        .query_one("SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_here'", &[])
        .await
        .expect("query")
        .get(0);
    assert_eq!(visible, 0, "databases do not share tables");
    drop((client, other));

    let name = first.name.clone();
    drop(first);
    let still_there: i64 = second
        .sql()
        .await
        .query_one("SELECT count(*) FROM pg_database WHERE datname = $1", &[&name])
        .await
        .expect("query")
        .get(0);
    assert_eq!(still_there, 0, "the dropped test database is gone");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_test_gets_its_own_topics_which_are_deleted_afterwards() {
    let first = TestKafka::new();
    let second = TestKafka::new();
    assert_ne!(first.deployment, second.deployment);
    assert!(first.topic_records().await.iter().all(|(_, records)| records.is_none()), "fresh: nothing exists yet");

    let created = investigator(&["topics", "create"], &first.vars()).await;
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    assert!(first.topic_records().await.iter().all(|(_, records)| *records == Some(0)));
    assert!(second.topic_records().await.iter().all(|(_, records)| records.is_none()), "not shared with another test");

    let vars = first.vars();
    drop(first);
    let after = investigator(&["topics", "list"], &vars).await;
    assert_eq!(after.stdout.lines().filter(|line| line.starts_with("missing")).count(), 21, "{}", after.stdout);
}
