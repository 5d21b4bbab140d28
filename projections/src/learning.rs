//! What the learning drivers read from the graph: knowledge gaps, the versions and hashes the
//! graph knows per index, the findings already queued, and the system's load.
//!
//! Finding keys are built here, in SQL and in Rust alike, by the `*_finding` functions and
//! their SQL twins, so a gap already queued is recognised without reading every finding.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use investigator_core::SolverEnvironment;

/// An index the drivers learn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearningIndex {
    /// The normalised simple-API URL.
    pub url: String,
    /// The warehouse JSON API, when registered.
    pub warehouse_api_url: Option<String>,
    /// Whether TLS certificates are checked.
    pub verify_ssl: bool,
    /// Only releases of package names already known are recorded.
    pub only_if_package_seen: bool,
}

/// A version the graph knows on an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownVersion {
    /// PEP 503 name.
    pub package_name: String,
    /// Normalised version.
    pub package_version: String,
    /// Normalised index URL.
    pub index_url: String,
    /// The attempt a finding about it would be (1 when never queued).
    pub attempt: u32,
}

/// The finding key of a version no solver run of `solver` has answered.
pub fn unresolved_finding(solver: &str, name: &str, version: &str, index: &str) -> String {
    format!("unresolved/{solver}/{index}/{name}/{version}")
}
const UNRESOLVED_FINDING: &str =
    "'unresolved/' || $1 || '/' || i.url || '/' || e.package_name || '/' || e.package_version";

/// The finding key of a version never reverse-solved.
pub fn unrevsolved_finding(name: &str, version: &str) -> String {
    format!("unrevsolved/{name}/{version}")
}

/// The finding key of a version with a source distribution and no security-indicator result.
pub fn si_unanalyzed_finding(name: &str, version: &str, index: &str) -> String {
    format!("si-unanalyzed/{index}/{name}/{version}")
}
const SI_FINDING: &str = "'si-unanalyzed/' || i.url || '/' || e.package_name || '/' || e.package_version";

/// The indexes that take part in learning.
pub async fn enabled_indexes(client: &impl GenericClient) -> Result<Vec<LearningIndex>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT url, warehouse_api_url, verify_ssl, only_if_package_seen FROM graph.python_package_index
             WHERE enabled ORDER BY url",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| LearningIndex {
            url: row.get(0),
            warehouse_api_url: row.get(1),
            verify_ssl: row.get(2),
            only_if_package_seen: row.get(3),
        })
        .collect())
}

/// Up to `limit` versions on enabled indexes, not missing, that `solver` (with environment
/// `environment`) has not answered, with no solver workflow of theirs in flight, and not
/// queued since `retry_before`; oldest first, names in `excluded` left out.
pub async fn unsolved_versions(
    client: &impl GenericClient,
    solver: &str,
    environment: &SolverEnvironment,
    excluded: &[String],
    retry_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<KnownVersion>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT e.package_name, e.package_version, i.url, COALESCE(m.attempt, 0) + 1
         FROM graph.python_package_version_entity e
         JOIN graph.python_package_index i ON i.id = e.python_package_index_id AND i.enabled
         LEFT JOIN graph.learning_message m ON m.finding = {UNRESOLVED_FINDING}
         WHERE e.package_version IS NOT NULL AND NOT e.is_missing AND e.package_name <> ALL($5)
           AND (m.finding IS NULL OR m.queued_at < $6)
           AND NOT EXISTS (SELECT 1 FROM graph.python_package_version v WHERE v.entity_id = e.id
                           AND v.os_name = $2 AND v.os_version = $3 AND v.python_version = $4)
           AND NOT EXISTS (SELECT 1 FROM graph.workflow_run w WHERE w.kind = 'solver'
                           AND w.status IN ('requested', 'submitted', 'running') AND w.solver_name = $1
                           AND w.package_name = e.package_name AND w.package_version = e.package_version)
         ORDER BY e.first_seen_at, e.id LIMIT $7"
    );
    let rows = client
        .query(
            &sql,
            &[
                &solver,
                &environment.os_name,
                &environment.os_version,
                &environment.python_version,
                &excluded,
                &retry_before,
                &limit,
            ],
        )
        .await?;
    Ok(rows.iter().map(known_version).collect())
}

