//! `package_version: null`, `*` or a specifier: the versions come from the index's simple
//! API when it answers, and from the graph when it does not.

use std::time::Duration;

use investigator_tests::{TestDatabase, TestKafka, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::messages::*;
use super::{applied_records, publish, serve, texts};

/// A package index on loopback answering PEP 691 JSON for two packages, 404 otherwise.
async fn fake_index() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = vec![0; 4096];
                let read = stream.read(&mut request).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&request[..read]).into_owned();
                let path = request.split_whitespace().nth(1).unwrap_or_default().to_owned();
                let (status, body) = match path.as_str() {
                    "/simple/flask/" => {
                        ("200 OK", r#"{"meta": {"api-version": "1.1"}, "versions": ["1.0.0", "2.0.1", "2.1.0"]}"#)
                    }
                    "/simple/click/" => {
                        ("200 OK", r#"{"meta": {"api-version": "1.1"}, "versions": ["7.0", "8.0.0", "8.1.3"]}"#)
                    }
                    _ => ("404 Not Found", "{}"),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/vnd.pypi.simple.v1+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{address}/simple")
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_come_from_the_index_and_specifiers_select_among_them() {
    let index = fake_index().await;
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let _service = serve(&kafka, &database, &[("THOTH_INDEXES", &index)]).await;

    publish(
        &kafka,
        &[
            unresolved_every_version("flask", &index),
            unresolved("click", ">=8", &index),
            unresolved_every_version("unknown-to-the-index", &index),
        ],
    )
    .await;
    let db = &database.database;
    eventually("every record applied", Duration::from_secs(60), || async { applied_records(db).await == 3 }).await;

    let requested = texts(
        db,
        "SELECT concat_ws(' ', source, name, version, count(*)) FROM (
             SELECT payload ->> 'version_source' AS source, payload -> 'target' ->> 'package_name' AS name,
                    payload -> 'target' ->> 'package_version' AS version
             FROM investigator.event_log WHERE event_type = 'WorkflowRequested') AS requested
         GROUP BY source, name, version ORDER BY 1",
    )
    .await;
    assert_eq!(
        requested,
        [
            "index click 8.0.0 2",
            "index click 8.1.3 2",
            "index flask 1.0.0 2",
            "index flask 2.0.1 2",
            "index flask 2.1.0 2",
        ],
        "each listed version, with both solvers, and the source of the versions recorded"
    );
    assert!(
        texts(db, "SELECT reason_code FROM graph.dead_letter").await.is_empty(),
        "a package the index does not list is no error: there is nothing to solve"
    );
}
