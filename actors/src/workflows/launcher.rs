//! The launcher: drains the outbox of requested workflows into the cluster.
//!
//! Exactly once: a workflow's name is its request's id, so submitting it again (after a crash
//! between the create and the recording of `WorkflowSubmitted`, or after a lost answer) is
//! answered 409, which counts as done; `WorkflowSubmitted` is appended under the key
//! `workflow-submitted:<id>`, so it is recorded once however often that happens.
//!
//! Back-pressure: a namespace with `pending_limit` workflows submitted and not started gets
//! no more until some start; its requests wait in the outbox (the log keeps them), so a
//! backlog of messages cannot flood the cluster. Other namespaces go on.
//!
//! A 404 to a create (the namespace or Argo's CRD missing, as during a redeploy) is not a
//! refusal at once: the namespace's requests wait in the outbox for `not_found_grace`, probed
//! one at a time (`not_found`), and are refused only if the 404s outlast it.
//!
//! One replica launches at a time, under the singleton lease (`crate::duty`): `serve` runs
//! [`WorkflowLauncher::run`] while it holds the lease, every recorded submission is fenced by
//! it, and a launcher whose fence fails stops after the look at the outbox in progress.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{Actor, ActorFutureExt, AsyncContext, AtomicResponse, Context, Handler, Message, WrapFuture};
use futures_util::StreamExt;
use investigator_core::workflow_manifest::{WorkflowIntent, WorkflowTemplates, workflow_manifest};
use investigator_events::domain::{DomainEvent, EventMetadata, StreamId, WorkflowFailed, WorkflowSubmitted};
use investigator_events::excerpt::excerpt;
use investigator_projections::fault::describe;
use investigator_projections::lease::{self, LeaseToken};
use investigator_projections::store::{AppendOutcome, AppendRequest, NewEvent};
use investigator_projections::{Database, RecordError, record_in, workflow_outbox, workflow_secrets};
use tokio::sync::watch;

use super::not_found::{NotFoundGrace, Verdict};
use super::rate::RateLimiter;
use super::submitter::{Missing, SubmitError, Submitter};
use crate::backoff::Backoff;
use crate::pipeline::metrics::Metrics;

/// How many more workflows a namespace with `pending` submitted and not started may get under
/// `limit`: none at all when the limit is 0 (launches paused), whatever is pending.
fn room_under(limit: i64, pending: i64) -> i64 {
    limit.saturating_sub(pending).max(0)
}

/// How the launcher paces itself.
#[derive(Debug, Clone)]
pub struct LauncherSettings {
    /// `ARGO_PENDING_WORKFLOW_LIMIT`: workflows submitted and not started, per namespace, at
    /// most (no limit when `None`, as in Thoth's production; `Some(0)` pauses every launch,
    /// the requests waiting in the outbox).
    pub pending_limit: Option<i64>,
    /// The WorkflowTemplate of each kind.
    pub templates: WorkflowTemplates,
    /// How often the outbox is looked at.
    pub interval: Duration,
    /// Requests read from the outbox per look.
    pub batch: i64,
    /// Creates per second at most, and how many may go at once.
    pub per_second: f64,
    /// See `per_second`.
    pub burst: u32,
    /// The longest wait between two attempts at one workflow.
    pub max_backoff: Duration,
    /// Submissions in flight at once.
    pub concurrency: usize,
    /// `INVESTIGATOR_OUTBOX_LIMIT`: requests waiting per namespace at which the topics that
    /// lead to it pause (four times the pending limit by default; none without a limit).
    pub outbox_limit: Option<i64>,
    /// `INVESTIGATOR_KUBE_NOT_FOUND_GRACE_S`: how long a namespace whose workflow creates are
    /// answered 404 keeps its requests in the outbox before they are refused (zero: at once).
    pub not_found_grace: Duration,
}

impl Default for LauncherSettings {
    fn default() -> Self {
        LauncherSettings {
            pending_limit: None,
            templates: WorkflowTemplates::default(),
            interval: Duration::from_millis(500),
            batch: 200,
            per_second: 20.0,
            burst: 30,
            max_backoff: Duration::from_secs(30),
            concurrency: 8,
            outbox_limit: None,
            not_found_grace: Duration::from_secs(300),
        }
    }
}

/// Looks at the outbox (sent by the launcher to itself).
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Tick;

/// A workflow the API server could not take yet.
#[derive(Debug, Clone, Copy)]
struct Retry {
    attempts: u32,
    not_before: Instant,
}