/// Whether each (name, version) has had a reverse-solver workflow (finished or not), or was
/// queued as unrevsolved since `retry_before`: those are not asked again.
pub async fn revsolved(
    client: &impl GenericClient,
    versions: &[(String, String)],
    retry_before: DateTime<Utc>,
) -> Result<Vec<(String, String)>, tokio_postgres::Error> {
    let names: Vec<&str> = versions.iter().map(|(name, _)| name.as_str()).collect();
    let numbers: Vec<&str> = versions.iter().map(|(_, version)| version.as_str()).collect();
    let rows = client
        .query(
            "SELECT given.name, given.version FROM unnest($1::text[], $2::text[]) AS given (name, version)
             WHERE EXISTS (SELECT 1 FROM graph.workflow_run w WHERE w.kind = 'revsolver'
                           AND w.package_name = given.name AND w.package_version = given.version
                           AND w.status <> 'failed')
                OR EXISTS (SELECT 1 FROM graph.learning_message m
                           WHERE m.finding = 'unrevsolved/' || given.name || '/' || given.version
                             AND m.queued_at >= $3)",
            &[&names, &numbers, &retry_before],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// The attempt an unrevsolved finding would be, per (name, version).
pub async fn unrevsolved_attempts(
    client: &impl GenericClient,
    versions: &[(String, String)],
) -> Result<Vec<u32>, tokio_postgres::Error> {
    let findings: Vec<String> = versions.iter().map(|(name, version)| unrevsolved_finding(name, version)).collect();
    let rows = client
        .query(
            "SELECT COALESCE(m.attempt, 0) + 1 FROM unnest($1::text[]) WITH ORDINALITY AS given (finding, n)
             LEFT JOIN graph.learning_message m ON m.finding = given.finding ORDER BY given.n",
            &[&findings],
        )
        .await?;
    Ok(rows.iter().map(|row| attempt(row.get(0))).collect())
}

/// Up to `limit` versions with a source distribution, on enabled indexes, not missing, with
/// no security-indicator result and no SI workflow in flight, not queued since `retry_before`.
pub async fn si_unanalyzed_versions(
    client: &impl GenericClient,
    excluded: &[String],
    retry_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<KnownVersion>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT e.package_name, e.package_version, i.url, COALESCE(m.attempt, 0) + 1
         FROM graph.python_package_version_entity e
         JOIN graph.python_package_index i ON i.id = e.python_package_index_id AND i.enabled
         LEFT JOIN graph.learning_message m ON m.finding = {SI_FINDING}
         WHERE e.package_version IS NOT NULL AND NOT e.is_missing AND e.provides_source_distro
           AND e.package_name <> ALL($1) AND (m.finding IS NULL OR m.queued_at < $2)
           AND NOT EXISTS (SELECT 1 FROM graph.si_aggregated s WHERE s.python_package_version_entity_id = e.id)
           AND NOT EXISTS (SELECT 1 FROM graph.workflow_run w WHERE w.kind = 'security-indicator'
                           AND w.status IN ('requested', 'submitted', 'running')
                           AND w.package_name = e.package_name AND w.package_version = e.package_version)
         ORDER BY e.first_seen_at, e.id LIMIT $3"
    );
    let rows = client.query(&sql, &[&excluded, &retry_before, &limit]).await?;
    Ok(rows.iter().map(known_version).collect())
}

/// A version the graph knows on one index, with what an update check compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedVersion {
    /// PEP 503 name.
    pub package_name: String,
    /// Normalised version.
    pub package_version: String,
    /// Marked missing (this version or its whole package).
    pub is_missing: bool,
    /// The sha256 hashes of its artifacts the graph believes the index serves, sorted.
    pub sha256: Vec<String>,
}

/// Every version the graph knows on `index_url`, by name then version.
pub async fn indexed_versions(
    client: &impl GenericClient,
    index_url: &str,
) -> Result<Vec<IndexedVersion>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT e.package_name, e.package_version, e.is_missing,
                    COALESCE(array_agg(a.artifact_hash_sha256 ORDER BY a.artifact_hash_sha256)
                             FILTER (WHERE a.present), '{}')
             FROM graph.python_package_version_entity e
             JOIN graph.python_package_index i ON i.id = e.python_package_index_id AND i.url = $1
             LEFT JOIN graph.has_artifact h ON h.python_package_version_entity_id = e.id
             LEFT JOIN graph.python_artifact a ON a.id = h.python_artifact_id
             WHERE e.package_version IS NOT NULL
             GROUP BY e.id, e.package_name, e.package_version, e.is_missing
             ORDER BY e.package_name, e.package_version",
            &[&index_url],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| IndexedVersion {
            package_name: row.get(0),
            package_version: row.get(1),
            is_missing: row.get(2),
            sha256: row.get(3),
        })
        .collect())
}

