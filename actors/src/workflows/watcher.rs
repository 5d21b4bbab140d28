//! The watcher: follows our workflows in one namespace and records their transitions.
//!
//! kube's watcher lists, then watches from the list's resourceVersion, resumes from the last
//! version it saw after a disconnect, and lists again when the server answers 410 Gone. Each
//! observation gives every transition the workflow has gone through so far
//! (`core::workflow_status`), each recorded under its own idempotency key, so a relist or a
//! restart repeats nothing and a disconnect loses nothing. What cannot be recorded at once
//! waits in `unrecorded::Unrecorded` until it is.
//!
//! A workflow deleted before it finished ends as a failure in phase `Deleted`: seen as a
//! `DELETED` event while watching, or, when it was deleted while no watch was open (during a
//! restart), as missing from the next full list. A list is compared with the log as it stood
//! before the list was asked for, so a workflow whose create the list may not have seen yet
//! is never taken for deleted; and the list is read from etcd (`ListSemantic::MostRecent`),
//! not from an API server's cache that may lag behind.
//!
//! A connection the network silenced (a NAT or firewall that forgot it: no close, no reset)
//! would hold a watch forever. Each watch asks the server to end it after `timeout_seconds`,
//! and kube's watcher takes a watch that has said nothing for 5 s longer than that for dead
//! and resumes on a new connection.

use std::time::Duration;

use futures_util::StreamExt;
use investigator_core::workflow_manifest::SELECTOR;
use investigator_core::workflow_status::{Transition, deleted_transitions, observed_transitions};
use investigator_events::domain::DomainEvent;
use investigator_projections::{Database, store};
use kube::api::DynamicObject;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, ListSemantic};
use tokio::sync::watch;

use super::submitter::KubeWorkflows;
use super::unrecorded::{CompletedList, Unrecorded};
use crate::backoff::Backoff;
use crate::pipeline::metrics::Metrics;

/// Attempts at reading the log's head before a list.
const HEAD_BACKOFF: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));

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
    let config =
        watcher::Config::default().labels(SELECTOR).timeout(timeout_seconds).list_semantic(ListSemantic::MostRecent);
    let stream = watcher::watcher(workflows.watch_api(&namespace), config).default_backoff();
    let mut stream = std::pin::pin!(stream);
    let mut unrecorded = Unrecorded::new(&namespace);
    let mut list: Option<CompletedList> = None;
    tracing::info!(%namespace, selector = SELECTOR, "watching workflows");
    loop {
        let retry_at = unrecorded.retry_at();
        let event = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep_until(retry_at.unwrap_or_else(tokio::time::Instant::now)), if retry_at.is_some() => {
                unrecorded.retry(&database, &metrics).await;
                continue;
            }
            event = stream.next() => event,
        };
        match event {
            None => return,
            Some(Ok(Event::Init)) => {
                // Read before the list is asked for (kube's watcher lists at the next poll).
                let Some(position) = log_head(&database, &namespace, &mut stop).await else {
                    return;
                };
                list = Some(CompletedList::began_at(position));
            }
            Some(Ok(Event::InitApply(object))) => {
                if let (Some(list), Some(workflow_id)) = (list.as_mut(), object.metadata.name.as_deref()) {
                    list.shown(workflow_id);
                }
                if let Some((workflow_id, transitions)) = observed(&object) {
                    unrecorded.observe(&database, &metrics, workflow_id, transitions).await;
                }
            }
            Some(Ok(Event::InitDone)) => {
                if let Some(list) = list.take() {
                    unrecorded.list_completed(&database, &metrics, list).await;
                }
            }
            Some(Ok(Event::Apply(object))) => {
                if let Some((workflow_id, transitions)) = observed(&object) {
                    unrecorded.observe(&database, &metrics, workflow_id, transitions).await;
                }
            }
            Some(Ok(Event::Delete(object))) => {
                if let Some((workflow_id, transitions)) = deleted(&object) {
                    unrecorded.observe(&database, &metrics, workflow_id, transitions).await;
                }
            }
            Some(Err(error)) => {
                metrics.watch_errors.with_label_values(&[&namespace]).inc();
                tracing::warn!(%namespace, %error, "the workflow watch failed; it resumes (relisting if it must)");
            }
        }
    }
}

/// The transitions `object`'s status shows.
fn observed(object: &DynamicObject) -> Option<(&str, Vec<(Transition, DomainEvent)>)> {
    let workflow_id = object.metadata.name.as_deref()?;
    let status = object.data.get("status").cloned().unwrap_or_default();
    Some((workflow_id, observed_transitions(workflow_id, &status)))
}

/// The transitions the deletion of `object` (its last state) implies.
fn deleted(object: &DynamicObject) -> Option<(&str, Vec<(Transition, DomainEvent)>)> {
    let workflow_id = object.metadata.name.as_deref()?;
    let status = object.data.get("status").cloned().unwrap_or_default();
    let deleted_at = object.metadata.deletion_timestamp.as_ref().map(|time| time.0.to_string());
    Some((workflow_id, deleted_transitions(workflow_id, &status, deleted_at.as_deref())))
}

/// The log's head position, read again and again while PostgreSQL is away (nothing can be
/// recorded meanwhile anyway); `None` when the service stops first.
async fn log_head(database: &Database, namespace: &str, stop: &mut watch::Receiver<bool>) -> Option<i64> {
    let mut failures = 0;
    loop {
        let head = async {
            let mut connection =
                database.connection().await.map_err(|error| investigator_projections::fault::describe(&error))?;
            let client = connection.read().await.map_err(|error| investigator_projections::fault::describe(&error))?;
            store::head_position(&client).await.map_err(|error| investigator_projections::fault::describe(&error))
        };
        let error = match head.await {
            Ok(position) => return Some(position),
            Err(error) => error,
        };
        failures += 1;
        let wait = HEAD_BACKOFF.after(failures);
        tracing::warn!(namespace, %error, retry_in_ms = wait.as_millis(),
                       "the log's head could not be read before listing the workflows; trying again");
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return None,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
