//! Reads the knowledge a batch of decisions needs from the live graph: one query per kind of
//! fact, for all the keys of the batch at once.

use deadpool_postgres::GenericClient;
use investigator_core::SolverEnvironment;
use investigator_core::decide::{Knowledge, KnowledgeKeys, ParkedAdviser, PendingWorkflow};
use investigator_events::domain::{UnresolvedPackage, WorkflowKind};
use investigator_events::thoth::JsonObject;
use tokio_postgres::types::ToSql;

/// The graph's answers for `keys`. Read inside the transaction that records the decisions,
/// so they cannot go stale before the decisions commit.
pub async fn load_knowledge(
    client: &impl GenericClient,
    keys: &KnowledgeKeys,
) -> Result<Knowledge, tokio_postgres::Error> {
    let mut knowledge = Knowledge::default();
    for row in
        client.query("SELECT url, enabled FROM graph.python_package_index WHERE registered_position > 0", &[]).await?
    {
        knowledge.insert_index(row.get(0), row.get(1));
    }

    let mut versions = VersionKeys::of(keys);
    load_versions(client, &mut knowledge, &versions).await?;
    if !keys.solved_names.is_empty() {
        let waited_for =
            load_parked(client, &mut knowledge, &keys.solved_names.iter().cloned().collect::<Vec<_>>()).await?;
        load_solved_names(client, &mut knowledge, &waited_for).await?;
        // Every workflow pending for what parked advisers wait for, as before they were parked.
        versions.add_whole_names(waited_for);
    }
    load_pending(client, &mut knowledge, &versions).await?;

    let ids: Vec<&str> = keys.workflow_ids.iter().map(String::as_str).collect();
    if !ids.is_empty() {
        for row in
            client.query("SELECT workflow_id FROM graph.workflow_run WHERE workflow_id = ANY($1)", &[&ids]).await?
        {
            knowledge.insert_workflow_id(row.get(0));
        }
    }
    Ok(knowledge)
}

/// The keys of the version queries, as query parameters.
struct VersionKeys {
    /// Names whose every version is wanted.
    whole_names: Vec<String>,
    /// Names and versions of the (name, version) pairs wanted, side by side.
    pair_names: Vec<String>,
    pair_versions: Vec<String>,
    /// Every name named (for the workflows that name no version).
    names: Vec<String>,
}

impl VersionKeys {
    fn of(keys: &KnowledgeKeys) -> Self {
        let mut whole_names: Vec<String> = keys.listings.iter().map(|(name, _)| name.clone()).collect();
        whole_names.dedup();
        // A pair whose name is read whole would only be read twice.
        let (pair_names, pair_versions) = keys
            .versions
            .iter()
            .filter(|(name, _)| whole_names.binary_search(name).is_err())
            .map(|(name, version)| (name.clone(), version.clone()))
            .unzip();
        let names = keys.names.iter().cloned().collect();
        VersionKeys { whole_names, pair_names, pair_versions, names }
    }

    /// Reads these names whole from now on (for the queries still to run).
    fn add_whole_names(&mut self, names: Vec<String>) {
        self.whole_names.extend(names);
        self.whole_names.sort();
        self.whole_names.dedup();
    }

    fn is_empty(&self) -> bool {
        self.whole_names.is_empty() && self.pair_names.is_empty()
    }
}

/// The wanted versions (on every index: the security-indicator check ignores the index), the
/// environments that solved them, and which have a security-indicator result. `$1`: the whole
/// names; `$2`, `$3`: the (name, version) pairs.
///
/// The queries of this module look each key up on its own (`LATERAL`, with `OFFSET 0` so the
/// planner cannot turn the lookups into a join), so the plan stays on the name indexes whatever
/// the table statistics say. Statistics lag behind a graph that grows by thousands of rows a
/// second, and the join they chose sorted the whole of `workflow_run` on disk for each batch.
const WANTED_ENTITIES: &str = "SELECT entity.package_name, entity.package_version, idx.url,
        EXISTS (SELECT 1 FROM graph.si_aggregated si WHERE si.python_package_version_entity_id = entity.id)
 FROM (SELECT whole.* FROM unnest($1::text[]) AS wanted (name)
       CROSS JOIN LATERAL (
           SELECT * FROM graph.python_package_version_entity entity
           WHERE entity.package_name = wanted.name AND entity.package_version IS NOT NULL OFFSET 0) AS whole
       UNION ALL
       SELECT pair.* FROM unnest($2::text[], $3::text[]) AS wanted (name, version)
       CROSS JOIN LATERAL (
           SELECT * FROM graph.python_package_version_entity entity
           WHERE entity.package_name = wanted.name AND entity.package_version = wanted.version OFFSET 0) AS pair
      ) AS entity
 JOIN graph.python_package_index idx ON idx.id = entity.python_package_index_id";

/// Rows of `python_package_version` for the same keys as [`WANTED_ENTITIES`].
const WANTED_SOLVED: &str = "SELECT version.package_name, version.package_version, idx.url,
        version.os_name, version.os_version, version.python_version
 FROM (SELECT version.* FROM unnest($1::text[]) AS wanted (name)
       CROSS JOIN LATERAL (
           SELECT * FROM graph.python_package_version version
           WHERE version.package_name = wanted.name AND version.package_version IS NOT NULL OFFSET 0) AS version
       UNION ALL
       SELECT version.* FROM unnest($2::text[], $3::text[]) AS wanted (name, version)
       CROSS JOIN LATERAL (
           SELECT * FROM graph.python_package_version version
           WHERE version.package_name = wanted.name AND version.package_version = wanted.version OFFSET 0) AS version
      ) AS version
 JOIN graph.python_package_index idx ON idx.id = version.python_package_index_id";

