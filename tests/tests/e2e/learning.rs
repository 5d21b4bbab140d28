//! The learning drivers end to end: a graph seeded through the log, a local package index
//! (`FakeIndex`) or OSV files, the real `investigator` commands and service, and the Thoth
//! messages that come out (on the embedded bus, or on the broker).

mod cves;
mod refresh;
mod releases;
mod updates;

use investigator_events::domain::{DomainEvent, EventMetadata, IndexRegistered, PackageVersionSeen, StreamId};
use investigator_projections::Database;
use investigator_projections::store::{AppendRequest, NewEvent};
use investigator_tests::{InvestigatorRun, TestDatabase, investigator};
use serde_json::{Value, json};

/// The solvers the learning tests configure.
pub const SOLVERS: &str = "solver-rhel-8-py38,solver-fedora-35-py310";

/// Records `events` in the log and the graph, as one batch.
pub async fn seed(database: &Database, events: Vec<DomainEvent>) {
    let request = AppendRequest {
        idempotency_key: None,
        expected: Vec::new(),
        events: events
            .into_iter()
            .map(|event| NewEvent { stream: StreamId::package("seed"), event, metadata: EventMetadata::default() })
            .collect(),
    };
    investigator_projections::record(database, request).await.expect("the seed is recorded");
}

/// An enabled index.
pub fn index(url: &str, warehouse_api_url: Option<&str>, only_if_package_seen: bool) -> DomainEvent {
    IndexRegistered {
        url: url.to_owned(),
        warehouse_api_url: warehouse_api_url.map(str::to_owned),
        verify_ssl: true,
        only_if_package_seen,
        enabled: true,
    }
    .into()
}

/// A version seen on an index.
pub fn seen(name: &str, version: &str, index_url: &str) -> DomainEvent {
    PackageVersionSeen {
        package_name: name.to_owned(),
        package_version: version.to_owned(),
        index_url: index_url.to_owned(),
    }
    .into()
}

/// A solver run of `solver` (`solver-rhel-8-py38` is `("rhel", "8", "3.8")`) that solved
/// each (name, version, index, sha256 hashes).
pub fn solved(
    document_id: &str,
    environment: (&str, &str, &str),
    packages: &[(&str, &str, &str, &[&str])],
) -> DomainEvent {
    let (os_name, os_version, python_version) = environment;
    let packages: Vec<Value> = packages
        .iter()
        .map(|(name, version, index_url, sha256)| {
            json!({"package_name": name, "package_version": version, "installed_version": version,
                   "index_url": index_url, "sha256": sha256})
        })
        .collect();
    let payload = json!({
        "document_id": document_id, "solver_name": format!("solver-{os_name}-{os_version}-py{}", python_version.replace('.', "")),
        "solver_version": "1.0.0", "os_name": os_name, "os_version": os_version, "python_version": python_version,
        "datetime": "2026-11-20T10:00:00.000000", "packages": packages,
    });
    DomainEvent::decode("SolverResultRecorded", 2, payload.to_string().as_bytes()).expect("a valid solver result")
}

/// The environment of a command or service on `database` with the embedded bus (no Kafka)
/// and the test solvers, plus `extra`.
pub fn bus_env(database: &TestDatabase, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = database.vars();
    env.push(("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()));
    env.push(("THOTH_SOLVERS".to_owned(), SOLVERS.to_owned()));
    env.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    env
}

/// Runs `investigator <args>` with [`bus_env`].
pub async fn learn(database: &TestDatabase, args: &[&str], extra: &[(&str, &str)]) -> InvestigatorRun {
    investigator(args, &bus_env(database, extra)).await
}

/// The messages on the embedded bus: (base name, message), in topic then offset order.
pub async fn bus_messages(database: &Database) -> Vec<(String, Value)> {
    let mut connection = database.connection().await.expect("a connection");
    let client = connection.read().await.expect("a read transaction");
    client
        .query(
            "SELECT topic, convert_from(payload, 'UTF8') FROM investigator.bus_record ORDER BY topic, \"offset\"",
            &[],
        )
        .await
        .expect("the bus is readable")
        .iter()
        .map(|row| {
            let payload: String = row.get(1);
            (row.get(0), serde_json::from_str(&payload).expect("a JSON message"))
        })
        .collect()
}

/// `(base name, package_name, package_version)` of each bus message, sorted.
pub async fn bus_summary(database: &Database) -> Vec<String> {
    let mut summary: Vec<String> = bus_messages(database)
        .await
        .iter()
        .map(|(topic, message)| {
            let text = |key: &str| message[key].as_str().unwrap_or("-").to_owned();
            format!("{topic} {} {} {}", text("package_name"), text("package_version"), text("solver"))
        })
        .collect();
    summary.sort();
    summary
}

/// One count.
pub async fn count(database: &Database, sql: &str) -> i64 {
    let mut connection = database.connection().await.expect("a connection");
    let client = connection.read().await.expect("a read transaction");
    client.query_one(sql, &[]).await.expect(sql).get(0)
}
