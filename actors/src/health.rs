//! What is degraded right now: a part of the service that keeps failing for reasons outside
//! the data (PostgreSQL away, a pooler restarting, a broker gone) and is retrying. Shown by
//! `/_health` and `/api/v1/status`, and as `investigator_degraded{component}`; cleared by the
//! part's next success.
//!
//! Also what has not started yet: a part that must reach a state before the replica is worth
//! sending work to (the consumer in its group with its partitions positioned, the lease asked
//! for once). `/_ready` answers 503 while a part is starting or degraded, so a rolling update
//! waits for the new replica to consume before it stops an old one.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use investigator_events::excerpt::excerpt;

use crate::pipeline::metrics::Metrics;

/// One degraded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degradation {
    /// The last failure, on one line (bounded).
    pub reason: String,
    /// When the part started failing.
    pub since: DateTime<Utc>,
    /// Attempts that failed since then.
    pub failures: u64,
}

/// The degraded parts, shared by the parts and the HTTP side.
#[derive(Clone)]
pub struct Health {
    degraded: Arc<Mutex<BTreeMap<&'static str, Degradation>>>,
    /// Parts not started yet, with what they wait for.
    starting: Arc<Mutex<BTreeMap<&'static str, String>>>,
    metrics: Metrics,
}

impl Health {
    /// Nothing degraded yet.
    pub fn new(metrics: Metrics) -> Self {
        Health { degraded: Arc::default(), starting: Arc::default(), metrics }
    }

    fn parts(&self) -> MutexGuard<'_, BTreeMap<&'static str, Degradation>> {
        // Single inserts and removals: a panic cannot leave the map half-updated.
        self.degraded.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `component` failed (again) for a reason outside the data.
    pub fn failed(&self, component: &'static str, reason: &str) {
        let reason = excerpt(reason).to_string();
        let mut parts = self.parts();
        let entry = parts.entry(component).or_insert_with(|| Degradation {
            reason: String::new(),
            since: Utc::now(),
            failures: 0,
        });
        entry.reason = reason;
        entry.failures += 1;
        drop(parts);
        self.metrics.degraded.with_label_values(&[component]).set(1);
    }

    /// `component` works again.
    pub fn recovered(&self, component: &'static str) {
        if self.parts().remove(component).is_some() {
            tracing::info!(component, "recovered");
        }
        self.metrics.degraded.with_label_values(&[component]).set(0);
    }

    /// The degraded parts now, by name.
    pub fn degraded(&self) -> BTreeMap<&'static str, Degradation> {
        self.parts().clone()
    }

    fn starting_parts(&self) -> MutexGuard<'_, BTreeMap<&'static str, String>> {
        self.starting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `component` has not started yet: it waits for `what`.
    pub fn starting(&self, component: &'static str, what: &str) {
        self.starting_parts().insert(component, what.to_owned());
    }

    /// `component` has started (again a no-op once it has).
    pub fn started(&self, component: &'static str) {
        if self.starting_parts().remove(component).is_some() {
            tracing::info!(component, "started");
        }
    }

    /// The parts not started yet, with what each waits for.
    pub fn not_started(&self) -> BTreeMap<&'static str, String> {
        self.starting_parts().clone()
    }
}

impl std::fmt::Debug for Health {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Health")
            .field("degraded", &*self.parts())
            .field("starting", &*self.starting_parts())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_degraded_from_its_first_failure_until_it_recovers() {
        let metrics = Metrics::new("test");
        let health = Health::new(metrics.clone());
        health.failed("pipeline", "connection refused");
        health.failed("pipeline", "connection reset\nby peer");
        let degraded = health.degraded();
        let pipeline = &degraded["pipeline"];
        assert_eq!(pipeline.failures, 2);
        assert_eq!(pipeline.reason, "connection reset\\nby peer");
        assert_eq!(metrics.degraded.with_label_values(&["pipeline"]).get(), 1);
        health.recovered("pipeline");
        assert!(health.degraded().is_empty());
        assert_eq!(metrics.degraded.with_label_values(&["pipeline"]).get(), 0);
    }

    #[test]
    fn a_part_is_starting_until_it_says_it_has_started() {
        let health = Health::new(Metrics::new("test"));
        health.starting("consumer_group", "joining the group");
        health.starting("lease", "asking for the lease");
        health.started("lease");
        assert_eq!(
            health.not_started().into_iter().collect::<Vec<_>>(),
            [("consumer_group", "joining the group".to_owned())]
        );
        health.started("consumer_group");
        health.started("consumer_group");
        assert!(health.not_started().is_empty());
    }
}
