//! Progress of long work: a bar with the rate and the time left on a terminal, a log line
//! every few seconds otherwise (CI logs, files, `kubectl logs`).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use investigator_projections::replay::ReplayProgress;

const LOG_EVERY: Duration = Duration::from_secs(5);

/// Progress of a replay, shown on standard error.
pub struct ReplayDisplay {
    bar: Option<ProgressBar>,
    started: Instant,
    last_log: Instant,
    total: u64,
}

impl ReplayDisplay {
    /// A bar when standard error is a terminal, log lines otherwise.
    pub fn for_stderr() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} events  {per_sec}  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::new(0).with_style(style)
        });
        ReplayDisplay { bar, started: Instant::now(), last_log: Instant::now(), total: 0 }
    }
}

impl ReplayProgress for ReplayDisplay {
    fn started(&mut self, total: u64) {
        self.total = total;
        self.started = Instant::now();
        match &self.bar {
            Some(bar) => bar.set_length(total),
            None => tracing::info!(events = total, "replay started"),
        }
    }

    fn advanced(&mut self, applied: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(applied);
            return;
        }
        if self.last_log.elapsed() < LOG_EVERY {
            return;
        }
        self.last_log = Instant::now();
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        let rate = applied as f64 / elapsed;
        let remaining = self.total.saturating_sub(applied) as f64 / rate.max(1e-9);
        tracing::info!(
            applied,
            total = self.total,
            events_per_second = rate.round() as u64,
            seconds_left = remaining.round() as u64,
            "replay progress"
        );
    }

    fn finished(&mut self, applied: u64) {
        match &self.bar {
            Some(bar) => bar.finish_and_clear(),
            None => tracing::info!(applied, "replay applied the whole log"),
        }
    }
}
