//! The lease of singleton duties (`investigator_projections::lease`) and its keeper
//! (`investigator_actors::duty`) on the real test database (through pgbouncer in transaction
//! pooling when the run says so).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use investigator_actors::duty::{Duty, DutyLease, Holding, LeaseSettings};
use investigator_actors::health::Health;
use investigator_actors::pipeline::metrics::Metrics;
use investigator_projections::lease::{self, LeaseError, LeaseToken};
use investigator_tests::{TestDatabase, eventually};
use tokio::sync::watch;

const DUTY: &str = "test-duty";

async fn checkpoint_written(database: &TestDatabase, projection: &str) -> bool {
    database
        .sql()
        .await
        .query_opt("SELECT 1 FROM investigator.projection_checkpoint WHERE projection = $1", &[&projection])
        .await
        .expect("read checkpoint")
        .is_some()
}

/// A checkpoint write fenced by `token`, as the relays make it; committed only if the fence
/// passes.
async fn fenced_write(database: &TestDatabase, token: &LeaseToken, projection: &str) -> Result<(), LeaseError> {
    let mut connection = database.database.connection().await.expect("connection");
    let transaction = connection.transaction().await.expect("transaction");
    investigator_projections::projector::set_checkpoint(&transaction, projection, 7).await.expect("write");
    lease::fence(&transaction, token).await?;
    transaction.commit().await.expect("commit");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_lease_is_taken_by_no_other_replica_and_renewed_only_by_its_holder() {
    let database = TestDatabase::migrated().await;
    let ttl = Duration::from_secs(30);
    let first = lease::acquire(&database.database, DUTY, "replica-a", ttl).await.expect("acquire").expect("free");
    assert_eq!(first.token.generation, 1);
    assert!(lease::acquire(&database.database, DUTY, "replica-b", ttl).await.expect("acquire").is_none(), "held");

    let renewed = lease::renew(&database.database, &first.token, ttl).await.expect("renew").expect("still held");
    assert!(renewed.expires_at >= first.expires_at);
    let impostor = LeaseToken { holder: "replica-b".to_owned(), ..first.token.clone() };
    assert!(lease::renew(&database.database, &impostor, ttl).await.expect("renew").is_none(), "not the holder");
    let older = LeaseToken { generation: 0, ..first.token.clone() };
    assert!(lease::renew(&database.database, &older, ttl).await.expect("renew").is_none(), "not the generation");

    fenced_write(&database, &first.token, "by-holder").await.expect("the holder's write passes");
    assert!(checkpoint_written(&database, "by-holder").await);
    let refused = fenced_write(&database, &impostor, "by-impostor").await.expect_err("fenced");
    assert!(refused.is_lost(), "{refused}");
    assert!(!checkpoint_written(&database, "by-impostor").await, "the fenced write rolled back");

    let leases = lease::leases(&database.sql().await).await.expect("leases");
    assert_eq!(leases.len(), 1);
    assert_eq!((leases[0].holder.as_str(), leases[0].generation, leases[0].held), ("replica-a", 1, true));

    // The holder taking its live lease again (it gave it up at its own deadline, or it is the
    // same pod started again) gets a new generation at once, which fences the old one.
    let again = lease::acquire(&database.database, DUTY, "replica-a", ttl).await.expect("acquire").expect("its own");
    assert_eq!(again.token.generation, 2);
    assert!(fenced_write(&database, &first.token, "by-old-generation").await.expect_err("fenced").is_lost());
    assert!(lease::renew(&database.database, &first.token, ttl).await.expect("renew").is_none(), "old generation");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_lease_goes_to_the_next_replica_with_a_higher_generation_and_fences_the_stale_holder() {
    let database = TestDatabase::migrated().await;
    let short = Duration::from_secs(1);
    let stale = lease::acquire(&database.database, DUTY, "replica-a", short).await.expect("acquire").expect("free");
    tokio::time::sleep(Duration::from_millis(1_300)).await;

    assert!(lease::renew(&database.database, &stale.token, short).await.expect("renew").is_none(), "expired");
    let next = lease::acquire(&database.database, DUTY, "replica-b", Duration::from_secs(30))
        .await
        .expect("acquire")
        .expect("expired, so free");
    assert_eq!((next.token.holder.as_str(), next.token.generation), ("replica-b", 2));

    let refused = fenced_write(&database, &stale.token, "by-stale").await.expect_err("fenced");
    assert!(matches!(&refused, LeaseError::Lost { generation: 1, .. }), "{refused}");
    assert!(!checkpoint_written(&database, "by-stale").await, "the stale holder's write rolled back");
    fenced_write(&database, &next.token, "by-next").await.expect("the new holder's write passes");
    assert!(checkpoint_written(&database, "by-next").await);

    // Even the same replica taking it again later gets a new generation: its old token fences.
    assert!(lease::release(&database.database, &next.token).await.expect("release"));
    let again = lease::acquire(&database.database, DUTY, "replica-a", short).await.expect("acquire").expect("released");
    assert_eq!(again.token.generation, 3);
    assert!(fenced_write(&database, &stale.token, "by-stale-again").await.expect_err("fenced").is_lost());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taking_waits_for_the_fenced_write_in_progress_to_commit() {
    let database = TestDatabase::migrated().await;
    let holder = lease::acquire(&database.database, DUTY, "replica-a", Duration::from_secs(2))
        .await
        .expect("acquire")
        .expect("free");
    let mut connection = database.database.connection().await.expect("connection");
    let transaction = connection.transaction().await.expect("transaction");
    lease::fence(&transaction, &holder.token).await.expect("held");
    tokio::time::sleep(Duration::from_millis(2_300)).await;

    // Expired now, but the row is held shared by the write: the taking waits for its commit.
    let pool = database.pool(2);
    let taking = tokio::spawn(async move {
        lease::acquire(&pool, DUTY, "replica-b", Duration::from_secs(30)).await.expect("acquire")
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!taking.is_finished(), "the taking went past a fenced write in progress");
    transaction.commit().await.expect("commit");
    let taken = tokio::time::timeout(Duration::from_secs(10), taking).await.expect("taken").expect("task");
    assert_eq!(taken.expect("free after the commit").token.generation, 2);
}

/// What the duties of a keeper did, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Started(&'static str, i64),
    Stopped(&'static str),
}

fn keeper(database: &TestDatabase, replica: &'static str) -> DutyLease {
    let settings = LeaseSettings { replica_id: replica.to_owned(), ttl: Duration::from_secs(3) };
    let metrics = Metrics::new("test");
    DutyLease::new(database.pool(2), DUTY, settings, metrics.clone(), Health::new(metrics))
}

/// Duties that log when they start and stop.
fn logging_duties(
    replica: &'static str,
    log: Arc<Mutex<Vec<(Instant, Event)>>>,
) -> impl FnMut(&LeaseToken, watch::Receiver<bool>) -> Vec<Duty> {
    move |token, mut stop| {
        log.lock().expect("log").push((Instant::now(), Event::Started(replica, token.generation)));
        let log = Arc::clone(&log);
        let task = tokio::spawn(async move {
            let _ = stop.wait_for(|stop| *stop).await;
            log.lock().expect("log").push((Instant::now(), Event::Stopped(replica)));
        });
        vec![Duty { name: "logging", task }]
    }
}

fn holds(holding: &watch::Receiver<Holding>) -> Option<i64> {
    match &*holding.borrow() {
        Holding::Held { token, .. } => Some(token.generation),
        Holding::NotHeld => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_duties_run_in_one_keeper_and_move_when_it_loses_the_database_or_stops() {
    let database = TestDatabase::migrated().await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let first = keeper(&database, "replica-a");
    let first_holding = first.subscribe();
    let (stop_first, first_stop) = watch::channel(false);
    let first_task = tokio::spawn(first.run(logging_duties("replica-a", Arc::clone(&log)), first_stop));
    eventually("the first keeper holds the duty", Duration::from_secs(10), || async {
        holds(&first_holding).is_some()
    })
    .await;

    let second = keeper(&database, "replica-b");
    let second_holding = second.subscribe();
    let (stop_second, second_stop) = watch::channel(false);
    let second_task = tokio::spawn(second.run(logging_duties("replica-b", Arc::clone(&log)), second_stop));
    // Several renewals later, still one holder.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(holds(&first_holding), Some(1));
    assert_eq!(holds(&second_holding), None);

    // The first stops (SIGTERM): it stops its duties, releases, and the second takes over
    // within a look (a third of the time to live), not after the expiry.
    let stopped = Instant::now();
    stop_first.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(5), first_task).await.expect("stopped").expect("task");
    eventually("the second keeper takes over", Duration::from_secs(3), || async { holds(&second_holding).is_some() })
        .await;
    let handed_over = stopped.elapsed();
    assert!(handed_over < Duration::from_millis(2_500), "hand-over after a release took {handed_over:?}");
    assert_eq!(holds(&second_holding), Some(2));

    stop_second.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(5), second_task).await.expect("stopped").expect("task");
    let events: Vec<Event> = log.lock().expect("log").iter().map(|(_, event)| event.clone()).collect();
    assert_eq!(
        events,
        [
            Event::Started("replica-a", 1),
            Event::Stopped("replica-a"),
            Event::Started("replica-b", 2),
            Event::Stopped("replica-b"),
        ],
        "never two holders' duties at once"
    );
    let leases = lease::leases(&database.sql().await).await.expect("leases");
    assert!(!leases[0].held, "released on stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_keeper_cut_off_from_the_database_stops_its_duties_before_its_lease_expires() {
    let database = TestDatabase::migrated().await;
    let log = Arc::new(Mutex::new(Vec::new()));
    // The first keeper's own pool, closed to cut it off (its renewals fail from then on).
    let cut_off = database.pool(2);
    let settings = LeaseSettings { replica_id: "replica-a".to_owned(), ttl: Duration::from_secs(3) };
    let metrics = Metrics::new("test");
    let first_health = Health::new(metrics.clone());
    let first = DutyLease::new(cut_off.clone(), DUTY, settings, metrics, first_health.clone());
    assert!(first_health.not_started().contains_key("lease"), "not ready before the lease's first answer");
    let first_holding = first.subscribe();
    let (_stop_first, first_stop) = watch::channel(false);
    let _first_task = tokio::spawn(first.run(logging_duties("replica-a", Arc::clone(&log)), first_stop));
    eventually("the first keeper holds the duty", Duration::from_secs(10), || async {
        holds(&first_holding).is_some()
    })
    .await;
    assert!(first_health.not_started().is_empty() && first_health.degraded().is_empty(), "{first_health:?}");
    let second = keeper(&database, "replica-b");
    let second_holding = second.subscribe();
    let (_stop_second, second_stop) = watch::channel(false);
    let _second_task = tokio::spawn(second.run(logging_duties("replica-b", Arc::clone(&log)), second_stop));

    cut_off.close();
    eventually("the second keeper takes over", Duration::from_secs(10), || async { holds(&second_holding).is_some() })
        .await;
    assert_eq!(holds(&first_holding), None);
    let degraded = first_health.degraded();
    let reason = degraded.get("lease").map(|degradation| degradation.reason.as_str()).unwrap_or_default();
    assert!(reason.contains("lease could not be"), "the cut-off keeper is degraded: {first_health:?}");
    let events = log.lock().expect("log").clone();
    let stopped = events.iter().find(|(_, event)| *event == Event::Stopped("replica-a")).map(|(at, _)| *at);
    let started = events.iter().find(|(_, event)| *event == Event::Started("replica-b", 2)).map(|(at, _)| *at);
    let (stopped, started) = (stopped.expect("the first's duties stopped"), started.expect("the second's started"));
    // The first gave up at its deadline (a third of the time to live before the expiry); the
    // second could take only after the expiry.
    assert!(started.duration_since(stopped) >= Duration::from_millis(500), "stopped {stopped:?}, started {started:?}");
}
