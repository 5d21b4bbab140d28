//! Dead letters (`dead_letter`, by topic, partition and offset) and the operator's decisions
//! on them. A decision applies to the dead-lettering it follows, never to a later one, so it
//! is written after the letters and checked against their position.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Error;

use super::{RowPlan, Writer};

const UPSERT: &str = include_str!("dead_letters/dead_letter.sql");
const STATUS: &str = include_str!("dead_letters/dead_letter_status.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    letters(writer, plan).await?;
    statuses(writer, plan).await
}

async fn letters(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.dead_letters.is_empty() {
        return Ok(());
    }
    let rows = &plan.dead_letters;
    let (topics, partitions, offsets) = key_columns(rows);
    let codes: Vec<&str> = rows.values().map(|row| row.reason_code.as_str()).collect();
    let reasons: Vec<&str> = rows.values().map(|row| row.reason.as_str()).collect();
    let attempts: Vec<i32> = rows.values().map(|row| row.attempts).collect();
    let keys: Vec<Option<&Value>> = rows.values().map(|row| row.key.as_ref()).collect();
    let payloads: Vec<&Value> = rows.values().map(|row| &row.payload).collect();
    let at: Vec<DateTime<Utc>> = rows.values().map(|row| row.at).collect();
    let positions: Vec<i64> = rows.values().map(|row| row.position).collect();
    writer
        .run(UPSERT, &[&topics, &partitions, &offsets, &codes, &reasons, &attempts, &keys, &payloads, &at, &positions])
        .await
}

/// Re-drives and discards.
async fn statuses(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.dead_letter_statuses.is_empty() {
        return Ok(());
    }
    let rows = &plan.dead_letter_statuses;
    let (topics, partitions, offsets) = key_columns(rows);
    let statuses: Vec<&str> = rows.values().map(|(status, _)| *status).collect();
    let positions: Vec<i64> = rows.values().map(|(_, position)| *position).collect();
    writer.run(STATUS, &[&topics, &partitions, &offsets, &statuses, &positions]).await
}

/// A dead letter's key, (topic, partition, offset), as three columns.
fn key_columns<V>(rows: &BTreeMap<(String, i32, i64), V>) -> (Vec<&str>, Vec<i32>, Vec<i64>) {
    let topics = rows.keys().map(|(topic, _, _)| topic.as_str()).collect();
    let partitions = rows.keys().map(|(_, partition, _)| *partition).collect();
    let offsets = rows.keys().map(|(_, _, offset)| *offset).collect();
    (topics, partitions, offsets)
}
