//! Package versions, one per environment (`python_package_version`), and their dependencies
//! (`depends_on`). A solver entry replaces the version's whole dependency list, and only the
//! newest entry (by its datetime, then position) counts.

use chrono::NaiveDateTime;
use serde_json::Value;
use tokio_postgres::Error;
use tokio_postgres::types::{ToSql, Type};

use super::{RowPlan, Writer};

const UPSERT: &str = include_str!("versions/python_package_version.sql");
const DELETE_EDGES: &str = include_str!("versions/depends_on_delete.sql");
const COPY_EDGES: &str = include_str!("versions/depends_on_copy.sql");
const EDGE_TYPES: [Type; 6] = [Type::INT8, Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT, Type::BOOL];

pub(super) async fn write(writer: &mut Writer<'_>, plan: &RowPlan) -> Result<(), Error> {
    if plan.versions.is_empty() {
        return Ok(());
    }
    let rows = &plan.versions;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let entities: Vec<i64> = rows.values().map(|row| row.entity_id).collect();
    let names: Vec<&str> = rows.values().map(|row| row.package_name.as_str()).collect();
    let versions: Vec<Option<&str>> = rows.values().map(|row| row.package_version.as_deref()).collect();
    let indexes: Vec<Option<i64>> = rows.values().map(|row| row.index_id).collect();
    let os_names: Vec<&str> = rows.values().map(|row| row.os_name.as_str()).collect();
    let os_versions: Vec<&str> = rows.values().map(|row| row.os_version.as_str()).collect();
    let pythons: Vec<&str> = rows.values().map(|row| row.python_version.as_str()).collect();
    let entries: Vec<_> = rows.values().map(|row| row.entry.as_ref()).collect();
    let licenses: Vec<Option<i64>> = entries.iter().map(|entry| entry.and_then(|e| e.license_id)).collect();
    let warnings: Vec<Option<bool>> = entries.iter().map(|entry| entry.and_then(|e| e.license_warning)).collect();
    let metadata: Vec<Option<&Value>> = entries.iter().map(|entry| entry.and_then(|e| e.metadata.as_ref())).collect();
    let solver_entries: Vec<Option<&Value>> = entries.iter().map(|entry| entry.map(|e| &e.solver_entry)).collect();
    let datetimes: Vec<Option<NaiveDateTime>> = entries.iter().map(|entry| entry.map(|e| e.datetime)).collect();
    let positions: Vec<i64> = entries.iter().map(|entry| entry.map_or(0, |e| e.position)).collect();
    let written = writer
        .query(
            UPSERT,
            &[
                &ids,
                &entities,
                &names,
                &versions,
                &indexes,
                &os_names,
                &os_versions,
                &pythons,
                &licenses,
                &warnings,
                &metadata,
                &solver_entries,
                &datetimes,
                &positions,
            ],
        )
        .await?;

    // The versions whose entry this batch set: their dependencies are replaced.
    let mut replaced: Vec<i64> = written
        .iter()
        .map(|row| row.get::<_, i64>(0))
        .filter(|id| rows.get(id).is_some_and(|row| row.entry.is_some()))
        .collect();
    if replaced.is_empty() {
        return Ok(());
    }
    replaced.sort_unstable();
    writer.run(DELETE_EDGES, &[&replaced]).await?;
    // The batch's edges are distinct and the versions' old edges are gone: nothing can
    // conflict, so they go in with COPY.
    let entry = |version_id: &i64| rows.get(version_id).and_then(|row| row.entry.as_ref());
    let mut edges: Vec<[&(dyn ToSql + Sync); 6]> = Vec::new();
    for version_id in &replaced {
        let Some(entry) = entry(version_id) else {
            continue;
        };
        for edge in &entry.edges {
            edges.push([
                version_id,
                &edge.entity_id,
                &edge.version_range,
                &edge.marker,
                &edge.extra,
                &edge.marker_evaluation_result,
            ]);
        }
    }
    if edges.is_empty() {
        return Ok(());
    }
    writer.copy_in(COPY_EDGES, &EDGE_TYPES, &edges).await
}
