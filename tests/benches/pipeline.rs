//! The pipeline's throughput and latency on this machine, against the broker's own rate.
//!
//! One run:
//! - a backlog of 200,000 messages in Thoth's real mix (unresolved-package, solved-package,
//!   si-unanalyzed-package, package-released, missing-package-version) on the broker;
//! - the limit: a plain consumer reads the whole backlog (the broker's consume rate);
//! - ingest: `investigator serve` (release build) applies the backlog end to end (decode,
//!   decide, append, project, offsets), with its resident memory sampled throughout;
//! - the broker's own latency: a plain consumer tailing a topic written at 1,000 records a
//!   second, one record per request as Thoth's producers send, as many as the fixed rate below;
//! - latency: once caught up, messages produced at a fixed 1,000 per second, each timed from
//!   its send to the moment its offset is committed in PostgreSQL (polled every 2 ms), and the
//!   service's part of it (each batch's oldest record from the ingest getting it to the commit);
//! - where the time goes: for the backlog and for the fixed rate, the p50 and p99 of each
//!   phase of a batch (decode, knowledge, decide, append, project, commit...), read from the
//!   service's `batch committed` lines, and the CPU the broker, `serve` and PostgreSQL used.
//!
//! Run with `scripts/bench.sh pipeline` (it starts PostgreSQL and the broker and builds the
//! release binary). `INVESTIGATOR_BENCH_MESSAGES` makes the backlog smaller for a quick look.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use investigator_actors::kafka::{ClientLogging, KafkaSettings, ThothPublisher};
use investigator_events::thoth::{MessageKind, ThothMessage};
use investigator_tests::{Service, TestDatabase, TestKafka};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;

/// How many records the fixed-rate phase sends, at 1,000 a second.
const FIXED_RATE_MESSAGES: usize = 20_000;

fn backlog_size() -> usize {
    std::env::var("INVESTIGATOR_BENCH_MESSAGES").ok().and_then(|n| n.parse().ok()).unwrap_or(200_000)
}

const PYPI: &str = "https://pypi.org/simple";
const PACKAGES: usize = 50_000;
const SOLVERS: [&str; 3] = ["solver-rhel-8-py38", "solver-fedora-34-py39", "solver-fedora-35-py310"];

fn message(kind: MessageKind, fields: serde_json::Value) -> ThothMessage {
    let mut object = json!({"component_name": "bench", "service_version": "0.1.0"});
    if let (Some(object), serde_json::Value::Object(fields)) = (object.as_object_mut(), fields) {
        object.extend(fields);
    }
    ThothMessage::decode(kind, &serde_json::to_vec(&object).expect("JSON")).expect("valid message")
}

/// Message `i` of Thoth's mix: mostly unresolved packages, then solver results, security
/// indicators to schedule, releases and missing versions; packages repeat, as they do.
fn mixed(i: usize) -> ThothMessage {
    let name = format!("package-{}", (i * 7919) % PACKAGES);
    let version = format!("1.{}.0", i % 13);
    match i % 20 {
        0..=7 => message(
            MessageKind::UnresolvedPackage,
            json!({"package_name": name, "package_version": version, "index_url": PYPI, "solver": null}),
        ),
        8..=11 => message(
            MessageKind::SolvedPackage,
            json!({"package_name": name, "package_version": version, "index_url": PYPI, "solver": SOLVERS[i % 3]}),
        ),
        12..=14 => message(
            MessageKind::SiUnanalyzedPackage,
            json!({"package_name": name, "package_version": version, "index_url": PYPI}),
        ),
        15..=17 => message(
            MessageKind::PackageReleased,
            json!({"package_name": name, "package_version": version, "index_url": PYPI}),
        ),
        _ => message(
            MessageKind::MissingVersion,
            json!({"package_name": name, "package_version": version, "index_url": PYPI}),
        ),
    }
}

async fn applied(database: &TestDatabase) -> i64 {
    let client = database.sql().await;
    client
        .query_one("SELECT coalesce(sum(next_offset), 0)::int8 FROM investigator.consumer_offset", &[])
        .await
        .expect("offsets")
        .get(0)
}