/// What one look at the outbox needs; shared with the future that does it.
struct Launch {
    database: Database,
    submitter: Submitter,
    settings: LauncherSettings,
    metrics: Metrics,
    limiter: Mutex<RateLimiter>,
    retries: Mutex<HashMap<String, Retry>>,
    not_found: Mutex<NotFoundGrace>,
    /// Namespaces `investigator_workflows_waiting` has shown: one whose outbox empties is
    /// set to 0, never removed, so the series stays continuous (and the ones set at start
    /// stay).
    waiting_shown: Mutex<std::collections::BTreeSet<String>>,
    /// The holding of the singleton lease that fences every recorded submission.
    lease: LeaseToken,
    /// Set when a fence failed: the lease is another replica's, and the launcher stops.
    lease_lost: AtomicBool,
}

/// The launcher actor.
pub struct WorkflowLauncher {
    launch: Arc<Launch>,
    busy: bool,
}

impl WorkflowLauncher {
    /// A launcher sending the outbox of `database` to `submitter`, its records fenced by
    /// `lease`. (Back-pressure on a full outbox is `backpressure::watch_outbox`, in every
    /// replica.)
    pub fn new(
        database: Database,
        submitter: Submitter,
        settings: LauncherSettings,
        metrics: Metrics,
        lease: LeaseToken,
    ) -> Self {
        let limiter = Mutex::new(RateLimiter::new(settings.per_second, settings.burst));
        let retries = Mutex::new(HashMap::new());
        let not_found = Mutex::new(NotFoundGrace::new(settings.not_found_grace, settings.max_backoff));
        let launch = Launch {
            database,
            submitter,
            settings,
            metrics,
            limiter,
            retries,
            not_found,
            waiting_shown: Mutex::default(),
            lease,
            lease_lost: AtomicBool::new(false),
        };
        WorkflowLauncher { launch: Arc::new(launch), busy: false }
    }

    /// Looks at the outbox every interval, one look at a time, until `stop` turns true or the
    /// lease is lost; a look in progress is finished first (a task the lease holder can stop
    /// and wait for, or abort).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let launch = self.launch;
        loop {
            if let Err(error) = launch.drain(&stop).await {
                tracing::warn!(%error, "the workflow outbox could not be read; trying again shortly");
            }
            if launch.lease_lost.load(Ordering::Relaxed) {
                tracing::info!(generation = launch.lease.generation, "the lease is lost: the launcher stops");
                return;
            }
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return,
                () = tokio::time::sleep(launch.settings.interval) => {}
            }
        }
    }
}

impl Actor for WorkflowLauncher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.notify(Tick);
        ctx.run_interval(self.launch.settings.interval, |_, ctx| ctx.notify(Tick));
    }
}

impl actix::Supervised for WorkflowLauncher {}

impl Handler<Tick> for WorkflowLauncher {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: Tick, _: &mut Context<Self>) -> Self::Result {
        if self.busy {
            return AtomicResponse::new(Box::pin(actix::fut::ready(())));
        }
        self.busy = true;
        let launch = Arc::clone(&self.launch);
        AtomicResponse::new(Box::pin(
            async move {
                // The actor runs until it is stopped with its arbiter: no stop signal.
                let (_, never) = watch::channel(false);
                if let Err(error) = launch.drain(&never).await {
                    tracing::warn!(error = %describe(&error), "the workflow outbox could not be read; trying again shortly");
                }
            }
            .into_actor(self)
            .map(|(), launcher, _| launcher.busy = false),
        ))
    }
}

