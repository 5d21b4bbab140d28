//! Package entities (`python_package_version_entity`) and packages an index said it does not
//! have (`python_package_missing`). Missing and present are positions, not a flag: the later
//! one decides, and [`super::flags`] turns them into `is_missing` once the batch is written.

use chrono::{DateTime, Utc};
use tokio_postgres::Error;

use super::{RowPlan, Writer};

const ENTITIES: &str = include_str!("packages/python_package_version_entity.sql");
const MISSING: &str = include_str!("packages/python_package_missing.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    entities(writer, plan).await?;
    missing(writer, plan).await
}

async fn entities(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.entities.is_empty() {
        return Ok(());
    }
    let rows = &plan.entities;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let names: Vec<&str> = rows.values().map(|row| row.package_name.as_str()).collect();
    let versions: Vec<Option<&str>> = rows.values().map(|row| row.package_version.as_deref()).collect();
    let indexes: Vec<Option<i64>> = rows.values().map(|row| row.index_id).collect();
    let first_seen: Vec<DateTime<Utc>> = rows.values().map(|row| row.first_seen_at).collect();
    let missing: Vec<i64> = rows.values().map(|row| row.missing_position).collect();
    let present: Vec<i64> = rows.values().map(|row| row.present_position).collect();
    let source_distro: Vec<bool> = rows.values().map(|row| row.source_distro.is_none_or(|(value, _)| value)).collect();
    let source_distro_at: Vec<i64> = rows.values().map(|row| row.source_distro.map_or(0, |(_, p)| p)).collect();
    writer
        .run(
            ENTITIES,
            &[&ids, &names, &versions, &indexes, &first_seen, &missing, &present, &source_distro, &source_distro_at],
        )
        .await
}

async fn missing(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.missing_packages.is_empty() {
        return Ok(());
    }
    let rows = &plan.missing_packages;
    let names: Vec<&str> = rows.keys().map(|(name, _)| name.as_str()).collect();
    let indexes: Vec<i64> = rows.keys().map(|(_, index)| *index).collect();
    let positions: Vec<i64> = rows.values().map(|row| row.position).collect();
    let marked_at: Vec<DateTime<Utc>> = rows.values().map(|row| row.marked_at).collect();
    writer.run(MISSING, &[&names, &indexes, &positions, &marked_at]).await
}
