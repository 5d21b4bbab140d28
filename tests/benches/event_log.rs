//! The event log's throughput on this machine, against PostgreSQL's own bulk-load rate.
//!
//! One run, on a log of at least 1,000,000 events of the realistic workload
//! (`investigator_tests::workload`):
//! - append (the log alone) in batches of 1, 100 and 500 events;
//! - record (append and project inline) in batches of 500;
//! - replay: the whole knowledge graph rebuilt from the log, with the resident memory of
//!   this process sampled throughout;
//! - COPY: PostgreSQL's bulk load of the same rows into a table shaped like the log.
//!
//! Run with `scripts/bench.sh` (it starts PostgreSQL and sets `DATABASE_URL`).

use std::time::{Duration, Instant};

use investigator_projections::replay::{self, ReplayOptions, Unobserved};
use investigator_projections::store::{self, AppendRequest, NewEvent};
use investigator_projections::{Database, record};
use investigator_tests::TestDatabase;
use investigator_tests::workload::Workload;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

/// The log's size; `INVESTIGATOR_BENCH_EVENTS` makes it smaller for a quick look.
fn log_events() -> usize {
    std::env::var("INVESTIGATOR_BENCH_EVENTS").ok().and_then(|events| events.parse().ok()).unwrap_or(1_000_000)
}
const SINGLES: usize = 5_000;

/// The workload: `INVESTIGATOR_BENCH_WORKLOAD=lean` keeps only the small events.
fn chosen_workload(seed: u64) -> Workload {
    match std::env::var("INVESTIGATOR_BENCH_WORKLOAD").as_deref() {
        Ok("lean") => Workload::lean(seed),
        _ => Workload::new(seed),
    }
}

/// Requests of exactly `size` events each (the last may be smaller), `total` events in all.
fn batches(workload: &mut Workload, size: usize, total: usize) -> Vec<AppendRequest> {
    let mut requests = Vec::new();
    let mut pending: Vec<NewEvent> = Vec::new();
    let mut produced = 0;
    while produced < total {
        let request = workload.next_request();
        produced += request.events.len();
        pending.extend(request.events);
        while pending.len() >= size {
            let rest = pending.split_off(size);
            requests.push(AppendRequest { events: std::mem::replace(&mut pending, rest), ..AppendRequest::default() });
        }
    }
    if !pending.is_empty() {
        requests.push(AppendRequest { events: pending, ..AppendRequest::default() });
    }
    requests
}

struct Rate {
    what: String,
    events: usize,
    elapsed: Duration,
}

