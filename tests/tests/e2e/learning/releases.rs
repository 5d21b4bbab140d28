//! `investigator watch-releases` and the releases driver inside `serve`: each version new on
//! an index is announced once, on the broker or the embedded bus, and a failing index
//! announces nothing false.

use std::time::Duration;

use investigator_events::thoth::MessageKind;
use investigator_tests::fake_index::{FakeIndex, Fault};
use investigator_tests::{Service, TestDatabase, TestKafka, eventually, investigator};

use super::{bus_summary, count, index, learn, seed, seen};

const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const HASH_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// flask 2.0.1, 2.0.2, 2.1.0; six 1.16.0, 1.17.0; unseen 1.0.
async fn index_with_releases() -> FakeIndex {
    let fake = FakeIndex::start().await;
    fake.put_project(
        "flask",
        &[
            ("2.0.1", "Flask-2.0.1-py3-none-any.whl", HASH_A),
            ("2.0.2", "Flask-2.0.2.tar.gz", HASH_B),
            ("2.1.0", "flask-2.1.0-py3-none-any.whl", HASH_A),
        ],
    );
    fake.put_project("six", &[("1.16.0", "six-1.16.0.tar.gz", HASH_A), ("1.17.0", "six-1.17.0.tar.gz", HASH_B)]);
    fake.put_project("unseen", &[("1.0", "unseen-1.0.tar.gz", HASH_A)]);
    fake
}

#[tokio::test(flavor = "multi_thread")]
async fn each_new_version_is_announced_once_on_the_broker() {
    let fake = index_with_releases().await;
    let url = fake.simple_url();
    let kafka = TestKafka::new();
    let database = TestDatabase::migrated().await;
    seed(&database.database, vec![index(&url, None, true), seen("flask", "2.0.1", &url), seen("six", "1.16.0", &url)])
        .await;
    let mut env = kafka.vars();
    env.extend(database.vars());
    let topic = kafka.naming().topic(MessageKind::PackageReleased);

    let run = investigator(&["watch-releases"], &env).await;
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("queued 3") && run.stdout.contains("published 3"), "{}", run.stdout);
    let records = kafka.read_topic(&topic, 3).await;
    let mut announced: Vec<String> = records
        .iter()
        .map(|record| {
            assert_eq!((record.key.as_ref(), record.header_count), (None, 0), "as Thoth's producers write them");
            let message: serde_json::Value = serde_json::from_slice(&record.payload).expect("JSON");
            assert_eq!(message["index_url"], url.as_str());
            format!(
                "{} {}",
                message["package_name"].as_str().unwrap_or("?"),
                message["package_version"].as_str().unwrap_or("?")
            )
        })
        .collect();
    announced.sort();
    assert_eq!(
        announced,
        ["flask 2.0.2", "flask 2.1.0", "six 1.17.0"],
        "only names the graph has seen (only_if_package_seen)"
    );

    let again = investigator(&["watch-releases"], &env).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stdout.contains("queued 0"), "{}", again.stdout);
    fake.put_project("flask", &[("2.0.1", "flask-2.0.1.tar.gz", HASH_A), ("2.2.0", "flask-2.2.0.tar.gz", HASH_B)]);
    let newer = investigator(&["watch-releases"], &env).await;
    assert_eq!(newer.code, Some(0), "{}", newer.stderr);
    assert!(newer.stdout.contains("queued 1"), "{}", newer.stdout);
    assert_eq!(kafka.read_topic(&topic, 4).await.len(), 4, "each new version once, across runs");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_index_is_listed_and_a_failing_project_announces_nothing() {
    let fake = index_with_releases().await;
    let url = fake.simple_url();
    let database = TestDatabase::migrated().await;
    let db = &database.database;
    seed(db, vec![index(&url, Some(&fake.warehouse_url()), false), seen("flask", "2.0.1", &url)]).await;
    fake.fail_with("/pypi/six/", Fault::Status(500));

    let run = learn(&database, &["watch-releases"], &[]).await;
    assert_eq!(run.code, Some(1), "a failed request is an error: {}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("six") && run.stdout.contains("500"), "the error names the package: {}", run.stdout);
    assert_eq!(
        bus_summary(db).await,
        [
            "thoth.package-release.package-released flask 2.0.2 -",
            "thoth.package-release.package-released flask 2.1.0 -",
            "thoth.package-release.package-released unseen 1.0 -",
        ],
        "every project of the index listing, through the warehouse API, six left out"
    );

    fake.clear_faults();
    let recovered = learn(&database, &["watch-releases"], &[]).await;
    assert_eq!(recovered.code, Some(0), "{}\n{}", recovered.stdout, recovered.stderr);
    assert!(recovered.stdout.contains("queued 2"), "six's two versions, nothing else again: {}", recovered.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn inside_the_service_releases_are_announced_once_and_learnt() {
    let fake = index_with_releases().await;
    let url = fake.simple_url();
    let database = TestDatabase::migrated().await;
    let db = &database.database;
    seed(db, vec![index(&url, None, true), seen("flask", "2.0.1", &url), seen("six", "1.16.0", &url)]).await;
    let env = super::bus_env(
        &database,
        &[
            ("THOTH_INDEXES", url.as_str()),
            ("INVESTIGATOR_LEARNING_DRIVERS", "releases"),
            ("INVESTIGATOR_RELEASES_INTERVAL_S", "1"),
        ],
    );
    let service = Service::start(&env).await;
    eventually("the new versions learnt", Duration::from_secs(60), || async {
        count(db, "SELECT count(*) FROM graph.python_package_version_entity WHERE package_version IN ('2.0.2', '2.1.0', '1.17.0')")
            .await
            == 3
    })
    .await;
    // Several more rounds run meanwhile; none announces anything again.
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(bus_summary(db).await.len(), 3, "each version announced once: {:?}", bus_summary(db).await);
    assert_eq!(service.metric("investigator_learning_queued_total{driver=\"releases\"}").await, Some(3.0));
    assert!(
        service.metric("investigator_learning_rounds_total{driver=\"releases\",outcome=\"ok\"}").await.unwrap_or(0.0)
            >= 3.0,
        "a round a second"
    );
    service.stop().await;
}