impl Launch {
    /// Submits what the outbox holds, within each namespace's room and the rate. Once `stop`
    /// turns true (or the lease is lost), nothing more is submitted: the submissions under way
    /// finish and are recorded, the rest waits in the outbox for the next holder, so the
    /// replica can give its lease up before another launcher starts.
    async fn drain(&self, stop: &watch::Receiver<bool>) -> Result<(), investigator_projections::DatabaseError> {
        let (intents, pending, waiting) = {
            let mut connection = self.database.connection().await?;
            let read = async {
                let client = connection.transaction().await?;
                workflow_secrets::sweep(&client).await?;
                let read = (
                    workflow_outbox::requested(&client, self.settings.batch).await?,
                    workflow_outbox::pending_per_namespace(&client).await?,
                    workflow_outbox::waiting_per_namespace(&client).await?,
                );
                client.commit().await?;
                Ok::<_, tokio_postgres::Error>(read)
            };
            match read.await {
                Ok(read) => read,
                Err(error) => {
                    tracing::warn!(error = %describe(&error), "the workflow outbox could not be read");
                    return Ok(());
                }
            }
        };
        {
            let mut shown = self.waiting_shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            shown.extend(waiting.keys().cloned());
            for namespace in shown.iter() {
                let count = waiting.get(namespace).copied().unwrap_or(0);
                self.metrics.workflows_waiting.with_label_values(&[namespace]).set(count);
            }
        }
        let mut room: BTreeMap<String, i64> = BTreeMap::new();
        let mut due = Vec::new();
        for intent in intents {
            if self.backing_off(&intent.workflow_id) {
                continue;
            }
            if let Some(limit) = self.settings.pending_limit {
                let left = room
                    .entry(intent.namespace.clone())
                    .or_insert_with(|| room_under(limit, pending.get(&intent.namespace).copied().unwrap_or(0)));
                if *left <= 0 {
                    continue;
                }
                *left -= 1;
            }
            if !self.not_found().may_try(&intent.namespace, Instant::now()) {
                continue;
            }
            due.push(intent);
        }
        futures_util::stream::iter(due)
            .for_each_concurrent(
                self.settings.concurrency,
                |intent| async move { self.launch_one(&intent, stop).await },
            )
            .await;
        Ok(())
    }

    fn not_found(&self) -> std::sync::MutexGuard<'_, NotFoundGrace> {
        self.not_found.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn backing_off(&self, workflow_id: &str) -> bool {
        let retries = self.retries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        retries.get(workflow_id).is_some_and(|retry| retry.not_before > Instant::now())
    }

