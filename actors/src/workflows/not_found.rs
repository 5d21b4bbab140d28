//! The grace a namespace gets when the API server answers a workflow create with 404.
//!
//! A create answered 404 means the namespace is missing or Argo's Workflow resource (its CRD)
//! is not installed: during a redeploy both come back within minutes, and failing every
//! request of that moment for good would lose them. So a namespace's 404s are tried again for
//! `grace` from the first one (the requests wait in the outbox, nothing is recorded), one
//! request at a time (a probe, at most one per probe interval, which doubles from 500 ms up to
//! the launcher's longest backoff), and a create there that succeeds ends the grace. Once the
//! grace is over, each request answered 404 is refused, as any other refusal is. A namespace
//! whose last 404 is older than `grace` starts a new grace with its next one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::backoff::Backoff;

/// The first wait between two probes of a namespace.
const FIRST_PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// What to do with a request whose create was answered 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Keep it in the outbox: the namespace is within its grace.
    Wait {
        /// Since the namespace's first 404.
        waited: Duration,
        /// Until the grace ends.
        left: Duration,
    },
    /// Refuse it: the namespace has answered 404 for the whole grace.
    Refuse {
        /// Since the namespace's first 404.
        waited: Duration,
    },
}

/// A namespace's run of 404s.
#[derive(Debug, Clone, Copy)]
struct Streak {
    since: Instant,
    last: Instant,
    /// 404s in the run so far.
    answered: u32,
    next_probe: Instant,
}

/// The namespaces answering 404, and how long they have.
#[derive(Debug)]
pub(crate) struct NotFoundGrace {
    grace: Duration,
    probes: Backoff,
    namespaces: HashMap<String, Streak>,
}

impl NotFoundGrace {
    /// Namespaces get `grace` from their first 404; probes come at least every
    /// `max_probe_interval`.
    pub(crate) fn new(grace: Duration, max_probe_interval: Duration) -> Self {
        NotFoundGrace {
            grace,
            probes: Backoff::new(FIRST_PROBE_INTERVAL, max_probe_interval.max(FIRST_PROBE_INTERVAL)),
            namespaces: HashMap::new(),
        }
    }

    /// Whether a request of `namespace` may be sent at `now`: always, unless the namespace is
    /// within a grace, where only one probe per interval goes (this call takes it).
    pub(crate) fn may_try(&mut self, namespace: &str, now: Instant) -> bool {
        let grace = self.grace;
        let Some(streak) = self.namespaces.get_mut(namespace) else {
            return true;
        };
        if now.saturating_duration_since(streak.since) >= grace {
            // Over (or stale): every request goes, to be refused or to end the run.
            return true;
        }
        if now < streak.next_probe {
            return false;
        }
        streak.next_probe = now + self.probes.after(streak.answered + 1);
        true
    }

    /// A create in `namespace` was answered 404 at `now`.
    pub(crate) fn not_found(&mut self, namespace: &str, now: Instant) -> Verdict {
        let fresh = Streak { since: now, last: now, answered: 0, next_probe: now };
        let streak = self.namespaces.entry(namespace.to_owned()).or_insert(fresh);
        if now.saturating_duration_since(streak.last) >= self.grace {
            // Quiet for a whole grace: this is another outage.
            *streak = fresh;
        }
        streak.last = now;
        let waited = now.saturating_duration_since(streak.since);
        if waited >= self.grace {
            return Verdict::Refuse { waited };
        }
        streak.answered += 1;
        streak.next_probe = now + self.probes.after(streak.answered);
        Verdict::Wait { waited, left: self.grace - waited }
    }

    /// A create in `namespace` succeeded (or found its workflow there): its grace ends.
    pub(crate) fn created(&mut self, namespace: &str) {
        self.namespaces.remove(namespace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn a_404_waits_for_the_grace_then_refuses() {
        let mut grace = NotFoundGrace::new(10 * SECOND, 30 * SECOND);
        let start = Instant::now();
        assert_eq!(grace.not_found("ns", start), Verdict::Wait { waited: Duration::ZERO, left: 10 * SECOND });
        assert_eq!(grace.not_found("ns", start + 4 * SECOND), Verdict::Wait { waited: 4 * SECOND, left: 6 * SECOND });
        assert_eq!(grace.not_found("ns", start + 10 * SECOND), Verdict::Refuse { waited: 10 * SECOND });
        assert!(grace.may_try("ns", start + 10 * SECOND), "past the grace, every request goes (to be refused)");
        assert_eq!(
            grace.not_found("other", start + 10 * SECOND),
            Verdict::Wait { waited: Duration::ZERO, left: 10 * SECOND }
        );
    }

    #[test]
    fn within_the_grace_one_probe_goes_per_growing_interval() {
        let mut grace = NotFoundGrace::new(600 * SECOND, 2 * SECOND);
        let start = Instant::now();
        assert!(grace.may_try("ns", start), "no 404 yet");
        grace.not_found("ns", start);
        assert!(!grace.may_try("ns", start + Duration::from_millis(499)));
        assert!(grace.may_try("ns", start + Duration::from_millis(500)), "the probe");
        assert!(!grace.may_try("ns", start + Duration::from_millis(501)), "one probe at a time");
        let answered = start + Duration::from_millis(600);
        grace.not_found("ns", answered);
        assert!(!grace.may_try("ns", answered + Duration::from_millis(999)));
        assert!(grace.may_try("ns", answered + SECOND), "the interval doubled");
        grace.not_found("ns", answered + SECOND);
        grace.not_found("ns", answered + 2 * SECOND);
        assert!(grace.may_try("ns", answered + 4 * SECOND), "capped at the longest backoff");
        assert!(grace.may_try("elsewhere", start), "other namespaces go on");
    }

    #[test]
    fn a_success_or_a_quiet_grace_ends_the_run() {
        let mut grace = NotFoundGrace::new(10 * SECOND, 30 * SECOND);
        let start = Instant::now();
        grace.not_found("ns", start);
        grace.created("ns");
        assert!(grace.may_try("ns", start));
        assert_eq!(
            grace.not_found("ns", start + 9 * SECOND),
            Verdict::Wait { waited: Duration::ZERO, left: 10 * SECOND }
        );
        let much_later = start + 60 * SECOND;
        assert_eq!(grace.not_found("ns", much_later), Verdict::Wait { waited: Duration::ZERO, left: 10 * SECOND });
    }

    #[test]
    fn no_grace_refuses_at_once() {
        let mut grace = NotFoundGrace::new(Duration::ZERO, 30 * SECOND);
        assert_eq!(grace.not_found("ns", Instant::now()), Verdict::Refuse { waited: Duration::ZERO });
    }
}
