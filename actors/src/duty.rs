//! Duties that run in one replica at a time, under a lease in PostgreSQL
//! (`investigator_projections::lease`).
//!
//! [`DutyLease::run`] takes the lease when it is free, runs the duties while it holds it, and
//! renews it every third of its time to live. The holder's own deadline is earlier than the
//! lease's expiry: it counts from the moment the last successful renewal was *sent* (the
//! database stamped the expiry later than that, by its own clock), minus a margin of a third of
//! the time to live. When that deadline passes without a renewal, or a renewal finds the lease
//! taken, the duties are told to stop at their next round boundary and waited for, half the
//! margin at most: they have stopped before another replica can take the lease unless a round
//! outlasts that. A replica that stops (SIGTERM) goes on renewing the lease until its duties
//! have stopped, and releases it then (or leaves it to expire if it cannot renew), so a
//! hand-over on a rolling update never runs a duty twice and takes no longer than their round.
//!
//! Every write the duties make to PostgreSQL is fenced
//! ([`investigator_projections::lease::fence`]), so a round finishing late, or a holder paused
//! past all of this, writes nothing once the lease is another's.
//!
//! Nothing that talks to PostgreSQL is cancelled midway: a statement dropped between its
//! prepare and its close stays prepared on the server connection, which pgbouncer in
//! transaction pooling hands to another client ("prepared statement already exists"). Lease
//! statements run in tasks of their own that are waited for only until the deadline, and a
//! duty that outlasts the grace is left to finish its round, not aborted.
//!
//! What the replica holds is published on a `watch` ([`Holding`]) and in
//! `investigator_duty_held{duty}`. The replica is not ready (`/_ready`) until its first look at
//! the lease has been answered, and is degraded while the lease cannot be asked for or renewed:
//! a replica that cannot contest the lease could not take the duties over.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use investigator_projections::Database;
use investigator_projections::lease::{self, HeldLease, LeaseToken};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::health::Health;
use crate::pipeline::metrics::Metrics;

/// The lease that covers every singleton duty of `serve` (the log relays, the workflow
/// launcher and watchers, the learning relay and drivers): they share their dependencies and
/// are light, so one lease hands them over together (see ARCHITECTURE.md).
pub const SINGLETON: &str = "singleton";

/// The tasks the singleton lease covers, by the names they have in logs (shown by
/// `/api/v1/status` beside the lease's holder).
pub const SINGLETON_TASKS: &[&str] = &[
    "kafka_mirror",
    "kafka_dead_letters",
    "kafka_redrives",
    "workflow_launcher",
    "workflow_watcher",
    "learning_relay",
    "learning_driver",
];

/// Whether this replica holds a duty's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holding {
    /// Another replica holds it, or no one; the duties do not run here.
    NotHeld,
    /// This replica holds it and runs the duties.
    Held {
        /// The holding, which fences every write of the duties.
        token: LeaseToken,
        /// When the lease expires by the database's clock, unless renewed.
        expires_at: DateTime<Utc>,
    },
}

/// One duty's running task.
#[derive(Debug)]
pub struct Duty {
    /// Its name in logs.
    pub name: &'static str,
    /// The task; it ends when the stop it was given turns true, at its next round boundary.
    pub task: JoinHandle<()>,
}

/// Who this replica is and how long a lease lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseSettings {
    /// `INVESTIGATOR_REPLICA_ID`: this replica's name in the lease table.
    pub replica_id: String,
    /// `INVESTIGATOR_LEASE_TTL_S`: how long a lease lasts without a renewal.
    pub ttl: Duration,
}

impl LeaseSettings {
    /// How often the lease is renewed, and a free lease looked for.
    pub fn renew_every(&self) -> Duration {
        self.ttl / 3
    }

    /// How long before the lease's expiry the holder gives its duties up.
    fn margin(&self) -> Duration {
        self.ttl / 3
    }

    /// How long duties told to stop may take to finish their round before they are aborted.
    fn stop_grace(&self) -> Duration {
        self.margin() / 2
    }

