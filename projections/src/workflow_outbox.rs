//! The workflow launcher's view of `graph.workflow_run`: the outbox of requests not submitted
//! yet, the work in flight per namespace (for the pending limit), and where each workflow's
//! life stands (so the watcher records each transition once, and finds those a list of the
//! cluster no longer shows).

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;
use investigator_core::workflow_manifest::WorkflowIntent;
use investigator_events::domain::WorkflowKind;

/// Up to `limit` requested workflows, oldest request first.
pub async fn requested(client: &impl GenericClient, limit: i64) -> Result<Vec<WorkflowIntent>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT run.workflow_id, run.kind, run.namespace, run.parameters, run.status_position,
                    event.metadata ->> 'traceparent'
             FROM graph.workflow_run run
             LEFT JOIN investigator.event_log event ON event.position = run.status_position
             WHERE run.status = 'requested' ORDER BY run.status_position LIMIT $1",
            &[&limit],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let kind: Option<String> = row.get(1);
            let parameters: Option<serde_json::Value> = row.get(3);
            Some(WorkflowIntent {
                workflow_id: row.get(0),
                kind: kind?.parse::<WorkflowKind>().ok()?,
                namespace: row.get::<_, Option<String>>(2)?,
                parameters: match parameters {
                    Some(serde_json::Value::Object(parameters)) => parameters,
                    _ => serde_json::Map::new(),
                },
                requested_at: row.get(4),
                traceparent: row.get(5),
            })
        })
        .collect())
}

/// Workflows submitted and not started yet, per namespace: Thoth's "pending" count.
pub async fn pending_per_namespace(
    client: &impl GenericClient,
) -> Result<BTreeMap<String, i64>, tokio_postgres::Error> {
    per_namespace(client, "submitted").await
}

/// Requests waiting to be submitted, per namespace.
pub async fn waiting_per_namespace(
    client: &impl GenericClient,
) -> Result<BTreeMap<String, i64>, tokio_postgres::Error> {
    per_namespace(client, "requested").await
}

async fn per_namespace(
    client: &impl GenericClient,
    status: &str,
) -> Result<BTreeMap<String, i64>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT namespace, count(*) FROM graph.workflow_run WHERE status = $1 AND namespace IS NOT NULL
             GROUP BY namespace",
            &[&status],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Where a workflow's life stands: its status (`requested`, `submitted`, `running`,
/// `succeeded`, `failed`), or `None` for a workflow the log never requested.
pub async fn status(client: &impl GenericClient, workflow_id: &str) -> Result<Option<String>, tokio_postgres::Error> {
    let row = client.query_opt("SELECT status FROM graph.workflow_run WHERE workflow_id = $1", &[&workflow_id]).await?;
    Ok(row.map(|row| row.get(0)))
}

/// The workflows of `namespace` submitted or running, whose status the log set at or before
/// `position`, so whose create the API server had answered before it: a full list of the
/// namespace taken after the log stood at `position` must show each of them, unless it was
/// deleted. (Later submissions are left out: a list may have been taken just before their
/// create.)
pub async fn unfinished_in(
    client: &impl GenericClient,
    namespace: &str,
    position: i64,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT workflow_id FROM graph.workflow_run
             WHERE namespace = $1 AND status IN ('submitted', 'running') AND status_position <= $2",
            &[&namespace, &position],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}
