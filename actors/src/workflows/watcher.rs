//! The watcher: follows our workflows in one namespace and records their transitions.
//!
//! kube's watcher lists, then watches from the list's resourceVersion, resumes from the last
//! version it saw after a disconnect, and lists again when the server answers 410 Gone. Each
//! observation gives every transition the workflow has gone through so far
//! (`core::workflow_status`), each recorded under its own idempotency key, so a relist or a
//! restart repeats nothing and a disconnect loses nothing.
//!
//! A connection the network silenced (a NAT or firewall that forgot it: no close, no reset)
//! would hold a watch forever. Each watch asks the server to end it after `timeout_seconds`,
//! and kube's watcher takes a watch that has said nothing for 5 s longer than that for dead
//! and resumes on a new connection.

use std::time::Duration;

use futures_util::StreamExt;
use investigator_core::workflow_manifest::SELECTOR;
use investigator_core::workflow_status::observed_transitions;
use investigator_events::domain::{EventMetadata, StreamId};
use investigator_projections::store::{AppendRequest, NewEvent};
use investigator_projections::{Database, record, workflow_outbox};
use kube::api::DynamicObject;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use tokio::sync::watch;

use super::submitter::KubeWorkflows;
use crate::pipeline::metrics::Metrics;

/// Follows the workflows of `namespace` until `stop` turns true, renewing each watch after
/// `timeout_seconds`.
pub async fn watch_namespace(
    workflows: KubeWorkflows,
    namespace: String,
    timeout_seconds: u32,
    database: Database,
    metrics: Metrics,
    mut stop: watch::Receiver<bool>,
) {
    let config = watcher::Config::default().labels(SELECTOR).timeout(timeout_seconds);
    let stream = watcher::watcher(workflows.watch_api(&namespace), config).default_backoff();
    let mut stream = std::pin::pin!(stream);
    tracing::info!(%namespace, selector = SELECTOR, "watching workflows");
    loop {
        let event = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            event = stream.next() => event,
        };
        match event {
            None => return,
            Some(Ok(Event::Apply(object) | Event::InitApply(object) | Event::Delete(object))) => {
                observe(&database, &metrics, &object).await;
            }
            Some(Ok(Event::Init | Event::InitDone)) => {}
            Some(Err(error)) => {
                metrics.watch_errors.with_label_values(&[&namespace]).inc();
                tracing::warn!(%namespace, %error, "the workflow watch failed; it resumes (relisting if it must)");
            }
        }
    }
}

/// Records the transitions `object` shows that the log does not hold yet.
async fn observe(database: &Database, metrics: &Metrics, object: &DynamicObject) {
    let Some(workflow_id) = object.metadata.name.as_deref() else {
        return;
    };
    let status = object.data.get("status").cloned().unwrap_or_default();
    let transitions = observed_transitions(workflow_id, &status);
    if transitions.is_empty() {
        return;
    }
    let known = match database.connection().await {
        Ok(mut connection) => match connection.read().await {
            Ok(client) => workflow_outbox::status(&client, workflow_id).await,
            Err(error) => Err(error),
        },
        Err(error) => {
            tracing::warn!(workflow = workflow_id, %error, "the workflow's status could not be read");
            return;
        }
    };
    let known = match known {
        Ok(Some(known)) => known,
        Ok(None) => {
            tracing::warn!(workflow = workflow_id, "a workflow with our label that the log never requested; ignored");
            return;
        }
        Err(error) => {
            tracing::warn!(workflow = workflow_id, %error, "the workflow's status could not be read");
            return;
        }
    };
    for (transition, event) in transitions {
        if transition.reached_by(&known) {
            continue;
        }
        let event_type = event.event_type().name();
        let request = AppendRequest {
            idempotency_key: Some(transition.key(workflow_id)),
            expected: Vec::new(),
            events: vec![NewEvent {
                stream: StreamId::workflow(workflow_id),
                event,
                metadata: EventMetadata {
                    causation_id: Some(format!("workflow:{workflow_id}")),
                    correlation_id: Some(format!("workflow:{workflow_id}")),
                    origin: Some("watcher".to_owned()),
                    ..EventMetadata::default()
                },
            }],
        };
        if record_with_retries(database, request).await {
            metrics.workflow_transitions.with_label_values(&[event_type]).inc();
            metrics.events_appended.with_label_values(&[event_type]).inc();
            tracing::info!(workflow = workflow_id, event = event_type, "workflow transition recorded");
        } else {
            // Seen again at the workflow's next change, the next relist or a restart.
            tracing::error!(workflow = workflow_id, event = event_type, "a workflow transition could not be recorded");
        }
    }
}

/// Records `request`, trying again for about half a minute while PostgreSQL is away (a
/// finished workflow may never change again, so this observation may be the last one).
async fn record_with_retries(database: &Database, request: AppendRequest) -> bool {
    let mut wait = Duration::from_millis(200);
    for attempt in 1..=8 {
        match record(database, request.clone()).await {
            Ok(_) => return true,
            Err(error) => {
                tracing::warn!(%error, attempt, "recording a workflow transition failed; trying again");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(8));
            }
        }
    }
    false
}