    /// The wait before another renewal after one failed.
    fn retry_after(&self) -> Duration {
        (self.ttl / 10).max(Duration::from_millis(100))
    }
}

/// Why a holding ended.
#[derive(Debug)]
enum Ended {
    /// The service stops: the lease is released once the duties have stopped, renewed as
    /// `renewals` says until then.
    Stopping { renewals: Renewals },
    /// The lease was taken, expired, or could not be renewed in time.
    Lost(String),
}

/// Keeps one duty's lease for this replica and runs the duties while it holds it.
pub struct DutyLease {
    database: Database,
    duty: &'static str,
    settings: LeaseSettings,
    metrics: Metrics,
    health: Health,
    holding: watch::Sender<Holding>,
}

/// The part `/_ready` and `/_health` name for the lease.
const LEASE_COMPONENT: &str = "lease";

impl DutyLease {
    /// The lease of `duty` for this replica (not taken yet: see [`DutyLease::run`]).
    pub fn new(
        database: Database,
        duty: &'static str,
        settings: LeaseSettings,
        metrics: Metrics,
        health: Health,
    ) -> Self {
        metrics.duty_held.with_label_values(&[duty]).set(0);
        health.starting(LEASE_COMPONENT, &format!("asking for the {duty} lease a first time"));
        let (holding, _) = watch::channel(Holding::NotHeld);
        DutyLease { database, duty, settings, metrics, health, holding }
    }

    /// The lease's table answered: this replica knows who holds the duty.
    fn answered(&self) {
        self.health.started(LEASE_COMPONENT);
        self.health.recovered(LEASE_COMPONENT);
    }

    /// What this replica holds, as it changes.
    pub fn subscribe(&self) -> watch::Receiver<Holding> {
        self.holding.subscribe()
    }

    /// Takes the lease whenever it is free and runs `start`'s duties while it holds it, until
    /// `stop` turns true; then stops the duties and releases the lease, so another replica
    /// takes over at once. `start` is given the holding (for the fence) and the signal on
    /// which its duties must stop.
    pub async fn run<F>(self, mut start: F, mut stop: watch::Receiver<bool>)
    where
        F: FnMut(&LeaseToken, watch::Receiver<bool>) -> Vec<Duty>,
    {
        tracing::info!(
            duty = self.duty,
            replica = self.settings.replica_id,
            ttl_s = self.settings.ttl.as_secs_f64(),
            "waiting for the duty's lease"
        );
        loop {
            let Some((held, deadline)) = self.acquire(&mut stop).await else {
                return;
            };
            self.taken(&held);
            let (stop_duties, duties_stop) = watch::channel(false);
            let duties = start(&held.token, duties_stop);
            let ended = self.keep(&held.token, deadline, &mut stop).await;
            self.publish(Holding::NotHeld);
            let _ = stop_duties.send(true);
            let stopped = match ended {
                Ended::Stopping { renewals } => self.stop_duties_renewing(&held.token, duties, renewals).await,
                Ended::Lost(_) => self.stop_duties(duties, Instant::now() + self.settings.stop_grace()).await,
            };
            if stopped {
                // Before the release: from here on another replica may take the duties.
                tracing::info!(
                    duty = self.duty,
                    replica = held.token.holder,
                    generation = held.token.generation,
                    "duties stopped"
                );
            }
            match ended {
                Ended::Stopping { .. } if !stopped => {
                    tracing::warn!(
                        duty = self.duty,
                        generation = held.token.generation,
                        "the duties did not stop while the lease was held: it is left to expire, not released"
                    );
                    return;
                }
                Ended::Stopping { .. } => {
                    match lease::release(&self.database, &held.token).await {
                        Ok(released) => tracing::info!(
                            duty = self.duty,
                            replica = held.token.holder,
                            generation = held.token.generation,
                            released,
                            "duty given up: the service stops"
                        ),
                        Err(error) => tracing::warn!(duty = self.duty, generation = held.token.generation,
                                                     error = %investigator_events::error_chain::one_line(&error),
                                                     "the duty's lease could not be released; it expires on its own"),
                    }
                    return;
                }
                Ended::Lost(reason) => {
                    tracing::info!(
                        duty = self.duty,
                        replica = held.token.holder,
                        generation = held.token.generation,
                        reason,
                        "duty lost: its tasks are stopped"
                    );
                }
            }
        }
    }

