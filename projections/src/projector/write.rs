//! The I/O half of the projector: one set-based statement per table for a whole plan.
//!
//! This file is the order; each subject's module writes its own tables, with the SQL in `.sql`
//! files beside it. Statements run in an order that respects foreign keys (indexes, entities,
//! solvers and licences before versions; versions before what hangs on them) and end with the
//! derived flags. Each upsert compares the stored *_position guards with the batch's, which is
//! what makes applying a batch twice harmless.

mod advisers;
mod artifacts;
mod cves;
mod dead_letters;
mod flags;
mod imports;
mod indexes;
mod learning;
mod licenses;
mod offset_resets;
mod packages;
mod security_indicators;
mod solver_runs;
mod solvers;
mod versions;
mod workflows;

use std::collections::BTreeSet;

use deadpool_postgres::Transaction;
use tokio_postgres::Error;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::plan::RowPlan;
use crate::statements;

/// How many rows each table received (inserted or changed).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Rows inserted or updated, all tables together.
    pub rows: u64,
}

/// Writes `plan` in the current transaction, into the schema on its `search_path`.
pub(crate) async fn write(transaction: &Transaction<'_>, plan: &RowPlan) -> Result<WriteStats, Error> {
    let graph = write_packages(transaction, plan).await?;
    let runs = write_runs(transaction, plan).await?;
    Ok(WriteStats { rows: graph.rows + runs.rows })
}

/// The package tables: indexes, entities, solvers, versions with their dependencies, and the
/// derived flags (which read only these tables).
pub(crate) async fn write_packages(transaction: &Transaction<'_>, plan: &RowPlan) -> Result<WriteStats, Error> {
    let mut writer = Writer::new(transaction);
    indexes::write(&mut writer, plan).await?;
    packages::write(&mut writer, plan).await?;
    solvers::write(&mut writer, plan).await?;
    licenses::write(&mut writer, plan).await?;
    versions::write(&mut writer, plan).await?;
    flags::write(&mut writer, plan).await?;
    Ok(writer.stats)
}

/// Everything else: solver runs, artifacts, imports, security, workflows, dead letters,
/// advisers. No table here is written by [`write_packages`], so with foreign keys deferred
/// (a rebuild) the two can run at the same time on two connections.
pub(crate) async fn write_runs(transaction: &Transaction<'_>, plan: &RowPlan) -> Result<WriteStats, Error> {
    let mut writer = Writer::new(transaction);
    solver_runs::write(&mut writer, plan).await?;
    artifacts::write(&mut writer, plan).await?;
    imports::write(&mut writer, plan).await?;
    cves::write(&mut writer, plan).await?;
    security_indicators::write(&mut writer, plan).await?;
    workflows::write(&mut writer, plan).await?;
    dead_letters::write(&mut writer, plan).await?;
    advisers::write(&mut writer, plan).await?;
    learning::write(&mut writer, plan).await?;
    offset_resets::write(&mut writer, plan).await?;
    Ok(writer.stats)
}

/// The transaction a plan goes into, and the rows written so far: every statement adds its
/// count here, so no subject module keeps a tally of its own.
struct Writer<'a> {
    transaction: &'a Transaction<'a>,
    stats: WriteStats,
}

impl<'a> Writer<'a> {
    fn new(transaction: &'a Transaction<'a>) -> Self {
        Writer { transaction, stats: WriteStats::default() }
    }

    /// Runs one statement, usually an upsert of a table's rows given as one array per column.
    async fn run(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<(), Error> {
        self.stats.rows += statements::execute(self.transaction, sql, params).await?;
        Ok(())
    }

    /// Runs one statement with a `RETURNING` clause, counting the rows it returns.
    async fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, Error> {
        let rows = statements::query(self.transaction, sql, params).await?;
        self.stats.rows += rows.len() as u64;
        Ok(rows)
    }

    /// Fills a link table: `sql` takes the left ids as `$1` and the right ids as `$2`.
    async fn pairs(&mut self, sql: &'static str, pairs: &BTreeSet<(i64, i64)>) -> Result<(), Error> {
        if pairs.is_empty() {
            return Ok(());
        }
        let left: Vec<i64> = pairs.iter().map(|(left, _)| *left).collect();
        let right: Vec<i64> = pairs.iter().map(|(_, right)| *right).collect();
        self.run(sql, &[&left, &right]).await
    }

    /// Writes `rows` with a binary `COPY … FROM STDIN`: only for rows that cannot conflict. The
    /// rows come as a slice, not an iterator, because an iterator of closures held across the
    /// awaits keeps the compiler from proving the caller's future `Send`.
    async fn copy_in<const N: usize>(
        &mut self,
        sql: &str,
        types: &[Type; N],
        rows: &[[&(dyn ToSql + Sync); N]],
    ) -> Result<(), Error> {
        let sink = self.transaction.copy_in(sql).await?;
        let copy = BinaryCopyInWriter::new(sink, types);
        futures_util::pin_mut!(copy);
        for row in rows {
            copy.as_mut().write(row).await?;
        }
        self.stats.rows += copy.finish().await?;
        Ok(())
    }
}
