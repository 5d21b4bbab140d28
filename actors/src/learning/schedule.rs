//! The drivers inside `serve`: each enabled driver runs a round every interval (the first one
//! a short while after start, so a restart does not wait a whole interval), one round at a
//! time, until the service stops.

use std::time::Duration;

use investigator_core::learning::Driver;
use tokio::sync::watch;

use super::{LearningContext, run_round};

/// The wait before the first round.
const FIRST_ROUND_AFTER: Duration = Duration::from_secs(5);

/// Runs `driver` every `interval` until `stop` turns true.
pub async fn run_schedule(
    context: LearningContext,
    driver: Driver,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(driver = driver.name(), interval_seconds = interval.as_secs_f64(), "learning driver scheduled");
    let mut pause = FIRST_ROUND_AFTER.min(interval);
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(pause) => {}
        }
        if let Err(error) = run_round(&context, driver).await {
            tracing::warn!(driver = driver.name(), error = %investigator_projections::fault::describe(&error),
                           "a learning round failed; the next one will try again");
        }
        pause = interval;
    }
}