    /// Tries to take the lease every [`LeaseSettings::renew_every`] until it is taken (with the
    /// holder's deadline) or the service stops (`None`).
    async fn acquire(&self, stop: &mut watch::Receiver<bool>) -> Option<(HeldLease, Instant)> {
        loop {
            if *stop.borrow() {
                return None;
            }
            let sent = Instant::now();
            let (database, duty, replica, ttl) =
                (self.database.clone(), self.duty, self.settings.replica_id.clone(), self.settings.ttl);
            let attempt = async move { lease::acquire(&database, duty, &replica, ttl).await };
            // An answer too late is not waited for; taken all the same, the lease is taken again
            // at the next look (its holder's own).
            match unless_late(sent + self.settings.renew_every(), attempt).await {
                Some(Ok(Some(held))) => {
                    self.answered();
                    return Some((held, self.deadline(sent)));
                }
                Some(Ok(None)) => self.answered(),
                Some(Err(error)) => {
                    let error = investigator_events::error_chain::one_line(&error);
                    tracing::warn!(duty = self.duty, error, "the duty's lease could not be asked for; trying again");
                    self.health
                        .failed(LEASE_COMPONENT, &format!("the {} lease could not be asked for: {error}", self.duty));
                }
                None => {
                    tracing::warn!(duty = self.duty, "asking for the duty's lease took too long; trying again");
                    self.health.failed(LEASE_COMPONENT, &format!("asking for the {} lease took too long", self.duty));
                }
            }
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return None,
                () = tokio::time::sleep(self.settings.renew_every()) => {}
            }
        }
    }

    /// Renews the lease until it is lost or the service stops.
    async fn keep(&self, token: &LeaseToken, deadline: Instant, stop: &mut watch::Receiver<bool>) -> Ended {
        let mut renewals = Renewals { deadline, next: Instant::now() + self.settings.renew_every() };
        loop {
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return Ended::Stopping { renewals },
                () = tokio::time::sleep_until(renewals.due()) => {}
            }
            match self.renew_due(token, &mut renewals).await {
                Ok(Some(expires_at)) => self.publish(Holding::Held { token: token.clone(), expires_at }),
                Ok(None) => {}
                Err(reason) => return Ended::Lost(reason),
            }
        }
    }

    /// Renews the lease if a renewal is due: the new expiry when renewed, `None` when the
    /// renewal failed and is tried again shortly, the reason when the lease is lost (the
    /// holder's deadline passed, or the lease is another's).
    async fn renew_due(&self, token: &LeaseToken, renewals: &mut Renewals) -> Result<Option<DateTime<Utc>>, String> {
        let now = Instant::now();
        if now >= renewals.deadline {
            return Err("not renewed before the holder's deadline".to_owned());
        }
        if now < renewals.next {
            return Ok(None);
        }
        let sent = now;
        // A renewal still unanswered at the deadline is a lost lease: the duties must stop
        // before it can expire for the other replicas.
        let (database, renewing, ttl) = (self.database.clone(), token.clone(), self.settings.ttl);
        let renewal = async move { lease::renew(&database, &renewing, ttl).await };
        match unless_late(renewals.deadline, renewal).await {
            Some(Ok(Some(renewed))) => {
                self.answered();
                renewals.deadline = self.deadline(sent);
                renewals.next = sent + self.settings.renew_every();
                Ok(Some(renewed.expires_at))
            }
            Some(Ok(None)) => Err("taken by another replica or expired".to_owned()),
            Some(Err(error)) => {
                let error = investigator_events::error_chain::one_line(&error);
                tracing::warn!(
                    duty = self.duty,
                    generation = token.generation,
                    error,
                    "the duty's lease could not be renewed; trying again until the deadline"
                );
                self.health.failed(LEASE_COMPONENT, &format!("the {} lease could not be renewed: {error}", self.duty));
                renewals.next = Instant::now() + self.settings.retry_after();
                Ok(None)
            }
            None => Err("the renewal did not answer before the holder's deadline".to_owned()),
        }
    }

    /// Waits for the duties of a stopping replica, told to stop already, renewing the lease
    /// meanwhile: they give it up as soon as they have stopped, however long their round,
    /// never by letting it expire under a duty still at work. Whether they all stopped; not
    /// if a renewal fails until the deadline (then the lease expires, as in `keep`).
    async fn stop_duties_renewing(&self, token: &LeaseToken, duties: Vec<Duty>, mut renewals: Renewals) -> bool {
        let names: Vec<&'static str> = duties.iter().map(|duty| duty.name).collect();
        let mut all_stopped = std::pin::pin!(futures_util::future::join_all(duties.into_iter().map(|duty| duty.task)));
        loop {
            tokio::select! {
                _ = &mut all_stopped => return true,
                () = tokio::time::sleep_until(renewals.due()) => {}
            }
            if let Err(reason) = self.renew_due(token, &mut renewals).await {
                tracing::warn!(duty = self.duty, tasks = ?names, reason,
                               "the lease was lost while the duties were stopping: their writes are fenced");
                return false;
            }
        }
    }

    /// Waits for the duties, told to stop already, until `until`: whether all of them stopped.
    /// One still in its round then is left to finish it (never aborted: see the module's
    /// documentation), its writes fenced.
    async fn stop_duties(&self, duties: Vec<Duty>, until: Instant) -> bool {
        let mut stopped = true;
        for mut duty in duties {
            if tokio::time::timeout_at(until, &mut duty.task).await.is_err() {
                stopped = false;
                tracing::warn!(
                    duty = self.duty,
                    task = duty.name,
                    "a task still finishes its round after the grace; its writes are fenced"
                );
            }
        }
        stopped
    }

    /// The holder's deadline for a renewal sent at `sent`.
    fn deadline(&self, sent: Instant) -> Instant {
        sent + self.settings.ttl - self.settings.margin()
    }

    fn taken(&self, held: &HeldLease) {
        tracing::info!(duty = self.duty, replica = held.token.holder, generation = held.token.generation,
                       expires_at = %held.expires_at, "duty taken");
        self.publish(Holding::Held { token: held.token.clone(), expires_at: held.expires_at });
    }

    fn publish(&self, holding: Holding) {
        let held = i64::from(matches!(holding, Holding::Held { .. }));
        self.metrics.duty_held.with_label_values(&[self.duty]).set(held);
        self.holding.send_replace(holding);
    }
}

