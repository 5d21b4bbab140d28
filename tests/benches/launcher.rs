//! The workflow launcher against the fake Kubernetes API (in this process, on loopback).
//!
//! One run, `investigator serve` (release build) with `INVESTIGATOR_LAUNCHER=kube`:
//! - launches: 5,000 requested workflows already in the outbox, submitted with the client-side
//!   QPS limit off; launches per second from the service being ready to the outbox empty;
//! - latency: unresolved-package messages for new packages produced at 10 per second for 20 s,
//!   each timed from its send to both of its solver workflows recorded as submitted (the
//!   outbox polled every 5 ms), p50 and p99.
//!
//! Run with `scripts/bench.sh launcher`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use investigator_events::domain::{EventMetadata, StreamId, WorkflowKind, WorkflowRequested, WorkflowTarget};
use investigator_events::thoth::{MessageKind, ThothMessage};
use investigator_projections::store::{AppendRequest, NewEvent};
use investigator_projections::{Database, record};
use investigator_tests::fake_kube::FakeKube;
use investigator_tests::{Service, TestDatabase, TestKafka};
use serde_json::json;

const BACKLOG: usize = 5_000;
const PYPI: &str = "https://pypi.org/simple";

async fn count(database: &Database, sql: &str) -> i64 {
    database
        .connection()
        .await
        .expect("connection")
        .read()
        .await
        .expect("a read transaction")
        .query_one(sql, &[])
        .await
        .expect(sql)
        .get(0)
}

/// `BACKLOG` solver workflow requests, recorded as the pipeline records them.
async fn fill_outbox(database: &Database) {
    let mut events = Vec::new();
    for i in 0..BACKLOG {
        let workflow_id = format!("solver-rhel-8-py38-bench{i:08}");
        let mut parameters = serde_json::Map::new();
        parameters.insert("THOTH_SOLVER_NAME".to_owned(), json!("solver-rhel-8-py38"));
        parameters.insert("THOTH_SOLVER_PACKAGES".to_owned(), json!(format!("package-{i}===1.0.0")));
        let request = WorkflowRequested {
            workflow_id: workflow_id.clone(),
            kind: WorkflowKind::Solver,
            namespace: "thoth-middletier".to_owned(),
            target: WorkflowTarget {
                package_name: Some(format!("package-{i}")),
                package_version: Some("1.0.0".to_owned()),
                index_url: Some(PYPI.to_owned()),
                solver_name: Some("solver-rhel-8-py38".to_owned()),
            },
            parameters,
            trigger: None,
            version_source: None,
        };
        events.push(NewEvent {
            stream: StreamId::workflow(&workflow_id),
            event: request.into(),
            metadata: EventMetadata::default(),
        });
        if events.len() == 500 {
            let batch = AppendRequest { events: std::mem::take(&mut events), ..AppendRequest::default() };
            record(database, batch).await.expect("record");
        }
    }
}

fn unresolved(name: &str) -> ThothMessage {
    let fields = json!({"component_name": "bench", "service_version": "0.1.0", "package_name": name,
                        "package_version": "1.0.0", "index_url": PYPI, "solver": null});
    ThothMessage::decode(MessageKind::UnresolvedPackage, &serde_json::to_vec(&fields).expect("JSON")).expect("valid")
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let kube = FakeKube::start().await;
    let directory = tempfile::tempdir().expect("a directory");
    let kubeconfig = kube.write_kubeconfig(directory.path()).display().to_string();
    let kafka = TestKafka::new();
    let db = TestDatabase::migrated().await;
    let database = db.pool(4);
    fill_outbox(&database).await;

    let mut env = kafka.vars();
    env.extend(db.vars());
    for (name, value) in [
        ("INVESTIGATOR_LAUNCHER", "kube"),
        ("KUBECONFIG", kubeconfig.as_str()),
        ("INVESTIGATOR_KUBE_QPS", "1000000"),
        ("INVESTIGATOR_KUBE_BURST", "1000000"),
        ("INVESTIGATOR_LAUNCH_INTERVAL_MS", "20"),
        ("THOTH_SOLVERS", "solver-rhel-8-py38,solver-fedora-35-py310"),
        ("INVESTIGATOR_INDEX_TIMEOUT_MS", "0"),
    ] {
        env.push((name.to_owned(), value.to_owned()));
    }
    let service = Service::start(&env).await;
    let started = Instant::now();
    let waiting = "SELECT count(*) FROM graph.workflow_run WHERE status = 'requested'";
    let at_start = count(&database, waiting).await;
    while count(&database, waiting).await > 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    println!(
        "launches: {at_start} workflows in {:.2} s after the service was ready: {:.0} launches/s (QPS limit off, 8 at once)",
        elapsed.as_secs_f64(),
        at_start as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(kube.created_names().len(), BACKLOG, "every workflow once");

    let publisher = investigator_actors::kafka::ThothPublisher::new(
        &investigator_actors::kafka::KafkaSettings::new(kafka.bootstrap_servers.clone()),
        kafka.naming().clone(),
        Duration::from_secs(30),
    )
    .expect("publisher");
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut latencies = Vec::new();
    let mut connection = database.connection().await.expect("connection");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut next_send = Instant::now();
    let total = 200;
    while latencies.len() < total && Instant::now() < deadline {
        if sent.len() < total && Instant::now() >= next_send {
            let name = format!("fresh-{}", sent.len());
            sent.insert(name.clone(), Instant::now());
            for outcome in publisher.publish_all(&[unresolved(&name)]).await {
                outcome.expect("delivered");
            }
            next_send += Duration::from_millis(100);
        }
        let rows = connection
            .read()
            .await
            .expect("a read transaction")
            .query(
                "SELECT package_name FROM graph.workflow_run WHERE kind = 'solver' AND status = 'submitted'
                 AND package_name LIKE 'fresh-%' GROUP BY package_name HAVING count(*) = 2",
                &[],
            )
            .await
            .expect("poll");
        for row in rows {
            let name: String = row.get(0);
            if let Some(at) = sent.remove(&name) {
                latencies.push(at.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    latencies.sort();
    println!(
        "latency, unresolved-package sent -> both solver workflows submitted ({} messages at 10/s): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    service.stop().await;
}
