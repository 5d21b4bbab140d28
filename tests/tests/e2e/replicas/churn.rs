//! Consumers under churn: three replicas share topics of twelve partitions while a steady
//! stream, poison records among it, flows through a rolling restart (each replica's successor
//! started and ready before the replica gets SIGTERM, as a Deployment with `maxSurge: 1` and
//! `maxUnavailable: 0` rolls) and one SIGKILL of the singleton duties' holder. Every message's
//! effects are applied once, every workflow is created once, the singleton duties run in one
//! replica at a time, and the mirror holds every position once. The pauses the rebalances
//! cause are printed (RELIABILITY.md keeps them).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use investigator_actors::kafka::{KafkaSettings, ThothPublisher};
use investigator_events::thoth::MessageKind;
use investigator_tests::{Service, TestDatabase, TestKafka, eventually};

use super::{
    DUTY_LOST, LEASE_TTL_S, LEFT_TO_EXPIRE, assert_mirrored_once, assert_submitted_once, conflicts, log_entries,
    singleton_holder, three_replicas,
};
use crate::pipeline::crash_safety::{assert_exactly_once, mixed_message};
use crate::pipeline::{applied_records, service_env};
use crate::workflows::{cluster, kube_settings};

const PARTITIONS: i32 = 12;
/// The stream: this many messages every [`ROUND`] (100 a second), and a poison record every
/// [`POISON_EVERY`] rounds.
const PER_ROUND: usize = 20;
const ROUND: Duration = Duration::from_millis(200);
const POISON_EVERY: usize = 10;
/// The topics the stream uses (the mixed stream's kinds), made with [`PARTITIONS`] partitions.
const STREAM_KINDS: [MessageKind; 5] = [
    MessageKind::UnresolvedPackage,
    MessageKind::PackageReleased,
    MessageKind::UnrevsolvedPackage,
    MessageKind::MissingVersion,
    MessageKind::UpdateProvidesSourceDistro,
];

/// What the stream published.
#[derive(Debug, Default)]
struct Published {
    messages: AtomicI64,
    workflows: AtomicI64,
    poison: AtomicI64,
}

/// Publishes the mixed stream, with poison records in it, until `done`.
async fn stream(kafka: &TestKafka, published: &Published, done: &AtomicBool) {
    let publisher = ThothPublisher::new(
        &KafkaSettings::new(kafka.bootstrap_servers.clone()),
        kafka.naming().clone(),
        Duration::from_secs(60),
    )
    .expect("publisher");
    let poison_topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    let mut round = 0;
    while !done.load(Ordering::SeqCst) {
        let started = Instant::now();
        let first = round * PER_ROUND;
        let (messages, workflows): (Vec<_>, Vec<i64>) = (first..first + PER_ROUND).map(mixed_message).unzip();
        for outcome in publisher.publish_all(&messages).await {
            outcome.expect("delivered");
        }
        published.messages.fetch_add(PER_ROUND as i64, Ordering::SeqCst);
        published.workflows.fetch_add(workflows.iter().sum::<i64>(), Ordering::SeqCst);
        if round % POISON_EVERY == POISON_EVERY - 1 {
            kafka.send_raw(&poison_topic, format!("poison {round}").as_bytes()).await;
            published.poison.fetch_add(1, Ordering::SeqCst);
        }
        round += 1;
        tokio::time::sleep(ROUND.saturating_sub(started.elapsed())).await;
    }
}

/// The times the applied records did not grow for longer than the stream's rounds while it
/// flowed: (seconds since `start` when the pause began, its length).
async fn pauses(database: &TestDatabase, start: Instant, done: &AtomicBool) -> Vec<(f64, Duration)> {
    let mut last = applied_records(&database.database).await;
    let mut since = Instant::now();
    let mut pauses = Vec::new();
    while !done.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let applied = applied_records(&database.database).await;
        if applied > last {
            let paused = since.elapsed();
            if paused > 2 * ROUND {
                pauses.push((since.duration_since(start).as_secs_f64(), paused));
            }
            last = applied;
            since = Instant::now();
        }
    }
    pauses
}

