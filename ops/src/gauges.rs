//! The gauges that describe where things stand rather than what happened: consumer lag per
//! partition (against the broker's high watermarks, or the embedded bus's heads), the log's
//! head, each projection's position and lag (events and seconds), the PostgreSQL pools, and
//! whether the graph is read from a standby and how far behind it is. Refreshed every few
//! seconds by one task, from the cheap part of `/api/v1/status` (`operations::positions`).

use std::sync::Arc;
use std::time::Duration;

use investigator_actors::kafka::TopicAdmin;
use investigator_actors::pipeline::metrics::Metrics;
use investigator_projections::Database;
use investigator_projections::queries::operations;
use investigator_projections::queries::replication::{self, DatabaseRole};
use tokio::sync::watch;

/// How often the gauges are refreshed.
const EVERY: Duration = Duration::from_secs(5);

/// Refreshes the gauges until `stop` turns true.
pub async fn refresh(
    pools: Vec<(&'static str, Database)>,
    broker: Option<Arc<TopicAdmin>>,
    metrics: Metrics,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if let Err(error) = refresh_once(&pools, broker.as_deref(), &metrics).await {
            tracing::debug!(%error, "the gauges could not be refreshed");
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

async fn refresh_once(
    pools: &[(&'static str, Database)],
    broker: Option<&TopicAdmin>,
    metrics: &Metrics,
) -> Result<(), String> {
    for (name, database) in pools {
        let status = database.status();
        metrics.pool_connections.with_label_values(&[name, "open"]).set(status.size as i64);
        metrics.pool_connections.with_label_values(&[name, "idle"]).set(status.available as i64);
    }
    let Some((_, database)) = pools.first() else {
        return Ok(());
    };
    let mut connection =
        database.connection().await.map_err(|error| investigator_projections::fault::describe(&error))?;
    let client = connection.read().await.map_err(|error| investigator_projections::fault::describe(&error))?;
    let mut status =
        operations::positions(&client).await.map_err(|error| investigator_projections::fault::describe(&error))?;
    let role =
        replication::database_role(&client).await.map_err(|error| investigator_projections::fault::describe(&error))?;
    drop(client);
    metrics.database_standby.set(i64::from(matches!(role, DatabaseRole::Standby { .. })));
    metrics.standby_replay_lag.set(role.lag_seconds());
    drop(connection);
    let head = status["log_head"].as_i64().unwrap_or(0);
    metrics.log_head.set(head);
    for projection in status["projections"].as_array().into_iter().flatten() {
        let (Some(name), Some(position)) = (projection["projection"].as_str(), projection["position"].as_i64()) else {
            continue;
        };
        metrics.projection_position.with_label_values(&[name]).set(position);
        metrics.projection_lag.with_label_values(&[name]).set((head - position).max(0));
        let seconds = projection["lag_seconds"].as_f64().unwrap_or(0.0);
        metrics.projection_lag_seconds.with_label_values(&[name]).set(seconds.max(0.0));
    }
    crate::lag::add_lag(&mut status, broker).await;
    for row in status["offsets"].as_array().into_iter().flatten() {
        let (Some(topic), Some(partition), Some(lag)) =
            (row["topic"].as_str(), row["partition"].as_i64(), row["lag"].as_i64())
        else {
            continue;
        };
        metrics.consumer_lag.with_label_values(&[topic, &partition.to_string()]).set(lag);
    }
    Ok(())
}
