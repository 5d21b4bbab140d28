//! `serve --api-only` over a PostgreSQL hot standby (streaming from a primary made for the
//! test, with `pg_basebackup`): every read endpoint answers, writes are refused with a clear
//! code, a client's position written through the primary is honoured (or answered 412
//! `position_not_reached`, never with older data), and the standby's lag is reported.

use std::time::Duration;

use investigator_tests::{PrivatePostgres, Service, eventually, investigator};
use serde_json::Value;
use tokio_postgres::NoTls;

use crate::api::get_json;
use crate::knowledge_graph::documents_dir;

const TOKEN: &str = "s3cret";
const INDEXES: &str = "/api/v1/python-package-index";

async fn sql(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("a connection to the test cluster");
    tokio::spawn(connection);
    client
}

async fn graph_position(client: &tokio_postgres::Client) -> Option<i64> {
    let row = client
        .query_opt("SELECT position FROM investigator.projection_checkpoint WHERE projection = 'knowledge_graph'", &[])
        .await
        .ok()??;
    Some(row.get(0))
}

/// Registers `url` as an index through the API over the primary; the log position it wrote.
async fn register_index(writer: &Service, url: &str) -> i64 {
    let body = format!(r#"{{"url": "{url}"}}"#);
    let (status, answer) = writer.post("/api/v1/python/package-index", Some(TOKEN), body.as_bytes()).await;
    assert_eq!(status, 201, "{answer}");
    let written: Value = serde_json::from_str(&answer).expect("JSON");
    written["position"].as_i64().expect("the position written")
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

/// A value for each parameter the sample graph can answer.
fn sample_value(parameter: &str) -> Option<&'static str> {
    Some(match parameter {
        "name" => "requests",
        "version" => "2.26.0",
        "index" => "https://pypi.org/simple",
        "os_name" => "rhel",
        "os_version" => "8",
        "python_version" => "3.8",
        _ => return None,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_reads_a_hot_standby_and_honours_positions_written_through_the_primary() {
    let primary = PrivatePostgres::start();
    let standby = PrivatePostgres::standby_of(&primary);
    let documents = documents_dir().join("solver").display().to_string();
    let primary_env = vec![("DATABASE_URL".to_owned(), primary.url())];
    let synced = investigator(&["sync", &documents], &primary_env).await;
    assert_eq!(synced.code, Some(0), "{}", synced.stderr);
    let (on_primary, on_standby) = (sql(&primary.url()).await, sql(&standby.url()).await);
    let synced_to = graph_position(&on_primary).await.expect("the primary's graph position");
    eventually("the standby replays the sync", Duration::from_secs(30), || async {
        graph_position(&on_standby).await == Some(synced_to)
    })
    .await;

    let reader = Service::start_with(
        &["--api-only"],
        &[
            ("DATABASE_URL".to_owned(), standby.url()),
            ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()),
            ("INVESTIGATOR_API_TOKEN".to_owned(), TOKEN.to_owned()),
            ("INVESTIGATOR_MIN_POSITION_WAIT_MS".to_owned(), "1000".to_owned()),
        ],
    )
    .await;

    // Every read endpoint the server describes, with the sample graph's values.
    let (_, document) = get_json(&reader, "/api/v1/openapi.json").await;
    let mut answers = Vec::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        let Some(operation) = operations.get("get") else { continue };
        let query: Vec<String> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|parameter| parameter["in"] == "query")
            .filter_map(|parameter| {
                let name = parameter["name"].as_str()?;
                sample_value(name).map(|value| format!("{name}={value}"))
            })
            .collect();
        let (status, body) = reader.get(&format!("{path}?{}", query.join("&"))).await;
        answers.push((path.clone(), status, body));
    }
    assert!(answers.len() >= 12, "{answers:?}");
    let failed: Vec<_> = answers.iter().filter(|(_, status, _)| *status != 200).collect();
    assert!(failed.is_empty(), "every read answers on the standby: {failed:?}");
    for path in ["/_health", "/metrics"] {
        let (status, body) = reader.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, status) = get_json(&reader, "/api/v1/status").await;
    assert_eq!(status["database"]["role"], "standby", "{status}");
    assert_eq!(status["database"]["replay_paused"], false, "{status}");
    assert!(status["database"]["replay_lag_seconds"].is_number(), "{status}");
    assert_eq!(reader.metric("investigator_database_standby").await, Some(1.0));

    // A write on the standby is refused, saying why.
    let (code, body) =
        reader.post("/api/v1/python/package-index", Some(TOKEN), br#"{"url": "https://nowhere.example/simple"}"#).await;
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("\"read_only_database\""), "{body}");

    // A client writes through the primary, then reads its write from the standby.
    let writer = Service::start(&[
        ("DATABASE_URL".to_owned(), primary.url()),
        ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()),
        ("INVESTIGATOR_API_TOKEN".to_owned(), TOKEN.to_owned()),
    ])
    .await;
    let (_, primary_status) = get_json(&writer, "/api/v1/status").await;
    assert_eq!(primary_status["database"]["role"], "primary", "{primary_status}");
    let first = register_index(&writer, "https://first.example.org/simple").await;
    let first_text = first.to_string();
    let (code, headers, body) = reader.get_sending(INDEXES, &[("x-investigator-min-position", &first_text)]).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("https://first.example.org/simple"), "the client's own write: {body}");
    assert!(header(&headers, "x-investigator-position").and_then(|p| p.parse::<i64>().ok()) >= Some(first));

    // The standby stops replaying (as a long query or a slow disk would hold it back).
    on_standby.batch_execute("SELECT pg_wal_replay_pause()").await.expect("replay paused");
    let second = register_index(&writer, "https://second.example.org/simple").await;
    let second_text = second.to_string();
    let (code, headers, body) = reader.get_sending(INDEXES, &[("x-investigator-min-position", &second_text)]).await;
    assert_eq!(code, 412, "an older answer is never given: {body}");
    assert!(body.contains("\"position_not_reached\""), "{body}");
    assert_eq!(header(&headers, "retry-after"), Some("1"));
    let refused: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(refused["parameters"]["min_position"].as_i64(), Some(second), "{body}");
    assert!(refused["parameters"]["position"].as_i64() < Some(second), "{body}");
    // Without a position the standby answers what it has.
    let (code, body) = reader.get(INDEXES).await;
    assert_eq!(code, 200, "{body}");
    assert!(!body.contains("second.example.org"), "{body}");
    eventually("the lag shows while the replay is paused", Duration::from_secs(20), || async {
        let (_, status) = get_json(&reader, "/api/v1/status").await;
        status["database"]["replay_paused"] == true
            && status["database"]["replay_lag_seconds"].as_f64().is_some_and(|seconds| seconds > 0.0)
    })
    .await;
    let lag = reader.metric("investigator_standby_replay_lag_seconds").await;
    assert!(lag.is_some_and(|seconds| seconds > 0.0), "{lag:?}");

    on_standby.batch_execute("SELECT pg_wal_replay_resume()").await.expect("replay resumed");
    let (code, _, body) = reader.get_sending(INDEXES, &[("x-investigator-min-position", &second_text)]).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("https://second.example.org/simple"), "{body}");
    let mut reader = reader;
    assert!(reader.exited().is_none(), "the reader kept serving: {}", reader.log_text());
}
