//! How long the service waits before trying again something that failed: the one schedule of
//! every retry loop (the ingests after an outage, the relays, the launcher, the watchers).
//! Doubling spreads the attempts of many replicas and keeps a long outage cheap; the cap
//! keeps the service quick to notice that it is over.

use std::time::Duration;

/// `first`, then twice as long after each failure in a row, up to `longest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    longest: Duration,
}

impl Backoff {
    /// Waits from `first` doubling up to `longest`.
    pub const fn new(first: Duration, longest: Duration) -> Self {
        Backoff { first, longest }
    }

    /// The wait after `failures` failures in a row: none after none, `first` after the first.
    pub fn after(&self, failures: u32) -> Duration {
        let Some(doublings) = failures.checked_sub(1) else {
            return Duration::ZERO;
        };
        let factor = 1_u32.checked_shl(doublings).unwrap_or(u32::MAX);
        self.first.saturating_mul(factor).min(self.longest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_first_up_to_the_longest() {
        let backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(2));
        let waits: Vec<u128> = (0..7).map(|failures| backoff.after(failures).as_millis()).collect();
        assert_eq!(waits, [0, 200, 400, 800, 1600, 2000, 2000]);
    }

    #[test]
    fn a_very_long_run_of_failures_stays_at_the_longest() {
        let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        for failures in [31, 32, 33, 1_000, u32::MAX] {
            assert_eq!(backoff.after(failures), Duration::from_secs(30), "{failures}");
        }
    }
}