/// Prints what happened `at` in the churn, in seconds since `start`.
fn note(start: Instant, what: &str) {
    eprintln!("churn: {:6.1} s  {what}", start.elapsed().as_secs_f64());
}

async fn is_ready(service: &Service) -> bool {
    service.get("/_ready").await.0 == 200
}

/// One replica's life as its log tells it: when it held the singleton duties, and how long
/// each of its rebalances kept its partitions unread.
#[derive(Default)]
struct Life {
    holdings: Vec<Holding>,
    /// Its rebalances: (milliseconds, whether it was its join).
    rebalances: Vec<(u64, bool)>,
    /// Its warnings, as logged: what a failure shows of why a holding did not stop.
    warnings: Vec<String>,
}

/// One holding of the singleton duties.
#[derive(Debug, Clone, Copy)]
struct Holding {
    generation: i64,
    taken: DateTime<Utc>,
    end: HoldingEnd,
}

/// How a holding ended, as its replica logged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HoldingEnd {
    /// Its duties had all stopped then, before the lease was released or lost.
    Stopped(DateTime<Utc>),
    /// The lease was lost (a renewal unanswered before the holder's deadline, as a loaded
    /// pooler may cause) with a duty still in its round: the lease expires on its own and that
    /// round's writes are fenced, so the next holder may start before the round ends.
    LeftToExpire,
    /// Nothing logged: the replica was killed while holding.
    Unlogged,
}

impl std::fmt::Debug for Life {
    // Without the warnings: a failure names the ones that explain it.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Life")
            .field("holdings", &self.holdings)
            .field("rebalances", &self.rebalances)
            .finish_non_exhaustive()
    }
}

fn life(log: &str) -> Life {
    let mut life = Life::default();
    for entry in log_entries(log) {
        let fields = &entry["fields"];
        if entry["level"].as_str() == Some("WARN") {
            life.warnings.push(entry["fields"].to_string());
        }
        let at = || {
            let stamp = entry["timestamp"].as_str().expect("a timestamp");
            DateTime::parse_from_rfc3339(stamp).expect("an RFC 3339 timestamp").with_timezone(&Utc)
        };
        match fields["message"].as_str() {
            Some("duty taken") => {
                let generation = fields["generation"].as_i64().expect("a generation");
                life.holdings.push(Holding { generation, taken: at(), end: HoldingEnd::Unlogged });
            }
            Some("duties stopped") => {
                let generation = fields["generation"].as_i64();
                let holding = life.holdings.last_mut().expect("stopped after taken");
                assert_eq!(Some(holding.generation), generation, "the duties of the holding taken last stop");
                holding.end = HoldingEnd::Stopped(at());
            }
            Some(DUTY_LOST | LEFT_TO_EXPIRE) => {
                let generation = fields["generation"].as_i64();
                let holding = life.holdings.last_mut().expect("lost after taken");
                assert_eq!(Some(holding.generation), generation, "the holding taken last is lost");
                if holding.end == HoldingEnd::Unlogged {
                    holding.end = HoldingEnd::LeftToExpire;
                }
            }
            Some("rebalance over: every assigned partition is read") => life
                .rebalances
                .push((fields["took_ms"].as_u64().expect("took_ms"), fields["first"].as_bool().expect("first"))),
            _ => {}
        }
    }
    life
}