/// The broker's own rate: a consumer that only reads the backlog.
async fn broker_consume_rate(kafka: &TestKafka, total: usize) -> f64 {
    let mut config = KafkaSettings::new(kafka.bootstrap_servers.clone()).consumer_config();
    config.set("group.id", format!("{}-limit", kafka.deployment));
    let consumer: StreamConsumer<ClientLogging> =
        config.create_with_context(ClientLogging::default()).expect("consumer");
    let mut assignment = TopicPartitionList::new();
    for topic in kafka.topics() {
        assignment.add_partition_offset(&topic, 0, Offset::Beginning).expect("assignment");
    }
    consumer.assign(&assignment).expect("assign");
    drop(assignment);
    let started = Instant::now();
    let mut read = 0;
    while read < total {
        match tokio::time::timeout(Duration::from_secs(30), consumer.recv()).await {
            Ok(Ok(_)) => read += 1,
            Ok(Err(error)) => panic!("consumer error: {error}"),
            Err(_) => panic!("the broker stopped delivering after {read} records"),
        }
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    tokio::task::spawn_blocking(move || drop(consumer)).await.expect("consumer closed");
    rate
}

/// The broker's own produce-to-consume latency at `rate`: a plain consumer, polling as the
/// ingest does (`fetch.wait.max.ms` 20), on a topic of its own; with `idle` > 0, it also reads
/// that many empty topics, as the ingest reads 19 of which few are busy. The floor under the
/// pipeline's latency.
async fn broker_latency(kafka: &TestKafka, count: usize, rate: u64, idle: usize) -> Vec<Duration> {
    let topic = format!("{}.bench-latency-probe-{idle}", kafka.deployment);
    let beside: Vec<String> = (0..idle).map(|i| format!("{}.bench-idle-{i}", kafka.deployment)).collect();
    kafka.create_topics(&[std::slice::from_ref(&topic), &beside[..]].concat(), 1).await;
    let mut config = KafkaSettings::new(kafka.bootstrap_servers.clone()).consumer_config();
    config.set("group.id", format!("{}-probe", kafka.deployment)).set("fetch.wait.max.ms", "20");
    let consumer: StreamConsumer<ClientLogging> =
        config.create_with_context(ClientLogging::default()).expect("consumer");
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(&topic, 0, Offset::Beginning).expect("assignment");
    for other in &beside {
        assignment.add_partition_offset(other, 0, Offset::Beginning).expect("assignment");
    }
    consumer.assign(&assignment).expect("assign");
    drop(assignment);
    let producer: FutureProducer<ClientLogging> = KafkaSettings::new(kafka.bootstrap_servers.clone())
        .client_config()
        .set("linger.ms", "0")
        .create_with_context(ClientLogging::default())
        .expect("producer");
    // One record first, so the connections and the consumer's first fetch are not timed.
    let warm_up: FutureRecord<'_, (), str> = FutureRecord::to(&topic).payload("warm-up");
    producer.send(warm_up, Duration::from_secs(10)).await.map_err(|(error, _)| error).expect("warm-up sent");
    let first = loop {
        let warmed_up = tokio::time::timeout(Duration::from_secs(30), consumer.recv()).await;
        let message = warmed_up.expect("the warm-up record arrives").expect("consumer");
        if message.topic() == topic {
            break message.offset() + 1;
        }
    };
    let sent_to = topic.clone();
    let sender = tokio::spawn(async move {
        let interval = Duration::from_micros(1_000_000 / rate);
        let started = Instant::now();
        let mut sent_at = Vec::with_capacity(count);
        for i in 0..count {
            tokio::time::sleep_until((started + interval * i as u32).into()).await;
            sent_at.push(Instant::now());
            let record: FutureRecord<'_, (), str> = FutureRecord::to(&sent_to).payload("probe");
            drop(producer.send_result(record).map_err(|(error, _)| error).expect("queued"));
        }
        producer.flush(Duration::from_secs(10)).expect("flushed");
        sent_at
    });
    let mut received_at = BTreeMap::new();
    while received_at.len() < count {
        match tokio::time::timeout(Duration::from_secs(30), consumer.recv()).await {
            Ok(Ok(message)) if message.topic() == topic => {
                received_at.insert(message.offset(), Instant::now());
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => panic!("consumer error: {error}"),
            Err(_) => panic!("the broker stopped delivering after {} records", received_at.len()),
        }
    }
    let sent_at = sender.await.expect("sender");
    tokio::task::spawn_blocking(move || drop(consumer)).await.expect("consumer closed");
    // One partition, one producer, no retries: offsets follow the sending order.
    received_at.retain(|offset, _| *offset >= first);
    received_at.values().zip(&sent_at).map(|(received, sent)| received.saturating_duration_since(*sent)).collect()
}

fn print_latency(what: &str, measured: Vec<Duration>) {
    print_percentiles(what, "messages", measured);
}

/// `what` (`count` `of`): its p50, p99 and max.
fn print_percentiles(what: &str, of: &str, mut measured: Vec<Duration>) {
    measured.sort();
    println!(
        "{what} ({} {of}):  p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        measured.len(),
        percentile(&measured, 0.50).as_secs_f64() * 1e3,
        percentile(&measured, 0.99).as_secs_f64() * 1e3,
        measured.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}

fn resident_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// What the fixed-rate phase measured, and what it could not: records the broker refused, and
/// records not committed before the deadline.
struct FixedRate {
    latencies: Vec<Duration>,
    delivered: usize,
    refused: usize,
    first_refusal: Option<String>,
    deadline_passed: bool,
}

/// Sends `count` unresolved-package messages at `rate` per second and measures each one's
/// produce-to-committed latency.
async fn latencies(kafka: &TestKafka, database: &TestDatabase, count: usize, rate: u64) -> FixedRate {
    let producer: FutureProducer<ClientLogging> = KafkaSettings::new(kafka.bootstrap_servers.clone())
        .client_config()
        .set("linger.ms", "0")
        .create_with_context(ClientLogging::default())
        .expect("producer");
    let topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    let start_offset = {
        let client = database.sql().await;
        client
            .query_opt("SELECT next_offset FROM investigator.consumer_offset WHERE topic = $1", &[&topic])
            .await
            .expect("offset")
            .map_or(0, |row| row.get::<_, i64>(0))
    };
    let (sent_tx, mut sent_rx) = tokio::sync::mpsc::unbounded_channel::<Result<(i64, Instant), String>>();
    let sender = {
        let topic = topic.clone();
        tokio::spawn(async move {
            let interval = Duration::from_micros(1_000_000 / rate);
            let started = Instant::now();
            let mut reports = tokio::task::JoinSet::new();
            for i in 0..count {
                let due = started + interval * i as u32;
                tokio::time::sleep_until(due.into()).await;
                let payload = mixed_unresolved(i).encode();
                let sent_at = Instant::now();
                let record: FutureRecord<'_, (), String> = FutureRecord::to(&topic).payload(&payload);
                let delivery = producer.send_result(record).map_err(|(error, _)| error).expect("queued");
                let sent_tx = sent_tx.clone();
                reports.spawn(async move {
                    let outcome = match delivery.await {
                        Ok(Ok(delivered)) => Ok((delivered.offset, sent_at)),
                        Ok(Err((error, _))) => Err(error.to_string()),
                        Err(_) => Err("the delivery report was dropped".to_owned()),
                    };
                    let _ = sent_tx.send(outcome);
                });
            }
            // Dropping the producer purges what is in flight (the last records' reports would
            // say `PurgeInflight`, though the broker has them): it waits for every report.
            reports.join_all().await;
            drop(producer);
        })
    };
    let mut sent: BTreeMap<i64, Instant> = BTreeMap::new();
    let (mut delivered, mut refused, mut first_refusal) = (0, 0, None);
    let mut note = |outcome: Result<(i64, Instant), String>, sent: &mut BTreeMap<i64, Instant>| match outcome {
        Ok((offset, at)) => {
            delivered += 1;
            sent.insert(offset, at);
        }
        Err(error) => {
            refused += 1;
            first_refusal.get_or_insert(error);
        }
    };
    let mut measured = Vec::with_capacity(count);
    let mut seen_up_to = start_offset;
    let client = database.sql().await;
    let deadline = Instant::now() + Duration::from_secs(count as u64 / rate + 60);
    while measured.len() < count && Instant::now() < deadline {
        while let Ok(outcome) = sent_rx.try_recv() {
            note(outcome, &mut sent);
        }
        let next: i64 = client
            .query_opt("SELECT next_offset FROM investigator.consumer_offset WHERE topic = $1", &[&topic])
            .await
            .expect("offset")
            .map_or(0, |row| row.get(0));
        let now = Instant::now();
        while seen_up_to < next {
            while !sent.contains_key(&seen_up_to) {
                match sent_rx.recv().await {
                    Some(outcome) => note(outcome, &mut sent),
                    None => break,
                }
            }
            if let Some(at) = sent.remove(&seen_up_to) {
                measured.push(now.saturating_duration_since(at));
            }
            seen_up_to += 1;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let deadline_passed = measured.len() < count && Instant::now() >= deadline;
    sender.await.expect("sender");
    while let Ok(outcome) = sent_rx.try_recv() {
        note(outcome, &mut sent);
    }
    FixedRate { latencies: measured, delivered, refused, first_refusal, deadline_passed }
}

fn mixed_unresolved(i: usize) -> ThothMessage {
    message(
        MessageKind::UnresolvedPackage,
        json!({"package_name": format!("latency-{i}"), "package_version": "1.0.0", "index_url": PYPI, "solver": null}),
    )
}

/// The phases of a batch as `serve` logs them (`batch committed`, with `<phase>_ms` fields),
/// then the batch's total, then how long its oldest record had waited when it started, from
/// its Kafka timestamp (`oldest_record_waited_ms`: the broker's part and the service's) and
/// from the moment the ingest got it (`oldest_record_held_ms`: the service's part). The waits
/// are not part of the total.
const PHASES: [&str; 12] = [
    "list",
    "lock",
    "decode",
    "knowledge",
    "decide",
    "assemble",
    "append",
    "project",
    "commit",
    "total",
    "oldest_record_waited",
    "oldest_record_held",
];
const TOTAL: usize = 9;
const HELD: usize = 11;

/// Per batch, its records and the milliseconds of each of [`PHASES`], from a JSON log.
fn batch_profiles(log: &str) -> Vec<(u64, [f64; PHASES.len()])> {
    log.lines()
        .filter(|line| line.contains("batch committed"))
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| {
            let fields = line.get("fields")?;
            let mut phases = [0.0; PHASES.len()];
            for (slot, phase) in phases.iter_mut().zip(PHASES) {
                *slot = fields.get(format!("{phase}_ms"))?.as_f64()?;
            }
            Some((fields.get("records")?.as_u64()?, phases))
        })
        .collect()
}

fn print_profile(what: &str, batches: &[(u64, [f64; PHASES.len()])]) {
    let records: u64 = batches.iter().map(|(records, _)| records).sum();
    println!(
        "where a batch's time goes, {what} ({} batches, {:.0} records each on average), ms:",
        batches.len(),
        records as f64 / batches.len().max(1) as f64
    );
    println!("  {:<10} {:>8} {:>8} {:>8}  {:>6}", "phase", "p50", "p99", "mean", "share");
    let total: f64 = batches.iter().map(|(_, phases)| phases[TOTAL]).sum();
    for (column, phase) in PHASES.iter().enumerate() {
        let mut values: Vec<f64> = batches.iter().map(|(_, phases)| phases[column]).collect();
        values.sort_by(f64::total_cmp);
        let at = |fraction: f64| {
            values.get(((values.len() as f64 - 1.0) * fraction).round() as usize).copied().unwrap_or_default()
        };
        let sum: f64 = values.iter().sum();
        let share = if column <= TOTAL {
            format!("{:>5.1}%", 100.0 * sum / total.max(f64::MIN_POSITIVE))
        } else {
            String::new()
        };
        println!("  {phase:<10} {:>8.1} {:>8.1} {:>8.1}  {share}", at(0.5), at(0.99), sum / values.len().max(1) as f64);
    }
}

/// The service's own part of the latency: for each batch, its oldest record from the moment the
/// ingest got it to the batch's commit (held before the batch, then the batch).
fn print_service_share(batches: &[(u64, [f64; PHASES.len()])]) {
    let shares: Vec<Duration> =
        batches.iter().map(|(_, phases)| Duration::from_secs_f64((phases[HELD] + phases[TOTAL]) / 1e3)).collect();
    print_percentiles(
        "  the service's part: each batch's oldest record from the ingest getting it to the commit",
        "batches",
        shares,
    );
}

/// CPU time, in seconds, of the broker, of `serve` and of PostgreSQL (all its processes), read
/// from `/proc`: on two cores the three share, a busy broker slows everyone.
#[derive(Debug, Clone, Copy)]
struct CpuSeconds {
    broker: f64,
    service: f64,
    postgres: f64,
    at: Instant,
}

/// The kernel's clock ticks per second, in which `/proc/<pid>/stat` counts CPU time.
static CLOCK_TICKS: std::sync::LazyLock<f64> = std::sync::LazyLock::new(|| {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
});

impl CpuSeconds {
    /// `service` is `serve`'s process, once it runs.
    fn now(broker: &str, service: Option<u32>) -> Self {
        let mut seconds = CpuSeconds { broker: 0.0, service: 0.0, postgres: 0.0, at: Instant::now() };
        let Ok(processes) = std::fs::read_dir("/proc") else { return seconds };
        for process in processes.flatten() {
            let path = process.path();
            let Some(pid) = path.file_name().and_then(|name| name.to_str()?.parse::<u32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(path.join("stat")) else { continue };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
            let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            let used = |index: usize| fields.get(index).and_then(|field| field.parse::<f64>().ok()).unwrap_or(0.0);
            let cpu = (used(11) + used(12)) / *CLOCK_TICKS;
            if Some(pid) == service {
                seconds.service += cpu;
            } else if &stat[open + 1..close] == "postgres" {
                seconds.postgres += cpu;
            } else if std::fs::read_to_string(path.join("cmdline"))
                .is_ok_and(|command| command.contains(&format!("tcp://{broker}\0")))
            {
                seconds.broker += cpu;
            }
        }
        seconds
    }

    fn print_since(&self, start: &CpuSeconds, what: &str) {
        let wall = self.at.duration_since(start.at).as_secs_f64().max(f64::MIN_POSITIVE);
        let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
        println!(
            "  CPU during {what}, in cores (of {cores}): broker {:.2}, serve {:.2}, PostgreSQL {:.2}",
            (self.broker - start.broker) / wall,
            (self.service - start.service) / wall,
            (self.postgres - start.postgres) / wall
        );
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let total = backlog_size();
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    kafka.create_topics(&kafka.topics(), 1).await;

    println!("producing a backlog of {total} messages in Thoth's mix...");
    let publisher = ThothPublisher::new(
        &KafkaSettings::new(kafka.bootstrap_servers.clone()),
        kafka.naming().clone(),
        Duration::from_secs(60),
    )
    .expect("publisher");
    let messages: Vec<ThothMessage> = (0..total).map(mixed).collect();
    for chunk in messages.chunks(20_000) {
        for outcome in publisher.publish_all(chunk).await {
            outcome.expect("delivered");
        }
    }
    drop(messages);

    let limit = broker_consume_rate(&kafka, total).await;
    println!("broker consume rate (the limit):       {limit:>10.0} msg/s");
    // As many records as the fixed-rate phase below sends: tansu lists every batch of a
    // partition on each fetch, so its latency grows with the partition.
    let cpu_before = CpuSeconds::now(&kafka.bootstrap_servers, None);
    print_latency(
        "the broker's latency at 1,000 msg/s, produce to consume, one topic",
        broker_latency(&kafka, FIXED_RATE_MESSAGES, 1_000, 0).await,
    );
    CpuSeconds::now(&kafka.bootstrap_servers, None).print_since(&cpu_before, "it");
    print_latency("  the same, reading 18 empty topics beside it", broker_latency(&kafka, 5_000, 1_000, 18).await);

    let mut env = kafka.vars();
    env.extend(database.vars());
    env.push(("RUST_LOG".to_owned(), "warn,investigator_actors::pipeline::batch=debug".to_owned()));
    env.push(("INVESTIGATOR_LOG_FORMAT".to_owned(), "json".to_owned()));
    // Settings to compare (`INVESTIGATOR_BATCH_LINGER_MS=0 scripts/bench.sh pipeline`) reach
    // the service; the benchmark's own knobs do not.
    env.extend(std::env::vars().filter(|(name, _)| {
        name.starts_with("INVESTIGATOR_")
            && !name.starts_with("INVESTIGATOR_BENCH_")
            && !name.starts_with("INVESTIGATOR_TEST_")
    }));
    let service = Service::start(&env).await;
    let pid = service.pid().expect("running");
    let cpu_before = CpuSeconds::now(&kafka.bootstrap_servers, Some(pid));
    let started = Instant::now();
    let mut peak_mib: f64 = resident_mib(pid);
    let mut first_applied: Option<Instant> = None;
    loop {
        let done = applied(&database).await;
        peak_mib = peak_mib.max(resident_mib(pid));
        if done > 0 && first_applied.is_none() {
            first_applied = Some(Instant::now());
        }
        if done >= total as i64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1_800),
            "ingest did not finish within 30 minutes ({done} applied)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let flowing = first_applied.map_or(elapsed, |first| first.elapsed());
    let rate = total as f64 / elapsed.as_secs_f64();
    let flowing_rate = total as f64 / flowing.as_secs_f64();
    println!(
        "end-to-end ingest of the backlog:      {rate:>10.0} msg/s  ({:.2} of the limit; {:.1} s, including the group join)",
        rate / limit,
        elapsed.as_secs_f64()
    );
    println!(
        "  once the first batch committed:      {flowing_rate:>10.0} msg/s  ({:.2} of the limit)",
        flowing_rate / limit
    );
    println!("  resident memory of serve, peak:      {peak_mib:>10.1} MiB");
    CpuSeconds::now(&kafka.bootstrap_servers, Some(pid)).print_since(&cpu_before, "the backlog");
    let backlog_log = service.log_text();
    print_profile("the backlog", &batch_profiles(&backlog_log));

    let count = FIXED_RATE_MESSAGES;
    let cpu_before = CpuSeconds::now(&kafka.bootstrap_servers, Some(pid));
    let fixed_rate = latencies(&kafka, &database, count, 1_000).await;
    let cpu_after = CpuSeconds::now(&kafka.bootstrap_servers, Some(pid));
    peak_mib = peak_mib.max(resident_mib(pid));
    print_latency("latency at 1,000 msg/s, produce to commit", fixed_rate.latencies);
    println!(
        "  records: {} sent, {} delivered, {} refused by the broker{}{}",
        count,
        fixed_rate.delivered,
        fixed_rate.refused,
        fixed_rate.first_refusal.map(|error| format!(" (first: {error})")).unwrap_or_default(),
        if fixed_rate.deadline_passed { "; the deadline passed before every record was committed" } else { "" }
    );
    let gaps = service.metric("investigator_offset_gaps_total").await;
    let jumps = service.metric("investigator_offset_jumps_read_again_total").await;
    println!("  offsets read past as absent: {gaps:?}, jumps read a second time: {jumps:?}");
    println!("  resident memory of serve, peak:      {peak_mib:>10.1} MiB");
    cpu_after.print_since(&cpu_before, "the fixed rate");
    let log = service.log_text();
    let fixed_rate_batches = batch_profiles(log.get(backlog_log.len()..).unwrap_or_default());
    print_service_share(&fixed_rate_batches);
    print_profile("the fixed rate", &fixed_rate_batches);
    let workflows = {
        let client = database.sql().await;
        client.query_one("SELECT count(*) FROM graph.workflow_run", &[]).await.expect("count").get::<_, i64>(0)
    };
    println!("workflow requests recorded: {workflows}");
    service.stop().await;
}
