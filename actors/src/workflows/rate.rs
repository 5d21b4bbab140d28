//! A token bucket: at most `burst` requests at once, refilled at `per_second`.

use std::time::{Duration, Instant};

/// Paces requests to the Kubernetes API server.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    tokens: f64,
    refilled: Instant,
}

impl RateLimiter {
    /// A full bucket of `burst` tokens, refilled at `per_second` (both at least 1).
    pub fn new(per_second: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        RateLimiter { per_second: per_second.max(1.0), burst, tokens: burst, refilled: Instant::now() }
    }

    /// How long to wait before the next request may go; takes its token.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.refilled = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-self.tokens / self.per_second) }
    }

    /// Waits for a token.
    pub async fn acquire(&mut self) {
        let wait = self.reserve(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_goes_at_once_and_the_rest_at_the_rate() {
        let start = Instant::now();
        let mut limiter = RateLimiter { per_second: 10.0, burst: 3.0, tokens: 3.0, refilled: start };
        for _ in 0..3 {
            assert_eq!(limiter.reserve(start), Duration::ZERO);
        }
        assert_eq!(limiter.reserve(start), Duration::from_millis(100));
        assert_eq!(limiter.reserve(start), Duration::from_millis(200));
        let later = start + Duration::from_secs(10);
        assert_eq!(limiter.reserve(later), Duration::ZERO, "refilled, up to the burst");
        assert_eq!(limiter.tokens, 2.0);
    }
}
