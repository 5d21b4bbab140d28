//! The event log on a real PostgreSQL: positions in commit order, optimistic concurrency,
//! idempotency, append-only, upcasting of stored old versions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use investigator_events::domain::*;
use investigator_projections::store::{self, AppendOutcome, AppendRequest, ExpectedVersion, NewEvent, StoreError};
use investigator_tests::TestDatabase;

fn seen(name: &str, version: &str) -> NewEvent {
    NewEvent {
        stream: StreamId::package(name),
        event: PackageVersionSeen {
            package_name: name.to_owned(),
            package_version: version.to_owned(),
            index_url: "https://pypi.org/simple".to_owned(),
        }
        .into(),
        metadata: EventMetadata { origin: Some("test".to_owned()), ..EventMetadata::default() },
    }
}

fn request(events: Vec<NewEvent>) -> AppendRequest {
    AppendRequest { events, ..AppendRequest::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn appended_events_read_back_in_order_with_gapless_positions_and_stream_versions() {
    let db = TestDatabase::migrated().await;
    store::append(&db.database, request(vec![seen("flask", "2.0.1"), seen("click", "8.0.1")])).await.expect("append");
    store::append(&db.database, request(vec![seen("flask", "2.0.2")])).await.expect("append");

    let client = db.sql().await;
    let events = store::read_from(&client, 0, 100).await.expect("read");
    let summary: Vec<(i64, &str, i64)> =
        events.iter().map(|event| (event.position, event.stream.as_str(), event.stream_version)).collect();
    assert_eq!(summary, [(1, "package:flask", 1), (2, "package:click", 1), (3, "package:flask", 2)]);
    assert_eq!(events[2].event, seen("flask", "2.0.2").event);
    assert_eq!(events[0].metadata.origin.as_deref(), Some("test"));
    assert_eq!(store::head_position(&client).await.expect("head"), 3);
    assert_eq!(store::read_from(&client, 2, 100).await.expect("read").len(), 1, "reading starts after the position");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unexpected_stream_version_is_a_conflict_and_appends_nothing() {
    let db = TestDatabase::migrated().await;
    let flask = StreamId::package("flask");
    let mut first = request(vec![seen("flask", "1.0")]);
    first.expected = vec![(flask.clone(), ExpectedVersion::NoStream)];
    store::append(&db.database, first.clone()).await.expect("the stream was empty");

    let error = store::append(&db.database, first).await.expect_err("no longer empty");
    assert!(
        matches!(&error, StoreError::Conflict { stream, actual: 1, expected: ExpectedVersion::NoStream } if *stream == flask),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "stream 'package:flask' is at version 1, but the append expected no stream");

    let mut stale = request(vec![seen("flask", "1.1"), seen("click", "8.0")]);
    stale.expected = vec![(flask.clone(), ExpectedVersion::Exactly(0))];
    assert!(matches!(store::append(&db.database, stale).await, Err(StoreError::Conflict { actual: 1, .. })));

    let mut current = request(vec![seen("flask", "1.1")]);
    current.expected = vec![(flask, ExpectedVersion::Exactly(1))];
    store::append(&db.database, current).await.expect("the expected version holds");

    let client = db.sql().await;
    let streams: Vec<String> =
        store::read_from(&client, 0, 100).await.expect("read").iter().map(|event| event.stream.to_string()).collect();
    assert_eq!(streams, ["package:flask", "package:flask"], "the refused batches left nothing, click included");
}

#[tokio::test(flavor = "multi_thread")]
async fn reappending_with_the_same_idempotency_key_appends_nothing() {
    let db = TestDatabase::migrated().await;
    let mut batch = request(vec![seen("six", "1.16.0"), seen("six", "1.15.0")]);
    batch.idempotency_key = Some("kafka:thoth.package-released:0:41".to_owned());
    let first = store::append(&db.database, batch.clone()).await.expect("append");
    assert!(matches!(&first, AppendOutcome::Appended(events) if events.len() == 2));

    let again = store::append(&db.database, batch).await.expect("idempotent");
    assert_eq!(again, AppendOutcome::AlreadyAppended { first_position: 1, event_count: 2 });
    let client = db.sql().await;
    assert_eq!(store::head_position(&client).await.expect("head"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_error_is_described_with_the_servers_message_and_its_sqlstate() {
    let db = TestDatabase::migrated().await;
    let client = db.sql().await;
    let error = client.batch_execute("SELECT * FROM investigator.no_such_table").await.expect_err("no such table");
    assert_eq!(error.to_string(), "db error", "the driver's own text says nothing");
    let described = investigator_projections::fault::describe(&error);
    assert!(described.contains("no_such_table") && described.contains("does not exist"), "{described}");
    assert!(described.ends_with("(SQLSTATE 42P01)"), "{described}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_refuses_updates_deletes_and_truncation() {
    let db = TestDatabase::migrated().await;
    store::append(&db.database, request(vec![seen("attrs", "21.2.0")])).await.expect("append");
    let client = db.sql().await;
    for statement in [
        "UPDATE investigator.event_log SET event_type = 'X'",
        "DELETE FROM investigator.event_log",
        "TRUNCATE investigator.event_log",
    ] {
        let error = client.batch_execute(statement).await.expect_err(statement);
        assert!(format!("{error:?}").contains("append-only"), "{statement}: {error:?}");
    }
    assert_eq!(store::read_from(&client, 0, 10).await.expect("read").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_stored_by_an_older_schema_version_are_upcast_when_read() {
    let db = TestDatabase::migrated().await;
    let client = db.sql().await;
    // What a build of schema v1 wrote.
    client
        .batch_execute(
            "INSERT INTO investigator.event_log VALUES \
             (1, 'index:https://pypi.org/simple', 1, 'IndexRegistered', 1, \
              '{\"url\": \"https://pypi.org/simple\", \"verify_ssl\": true, \"enabled\": true}', '{}', now()), \
             (2, 'package:flask', 1, 'SourceDistributionFlagSet', 1, \
              '{\"package_name\": \"flask\", \"package_version\": \"2.0.1\", \"index_url\": \"https://pypi.org/simple\", \
                \"is_si_analyzable\": false}', '{}', now()); \
             UPDATE investigator.log_head SET position = 2",
        )
        .await
        .expect("store v1 events");
    let events = store::read_from(&client, 0, 10).await.expect("old versions are readable");
    assert_eq!(
        events[0].event,
        DomainEvent::from(IndexRegistered {
            url: "https://pypi.org/simple".to_owned(),
            warehouse_api_url: None,
            verify_ssl: true,
            only_if_package_seen: true,
            enabled: true,
        })
    );
    assert!(matches!(
        &events[1].event,
        DomainEvent::SourceDistributionFlagSet(flag) if !flag.provides_source_distro
    ));
}

/// The bug that bites most Postgres event stores: a sequence hands out positions at insert,
/// not at commit, so a follower can read position 11 before 10 commits and skip 10 forever.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writers_with_rollbacks_give_a_follower_every_committed_event_exactly_once() {
    const WRITERS: usize = 4;
    const TRANSACTIONS: usize = 40;
    let db = TestDatabase::migrated().await;
    let pool = db.pool(WRITERS + 2);
    let writers_done = Arc::new(AtomicBool::new(false));

    let follower = {
        let pool = pool.clone();
        let done = writers_done.clone();
        tokio::spawn(async move {
            let mut connection = pool.connection().await.expect("connection");
            let mut seen: Vec<(i64, String)> = Vec::new();
            let mut after = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let page = store::read_from(&connection.read().await.expect("a read transaction"), after, 50)
                    .await
                    .expect("read");
                for event in &page {
                    assert_eq!(event.position, after + 1, "the follower saw a gap: {} after {after}", event.position);
                    after = event.position;
                    let DomainEvent::PackageVersionSeen(payload) = &event.event else { panic!("unexpected event") };
                    seen.push((event.position, format!("{}={}", payload.package_name, payload.package_version)));
                }
                if page.is_empty() {
                    if finished {
                        return seen;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        })
    };

    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let pool = pool.clone();
        writers.push(tokio::spawn(async move {
            let mut committed = Vec::new();
            for round in 0..TRANSACTIONS {
                let mut client = pool.connection().await.expect("connection");
                let transaction = client.transaction().await.expect("begin");
                let size = 1 + (writer + round) % 4;
                let events: Vec<NewEvent> =
                    (0..size).map(|i| seen(&format!("writer-{writer}"), &format!("{round}.{i}"))).collect();
                let names: Vec<String> = (0..size).map(|i| format!("writer-{writer}={round}.{i}")).collect();
                store::append_in(&transaction, request(events)).await.expect("append");
                // Hold the transaction open a little: a commit that comes late.
                tokio::time::sleep(Duration::from_millis(((writer * 7 + round * 3) % 5) as u64)).await;
                if round % 3 == 2 {
                    transaction.rollback().await.expect("rollback");
                } else {
                    transaction.commit().await.expect("commit");
                    committed.extend(names);
                }
            }
            committed
        }));
    }
    let mut committed = BTreeSet::new();
    for writer in writers {
        committed.extend(writer.await.expect("writer"));
    }
    writers_done.store(true, Ordering::SeqCst);
    let seen = follower.await.expect("follower");

    let seen_names: Vec<&String> = seen.iter().map(|(_, name)| name).collect();
    let distinct: BTreeSet<&String> = seen_names.iter().copied().collect();
    assert_eq!(distinct.len(), seen_names.len(), "an event was seen twice");
    assert_eq!(distinct, committed.iter().collect(), "the follower saw exactly the committed events");
    let positions: Vec<i64> = seen.iter().map(|(position, _)| *position).collect();
    assert_eq!(positions, (1..=committed.len() as i64).collect::<Vec<_>>(), "gapless, in order");
    // Rolled-back transactions were a third of them: the test did exercise rollbacks.
    assert!(committed.len() < WRITERS * TRANSACTIONS * 4);
    let per_writer: BTreeMap<&str, usize> = seen_names.iter().fold(BTreeMap::new(), |mut counts, name| {
        *counts.entry(name.split('=').next().unwrap_or_default()).or_default() += 1;
        counts
    });
    assert_eq!(per_writer.len(), WRITERS, "every writer got events in");
}
