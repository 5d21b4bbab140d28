//! Package indexes (`python_package_index`): a registration and the enabled switch each keep
//! the position that set them, so a later event wins whichever batch it arrives in.

use chrono::{DateTime, Utc};
use tokio_postgres::Error;

use super::{RowPlan, Writer};
use crate::projector::plan::IndexRow;

const UPSERT: &str = include_str!("indexes/python_package_index.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.indexes.is_empty() {
        return Ok(());
    }
    let rows = &plan.indexes;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let urls: Vec<&str> = rows.values().map(|row| row.url.as_str()).collect();
    let registration = |row: &IndexRow| row.registration.clone();
    let warehouses: Vec<Option<String>> =
        rows.values().map(|row| registration(row).and_then(|r| r.warehouse_api_url)).collect();
    let verify: Vec<bool> = rows.values().map(|row| registration(row).is_none_or(|r| r.verify_ssl)).collect();
    let only_if_seen: Vec<bool> =
        rows.values().map(|row| registration(row).is_none_or(|r| r.only_if_package_seen)).collect();
    let registered: Vec<i64> = rows.values().map(|row| registration(row).map_or(0, |r| r.position)).collect();
    let enabled: Vec<bool> = rows.values().map(|row| row.enabled.is_some_and(|(value, _)| value)).collect();
    let enabled_at: Vec<i64> = rows.values().map(|row| row.enabled.map_or(0, |(_, position)| position)).collect();
    let updated: Vec<Option<DateTime<Utc>>> = rows.values().map(|row| row.updated.map(|(_, at)| at)).collect();
    writer
        .run(UPSERT, &[&ids, &urls, &warehouses, &verify, &only_if_seen, &registered, &enabled, &enabled_at, &updated])
        .await
}
