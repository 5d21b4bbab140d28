//! Vulnerabilities (`cve`), the entities they affect (`has_vulnerability`), and when CVEs were
//! last recorded (`cve_timestamp`: one row, which only moves forward).

use chrono::NaiveDateTime;
use tokio_postgres::Error;

use super::{RowPlan, Writer};

const UPSERT: &str = include_str!("cves/cve.sql");
const LINKS: &str = include_str!("cves/has_vulnerability.sql");
const TIMESTAMP: &str = include_str!("cves/cve_timestamp.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    cves(writer, plan).await?;
    if let Some(timestamp) = &plan.cve_timestamp {
        writer.run(TIMESTAMP, &[timestamp]).await?;
    }
    Ok(())
}

async fn cves(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.cves.is_empty() {
        return Ok(());
    }
    let rows = &plan.cves;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let cve_ids: Vec<&str> = rows.values().map(|row| row.cve_id.as_str()).collect();
    let details: Vec<&str> = rows.values().map(|row| row.details.as_str()).collect();
    let links: Vec<Option<&str>> = rows.values().map(|row| row.link.as_deref()).collect();
    let first: Vec<NaiveDateTime> = rows.values().map(|row| row.first_at).collect();
    let positions: Vec<i64> = rows.values().map(|row| row.position).collect();
    writer.run(UPSERT, &[&ids, &cve_ids, &details, &links, &first, &positions]).await?;
    writer.pairs(LINKS, &plan.vulnerabilities).await
}