    async fn launch_one(&self, intent: &WorkflowIntent, stop: &watch::Receiver<bool>) {
        let stopping = || *stop.borrow() || self.lease_lost.load(Ordering::Relaxed);
        if stopping() {
            return;
        }
        let wait = self.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner).reserve(Instant::now());
        if !wait.is_zero() {
            // The rate's wait ends early on a stop: a stopping holder must not sit out the
            // slots its round reserved before it can give the lease up.
            let mut stopped = stop.clone();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                // (An error is a stop signal that can never come: the wait goes on.)
                Ok(_) = stopped.wait_for(|stop| *stop) => return,
            }
        }
        if stopping() {
            return;
        }
        let manifest = workflow_manifest(intent, &self.settings.templates);
        let started = Instant::now();
        let kind = intent.kind.name();
        let secret = match self.secret(intent).await {
            Ok(secret) => secret,
            Err(SubmitError::Transient(reason)) => {
                self.metrics.workflow_launches.with_label_values(&[kind, "retried"]).inc();
                let retry = self.back_off(&intent.workflow_id);
                tracing::warn!(workflow = %intent.workflow_id, %reason, attempts = retry.attempts,
                               "the workflow's secret is not provided yet; will try again");
                return;
            }
            // A Secret of that name that is not ours: the workflow is not submitted (it would
            // read those credentials), and ours leave the database.
            Err(refused) => {
                tracing::error!(workflow = %intent.workflow_id, error = %refused, "workflow refused by the cluster");
                self.refuse(intent, refused.to_string()).await;
                self.forget_secret(&intent.workflow_id).await;
                return;
            }
        };
        match self.submitter.submit(&manifest).await {
            Ok(submitted) => {
                self.not_found().created(&intent.namespace);
                if let Some(secret) = &secret
                    && !self.hand_over(intent, secret).await
                {
                    return;
                }
                self.metrics.workflow_launches.with_label_values(&[kind, submitted.label()]).inc();
                self.metrics.launch_seconds.observe(started.elapsed().as_secs_f64());
                let event =
                    WorkflowSubmitted { workflow_id: intent.workflow_id.clone(), namespace: intent.namespace.clone() };
                if self.record(intent, "workflow-submitted", event.into()).await {
                    self.forget(&intent.workflow_id);
                    if secret.is_some() {
                        self.forget_secret(&intent.workflow_id).await;
                    }
                    tracing::info!(workflow = %intent.workflow_id, kind, namespace = %intent.namespace,
                                   outcome = submitted.label(), "workflow submitted");
                }
            }
            Err(SubmitError::Transient(reason)) => {
                self.metrics.workflow_launches.with_label_values(&[kind, "retried"]).inc();
                let retry = self.back_off(&intent.workflow_id);
                tracing::warn!(workflow = %intent.workflow_id, %reason, attempts = retry.attempts,
                               "workflow not submitted yet; will try again");
            }
            Err(SubmitError::NotFound { missing, message }) => self.not_found_answered(intent, missing, &message).await,
            Err(refused) => {
                tracing::error!(workflow = %intent.workflow_id, error = %refused, "workflow refused by the cluster");
                self.refuse(intent, refused.to_string()).await;
            }
        }
    }

    /// The create of `intent` was answered 404 (`missing` is not there): it waits in the
    /// outbox while its namespace is within its grace, and is refused after.
    async fn not_found_answered(&self, intent: &WorkflowIntent, missing: Missing, message: &str) {
        let kind = intent.kind.name();
        self.metrics.workflow_not_found.with_label_values(&[&intent.namespace, missing.label()]).inc();
        let verdict = self.not_found().not_found(&intent.namespace, Instant::now());
        match verdict {
            Verdict::Wait { waited, left } => {
                self.metrics.workflow_launches.with_label_values(&[kind, "retried"]).inc();
                tracing::warn!(namespace = %intent.namespace, %missing, answer = %excerpt(message),
                               workflow = %intent.workflow_id, waited_s = waited.as_secs(), grace_left_s = left.as_secs(),
                               "the Kubernetes API answers 404 for the namespace's workflows; its requests wait in the outbox");
            }
            Verdict::Refuse { waited } => {
                tracing::error!(namespace = %intent.namespace, %missing, answer = %excerpt(message),
                                workflow = %intent.workflow_id, waited_s = waited.as_secs(),
                                "the Kubernetes API answered 404 for longer than the grace; workflow refused");
                let reason = format!(
                    "the Kubernetes API has had no {missing} for the workflow for {} s (404): {message}",
                    waited.as_secs()
                );
                self.refuse(intent, reason).await;
            }
        }
    }

    /// Ends `intent` as refused by the cluster, for `reason`.
    async fn refuse(&self, intent: &WorkflowIntent, reason: String) {
        self.metrics.workflow_launches.with_label_values(&[intent.kind.name(), "refused"]).inc();
        let event = WorkflowFailed {
            workflow_id: intent.workflow_id.clone(),
            phase: "Refused".to_owned(),
            finished_at: None,
            message: Some(reason),
        };
        if self.record(intent, "workflow-finished", event.into()).await {
            self.forget(&intent.workflow_id);
        }
    }

    /// Records one event of the workflow's life under `<prefix>:<id>`, fenced by the lease;
    /// false when it could not be recorded (it will be tried again: the request is still in
    /// the outbox; by another replica if the lease is lost).
    async fn record(&self, intent: &WorkflowIntent, prefix: &str, event: DomainEvent) -> bool {
        let event_type = event.event_type().name();
        let causation = format!("workflow:{}", intent.workflow_id);
        let request = AppendRequest {
            idempotency_key: Some(format!("{prefix}:{}", intent.workflow_id)),
            expected: Vec::new(),
            events: vec![NewEvent {
                stream: StreamId::workflow(&intent.workflow_id),
                event,
                metadata: EventMetadata {
                    causation_id: Some(causation.clone()),
                    correlation_id: Some(causation),
                    origin: Some("launcher".to_owned()),
                    ..EventMetadata::default()
                },
            }],
        };
        match self.record_fenced(request).await {
            Ok(AppendOutcome::Appended(_)) => {
                self.metrics.events_appended.with_label_values(&[event_type]).inc();
                true
            }
            Ok(AppendOutcome::AlreadyAppended { .. }) => true,
            Err(FencedRecordError::LeaseLost(error)) => {
                self.lease_lost.store(true, Ordering::Relaxed);
                tracing::warn!(workflow = %intent.workflow_id, %error, "the workflow's submission is not recorded: the lease is lost");
                false
            }
            Err(error @ (FencedRecordError::Record(_) | FencedRecordError::Unchecked(_))) => {
                tracing::warn!(workflow = %intent.workflow_id, error = %describe(&error), "the workflow's submission could not be recorded");
                false
            }
        }
    }

    /// Appends and projects `request` in one transaction that the lease fences.
    async fn record_fenced(&self, request: AppendRequest) -> Result<AppendOutcome, FencedRecordError> {
        let mut client = self.database.connection().await.map_err(RecordError::from)?;
        let transaction = client.transaction().await.map_err(RecordError::from)?;
        let outcome = record_in(&transaction, request).await?;
        // Last before the commit: the lease row is held shared only for the commit, never
        // while the append waits for the log's head.
        lease::fence(&transaction, &self.lease).await.map_err(|error| {
            if error.is_lost() { FencedRecordError::LeaseLost(error) } else { FencedRecordError::Unchecked(error) }
        })?;
        transaction.commit().await.map_err(RecordError::from)?;
        Ok(outcome)
    }

    /// Provides the workflow's registry-credentials Secret, when it has one; whether it had.
    /// Makes the submitted workflow of `intent` the owner of its Secret `secret`, so the
    /// credentials go with the workflow. `false` when that must be tried again first (the
    /// launch is retried whole: the Secret and the workflow are found there, then owned).
    async fn hand_over(&self, intent: &WorkflowIntent, secret: &str) -> bool {
        match self.submitter.own_secret(&intent.namespace, secret, &intent.workflow_id).await {
            Ok(()) => true,
            Err(SubmitError::Transient(reason)) => {
                self.metrics.workflow_launches.with_label_values(&[intent.kind.name(), "retried"]).inc();
                let retry = self.back_off(&intent.workflow_id);
                tracing::warn!(workflow = %intent.workflow_id, secret, %reason, attempts = retry.attempts,
                               "the workflow's Secret is not owned by it yet; will try again");
                false
            }
            // The workflow is on the cluster; only its Secret will outlive it.
            Err(refused) => {
                tracing::error!(workflow = %intent.workflow_id, secret, error = %refused,
                                "the workflow's Secret could not be made the workflow's: it will outlive the workflow");
                true
            }
        }
    }

    /// Creates the Secret of `intent` when it has registry credentials: its name, or `None`
    /// when it has none.
    async fn secret(&self, intent: &WorkflowIntent) -> Result<Option<String>, SubmitError> {
        let unreadable = |error: &dyn std::fmt::Display| SubmitError::Transient(error.to_string());
        let mut connection = self.database.connection().await.map_err(|error| unreadable(&error))?;
        let client = connection.read().await.map_err(|error| unreadable(&error))?;
        let stored = workflow_secrets::of(&client, &intent.workflow_id).await.map_err(|error| unreadable(&error))?;
        drop(client);
        drop(connection);
        let Some(stored) = stored else {
            return Ok(None);
        };
        self.submitter.provide_secret(&intent.namespace, &stored.name, &intent.workflow_id, &stored.data).await?;
        Ok(Some(stored.name))
    }

    /// The Secret exists and the workflow is submitted: the credentials leave the database.
    async fn forget_secret(&self, workflow_id: &str) {
        let forgotten = async {
            let mut connection =
                self.database.connection().await.map_err(|error| investigator_projections::fault::describe(&error))?;
            let transaction =
                connection.transaction().await.map_err(|error| investigator_projections::fault::describe(&error))?;
            workflow_secrets::forget(&transaction, workflow_id)
                .await
                .map_err(|error| investigator_projections::fault::describe(&error))?;
            transaction.commit().await.map_err(|error| investigator_projections::fault::describe(&error))
        };
        let forgotten = forgotten.await;
        if let Err(error) = forgotten {
            tracing::warn!(workflow = workflow_id, %error, "the workflow's stored credentials could not be deleted yet");
        }
    }

    fn back_off(&self, workflow_id: &str) -> Retry {
        let mut retries = self.retries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let attempts = retries.get(workflow_id).map_or(1, |retry| retry.attempts + 1);
        let wait = Backoff::new(Duration::from_millis(500), self.settings.max_backoff).after(attempts);
        let retry = Retry { attempts, not_before: Instant::now() + wait };
        retries.insert(workflow_id.to_owned(), retry);
        retry
    }

    fn forget(&self, workflow_id: &str) {
        self.retries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(workflow_id);
    }
}

/// Why a fenced record was not made.
#[derive(Debug, thiserror::Error)]
enum FencedRecordError {
    /// The fence failed: the lease is not this replica's.
    #[error(transparent)]
    LeaseLost(lease::LeaseError),
    /// The fence could not be checked (PostgreSQL failed): tried again.
    #[error(transparent)]
    Unchecked(lease::LeaseError),
    /// Appending failed.
    #[error(transparent)]
    Record(#[from] RecordError),
}

#[cfg(test)]
mod tests {
    use super::room_under;

    #[test]
    fn a_pending_limit_of_zero_leaves_no_room_so_launches_pause() {
        assert_eq!(room_under(0, 0), 0);
        assert_eq!(room_under(0, 7), 0);
        assert_eq!(room_under(5, 2), 3);
        assert_eq!(room_under(5, 9), 0, "more pending than the limit (it was lowered) is no room, not negative");
    }
}
