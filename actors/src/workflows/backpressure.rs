//! Back-pressure from the cluster to the ingest: when too many requested workflows of a
//! namespace wait in the outbox (the namespace is at its pending limit, or its API server is
//! failing), the topics whose messages lead to that namespace's workflows are halted, so the
//! ingest pauses their partitions (the poll loop goes on for the others); they resume when
//! the outbox has drained to half the limit. Every replica watches the outbox
//! ([`watch_outbox`]) and pauses its own consumption; the launcher runs in one replica only.

use std::collections::BTreeMap;

use investigator_core::decide::rules_for;
use investigator_events::thoth::{ConsumerMode, TopicNaming};

use investigator_projections::{Database, workflow_outbox};
use tokio::sync::watch;

use crate::pipeline::control::{Control, HaltReason};

/// Halts and resumes topics on the outbox's size per namespace.
#[derive(Debug, Clone)]
pub struct Backpressure {
    control: Control,
    /// The namespace, and the consumed topics whose messages lead to its workflows.
    topics: Vec<(String, Vec<String>)>,
    /// Requests waiting in a namespace's outbox at which its topics halt.
    limit: i64,
}

impl Backpressure {
    /// Back-pressure at `limit` waiting requests per namespace, for the topics `modes`
    /// consume: the middletier handlers' topics for `middletier`, the backend ones' for
    /// `backend`.
    pub fn new(
        control: Control,
        naming: &TopicNaming,
        modes: &[ConsumerMode],
        (middletier, backend): (&str, &str),
        limit: i64,
    ) -> Self {
        let topics_of = |mode: ConsumerMode| -> Vec<String> {
            if !modes.contains(&mode) {
                return Vec::new();
            }
            naming
                .all_topics()
                .into_iter()
                .filter(|(kind, _)| !rules_for(*kind, &[mode]).is_empty())
                .map(|(_, topic)| topic)
                .collect()
        };
        let topics = vec![
            (middletier.to_owned(), topics_of(ConsumerMode::Middletier)),
            (backend.to_owned(), topics_of(ConsumerMode::Backend)),
        ];
        Backpressure { control, topics, limit: limit.max(1) }
    }

    /// Halts or resumes each namespace's topics for `waiting` requests per namespace.
    pub fn apply(&self, waiting: &BTreeMap<String, i64>) {
        for (namespace, topics) in &self.topics {
            let count = waiting.get(namespace).copied().unwrap_or(0);
            let reason = HaltReason::Backpressure { namespace: namespace.clone() };
            if count >= self.limit {
                for topic in topics {
                    if self.control.halt_unless_halted(topic, reason.clone()) {
                        tracing::warn!(
                            topic,
                            namespace,
                            waiting = count,
                            limit = self.limit,
                            "consumption paused: too many workflows wait for the cluster"
                        );
                    }
                }
            } else if count <= self.limit / 2 {
                for topic in topics {
                    if self.control.resume_if_halted_for(topic, &reason) {
                        tracing::info!(topic, namespace, waiting = count, "consumption resumed: the outbox drained");
                    }
                }
            }
        }
    }
}

/// Applies `backpressure` to this replica's consumption from the outbox's size, read every
/// `interval`, until `stop` turns true. Every replica runs it (each pauses its own consumption),
/// while the launcher, which drains the outbox, runs in the lease holder only.
pub async fn watch_outbox(
    backpressure: Backpressure,
    database: Database,
    interval: std::time::Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match waiting(&database).await {
            Ok(waiting) => backpressure.apply(&waiting),
            Err(error) => tracing::debug!(%error, "the outbox's size could not be read; back-pressure unchanged"),
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

async fn waiting(database: &Database) -> Result<BTreeMap<String, i64>, String> {
    let mut connection = database.connection().await.map_err(|error| error.to_string())?;
    let client = connection.read().await.map_err(|error| error.to_string())?;
    workflow_outbox::waiting_per_namespace(&client).await.map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backpressure(control: &Control) -> Backpressure {
        let naming = TopicNaming::new(Some("test".to_owned())).expect("a valid name");
        Backpressure::new(control.clone(), &naming, &ConsumerMode::ALL, ("mt", "be"), 10)
    }

    #[test]
    fn a_full_outbox_halts_its_namespaces_topics_until_it_drains_to_half() {
        let control = Control::default();
        let backpressure = backpressure(&control);
        let unresolved = "test.thoth.investigator.unresolved-package";
        let adviser = "test.thoth.adviser-trigger";
        backpressure.apply(&BTreeMap::from([("mt".to_owned(), 10)]));
        assert!(control.is_halted(unresolved));
        assert!(!control.is_halted(adviser), "the backend's topics go on");
        backpressure.apply(&BTreeMap::from([("mt".to_owned(), 6)]));
        assert!(control.is_halted(unresolved), "not drained enough yet");
        backpressure.apply(&BTreeMap::new());
        assert!(!control.is_halted(unresolved));
    }

    #[test]
    fn an_operators_halt_is_left_alone() {
        let control = Control::default();
        let backpressure = backpressure(&control);
        let unresolved = "test.thoth.investigator.unresolved-package";
        control.halt(unresolved, HaltReason::Operator);
        backpressure.apply(&BTreeMap::from([("mt".to_owned(), 50)]));
        backpressure.apply(&BTreeMap::new());
        assert_eq!(control.halted().get(unresolved), Some(&HaltReason::Operator));
    }
}
