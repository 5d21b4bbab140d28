//! `investigator refresh`: the knowledge gaps of the graph, each asked about once until the
//! retry interval, and never more than the lag ceiling lets through.

use std::time::Duration;

use investigator_tests::{Service, TestDatabase, eventually};

use super::{bus_messages, bus_summary, count, index, learn, seed, seen, solved};

const PYPI: &str = "https://pypi.org/simple";
const RHEL_8_PY38: (&str, &str, &str) = ("rhel", "8", "3.8");

/// flask 2.0.1 solved on rhel only; flask 2.0.2 and six never solved; tensorflow excluded.
async fn graph_with_gaps() -> TestDatabase {
    let database = TestDatabase::migrated().await;
    seed(
        &database.database,
        vec![
            index(PYPI, None, true),
            seen("flask", "2.0.1", PYPI),
            seen("flask", "2.0.2", PYPI),
            seen("six", "1.16.0", PYPI),
            seen("tensorflow", "2.0.0", PYPI),
            solved("solver-rhel-8-py38-flask", RHEL_8_PY38, &[("flask", "2.0.1", PYPI, &[])]),
        ],
    )
    .await;
    database
}

const EXCLUDE: (&str, &str) = ("INVESTIGATOR_REFRESH_EXCLUDE", "tensorflow");

#[tokio::test(flavor = "multi_thread")]
async fn every_gap_is_asked_about_once_until_the_retry_interval() {
    let database = graph_with_gaps().await;
    let db = &database.database;

    let run = learn(&database, &["refresh"], &[EXCLUDE]).await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("queued 11"), "{}", run.stdout);
    assert!(run.stdout.contains("published 11"), "{}", run.stdout);
    assert_eq!(
        bus_summary(db).await,
        [
            "thoth.investigator.si-unanalyzed-package flask 2.0.1 -",
            "thoth.investigator.si-unanalyzed-package flask 2.0.2 -",
            "thoth.investigator.si-unanalyzed-package six 1.16.0 -",
            "thoth.investigator.unresolved-package flask 2.0.1 solver-fedora-35-py310",
            "thoth.investigator.unresolved-package flask 2.0.2 solver-fedora-35-py310",
            "thoth.investigator.unresolved-package flask 2.0.2 solver-rhel-8-py38",
            "thoth.investigator.unresolved-package six 1.16.0 solver-fedora-35-py310",
            "thoth.investigator.unresolved-package six 1.16.0 solver-rhel-8-py38",
            "thoth.investigator.unrevsolved-package flask 2.0.1 -",
            "thoth.investigator.unrevsolved-package flask 2.0.2 -",
            "thoth.investigator.unrevsolved-package six 1.16.0 -",
        ],
        "every gap of every kind, tensorflow left alone, flask 2.0.1 not asked of the solver that answered it"
    );
    let (_, first) = &bus_messages(db).await[3];
    assert_eq!(first["component_name"], "thoth-investigator-refresh", "the messages say who sent them");
    assert_eq!(first["index_url"], PYPI);
    assert_eq!(
        count(db, "SELECT count(*) FROM investigator.event_log WHERE event_type = 'LearningMessageQueued' AND payload ->> 'reason' = 'not solved by solver-fedora-35-py310'").await,
        3,
        "each decision is in the log with its reason"
    );

    let again = learn(&database, &["refresh"], &[EXCLUDE]).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stdout.contains("queued 0") && again.stdout.contains("published 0"), "{}", again.stdout);
    assert_eq!(bus_messages(db).await.len(), 11, "a gap already asked about is not asked again");

    let retry = learn(&database, &["refresh"], &[EXCLUDE, ("INVESTIGATOR_REFRESH_RETRY_AFTER_S", "0")]).await;
    assert_eq!(retry.code, Some(0), "{}", retry.stderr);
    assert_eq!(bus_messages(db).await.len(), 22, "gaps still open after the retry interval are asked again");
    assert_eq!(
        count(db, "SELECT count(*) FROM graph.learning_message WHERE attempt = 2").await,
        11,
        "as second attempts"
    );

    let dry =
        learn(&database, &["refresh", "--dry-run"], &[EXCLUDE, ("INVESTIGATOR_REFRESH_RETRY_AFTER_S", "0")]).await;
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(dry.stdout.contains("dry run: 11 finding(s)"), "{}", dry.stdout);
    assert_eq!(bus_messages(db).await.len(), 22, "a dry run publishes nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lag_ceiling_holds_the_output_back_until_the_backlog_is_consumed() {
    let database = graph_with_gaps().await;
    let db = &database.database;
    let ceiling = [EXCLUDE, ("INVESTIGATOR_LEARNING_MAX_LAG", "4")];

    let first = learn(&database, &["refresh"], &ceiling).await;
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert!(first.stdout.contains("queued 4") && first.stdout.contains("deferred 7"), "{}", first.stdout);
    assert_eq!(bus_messages(db).await.len(), 4, "no more than the room under the ceiling");

    let held = learn(&database, &["refresh"], &ceiling).await;
    assert_eq!(held.code, Some(0), "{}", held.stderr);
    assert!(held.stdout.contains("queued 0") && held.stdout.contains("held back"), "{}", held.stdout);
    assert_eq!(bus_messages(db).await.len(), 4, "nothing while the 4 messages wait to be consumed");
    assert_eq!(
        count(db, "SELECT count(*) FROM graph.learning_driver WHERE driver = 'refresh' AND throttled AND lag = 4")
            .await,
        1,
        "the hold is recorded with the lag that caused it"
    );

    // The service consumes the backlog (from the embedded bus).
    let service = Service::start(&super::bus_env(&database, &[])).await;
    eventually("the backlog consumed", Duration::from_secs(60), || async {
        count(db, "SELECT coalesce(sum(next_offset), 0)::int8 FROM investigator.consumer_offset").await == 4
    })
    .await;
    let (status, body) = service.get("/api/v1/status").await;
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(body["learning"]["drivers"]["refresh"]["throttle"]["throttled"], true, "{body}");
    assert_eq!(body["learning"]["relay"]["backlog"], 0, "{body}");
    service.stop().await;

    let resumed = learn(&database, &["refresh"], &ceiling).await;
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    assert!(!resumed.stdout.contains("held back"), "{}", resumed.stdout);
    let published = bus_messages(db).await.len();
    assert!(published > 4 && published <= 8, "resumed within the room under the ceiling: {published} in all");
    assert_eq!(
        count(db, "SELECT count(*) FROM investigator.event_log WHERE event_type = 'LearningThrottleChanged'").await,
        2,
        "held back once, let go once"
    );
}
