//! The derived flags (`is_missing`, `provides_source_distro`): recomputed for the entities
//! and packages the batch touched, from the positions the other modules stored, and copied to
//! every environment's version row. Runs after the other package tables, so it sees the
//! whole batch.

use tokio_postgres::Error;

use super::{RowPlan, Writer};

const RECOMPUTE: &str = include_str!("flags/recompute.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.flag_entities.is_empty() && plan.flag_packages.is_empty() {
        return Ok(());
    }
    let entities: Vec<i64> = plan.flag_entities.iter().copied().collect();
    let names: Vec<&str> = plan.flag_packages.iter().map(|(name, _)| name.as_str()).collect();
    let indexes: Vec<i64> = plan.flag_packages.iter().map(|(_, index)| *index).collect();
    writer.run(RECOMPUTE, &[&entities, &names, &indexes]).await
}
