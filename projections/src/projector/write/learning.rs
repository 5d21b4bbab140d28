//! The learning drivers' findings (`learning_message`, the latest attempt wins) and their
//! throttle states (`learning_driver`, the latest change wins).

use chrono::{DateTime, Utc};
use tokio_postgres::Error;

use super::{RowPlan, Writer};

const FINDINGS: &str = include_str!("learning/learning_message.sql");
const THROTTLES: &str = include_str!("learning/learning_driver.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    findings(writer, plan).await?;
    throttles(writer, plan).await
}

async fn findings(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.learning.is_empty() {
        return Ok(());
    }
    let rows = &plan.learning;
    let findings: Vec<&str> = rows.keys().map(String::as_str).collect();
    let drivers: Vec<&str> = rows.values().map(|row| row.driver.as_str()).collect();
    let topics: Vec<&str> = rows.values().map(|row| row.topic.as_str()).collect();
    let reasons: Vec<&str> = rows.values().map(|row| row.reason.as_str()).collect();
    let attempts: Vec<i32> = rows.values().map(|row| row.attempt).collect();
    let first_at: Vec<DateTime<Utc>> = rows.values().map(|row| row.first_at).collect();
    let at: Vec<DateTime<Utc>> = rows.values().map(|row| row.at).collect();
    let positions: Vec<i64> = rows.values().map(|row| row.position).collect();
    writer.run(FINDINGS, &[&findings, &drivers, &topics, &reasons, &attempts, &first_at, &at, &positions]).await
}

async fn throttles(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.throttles.is_empty() {
        return Ok(());
    }
    let rows = &plan.throttles;
    let drivers: Vec<&str> = rows.keys().map(String::as_str).collect();
    let throttled: Vec<bool> = rows.values().map(|(event, _, _)| event.throttled).collect();
    let lags: Vec<i64> = rows.values().map(|(event, _, _)| event.lag).collect();
    let pending: Vec<i64> = rows.values().map(|(event, _, _)| event.pending_workflows).collect();
    let max_lags: Vec<i64> = rows.values().map(|(event, _, _)| event.max_lag).collect();
    let max_pending: Vec<i64> = rows.values().map(|(event, _, _)| event.max_pending_workflows).collect();
    let at: Vec<DateTime<Utc>> = rows.values().map(|(_, _, at)| *at).collect();
    let positions: Vec<i64> = rows.values().map(|(_, position, _)| *position).collect();
    writer.run(THROTTLES, &[&drivers, &throttled, &lags, &pending, &max_lags, &max_pending, &at, &positions]).await
}
