//! Licences (`python_package_license`): immutable, so a known one is left alone; versions
//! refer to them, so they are written first.

use tokio_postgres::Error;

use super::{RowPlan, Writer};

const INSERT: &str = include_str!("licenses/python_package_license.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.licenses.is_empty() {
        return Ok(());
    }
    let rows = &plan.licenses;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let names: Vec<&str> = rows.values().map(|row| row.name.as_str()).collect();
    let identifiers: Vec<&str> = rows.values().map(|row| row.identifier.as_str()).collect();
    let versions: Vec<&str> = rows.values().map(|row| row.version.as_str()).collect();
    writer.run(INSERT, &[&ids, &names, &identifiers, &versions]).await
}
