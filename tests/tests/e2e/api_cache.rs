//! The REST API's cache (read-your-writes through a position header), the read replica
//! (`serve --api-only`) and the lag in `/api/v1/status` against the broker's watermarks.

use std::time::Duration;

use investigator_events::domain::{StreamId, VersionMarkedMissing};
use investigator_events::thoth::MessageKind;
use investigator_tests::{Service, TestDatabase, TestKafka, eventually, investigator};
use serde_json::Value;

use crate::api::{get_json, sample_graph, service_over_sample_graph_with};
use crate::knowledge_graph::record_event;
use crate::pipeline::{publish, serve};

const VERSIONS: &str = "/api/v1/python/package/versions?name=requests";

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

fn position(headers: &[(String, String)]) -> i64 {
    header(headers, "x-investigator-position").and_then(|value| value.parse().ok()).expect("a position header")
}

fn lists_version(body: &str, version: &str) -> bool {
    let body: Value = serde_json::from_str(body).expect("JSON");
    body["versions"].as_array().is_some_and(|rows| rows.iter().any(|row| row["package_version"] == version))
}

async fn graph_position(database: &TestDatabase) -> i64 {
    let client = database.sql().await;
    investigator_projections::queries::graph_position(&client).await.expect("the position")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cached_answer_holds_until_a_client_asks_for_a_newer_position() {
    let (database, service) = service_over_sample_graph_with(&[("INVESTIGATOR_API_CACHE_TTL_MS", "600000")]).await;

    let (status, headers, first) = service.get_with_headers(VERSIONS).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(header(&headers, "x-investigator-cache"), Some("miss"));
    assert!(lists_version(&first, "2.26.0"), "{first}");
    let read_at = position(&headers);
    assert_eq!(read_at, graph_position(&database).await);
    let (_, headers, again) = service.get_with_headers(VERSIONS).await;
    assert_eq!(header(&headers, "x-investigator-cache"), Some("hit"));
    assert_eq!((again.as_str(), position(&headers)), (first.as_str(), read_at), "the same answer, from the cache");
    assert!(header(&headers, "x-thoth-version").is_some(), "the API's headers are on cached answers too");

    // A change the API does not make itself (another process's pipeline, say).
    let missing = VersionMarkedMissing {
        package_name: "requests".to_owned(),
        package_version: "2.26.0".to_owned(),
        index_url: "https://pypi.org/simple".to_owned(),
    };
    record_event(&database.database, StreamId::package("requests"), missing).await;
    let written = graph_position(&database).await;
    assert!(written > read_at);

    let (_, headers, stale) = service.get_with_headers(VERSIONS).await;
    assert_eq!(header(&headers, "x-investigator-cache"), Some("hit"));
    assert!(lists_version(&stale, "2.26.0"), "without a position, the cached answer is still served");
    let wanted = written.to_string();
    let (status, headers, fresh) =
        service.get_sending(VERSIONS, &[("x-investigator-min-position", wanted.as_str())]).await;
    assert_eq!(status, 404, "the client's own write is seen: its only version is missing now: {fresh}");
    assert_eq!(header(&headers, "x-investigator-cache"), Some("miss"));
    assert!(position(&headers) >= written);
    let (status, headers, after) = service.get_with_headers(VERSIONS).await;
    assert_eq!((status, header(&headers, "x-investigator-cache")), (404, Some("hit")), "the refreshed answer is kept");
    assert_eq!(after, fresh);

    let (status, _, body) = service.get_sending(VERSIONS, &[("x-investigator-min-position", "soon")]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid_header"), "{body}");
    let hits = service.metric("investigator_api_cache_requests_total{outcome=\"hit\"}").await;
    assert_eq!(hits, Some(3.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_through_the_api_returns_its_position_and_is_read_at_once() {
    let (database, service) = service_over_sample_graph_with(&[
        ("INVESTIGATOR_API_CACHE_TTL_MS", "600000"),
        ("INVESTIGATOR_API_TOKEN", "s3cret"),
    ])
    .await;
    let (_, before) = get_json(&service, "/api/v1/python-package-index").await;
    assert!(!before.to_string().contains("mirror.example.org"));
    let (status, body) = service
        .post("/api/v1/python/package-index", Some("s3cret"), br#"{"url": "https://mirror.example.org/simple"}"#)
        .await;
    assert_eq!(status, 201, "{body}");
    let written: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(written["position"].as_i64(), Some(graph_position(&database).await));
    let (_, headers, after) = service.get_with_headers("/api/v1/python-package-index").await;
    assert_eq!(header(&headers, "x-investigator-cache"), Some("miss"), "the write emptied the cache");
    assert!(after.contains("https://mirror.example.org/simple"), "{after}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_time_to_live_nothing_is_cached() {
    let (database, service) = service_over_sample_graph_with(&[("INVESTIGATOR_API_CACHE_TTL_MS", "0")]).await;
    let (_, headers, _) = service.get_with_headers(VERSIONS).await;
    assert_eq!(header(&headers, "x-investigator-cache"), Some("miss"));
    let missing = VersionMarkedMissing {
        package_name: "requests".to_owned(),
        package_version: "2.26.0".to_owned(),
        index_url: "https://pypi.org/simple".to_owned(),
    };
    record_event(&database.database, StreamId::package("requests"), missing).await;
    let (status, headers, body) = service.get_with_headers(VERSIONS).await;
    assert_eq!(header(&headers, "x-investigator-cache"), Some("miss"));
    assert_eq!(status, 404, "the change is seen at once: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_replica_serves_the_graph_and_consumes_nothing() {
    let database = sample_graph().await;
    let mut env = database.vars();
    env.extend([
        ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()),
        ("INVESTIGATOR_API_TOKEN".to_owned(), "s3cret".to_owned()),
    ]);
    let service = Service::start_with(&["--api-only"], &env).await;
    let (status, versions) = get_json(&service, VERSIONS).await;
    assert_eq!(status, 200, "{versions}");
    let (status, body) = service.post("/halt/thoth.investigator.unresolved-package", Some("s3cret"), b"").await;
    assert_eq!(status, 503, "nothing to halt: {body}");
    let (status, replica) = get_json(&service, "/api/v1/status").await;
    assert_eq!((status, &replica["api_only"]), (200, &Value::Bool(true)), "{replica}");

    let json = r#"{"package_name": "flask", "package_version": "2.0.1", "index_url": "https://pypi.org/simple"}"#;
    let sent = investigator(&["emit", "thoth.investigator.unresolved-package", "--json", json], &env).await;
    assert_eq!(sent.code, Some(0), "{}", sent.stderr);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let client = database.sql().await;
    let offsets: i64 =
        client.query_one("SELECT count(*) FROM investigator.consumer_offset", &[]).await.expect("count").get(0);
    assert_eq!(offsets, 0, "a replica consumes nothing");

    let empty = TestDatabase::create().await;
    let mut env = empty.vars();
    env.push(("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()));
    let refused = investigator(&["serve", "--api-only"], &env).await;
    assert!(refused.code.is_some_and(|code| code != 0), "{}", refused.stderr);
    assert!(refused.stderr.contains("investigator migrate"), "{}", refused.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_status_shows_each_partitions_lag_behind_the_broker() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[("INVESTIGATOR_API_TOKEN", "s3cret")]).await;
    let topic = kafka.naming().topic(MessageKind::UnrevsolvedPackage);
    let message = |version: &str| crate::pipeline::messages::unrevsolved("urllib3", version);
    publish(&kafka, &[message("1.0.0")]).await;
    let row = |status: &Value| -> Option<Value> {
        status["offsets"].as_array()?.iter().find(|row| row["topic"] == topic.as_str()).cloned()
    };
    eventually("the first record applied", Duration::from_secs(30), || async {
        let (_, status) = get_json(&service, "/api/v1/status").await;
        row(&status).is_some_and(|row| row["next_offset"] == 1)
    })
    .await;
    let (status, body) = service.post("/halt/thoth.investigator.unrevsolved-package", Some("s3cret"), b"").await;
    assert_eq!(status, 200, "{body}");
    // One at a time: tansu reports a partition's high watermark as the base offset of its last
    // record batch plus one, so a batch of three would count as one.
    for version in ["1.0.1", "1.0.2", "1.0.3"] {
        publish(&kafka, &[message(version)]).await;
    }

    eventually("the three unread records counted as lag", Duration::from_secs(15), || async {
        let (_, status) = get_json(&service, "/api/v1/status").await;
        row(&status).is_some_and(|row| row["high_watermark"] == 4)
    })
    .await;
    let (_, status) = get_json(&service, "/api/v1/status").await;
    let row = row(&status).expect("the topic's row");
    assert_eq!(status["source"], "kafka");
    assert_eq!((row["next_offset"].as_i64(), row["lag"].as_i64()), (Some(1), Some(3)), "halted: {status}");
    assert!(status["lag"].as_i64().is_some_and(|lag| lag >= 3), "{status}");

    // The same, as gauges in /metrics (refreshed every 5 s).
    let lag_line = |metrics: &str| {
        metrics
            .lines()
            .find(|line| line.starts_with("investigator_consumer_lag{") && line.contains(topic.as_str()))
            .map(str::to_owned)
    };
    eventually("the lag gauge", Duration::from_secs(15), || async {
        let (_, metrics) = service.get("/metrics").await;
        lag_line(&metrics).is_some_and(|line| line.ends_with(" 3"))
    })
    .await;
    let head = service.metric("investigator_log_head ").await.expect("the log head");
    let position = service.metric("investigator_projection_position{projection=\"knowledge_graph\"}").await;
    assert_eq!(position, Some(head), "the graph is at the head");
    assert_eq!(service.metric("investigator_projection_lag_events{projection=\"knowledge_graph\"}").await, Some(0.0));
    let (_, metrics) = service.get("/metrics").await;
    assert!(metrics.contains("investigator_db_pool_connections{pool=\"pipeline\",state=\"open\"}"), "{metrics}");
    let requested = service.metric("investigator_events_appended_total{event_type=\"WorkflowRequested\"}").await;
    assert_eq!(requested, Some(1.0), "the one applied record's revsolver request, counted by type");
}
