//! Workflow runs (`workflow_run`). What a workflow was asked to do is set once (the first
//! value wins); its status only moves forward, by rank, then position.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Error;

use super::{RowPlan, Writer};
use crate::projector::plan::WorkflowRow;

const UPSERT: &str = include_str!("workflows/workflow_run.sql");

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.workflows.is_empty() {
        return Ok(());
    }
    let rows = &plan.workflows;
    let ids: Vec<&str> = rows.keys().map(String::as_str).collect();
    let text = |field: fn(&WorkflowRow) -> Option<&str>| -> Vec<Option<&str>> { rows.values().map(field).collect() };
    let kinds = text(|row| row.kind.as_deref());
    let namespaces = text(|row| row.namespace.as_deref());
    let statuses: Vec<&str> = rows.values().map(|row| row.status.name).collect();
    let names = text(|row| row.package_name.as_deref());
    let versions = text(|row| row.package_version.as_deref());
    let indexes = text(|row| row.index_url.as_deref());
    let solvers = text(|row| row.solver_name.as_deref());
    let triggers = text(|row| row.trigger.as_deref());
    let parameters: Vec<Option<&Value>> = rows.values().map(|row| row.parameters.as_ref()).collect();
    let requested: Vec<Option<DateTime<Utc>>> = rows.values().map(|row| row.requested_at).collect();
    let submitted: Vec<Option<DateTime<Utc>>> = rows.values().map(|row| row.submitted_at).collect();
    let started: Vec<Option<DateTime<Utc>>> = rows.values().map(|row| row.started_at).collect();
    let finished: Vec<Option<DateTime<Utc>>> = rows.values().map(|row| row.status.finished_at).collect();
    let phases = text(|row| row.status.phase.as_deref());
    let messages = text(|row| row.status.message.as_deref());
    let ranks: Vec<i16> = rows.values().map(|row| row.status.rank).collect();
    let positions: Vec<i64> = rows.values().map(|row| row.status.position).collect();
    writer
        .run(
            UPSERT,
            &[
                &ids,
                &kinds,
                &namespaces,
                &statuses,
                &names,
                &versions,
                &indexes,
                &solvers,
                &triggers,
                &parameters,
                &requested,
                &submitted,
                &started,
                &finished,
                &phases,
                &messages,
                &ranks,
                &positions,
            ],
        )
        .await
}
