//! Adviser runs (`adviser_run`, the latest recording of a document wins), the packages they
//! could not resolve (`has_unresolved`), and parked advisers (`parked_adviser`): parking, a
//! re-run request and resolution each keep the position that set them.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use tokio_postgres::Error;

use super::{RowPlan, Writer};

const RUNS: &str = include_str!("advisers/adviser_run.sql");
const UNRESOLVED: &str = include_str!("advisers/has_unresolved.sql");
const PARKED: &str = include_str!("advisers/parked_adviser.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    runs(writer, plan).await?;
    parked(writer, plan).await
}

async fn runs(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.adviser_runs.is_empty() {
        return Ok(());
    }
    let rows = &plan.adviser_runs;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let documents: Vec<&str> = rows.values().map(|row| row.document_id.as_str()).collect();
    let datetimes: Vec<NaiveDateTime> = rows.values().map(|row| row.datetime).collect();
    let versions: Vec<&str> = rows.values().map(|row| row.adviser_version.as_str()).collect();
    let names: Vec<&str> = rows.values().map(|row| row.adviser_name.as_str()).collect();
    let source_types: Vec<Option<&str>> = rows.values().map(|row| row.source_type.as_deref()).collect();
    let origins: Vec<Option<&str>> = rows.values().map(|row| row.origin.as_deref()).collect();
    let recommendations: Vec<Option<&str>> = rows.values().map(|row| row.recommendation_type.as_deref()).collect();
    let re_runs: Vec<Option<&str>> = rows.values().map(|row| row.re_run_adviser_id.as_deref()).collect();
    let errors: Vec<bool> = rows.values().map(|row| row.error).collect();
    let messages: Vec<Option<&str>> = rows.values().map(|row| row.error_msg.as_deref()).collect();
    let need: Vec<bool> = rows.values().map(|row| row.need_re_run).collect();
    let parameters: Vec<&Value> = rows.values().map(|row| &row.parameters).collect();
    let environments: Vec<&Value> = rows.values().map(|row| &row.runtime_environment).collect();
    let positions: Vec<i64> = rows.values().map(|row| row.position).collect();
    writer
        .run(
            RUNS,
            &[
                &ids,
                &documents,
                &datetimes,
                &versions,
                &names,
                &source_types,
                &origins,
                &recommendations,
                &re_runs,
                &errors,
                &messages,
                &need,
                &parameters,
                &environments,
                &positions,
            ],
        )
        .await?;
    writer.pairs(UNRESOLVED, &plan.unresolved_links).await
}

async fn parked(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.parked.is_empty() {
        return Ok(());
    }
    let rows = &plan.parked;
    let documents: Vec<&str> = rows.keys().map(String::as_str).collect();
    let empty = Value::Array(Vec::new());
    let unresolved: Vec<&Value> =
        rows.values().map(|row| row.parked.as_ref().map_or(&empty, |p| &p.unresolved)).collect();
    let solvers: Vec<Option<&str>> =
        rows.values().map(|row| row.parked.as_ref().and_then(|p| p.solver_name.as_deref())).collect();
    let parked_at: Vec<Option<DateTime<Utc>>> = rows.values().map(|row| row.parked.as_ref().map(|p| p.at)).collect();
    let parked_positions: Vec<i64> = rows.values().map(|row| row.parked.as_ref().map_or(0, |p| p.position)).collect();
    let re_run_at: Vec<Option<DateTime<Utc>>> = rows.values().map(|row| row.re_run.as_ref().map(|r| r.1)).collect();
    let jobs: Vec<Option<&str>> = rows.values().map(|row| row.re_run.as_ref().and_then(|r| r.2.as_deref())).collect();
    let re_run_positions: Vec<i64> = rows.values().map(|row| row.re_run.as_ref().map_or(0, |r| r.0)).collect();
    let resolved_by: Vec<Option<&str>> = rows.values().map(|row| row.resolved.as_ref().map(|r| r.1.as_str())).collect();
    let resolved_positions: Vec<i64> = rows.values().map(|row| row.resolved.as_ref().map_or(0, |r| r.0)).collect();
    writer
        .run(
            PARKED,
            &[
                &documents,
                &unresolved,
                &solvers,
                &parked_at,
                &parked_positions,
                &re_run_at,
                &jobs,
                &re_run_positions,
                &resolved_by,
                &resolved_positions,
            ],
        )
        .await
}
