//! What operators look at: the log, the workflows, the dead letters, the offsets.

use deadpool_postgres::GenericClient;
use serde_json::Value;

/// Up to `limit` events after `after`, optionally of one stream and one type, as JSON.
pub async fn events(
    client: &impl GenericClient,
    after: i64,
    limit: i64,
    stream: Option<&str>,
    event_type: Option<&str>,
) -> Result<Vec<Value>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT json_build_object('position', position, 'stream', stream_id, 'stream_version', stream_version,
                                      'type', event_type, 'schema_version', schema_version,
                                      'recorded_at', recorded_at, 'payload', payload, 'metadata', metadata)
             FROM investigator.event_log
             WHERE position > $1 AND ($3::text IS NULL OR stream_id = $3) AND ($4::text IS NULL OR event_type = $4)
             ORDER BY position LIMIT $2",
            &[&after, &limit, &stream, &event_type],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// A page of workflow runs, newest request first, and how many match in all.
pub async fn workflows(
    client: &impl GenericClient,
    kind: Option<&str>,
    status: Option<&str>,
    package_name: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Value>, i64), tokio_postgres::Error> {
    const FILTER: &str = "($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR status = $2)
                          AND ($3::text IS NULL OR package_name = $3)";
    let rows = client
        .query(
            &format!(
                "SELECT to_jsonb(run) - 'status_rank' - 'status_position' FROM graph.workflow_run run
                 WHERE {FILTER} ORDER BY requested_at DESC NULLS LAST, workflow_id OFFSET $4 LIMIT $5"
            ),
            &[&kind, &status, &package_name, &offset, &limit],
        )
        .await?;
    let total = client
        .query_one(&format!("SELECT count(*) FROM graph.workflow_run WHERE {FILTER}"), &[&kind, &status, &package_name])
        .await?
        .get(0);
    Ok((rows.iter().map(|row| row.get(0)).collect(), total))
}

/// A page of dead letters, newest first, and how many match in all.
pub async fn dead_letters(
    client: &impl GenericClient,
    status: Option<&str>,
    reason_code: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Value>, i64), tokio_postgres::Error> {
    const FILTER: &str = "($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR reason_code = $2)";
    let rows = client
        .query(
            &format!(
                "SELECT to_jsonb(letter) FROM graph.dead_letter letter
                 WHERE {FILTER} ORDER BY dead_lettered_at DESC, topic, partition, \"offset\" OFFSET $3 LIMIT $4"
            ),
            &[&status, &reason_code, &offset, &limit],
        )
        .await?;
    let total = client
        .query_one(&format!("SELECT count(*) FROM graph.dead_letter WHERE {FILTER}"), &[&status, &reason_code])
        .await?
        .get(0);
    Ok((rows.iter().map(|row| row.get(0)).collect(), total))
}

/// The stored offsets, the log's head and the projections' positions, the workflows per
/// namespace and status, the parked dead letters, and the learning drivers.
pub async fn status(client: &impl GenericClient) -> Result<Value, tokio_postgres::Error> {
    let mut status = positions(client).await?;
    let row = client
        .query_one(
            "SELECT coalesce((SELECT json_agg(json_build_object('namespace', namespace, 'status', status,
                                                                'count', count) ORDER BY namespace, status)
                              FROM (SELECT namespace, status, count(*) FROM graph.workflow_run
                                    GROUP BY namespace, status) AS counted), '[]'),
                    (SELECT count(*) FROM graph.dead_letter WHERE status = 'parked')",
            &[],
        )
        .await?;
    status["workflows"] = row.get(0);
    status["dead_letters_parked"] = row.get::<_, i64>(1).into();
    status["learning"] = crate::learning::status(client).await?;
    status["offset_resets"] = client
        .query_one(
            "SELECT coalesce(json_agg(reset ORDER BY position DESC), '[]') FROM (
                 SELECT * FROM graph.consumer_offset_reset ORDER BY position DESC LIMIT 20) AS reset",
            &[],
        )
        .await?
        .get(0);
    Ok(status)
}

/// Where the consumers and projections stand: the stored offsets, the bus's heads, the log's
/// head and each projection's position and lag. Cheap whatever the graph's size (the counts of
/// [`status`] read every workflow ever requested), so the gauges read this every few seconds.
pub async fn positions(client: &impl GenericClient) -> Result<Value, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT json_build_object(
                 'offsets', coalesce((SELECT json_agg(json_build_object('consumer_group', consumer_group, 'topic', topic,
                                                     'partition', partition, 'next_offset', next_offset,
                                                     'updated_at', updated_at) ORDER BY consumer_group, topic, partition)
                                      FROM investigator.consumer_offset), '[]'),
                 'bus_heads', coalesce((SELECT json_object_agg(topic, next_offset) FROM investigator.bus_head), '{}'),
                 'log_head', (SELECT position FROM investigator.log_head),
                 'projections', coalesce((SELECT json_agg(json_build_object('projection', projection, 'position', position,
                                                          'lag_seconds', coalesce((SELECT extract(epoch FROM now() - e.recorded_at)
                                                                                   FROM investigator.event_log e
                                                                                   WHERE e.position = c.position + 1), 0))
                                                          ORDER BY projection)
                                          FROM investigator.projection_checkpoint c), '[]'))",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// The solver's tree entry of a version in one environment (what Thoth served from the solver
/// document), or `None`.
pub async fn version_metadata(
    client: &impl GenericClient,
    name: &str,
    version: &str,
    index_url: &str,
    environment: (&str, &str, &str),
) -> Result<Option<Value>, tokio_postgres::Error> {
    let (os_name, os_version, python_version) = environment;
    let os_name = if os_name == "ubi" { "rhel" } else { os_name };
    let row = client
        .query_opt(
            "SELECT version.solver_entry FROM graph.python_package_version version
             JOIN graph.python_package_index idx ON idx.id = version.python_package_index_id
             WHERE version.package_name = $1 AND version.package_version = $2 AND idx.url = $3
               AND version.os_name = $4 AND version.os_version = $5 AND version.python_version = $6
               AND version.solver_entry IS NOT NULL",
            &[&name, &version, &index_url, &os_name, &os_version, &python_version],
        )
        .await?;
    Ok(row.map(|row| row.get(0)))
}
