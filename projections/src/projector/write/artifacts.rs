//! Artifacts (`python_artifact`, by their SHA-256) and which entity ships them
//! (`has_artifact`). Seen and absent are positions, so the later observation decides.

use tokio_postgres::Error;

use super::{RowPlan, Writer};

const UPSERT: &str = include_str!("artifacts/python_artifact.sql");
const LINKS: &str = include_str!("artifacts/has_artifact.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.artifacts.is_empty() {
        return Ok(());
    }
    let rows = &plan.artifacts;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let hashes: Vec<&str> = rows.values().map(|row| row.sha256.as_str()).collect();
    let seen: Vec<i64> = rows.values().map(|row| row.seen_position).collect();
    let absent: Vec<i64> = rows.values().map(|row| row.absent_position).collect();
    writer.run(UPSERT, &[&ids, &hashes, &seen, &absent]).await?;
    writer.pairs(LINKS, &plan.has_artifact).await
}