async fn load_versions(
    client: &impl GenericClient,
    knowledge: &mut Knowledge,
    keys: &VersionKeys,
) -> Result<(), tokio_postgres::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    let params: [&(dyn ToSql + Sync); 3] = [&keys.whole_names, &keys.pair_names, &keys.pair_versions];
    for row in client.query(WANTED_ENTITIES, &params).await? {
        let (name, version, url): (&str, &str, &str) = (row.get(0), row.get(1), row.get(2));
        knowledge.insert_version(name, version, url);
        if row.get::<_, bool>(3) {
            knowledge.insert_security_analyzed(name, version, url);
        }
    }
    for row in client.query(WANTED_SOLVED, &params).await? {
        let environment = SolverEnvironment { os_name: row.get(3), os_version: row.get(4), python_version: row.get(5) };
        knowledge.insert_solved(row.get(0), row.get(1), row.get(2), environment);
    }
    Ok(())
}

/// Parked advisers waiting for any of `names`; returns every name those advisers wait for.
async fn load_parked(
    client: &impl GenericClient,
    knowledge: &mut Knowledge,
    names: &[String],
) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT parked.adviser_document_id, parked.unresolved, parked.solver_name,
                    run.parameters, run.source_type, run.origin, run.recommendation_type
             FROM graph.parked_adviser parked
             LEFT JOIN graph.adviser_run run ON run.adviser_document_id = parked.adviser_document_id
             WHERE parked.status = 'parked'
               AND EXISTS (SELECT 1 FROM jsonb_array_elements(parked.unresolved) AS waiting
                           WHERE waiting ->> 'package_name' = ANY($1))",
            &[&names],
        )
        .await?;
    let mut waited_for = Vec::new();
    for row in rows {
        let adviser_document_id: String = row.get(0);
        let unresolved: Vec<UnresolvedPackage> = match serde_json::from_value(row.get(1)) {
            Ok(unresolved) => unresolved,
            Err(error) => {
                tracing::warn!(adviser_document_id, %error, "parked adviser with unreadable packages: not re-run");
                continue;
            }
        };
        let parameters: Option<serde_json::Value> = row.get(3);
        let parameters = match parameters {
            Some(serde_json::Value::Object(parameters)) => parameters,
            _ => JsonObject::new(),
        };
        waited_for.extend(unresolved.iter().map(|package| package.package_name.clone()));
        knowledge.insert_parked(ParkedAdviser {
            adviser_document_id,
            unresolved,
            solver_name: row.get(2),
            parameters,
            source_type: row.get(4),
            origin: row.get(5),
            recommendation_type: row.get(6),
        });
    }
    waited_for.sort();
    waited_for.dedup();
    Ok(waited_for)
}

/// The environments in which each of `names` has some solved version.
async fn load_solved_names(
    client: &impl GenericClient,
    knowledge: &mut Knowledge,
    names: &[String],
) -> Result<(), tokio_postgres::Error> {
    if names.is_empty() {
        return Ok(());
    }
    let rows = client
        .query(
            "SELECT DISTINCT version.package_name, version.os_name, version.os_version, version.python_version
             FROM unnest($1::text[]) AS wanted (name)
             CROSS JOIN LATERAL (
                 SELECT * FROM graph.python_package_version version WHERE version.package_name = wanted.name OFFSET 0) AS version",
            &[&names],
        )
        .await?;
    for row in rows {
        let environment = SolverEnvironment { os_name: row.get(1), os_version: row.get(2), python_version: row.get(3) };
        knowledge.insert_solved_name(row.get(0), environment);
    }
    Ok(())
}

/// Workflows requested and not finished: every one of the whole names (`$1`), those of the
/// (name, version) pairs (`$2`, `$3`), and those naming a package but no version (`$4`).
const PENDING: &str = "SELECT run.kind, run.package_name, run.package_version, run.index_url, run.solver_name
 FROM (SELECT run.* FROM unnest($1::text[]) AS wanted (name)
       CROSS JOIN LATERAL (
           SELECT * FROM graph.workflow_run run WHERE run.package_name = wanted.name AND run.status IN ('requested', 'submitted', 'running') OFFSET 0) AS run
       UNION ALL
       SELECT run.* FROM unnest($2::text[], $3::text[]) AS wanted (name, version)
       CROSS JOIN LATERAL (
           SELECT * FROM graph.workflow_run run
           WHERE run.package_name = wanted.name AND run.package_version = wanted.version
             AND run.status IN ('requested', 'submitted', 'running') OFFSET 0) AS run
       UNION ALL
       SELECT run.* FROM unnest($4::text[]) AS wanted (name)
       CROSS JOIN LATERAL (
           SELECT * FROM graph.workflow_run run
           WHERE run.package_name = wanted.name AND run.package_version IS NULL
             AND run.status IN ('requested', 'submitted', 'running') OFFSET 0) AS run
      ) AS run";

async fn load_pending(
    client: &impl GenericClient,
    knowledge: &mut Knowledge,
    keys: &VersionKeys,
) -> Result<(), tokio_postgres::Error> {
    if keys.is_empty() && keys.names.is_empty() {
        return Ok(());
    }
    let params: [&(dyn ToSql + Sync); 4] = [&keys.whole_names, &keys.pair_names, &keys.pair_versions, &keys.names];
    for row in client.query(PENDING, &params).await? {
        let kind: Option<String> = row.get(0);
        let Some(Ok(kind)) = kind.map(|kind| kind.parse::<WorkflowKind>()) else {
            continue;
        };
        knowledge.insert_pending(PendingWorkflow {
            kind,
            package_name: row.get(1),
            package_version: row.get(2),
            index_url: row.get(3),
            solver_name: row.get(4),
        });
    }
    Ok(())
}
