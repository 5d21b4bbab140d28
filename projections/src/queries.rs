//! Read-only queries over the knowledge graph, for the REST API (Thoth's user-api shapes),
//! and, in [`operations`], over what operators look at. Nothing here writes.

pub mod operations;
pub mod replication;

use deadpool_postgres::GenericClient;

/// A registered or seen package index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    pub url: String,
    /// Its warehouse JSON API, when known.
    pub warehouse_api_url: Option<String>,
    /// Whether TLS certificates are checked.
    pub verify_ssl: bool,
    /// Only releases of known package names are recorded.
    pub only_if_package_seen: bool,
    /// Whether it takes part in learning.
    pub enabled: bool,
}

/// Restricts rows to one environment; each part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentFilter {
    /// `rhel`, `fedora`... (`ubi` is counted as `rhel`, as Thoth does).
    pub os_name: Option<String>,
    /// `8`, `35`...
    pub os_version: Option<String>,
    /// `3.8`...
    pub python_version: Option<String>,
}

impl EnvironmentFilter {
    fn os_name(&self) -> Option<&str> {
        self.os_name.as_deref().map(|name| if name == "ubi" { "rhel" } else { name })
    }
}

/// A version of a package on an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    /// PEP 503 name.
    pub package_name: String,
    pub package_version: String,
    pub index_url: String,
}

/// An environment a version was solved in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EnvironmentRow {
    /// `rhel`...
    pub os_name: String,
    /// `8`...
    pub os_version: String,
    /// `3.8`...
    pub python_version: String,
}

/// A direct dependency of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyRow {
    /// The dependency's name.
    pub name: String,
    /// A version of it that satisfies the specifier.
    pub version: Option<String>,
    /// The extra that brings it in, if any.
    pub extra: Option<String>,
    /// Its environment marker, if any.
    pub environment_marker: Option<String>,
}

/// Every index the graph knows, by URL.
pub async fn indexes(client: &impl GenericClient) -> Result<Vec<IndexRow>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT url, warehouse_api_url, verify_ssl, only_if_package_seen, enabled
             FROM graph.python_package_index ORDER BY url",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| IndexRow {
            url: row.get(0),
            warehouse_api_url: row.get(1),
            verify_ssl: row.get(2),
            only_if_package_seen: row.get(3),
            enabled: row.get(4),
        })
        .collect())
}

/// One page of the names of solved packages (`like` is SQL LIKE, `%` and `_`), and how many
/// names there are in all.
pub async fn package_names(
    client: &impl GenericClient,
    filter: &EnvironmentFilter,
    like: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<String>, i64), tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT package_name, count(*) OVER () FROM (
                 SELECT DISTINCT package_name FROM graph.python_package_version
                 WHERE ($1::text IS NULL OR os_name = $1) AND ($2::text IS NULL OR os_version = $2)
                   AND ($3::text IS NULL OR python_version = $3) AND ($4::text IS NULL OR package_name LIKE $4)
             ) AS names ORDER BY package_name OFFSET $5 LIMIT $6",
            &[&filter.os_name(), &filter.os_version, &filter.python_version, &like, &offset, &limit],
        )
        .await?;
    let total = match rows.first() {
        Some(row) => row.get(1),
        None => count_names(client, filter, like).await?,
    };
    Ok((rows.iter().map(|row| row.get(0)).collect(), total))
}

async fn count_names(
    client: &impl GenericClient,
    filter: &EnvironmentFilter,
    like: Option<&str>,
) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT count(DISTINCT package_name) FROM graph.python_package_version
             WHERE ($1::text IS NULL OR os_name = $1) AND ($2::text IS NULL OR os_version = $2)
               AND ($3::text IS NULL OR python_version = $3) AND ($4::text IS NULL OR package_name LIKE $4)",
            &[&filter.os_name(), &filter.os_version, &filter.python_version, &like],
        )
        .await?;
    Ok(row.get(0))
}

/// The versions of `name` that are not missing, on any index, in any environment matching
/// `filter`.
pub async fn package_versions(
    client: &impl GenericClient,
    name: &str,
    filter: &EnvironmentFilter,
) -> Result<Vec<VersionRow>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT DISTINCT version.package_name, version.package_version, idx.url
             FROM graph.python_package_version version
             JOIN graph.python_package_index idx ON idx.id = version.python_package_index_id
             WHERE version.package_name = $1 AND version.package_version IS NOT NULL AND NOT version.is_missing
               AND ($2::text IS NULL OR version.os_name = $2) AND ($3::text IS NULL OR version.os_version = $3)
               AND ($4::text IS NULL OR version.python_version = $4)",
            &[&name, &filter.os_name(), &filter.os_version, &filter.python_version],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| VersionRow { package_name: row.get(0), package_version: row.get(1), index_url: row.get(2) })
        .collect())
}

/// The environments a version on an index was solved in, sorted.
pub async fn version_environments(
    client: &impl GenericClient,
    name: &str,
    version: &str,
    index_url: &str,
) -> Result<Vec<EnvironmentRow>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT DISTINCT version.os_name, version.os_version, version.python_version
             FROM graph.python_package_version version
             JOIN graph.python_package_index idx ON idx.id = version.python_package_index_id
             WHERE version.package_name = $1 AND version.package_version = $2 AND idx.url = $3
             ORDER BY 1, 2, 3",
            &[&name, &version, &index_url],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| EnvironmentRow { os_name: row.get(0), os_version: row.get(1), python_version: row.get(2) })
        .collect())
}

/// The direct dependencies of a version on an index (in the environments matching `filter`;
/// `marker_evaluation_result` only with a whole environment), or `None` when the graph has
/// no such version.
pub async fn dependencies(
    client: &impl GenericClient,
    name: &str,
    version: &str,
    index_url: &str,
    filter: &EnvironmentFilter,
    marker_evaluation_result: Option<bool>,
) -> Result<Option<Vec<DependencyRow>>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT version.id FROM graph.python_package_version version
             JOIN graph.python_package_index idx ON idx.id = version.python_package_index_id
             WHERE version.package_name = $1 AND version.package_version = $2 AND idx.url = $3
               AND ($4::text IS NULL OR version.os_name = $4) AND ($5::text IS NULL OR version.os_version = $5)
               AND ($6::text IS NULL OR version.python_version = $6)",
            &[&name, &version, &index_url, &filter.os_name(), &filter.os_version, &filter.python_version],
        )
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let ids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
    let rows = client
        .query(
            "SELECT DISTINCT entity.package_name, entity.package_version, edge.extra, edge.marker
             FROM graph.depends_on edge
             JOIN graph.python_package_version_entity entity ON entity.id = edge.entity_id
             WHERE edge.version_id = ANY($1) AND ($2::bool IS NULL OR edge.marker_evaluation_result = $2)
             ORDER BY 1, 2, 3, 4",
            &[&ids, &marker_evaluation_result],
        )
        .await?;
    Ok(Some(
        rows.iter()
            .map(|row| DependencyRow {
                name: row.get(0),
                version: row.get(1),
                extra: row.get(2),
                environment_marker: row.get(3),
            })
            .collect(),
    ))
}

/// The last position of the log applied to the live knowledge graph (0 before any).
/// Answers read after this call reflect at least that position.
pub async fn graph_position(client: &impl GenericClient) -> Result<i64, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT position FROM investigator.projection_checkpoint WHERE projection = $1",
            &[&crate::projector::KNOWLEDGE_GRAPH],
        )
        .await?;
    Ok(row.map_or(0, |row| row.get(0)))
}
