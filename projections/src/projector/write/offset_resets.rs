//! Consumer offset resets (`consumer_offset_reset`): an audit trail, one row per event, never
//! changed.

use chrono::{DateTime, Utc};
use tokio_postgres::Error;

use super::{RowPlan, Writer};

const INSERT: &str = include_str!("offset_resets/consumer_offset_reset.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.offset_resets.is_empty() {
        return Ok(());
    }
    let rows = &plan.offset_resets;
    let positions: Vec<i64> = rows.keys().copied().collect();
    let groups: Vec<&str> = rows.values().map(|(reset, _)| reset.consumer_group.as_str()).collect();
    let topics: Vec<&str> = rows.values().map(|(reset, _)| reset.topic.as_str()).collect();
    let partitions: Vec<i32> = rows.values().map(|(reset, _)| reset.partition).collect();
    let stored: Vec<Option<i64>> = rows.values().map(|(reset, _)| reset.stored_offset).collect();
    let lows: Vec<Option<i64>> = rows.values().map(|(reset, _)| reset.low_watermark).collect();
    let highs: Vec<Option<i64>> = rows.values().map(|(reset, _)| reset.high_watermark).collect();
    let policies: Vec<&str> = rows.values().map(|(reset, _)| reset.policy.as_str()).collect();
    let targets: Vec<i64> = rows.values().map(|(reset, _)| reset.reset_to).collect();
    let at: Vec<DateTime<Utc>> = rows.values().map(|(_, at)| *at).collect();
    writer
        .run(INSERT, &[&positions, &groups, &topics, &partitions, &stored, &lows, &highs, &policies, &targets, &at])
        .await
}