impl Rate {
    fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

async fn append_all(database: &Database, workload: &mut Workload, size: usize, total: usize) -> Rate {
    let mut events = 0;
    let mut elapsed = Duration::ZERO;
    // Generated a slice at a time, so the workload's memory stays small; only appends are timed.
    let mut remaining = total;
    while remaining > 0 {
        let slice = remaining.min(50_000);
        let requests = batches(workload, size, slice);
        let started = Instant::now();
        for request in requests {
            events += request.events.len();
            store::append(database, request).await.expect("append");
        }
        elapsed += started.elapsed();
        remaining -= slice;
    }
    Rate { what: format!("append, batches of {size}"), events, elapsed }
}

async fn record_all(database: &Database, workload: &mut Workload, size: usize, total: usize) -> Rate {
    let requests = batches(workload, size, total);
    let events = requests.iter().map(|request| request.events.len()).sum();
    let started = Instant::now();
    for request in requests {
        record(database, request).await.expect("record");
    }
    Rate { what: format!("record (append + project), batches of {size}"), events, elapsed: started.elapsed() }
}

/// PostgreSQL's bulk-load rate for rows like the log's: the same events, COPY BINARY into a
/// table of the log's shape (primary key and stream-version index included).
async fn copy_rate(database: &TestDatabase) -> Rate {
    let mut client = database.sql().await;
    client
        .batch_execute("CREATE TABLE copy_probe (LIKE investigator.event_log INCLUDING INDEXES INCLUDING CONSTRAINTS)")
        .await
        .expect("probe table");
    // The rows, read back from the log first, so only the load is timed.
    let mut rows = Vec::with_capacity(log_events());
    let mut after = 0;
    loop {
        let page = store::read_stored_from(&client, after, 50_000).await.expect("read");
        let Some(last) = page.last().map(|event| event.position) else { break };
        after = last;
        rows.extend(page);
        if rows.len() >= log_events() {
            break;
        }
    }
    let transaction = client.transaction().await.expect("transaction");
    let started = Instant::now();
    let sink = transaction
        .copy_in(
            "COPY copy_probe (position, stream_id, stream_version, event_type, schema_version, payload, metadata, \
             recorded_at) FROM STDIN BINARY",
        )
        .await
        .expect("copy");
    let types =
        [Type::INT8, Type::TEXT, Type::INT8, Type::TEXT, Type::INT4, Type::JSONB, Type::JSONB, Type::TIMESTAMPTZ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    futures_util::pin_mut!(writer);
    for row in &rows {
        let (payload, metadata) = (RawJsonb(&row.payload), RawJsonb(&row.metadata));
        let values: [&(dyn ToSql + Sync); 8] = [
            &row.position,
            &row.stream_id,
            &row.stream_version,
            &row.event_type,
            &row.schema_version,
            &payload,
            &metadata,
            &row.recorded_at,
        ];
        writer.as_mut().write(&values).await.expect("copy row");
    }
    writer.finish().await.expect("copy");
    transaction.commit().await.expect("commit");
    Rate { what: "PostgreSQL COPY BINARY, same rows".to_owned(), events: rows.len(), elapsed: started.elapsed() }
}

/// JSON text as JSONB, the way the log writes it (no parsing on this side).
#[derive(Debug)]
struct RawJsonb<'a>(&'a [u8]);

impl ToSql for RawJsonb<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&[1]);
        out.extend_from_slice(self.0);
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    tokio_postgres::types::to_sql_checked!();
}

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()))
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        investigator_ops::telemetry::init(&std::env::var("RUST_LOG").unwrap_or_default());
    }
    let db = TestDatabase::migrated().await;
    let database = db.pool(8);
    let mut workload = chosen_workload(1);
    let mut rates = Vec::new();
    let total = log_events().max(4 * SINGLES);
    let hundreds = total / 10;
    println!("building a log of {total} events...");
    rates.push(append_all(&database, &mut workload, 1, SINGLES).await);
    rates.push(append_all(&database, &mut workload, 100, hundreds).await);
    rates.push(append_all(&database, &mut workload, 500, total - SINGLES - hundreds).await);
    let client = db.sql().await;
    let log_events = store::head_position(&client).await.expect("head");
    let sizes = client
        .query_one(
            "SELECT pg_total_relation_size('investigator.event_log'), avg(octet_length(payload::text))::int8, \
             avg(octet_length(metadata::text))::int8 FROM investigator.event_log",
            &[],
        )
        .await
        .expect("size");
    let (log_bytes, payload_bytes, metadata_bytes): (i64, i64, i64) = (sizes.get(0), sizes.get(1), sizes.get(2));

    println!("replaying...");
    let sampler_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = sampler_stop.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                samples.push(resident_kib());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            samples
        })
    };
    let started = Instant::now();
    let report = replay::replay(&database, &ReplayOptions::default(), &mut Unobserved).await.expect("replay");
    let replay_time = started.elapsed();
    sampler_stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let samples = sampler.await.expect("sampler");
    rates.push(Rate {
        what: "replay (whole graph, swap included)".to_owned(),
        events: report.events as usize,
        elapsed: replay_time,
    });
    let rows: i64 = client
        .query_one("SELECT sum(n_live_tup)::int8 FROM pg_stat_user_tables WHERE schemaname = 'graph'", &[])
        .await
        .expect("rows")
        .get::<_, Option<i64>>(0)
        .unwrap_or(0);

    println!("recording...");
    let second = TestDatabase::migrated().await;
    let mut recorded_workload = chosen_workload(2);
    rates.push(record_all(&second.pool(2), &mut recorded_workload, 500, total / 10).await);

    println!("COPY...");
    let copy = copy_rate(&db).await;

    println!();
    println!(
        "log: {log_events} events (JSON payload {payload_bytes} bytes and metadata {metadata_bytes} bytes on average), \
         {:.0} MiB on disk; graph after replay: about {rows} rows",
        log_bytes as f64 / 1048576.0
    );
    println!("{:<48} {:>10} {:>10} {:>12} {:>9}", "", "events", "seconds", "events/s", "/ COPY");
    for rate in rates.iter().chain(std::iter::once(&copy)) {
        println!(
            "{:<48} {:>10} {:>10.2} {:>12.0} {:>9.2}",
            rate.what,
            rate.events,
            rate.elapsed.as_secs_f64(),
            rate.per_second(),
            rate.per_second() / copy.per_second()
        );
    }
    let at = |fraction: f64| {
        let index = ((samples.len().saturating_sub(1)) as f64 * fraction).round() as usize;
        samples.get(index).copied().unwrap_or(0) / 1024
    };
    let peak = samples.iter().copied().max().unwrap_or(0) / 1024;
    println!(
        "replay resident memory of this process in MiB, {} samples, at 0/10/25/50/75/90/100 % of the replay: \
         {} {} {} {} {} {} {} (peak {peak})",
        samples.len(),
        at(0.0),
        at(0.1),
        at(0.25),
        at(0.5),
        at(0.75),
        at(0.9),
        at(1.0),
    );
}
