//! What solvers found: the latest result per solver and version (`solved`), every run by its
//! document (`solver_run`), and the packages a run could not find (`solver_error_unprovided`).

use chrono::NaiveDateTime;
use serde_json::Value;
use tokio_postgres::Error;

use super::{RowPlan, Writer};

const SOLVED: &str = include_str!("solver_runs/solved.sql");
const RUNS: &str = include_str!("solver_runs/solver_run.sql");
const UNPROVIDED: &str = include_str!("solver_runs/solver_error_unprovided.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    solved(writer, plan).await?;
    runs(writer, plan).await?;
    unprovided(writer, plan).await
}

async fn solved(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.solved.is_empty() {
        return Ok(());
    }
    let rows = &plan.solved;
    let solvers: Vec<i64> = rows.keys().map(|(solver, _)| *solver).collect();
    let versions: Vec<i64> = rows.keys().map(|(_, version)| *version).collect();
    let documents: Vec<&str> = rows.values().map(|row| row.document_id.as_str()).collect();
    let datetimes: Vec<NaiveDateTime> = rows.values().map(|row| row.datetime).collect();
    let durations: Vec<Option<i32>> = rows.values().map(|row| row.duration).collect();
    let errors: Vec<bool> = rows.values().map(|row| row.error).collect();
    let unparseable: Vec<bool> = rows.values().map(|row| row.error_unparseable).collect();
    let unsolvable: Vec<bool> = rows.values().map(|row| row.error_unsolvable).collect();
    let provided: Vec<Option<bool>> = rows.values().map(|row| row.is_provided).collect();
    let positions: Vec<i64> = rows.values().map(|row| row.position).collect();
    writer
        .run(
            SOLVED,
            &[
                &solvers,
                &versions,
                &documents,
                &datetimes,
                &durations,
                &errors,
                &unparseable,
                &unsolvable,
                &provided,
                &positions,
            ],
        )
        .await
}

async fn runs(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.solver_runs.is_empty() {
        return Ok(());
    }
    let rows = &plan.solver_runs;
    let documents: Vec<&str> = rows.keys().map(|(document, _)| document.as_str()).collect();
    let versions: Vec<i64> = rows.keys().map(|(_, version)| *version).collect();
    let solvers: Vec<i64> = rows.values().map(|(solver, _)| *solver).collect();
    let datetimes: Vec<NaiveDateTime> = rows.values().map(|(_, row)| row.datetime).collect();
    let durations: Vec<Option<i32>> = rows.values().map(|(_, row)| row.duration).collect();
    let errors: Vec<bool> = rows.values().map(|(_, row)| row.error).collect();
    let unparseable: Vec<bool> = rows.values().map(|(_, row)| row.error_unparseable).collect();
    let unsolvable: Vec<bool> = rows.values().map(|(_, row)| row.error_unsolvable).collect();
    let provided: Vec<Option<bool>> = rows.values().map(|(_, row)| row.is_provided).collect();
    writer
        .run(
            RUNS,
            &[&documents, &versions, &solvers, &datetimes, &durations, &errors, &unparseable, &unsolvable, &provided],
        )
        .await
}

async fn unprovided(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.unprovided.is_empty() {
        return Ok(());
    }
    let rows = &plan.unprovided;
    let documents: Vec<&str> = rows.keys().map(|key| key.document_id.as_str()).collect();
    let solvers: Vec<i64> = rows.values().map(|row| row.solver_id).collect();
    let names: Vec<&str> = rows.keys().map(|key| key.package_name.as_str()).collect();
    let versions: Vec<Option<&str>> = rows.keys().map(|key| key.package_version.as_deref()).collect();
    let indexes: Vec<Option<&str>> = rows.keys().map(|key| key.index_url.as_deref()).collect();
    let details: Vec<&Value> = rows.values().map(|row| &row.details).collect();
    writer.run(UNPROVIDED, &[&documents, &solvers, &names, &versions, &indexes, &details]).await
}