/// The names on `index_url` marked missing as a whole.
pub async fn missing_packages(
    client: &impl GenericClient,
    index_url: &str,
) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT m.package_name FROM graph.python_package_missing m
             JOIN graph.python_package_index i ON i.id = m.python_package_index_id AND i.url = $1
             ORDER BY 1",
            &[&index_url],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// The findings of `driver` whose key starts with `prefix` (already queued: never again).
pub async fn queued_findings(
    client: &impl GenericClient,
    driver: &str,
    prefix: &str,
) -> Result<std::collections::HashSet<String>, tokio_postgres::Error> {
    let pattern = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let rows = client
        .query("SELECT finding FROM graph.learning_message WHERE driver = $1 AND finding LIKE $2", &[&driver, &pattern])
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// The versions of `names` known on `index_url`, and the advisories already linked to each.
pub async fn vulnerabilities_known(
    client: &impl GenericClient,
    index_url: &str,
    names: &[String],
) -> Result<Vec<(String, String, Vec<String>)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT e.package_name, e.package_version,
                    COALESCE(array_agg(c.cve_id ORDER BY c.cve_id) FILTER (WHERE c.cve_id IS NOT NULL), '{}')
             FROM graph.python_package_version_entity e
             JOIN graph.python_package_index i ON i.id = e.python_package_index_id AND i.url = $1
             LEFT JOIN graph.has_vulnerability h ON h.python_package_version_entity_id = e.id
             LEFT JOIN graph.cve c ON c.id = h.cve_id
             WHERE e.package_version IS NOT NULL AND e.package_name = ANY($2)
             GROUP BY e.id, e.package_name, e.package_version
             ORDER BY e.package_name, e.package_version",
            &[&index_url, &names],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1), row.get(2))).collect())
}

/// Workflows requested, submitted or running.
pub async fn pending_workflows(client: &impl GenericClient) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT count(*) FROM graph.workflow_run WHERE status IN ('requested', 'submitted', 'running')", &[])
        .await?;
    Ok(row.get(0))
}

/// The stored offsets of `group` on `topics`: (topic, partition, next offset).
pub async fn consumer_offsets(
    client: &impl GenericClient,
    group: &str,
    topics: &[String],
) -> Result<Vec<(String, i32, i64)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT topic, partition, next_offset FROM investigator.consumer_offset
             WHERE consumer_group = $1 AND topic = ANY($2) ORDER BY topic, partition",
            &[&group, &topics],
        )
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1), row.get(2))).collect())
}

/// The embedded bus's next offset per topic of `topics` (topics never published are absent).
pub async fn bus_heads(
    client: &impl GenericClient,
    topics: &[String],
) -> Result<Vec<(String, i64)>, tokio_postgres::Error> {
    let rows =
        client.query("SELECT topic, next_offset FROM investigator.bus_head WHERE topic = ANY($1)", &[&topics]).await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Whether `driver` is held back, as last recorded.
pub async fn throttled(client: &impl GenericClient, driver: &str) -> Result<bool, tokio_postgres::Error> {
    let row = client.query_opt("SELECT throttled FROM graph.learning_driver WHERE driver = $1", &[&driver]).await?;
    Ok(row.is_some_and(|row| row.get(0)))
}

fn known_version(row: &tokio_postgres::Row) -> KnownVersion {
    KnownVersion {
        package_name: row.get(0),
        package_version: row.get(1),
        index_url: row.get(2),
        attempt: attempt(row.get(3)),
    }
}

fn attempt(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(1).max(1)
}

/// The relay's row in `investigator.projection_checkpoint`.
const RELAY_CHECKPOINT: &str = "learning_relay";

/// A queued message the relay has not published yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// The `LearningMessageQueued` event's position.
    pub position: i64,
    /// Its payload's schema version.
    pub schema_version: i32,
    /// Its payload (JSON).
    pub payload: Vec<u8>,
    /// Its metadata (JSON).
    pub metadata: Vec<u8>,
}