#[tokio::test(flavor = "multi_thread")]
async fn three_replicas_over_twelve_partitions_apply_a_stream_once_through_a_rolling_restart_and_a_kill() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let topics: Vec<String> = STREAM_KINDS.iter().map(|kind| kafka.naming().topic(*kind)).collect();
    kafka.create_topics(&topics, PARTITIONS).await;
    let cluster = cluster().await;
    let ttl = LEASE_TTL_S.to_string();
    // The default (eager). With `cooperative`, tansu's group coordinator leaves a member that
    // joins after another left waiting for its assignment (RELIABILITY.md).
    let assignment = std::env::var("INVESTIGATOR_TEST_KAFKA_ASSIGNMENT").unwrap_or_else(|_| "eager".to_owned());
    let env_of = |replica: &str| {
        let mut extra = kube_settings(
            &cluster,
            &[
                ("INVESTIGATOR_LEASE_TTL_S", ttl.as_str()),
                ("INVESTIGATOR_INDEX_TIMEOUT_MS", "0"),
                ("INVESTIGATOR_KUBE_QPS", "500"),
                ("INVESTIGATOR_KUBE_BURST", "500"),
                ("INVESTIGATOR_KAFKA_ASSIGNMENT", assignment.as_str()),
                ("INVESTIGATOR_LOG_FORMAT", "json"),
                ("RUST_LOG", "warn,investigator_actors::duty=info,investigator_actors::pipeline::ingest=info"),
            ],
        );
        extra.push(("INVESTIGATOR_REPLICA_ID", replica));
        service_env(&kafka, &database, &extra)
    };

    let mut replicas = three_replicas(&env_of).await;
    let published = Published::default();
    let (stream_done, sampling_done) = (AtomicBool::new(false), AtomicBool::new(false));
    let mut lives: BTreeMap<String, Life> = BTreeMap::new();
    let mut killed = None;
    let start = Instant::now();
    let churn = async {
        for (name, service) in &replicas {
            eventually(&format!("{name} ready"), Duration::from_secs(90), || is_ready(service)).await;
        }
        eventually("the stream applied", Duration::from_secs(60), || async {
            applied_records(&database.database).await > 200
        })
        .await;
        // A rolling restart: each replica's successor started and ready, then the replica stopped.
        for generation in 0..3 {
            let (name, service) = replicas.remove(0);
            let successor = format!("{name}-{}", generation + 2);
            let started = Service::start(&env_of(&successor)).await;
            note(start, &format!("{successor} started"));
            eventually(&format!("{successor} ready"), Duration::from_secs(90), || is_ready(&started)).await;
            note(start, &format!("{successor} ready; SIGTERM to {name}"));
            replicas.push((successor, started));
            let (code, log) = service.stop_keeping_log().await;
            note(start, &format!("{name} stopped"));
            assert_eq!(code, Some(0), "{name} stops cleanly");
            lives.insert(name, life(&log));
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        // The holder of the singleton duties dies, and a replacement comes.
        let (holder, _) = singleton_holder(&replicas[0].1).await;
        let holder = holder.expect("a holder");
        let at = replicas.iter().position(|(name, _)| *name == holder).expect("the holder is a replica");
        let (name, service) = replicas.remove(at);
        // Hand-overs on SIGTERM: the stopping holder's launcher stopped before another began.
        assert_eq!(conflicts(&cluster), 0, "no workflow submitted by two launchers through the rolling restart");
        killed = Some((name.clone(), Utc::now()));
        lives.insert(name.clone(), life(&service.kill_keeping_log().await));
        note(start, &format!("SIGKILL to {name}, the singleton duties' holder"));
        let replacement = format!("{name}-replacement");
        let started = Service::start(&env_of(&replacement)).await;
        eventually(&format!("{replacement} ready"), Duration::from_secs(90), || is_ready(&started)).await;
        note(start, &format!("{replacement} ready"));
        replicas.push((replacement, started));
        tokio::time::sleep(Duration::from_secs(3)).await;
        stream_done.store(true, Ordering::SeqCst);
    };
    let sampling = async {
        for (at, paused) in pauses(&database, start, &sampling_done).await {
            eprintln!("churn: {at:6.1} s  no record applied for {} ms", paused.as_millis());
        }
    };
    let streaming = async {
        stream(&kafka, &published, &stream_done).await;
        sampling_done.store(true, Ordering::SeqCst);
    };
    tokio::join!(churn, streaming, sampling);

    let (messages, workflows, poison) = (
        published.messages.load(Ordering::SeqCst),
        published.workflows.load(Ordering::SeqCst),
        published.poison.load(Ordering::SeqCst),
    );
    eprintln!("churn: {messages} messages and {poison} poison records published, {workflows} workflows expected");
    eventually("every record applied", Duration::from_secs(120), || async {
        applied_records(&database.database).await == messages + poison
    })
    .await;
    assert_exactly_once(&database, messages + poison, workflows, poison).await;
    // The launcher (500 a second at most, against a fake API server on a loaded machine) is
    // still catching up with the stream.
    assert_submitted_once(&cluster, &database, workflows, Duration::from_secs(240)).await;
    // After the kill, the next holder submits again what the killed one had created and not
    // recorded yet: the API server's 409 tells it the workflow exists, and it records it once.
    eprintln!("churn: {} creates answered 409 after the kill", conflicts(&cluster));

    let (holder, holders) = singleton_holder(&replicas[0].1).await;
    assert_eq!(holders, 1, "one holder");
    let holder = holder.expect("a holder");
    let (_, holding) = replicas.iter().find(|(name, _)| *name == holder).expect("the holder is a replica");
    assert_mirrored_once(&kafka, &database, holding).await;
    for (name, service) in replicas {
        let (code, log) = service.stop_keeping_log().await;
        assert_eq!(code, Some(0), "{name} stops cleanly");
        lives.insert(name, life(&log));
    }

    // One holder at every moment: the holdings, the killed one ending at the kill, follow one
    // another with rising generations; every other holding's duties stopped before its end, or
    // its lease was lost and left to expire (its late round fenced: the counts above hold).
    let (killed, killed_at) = killed.expect("a replica was killed");
    let mut holdings: Vec<(Holding, &str)> = Vec::new();
    for (name, life) in &lives {
        for holding in &life.holdings {
            let end = match holding.end {
                HoldingEnd::Unlogged if *name == killed => HoldingEnd::Stopped(killed_at),
                HoldingEnd::Unlogged => panic!(
                    "{name} gave up generation {} with nothing logged of its duties' end; its warnings: {:#?}\nevery life: {lives:?}",
                    holding.generation, life.warnings
                ),
                end => end,
            };
            holdings.push((Holding { end, ..*holding }, name.as_str()));
        }
    }
    holdings.sort_by_key(|(holding, _)| holding.taken);
    assert!(holdings.len() >= 2, "the duties changed hands: {holdings:?}");
    let left_to_expire = holdings.iter().filter(|(holding, _)| holding.end == HoldingEnd::LeftToExpire).count();
    eprintln!("churn: {} holdings, {left_to_expire} of them lost and left to expire", holdings.len());
    for pair in holdings.windows(2) {
        let ((before, by), (after, next)) = (pair[0], pair[1]);
        assert!(after.generation > before.generation, "generations rise: {pair:?}");
        if let HoldingEnd::Stopped(stopped) = before.end {
            assert!(
                after.taken >= stopped,
                "{next} took the duties (generation {}) before {by} had stopped them: {pair:?}",
                after.generation
            );
        }
    }
    for (name, life) in &lives {
        let pauses: Vec<String> = life
            .rebalances
            .iter()
            .map(|(took, join)| if *join { format!("join {took} ms") } else { format!("{took} ms") })
            .collect();
        eprintln!("churn: {name}: rebalances {}", pauses.join(", "));
    }
    let rebalances = || lives.values().flat_map(|life| life.rebalances.iter());
    let joins = rebalances().filter(|(_, join)| *join).count();
    let others = rebalances().filter(|(_, join)| !*join).count();
    assert_eq!(joins, lives.len(), "each replica joined the group once: {lives:?}");
    assert!(others > 0, "the replicas that stayed saw rebalances: {lives:?}");
}
