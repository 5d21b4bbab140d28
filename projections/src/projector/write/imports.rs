//! Import names (`import_package`) and the versions they were found in
//! (`found_import_package`): both only ever grow.

use tokio_postgres::Error;

use super::{RowPlan, Writer};

const INSERT: &str = include_str!("imports/import_package.sql");
const LINKS: &str = include_str!("imports/found_import_package.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.imports.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = plan.imports.keys().copied().collect();
    let names: Vec<&str> = plan.imports.values().map(String::as_str).collect();
    writer.run(INSERT, &[&ids, &names]).await?;
    writer.pairs(LINKS, &plan.found_imports).await
}