/// When the lease is renewed next, and by when it must have been.
#[derive(Debug, Clone, Copy)]
struct Renewals {
    /// The holder's deadline (see [`DutyLease::deadline`]).
    deadline: Instant,
    next: Instant,
}

impl Renewals {
    fn due(&self) -> Instant {
        self.next.min(self.deadline)
    }
}

/// Runs `operation` (a lease statement) to its end in a task of its own and waits for it until
/// `deadline`: `None` when it had not answered by then. It is never cancelled midway.
async fn unless_late<T: Send + 'static>(
    deadline: Instant,
    operation: impl Future<Output = T> + Send + 'static,
) -> Option<T> {
    let task = tokio::spawn(operation);
    match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(answer)) => Some(answer),
        Ok(Err(_)) | Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_duties_stop_before_the_lease_can_expire() {
        for seconds in [3, 15, 300] {
            let settings = LeaseSettings { replica_id: "a".to_owned(), ttl: Duration::from_secs(seconds) };
            let ttl = settings.ttl;
            // From the last renewal sent: the deadline, then the grace, end before the expiry.
            let stopped_by = ttl - settings.margin() + settings.stop_grace();
            assert!(stopped_by < ttl, "ttl {ttl:?}: stopped by {stopped_by:?}");
            // At least one retry fits between a failed renewal and the deadline.
            assert!(settings.renew_every() + settings.retry_after() < ttl - settings.margin(), "ttl {ttl:?}");
        }
    }
}
