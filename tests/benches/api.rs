//! The REST API under load, measured with wrk (Debian's package) on this machine.
//!
//! One run:
//! - a knowledge graph of at least 100,000 package versions (rows of
//!   `python_package_version`) of about 16,000 packages, recorded from the realistic workload
//!   of `workload.rs`;
//! - `investigator serve --api-only` (release build) over it;
//! - cached: wrk with 2 threads and 64 connections for 15 s, cycling through 2,000 warm URLs
//!   of `/python/package/versions` and `/python/package/dependencies` (half each);
//! - uncached (`INVESTIGATOR_API_CACHE_TTL_MS=0`): the same at a fixed rate of about 2,000
//!   requests/s (wrk 4 has no `-R`: 26 connections each wait 11 ms between requests, so the
//!   achieved rate is printed), over 20,000 distinct URLs, with wrk's latency percentiles;
//! - the same two endpoints uncached at full speed, for the ceiling.
//!
//! wrk shares the two cores with the service and PostgreSQL. Run with `scripts/bench.sh api`.
//! `INVESTIGATOR_BENCH_VERSIONS` sets the graph's size for a quick look.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use investigator_projections::store::{AppendRequest, NewEvent};
use investigator_projections::{Database, record};
use investigator_tests::workload::Workload;
use investigator_tests::{Service, TestDatabase};

fn wanted_versions() -> i64 {
    std::env::var("INVESTIGATOR_BENCH_VERSIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

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

/// Records the workload, 500 events per transaction, until the graph holds `versions` rows.
async fn fill(database: &Database, versions: i64) {
    let started = Instant::now();
    // 80 real names in 200 variants each: about 16,000 packages with a few versions each.
    let mut workload = Workload::spread(7, 200);
    let mut events = 0usize;
    let mut pending: Vec<NewEvent> = Vec::new();
    loop {
        while pending.len() < 500 {
            pending.extend(workload.next_request().events);
        }
        events += pending.len();
        record(database, AppendRequest { events: std::mem::take(&mut pending), ..AppendRequest::default() })
            .await
            .expect("record");
        if events % 50_000 < 500 {
            let now = count(database, "SELECT count(*) FROM graph.python_package_version").await;
            println!("  {events} events recorded, {now} package versions ({:.0} s)", started.elapsed().as_secs_f64());
            if now >= versions {
                return;
            }
        }
    }
}

/// URLs of both endpoints for `limit` known versions, picked at random (reproducibly).
async fn paths(database: &TestDatabase, limit: i64) -> Vec<String> {
    let client = database.sql().await;
    client.execute("SELECT setseed(0.42)", &[]).await.expect("setseed");
    let rows = client
        .query(
            "SELECT DISTINCT ON (v.package_name, v.package_version) v.package_name, v.package_version, i.url,
                    v.os_name, v.os_version, v.python_version
             FROM graph.python_package_version v JOIN graph.python_package_index i ON i.id = v.python_package_index_id
             WHERE v.package_version IS NOT NULL ORDER BY v.package_name, v.package_version, random() LIMIT $1",
            &[&limit],
        )
        .await
        .expect("sample");
    let mut paths = Vec::new();
    for row in rows {
        let text = |column: usize| encode(row.get(column));
        let (name, version, index) = (text(0), text(1), text(2));
        let (os_name, os_version, python) = (text(3), text(4), text(5));
        paths.push(format!("/api/v1/python/package/versions?name={name}"));
        paths.push(format!(
            "/api/v1/python/package/dependencies?name={name}&version={version}&index={index}&os_name={os_name}&os_version={os_version}&python_version={python}"
        ));
    }
    paths
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// A wrk script cycling through `paths`; each connection waits `delay_ms` between requests
/// (0: none).
fn wrk_script(directory: &Path, name: &str, paths: &[String], delay_ms: u32) -> std::path::PathBuf {
    let list = directory.join(format!("{name}.paths"));
    std::fs::write(&list, paths.join("\n")).expect("paths file");
    let delay = if delay_ms == 0 { String::new() } else { format!("function delay() return {delay_ms} end\n") };
    let script = format!(
        r#"local paths = {{}}
for line in io.lines("{list}") do paths[#paths + 1] = line end
local counter = 0
function setup(thread) thread:set("offset", counter * 7919); counter = counter + 1 end
function init(args) position = offset end
function request()
  position = position + 1
  return wrk.format("GET", paths[(position % #paths) + 1])
end
{delay}"#,
        list = list.display()
    );
    let path = directory.join(format!("{name}.lua"));
    std::fs::write(&path, script).expect("wrk script");
    path
}

/// One wrk run: its summary lines.
fn wrk(url: &str, script: &Path, connections: u32, seconds: u32) -> String {
    let output = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk runs (scripts/bench.sh installs it)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    text
}

fn report(what: &str, output: &str) {
    let pick = |prefix: &str| {
        output
            .lines()
            .find(|line| line.trim_start().starts_with(prefix))
            .map_or("?".to_owned(), |l| l.trim().to_owned())
    };
    println!("{what}");
    for line in [pick("Requests/sec"), pick("50%"), pick("90%"), pick("99%"), pick("Non-2xx")] {
        if line != "?" {
            println!("    {line}");
        }
    }
    if let Some(errors) = output.lines().find(|line| line.contains("Socket errors")) {
        println!("    {}", errors.trim());
    }
}

async fn serve(database: &TestDatabase, cache_ttl_ms: &str) -> Service {
    let mut env = database.vars();
    env.extend([
        ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()),
        ("INVESTIGATOR_API_CACHE_TTL_MS".to_owned(), cache_ttl_ms.to_owned()),
        ("INVESTIGATOR_API_CACHE_MB".to_owned(), "256".to_owned()),
    ]);
    Service::start_with(&["--api-only"], &env).await
}

#[tokio::main]
async fn main() {
    let db = TestDatabase::migrated().await;
    let database = db.pool(4);
    let versions = wanted_versions();
    println!("building a graph of at least {versions} package versions...");
    fill(&database, versions).await;
    let graph = count(&database, "SELECT count(*) FROM graph.python_package_version").await;
    let edges = count(&database, "SELECT count(*) FROM graph.depends_on").await;
    let packages = count(&database, "SELECT count(DISTINCT package_name) FROM graph.python_package_version").await;
    println!("graph: {graph} package versions of {packages} packages, {edges} dependency edges");
    // Statistics for the planner, as autovacuum would have them on a graph that grew slowly.
    db.sql().await.batch_execute("VACUUM ANALYZE").await.expect("VACUUM ANALYZE");

    let directory = tempfile::tempdir().expect("a scratch directory");
    let many = paths(&db, 10_000).await;
    let warm: Vec<String> = many.iter().take(2_000).cloned().collect();

    let cached = serve(&db, "600000").await;
    let url = format!("http://{}", cached.address);
    let script = wrk_script(directory.path(), "warm", &warm, 0);
    wrk(&url, &script, 8, 3); // fills the cache
    report("cached, full speed (2 threads, 64 connections, 15 s):", &wrk(&url, &script, 64, 15));
    cached.stop().await;

    let uncached = serve(&db, "0").await;
    let url = format!("http://{}", uncached.address);
    let paced = wrk_script(directory.path(), "paced", &many, 11);
    report(
        "uncached, paced at about 2,000 requests/s (26 connections, 11 ms apart, 20 s):",
        &wrk(&url, &paced, 26, 20),
    );
    let full = wrk_script(directory.path(), "full", &many, 0);
    report("uncached, full speed (2 threads, 32 connections, 15 s):", &wrk(&url, &full, 32, 15));
    uncached.stop().await;
}