/// The last position the relay published, locked until the transaction ends: relays in two
/// processes take turns, so none publishes what the other is publishing.
pub async fn lock_relay_checkpoint(client: &impl GenericClient) -> Result<i64, tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO investigator.projection_checkpoint (projection, position, updated_at)
             VALUES ($1, 0, now()) ON CONFLICT (projection) DO NOTHING",
            &[&RELAY_CHECKPOINT],
        )
        .await?;
    let row = client
        .query_one(
            "SELECT position FROM investigator.projection_checkpoint WHERE projection = $1 FOR UPDATE",
            &[&RELAY_CHECKPOINT],
        )
        .await?;
    Ok(row.get(0))
}

/// Moves the relay's checkpoint.
pub async fn set_relay_checkpoint(client: &impl GenericClient, position: i64) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "UPDATE investigator.projection_checkpoint SET position = $2, updated_at = now() WHERE projection = $1",
            &[&RELAY_CHECKPOINT, &position],
        )
        .await?;
    Ok(())
}

/// Up to `limit` queued messages after `position`, in log order, and the log's head (so a
/// relay with nothing to publish can still move past the events of other types).
pub async fn queued_after(
    client: &impl GenericClient,
    position: i64,
    limit: i64,
) -> Result<(Vec<QueuedMessage>, i64), tokio_postgres::Error> {
    let head: i64 = client.query_one("SELECT position FROM investigator.log_head", &[]).await?.get(0);
    let rows = client
        .query(
            "SELECT position, schema_version, payload::text, metadata::text FROM investigator.event_log
             WHERE position > $1 AND position <= $2 AND event_type = 'LearningMessageQueued'
             ORDER BY position LIMIT $3",
            &[&position, &head, &limit],
        )
        .await?;
    let messages = rows
        .iter()
        .map(|row| QueuedMessage {
            position: row.get(0),
            schema_version: row.get(1),
            payload: row.get::<_, String>(2).into_bytes(),
            metadata: row.get::<_, String>(3).into_bytes(),
        })
        .collect();
    Ok((messages, head))
}

/// Findings queued and not published yet.
pub async fn relay_backlog(client: &impl GenericClient) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT count(*) FROM graph.learning_message
             WHERE position > COALESCE((SELECT position FROM investigator.projection_checkpoint
                                         WHERE projection = $1), 0)",
            &[&RELAY_CHECKPOINT],
        )
        .await?;
    Ok(row.get(0))
}

/// The drivers' part of `/api/v1/status`: per driver, findings queued (and by topic), the
/// latest, and the throttle; and the relay's position and backlog.
pub async fn status(client: &impl GenericClient) -> Result<serde_json::Value, tokio_postgres::Error> {
    let mut drivers = serde_json::Map::new();
    for row in client
        .query(
            "SELECT driver, count(*), max(queued_at), sum(attempt - 1) FROM graph.learning_message GROUP BY driver",
            &[],
        )
        .await?
    {
        let retries: i64 = row.get::<_, Option<i64>>(3).unwrap_or(0);
        drivers.insert(
            row.get(0),
            serde_json::json!({"queued": row.get::<_, i64>(1), "requeued": retries,
                               "last_queued_at": row.get::<_, Option<DateTime<Utc>>>(2).map(|at| at.to_rfc3339())}),
        );
    }
    for row in client
        .query(
            "SELECT driver, throttled, lag, pending_workflows, max_lag, max_pending_workflows, changed_at
             FROM graph.learning_driver",
            &[],
        )
        .await?
    {
        let entry = drivers.entry(row.get::<_, String>(0)).or_insert_with(|| serde_json::json!({"queued": 0}));
        entry["throttle"] = serde_json::json!({
            "throttled": row.get::<_, bool>(1), "lag": row.get::<_, i64>(2),
            "pending_workflows": row.get::<_, i64>(3), "max_lag": row.get::<_, i64>(4),
            "max_pending_workflows": row.get::<_, i64>(5), "since": row.get::<_, DateTime<Utc>>(6).to_rfc3339(),
        });
    }
    let relay: i64 = client
        .query_opt(
            "SELECT position FROM investigator.projection_checkpoint WHERE projection = $1",
            &[&RELAY_CHECKPOINT],
        )
        .await?
        .map_or(0, |row| row.get(0));
    Ok(serde_json::json!({"drivers": drivers, "relay": {"position": relay, "backlog": relay_backlog(client).await?}}))
}
