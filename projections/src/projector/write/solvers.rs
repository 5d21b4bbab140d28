//! Solver environments (`ecosystem_solver`): immutable, so a known one is left alone.

use tokio_postgres::Error;

use super::{RowPlan, Writer};

const INSERT: &str = include_str!("solvers/ecosystem_solver.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.solvers.is_empty() {
        return Ok(());
    }
    let rows = &plan.solvers;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let names: Vec<&str> = rows.values().map(|row| row.solver_name.as_str()).collect();
    let versions: Vec<&str> = rows.values().map(|row| row.solver_version.as_str()).collect();
    let os_names: Vec<&str> = rows.values().map(|row| row.os_name.as_str()).collect();
    let os_versions: Vec<&str> = rows.values().map(|row| row.os_version.as_str()).collect();
    let pythons: Vec<&str> = rows.values().map(|row| row.python_version.as_str()).collect();
    writer.run(INSERT, &[&ids, &names, &versions, &os_names, &os_versions, &pythons]).await
}
