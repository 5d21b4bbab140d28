//! The I/O half of the projector: one set-based statement per table for a whole plan.
//!
//! Statements run in an order that respects foreign keys (indexes, entities, solvers and
//! licences before versions; versions before what hangs on them) and end with the derived
//! flags. Each upsert compares the stored *_position guards with the batch's, which is what
//! makes applying a batch twice harmless.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDateTime, Utc};
use deadpool_postgres::Transaction;
use serde_json::Value;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::plan::Plan;

/// How many rows each table received (inserted or changed).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Rows inserted or updated, all tables together.
    pub rows: u64,
}

async fn run(
    transaction: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    let statement = transaction.prepare(sql).await?;
    stats.rows += transaction.execute(&statement, params).await?;
    Ok(())
}

/// Writes `plan` in the current transaction, into the schema on its `search_path`.
pub(crate) async fn write(transaction: &Transaction<'_>, plan: &Plan) -> Result<WriteStats, tokio_postgres::Error> {
    let graph = write_packages(transaction, plan).await?;
    let runs = write_runs(transaction, plan).await?;
    Ok(WriteStats { rows: graph.rows + runs.rows })
}

/// The package tables: indexes, entities, solvers, versions with their dependencies, and the
/// derived flags (which read only these tables).
pub(crate) async fn write_packages(
    transaction: &Transaction<'_>,
    plan: &Plan,
) -> Result<WriteStats, tokio_postgres::Error> {
    let mut stats = WriteStats::default();
    indexes(transaction, plan, &mut stats).await?;
    entities(transaction, plan, &mut stats).await?;
    missing_packages(transaction, plan, &mut stats).await?;
    solvers_and_licenses(transaction, plan, &mut stats).await?;
    versions_and_dependencies(transaction, plan, &mut stats).await?;
    flags(transaction, plan, &mut stats).await?;
    Ok(stats)
}

/// Everything else: solver runs, artifacts, imports, security, workflows, dead letters,
/// advisers. No table here is written by [`write_packages`], so with foreign keys deferred
/// (a rebuild) the two can run at the same time on two connections.
pub(crate) async fn write_runs(
    transaction: &Transaction<'_>,
    plan: &Plan,
) -> Result<WriteStats, tokio_postgres::Error> {
    let mut stats = WriteStats::default();
    solver_runs(transaction, plan, &mut stats).await?;
    artifacts_and_imports(transaction, plan, &mut stats).await?;
    security(transaction, plan, &mut stats).await?;
    workflows(transaction, plan, &mut stats).await?;
    dead_letters(transaction, plan, &mut stats).await?;
    dead_letter_statuses(transaction, plan, &mut stats).await?;
    advisers(transaction, plan, &mut stats).await?;
    learning(transaction, plan, &mut stats).await?;
    offset_resets(transaction, plan, &mut stats).await?;
    Ok(stats)
}

/// Consumer offset resets, one row per event.
async fn offset_resets(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO consumer_offset_reset (position, consumer_group, topic, partition, \
        stored_offset, low_watermark, high_watermark, policy, reset_to, reset_at) \
        SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int4[], $5::int8[], $6::int8[], $7::int8[], \
        $8::text[], $9::int8[], $10::timestamptz[]) \
        ON CONFLICT (position) DO NOTHING";
    if plan.offset_resets.is_empty() {
        return Ok(());
    }
    let rows = &plan.offset_resets;
    let positions: Vec<i64> = rows.keys().copied().collect();
    let groups: Vec<&str> = rows.values().map(|(reset, _)| reset.consumer_group.as_str()).collect();
    let topics: Vec<&str> = rows.values().map(|(reset, _)| reset.topic.as_str()).collect();
    let partitions: Vec<i32> = rows.values().map(|(reset, _)| reset.partition).collect();
    let stored: Vec<Option<i64>> = rows.values().map(|(reset, _)| reset.stored_offset).collect();
    let lows: Vec<Option<i64>> = rows.values().map(|(reset, _)| reset.low_watermark).collect();
    let highs: Vec<Option<i64>> = rows.values().map(|(reset, _)| reset.high_watermark).collect();
    let policies: Vec<&str> = rows.values().map(|(reset, _)| reset.policy.as_str()).collect();
    let targets: Vec<i64> = rows.values().map(|(reset, _)| reset.reset_to).collect();
    let at: Vec<DateTime<Utc>> = rows.values().map(|(_, at)| *at).collect();
    run(
        transaction,
        SQL,
        &[&positions, &groups, &topics, &partitions, &stored, &lows, &highs, &policies, &targets, &at],
        stats,
    )
    .await
}

async fn indexes(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO python_package_index AS t (id, url, warehouse_api_url, verify_ssl, \
        only_if_package_seen, registered_position, enabled, enabled_position, updated_at) \
        SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::int8[], $7::bool[], \
        $8::int8[], $9::timestamptz[]) \
        ON CONFLICT (url) DO UPDATE SET \
        warehouse_api_url = CASE WHEN EXCLUDED.registered_position > t.registered_position \
            THEN EXCLUDED.warehouse_api_url ELSE t.warehouse_api_url END, \
        verify_ssl = CASE WHEN EXCLUDED.registered_position > t.registered_position \
            THEN EXCLUDED.verify_ssl ELSE t.verify_ssl END, \
        only_if_package_seen = CASE WHEN EXCLUDED.registered_position > t.registered_position \
            THEN EXCLUDED.only_if_package_seen ELSE t.only_if_package_seen END, \
        registered_position = GREATEST(t.registered_position, EXCLUDED.registered_position), \
        enabled = CASE WHEN EXCLUDED.enabled_position > t.enabled_position THEN EXCLUDED.enabled ELSE t.enabled END, \
        enabled_position = GREATEST(t.enabled_position, EXCLUDED.enabled_position), \
        updated_at = COALESCE(EXCLUDED.updated_at, t.updated_at) \
        WHERE EXCLUDED.registered_position > t.registered_position OR EXCLUDED.enabled_position > t.enabled_position";
    if plan.indexes.is_empty() {
        return Ok(());
    }
    let rows = &plan.indexes;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let urls: Vec<&str> = rows.values().map(|row| row.url.as_str()).collect();
    let registration = |row: &super::plan::IndexRow| row.registration.clone();
    let warehouses: Vec<Option<String>> =
        rows.values().map(|row| registration(row).and_then(|r| r.warehouse_api_url)).collect();
    let verify: Vec<bool> = rows.values().map(|row| registration(row).is_none_or(|r| r.verify_ssl)).collect();
    let only_if_seen: Vec<bool> =
        rows.values().map(|row| registration(row).is_none_or(|r| r.only_if_package_seen)).collect();
    let registered: Vec<i64> = rows.values().map(|row| registration(row).map_or(0, |r| r.position)).collect();
    let enabled: Vec<bool> = rows.values().map(|row| row.enabled.is_some_and(|(value, _)| value)).collect();
    let enabled_at: Vec<i64> = rows.values().map(|row| row.enabled.map_or(0, |(_, position)| position)).collect();
    let updated: Vec<Option<DateTime<Utc>>> = rows.values().map(|row| row.updated.map(|(_, at)| at)).collect();
    run(
        transaction,
        SQL,
        &[&ids, &urls, &warehouses, &verify, &only_if_seen, &registered, &enabled, &enabled_at, &updated],
        stats,
    )
    .await
}

async fn entities(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO python_package_version_entity AS t (id, package_name, package_version, \
        python_package_index_id, first_seen_at, missing_position, present_position, provides_source_distro, \
        source_distro_position) \
        SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::timestamptz[], $6::int8[], \
        $7::int8[], $8::bool[], $9::int8[]) \
        ON CONFLICT (package_name, package_version, python_package_index_id) DO UPDATE SET \
        missing_position = GREATEST(t.missing_position, EXCLUDED.missing_position), \
        present_position = GREATEST(t.present_position, EXCLUDED.present_position), \
        provides_source_distro = CASE WHEN EXCLUDED.source_distro_position > t.source_distro_position \
            THEN EXCLUDED.provides_source_distro ELSE t.provides_source_distro END, \
        source_distro_position = GREATEST(t.source_distro_position, EXCLUDED.source_distro_position) \
        WHERE EXCLUDED.missing_position > t.missing_position OR EXCLUDED.present_position > t.present_position \
        OR EXCLUDED.source_distro_position > t.source_distro_position";
    if plan.entities.is_empty() {
        return Ok(());
    }
    let rows = &plan.entities;
    let ids: Vec<i64> = rows.keys().copied().collect();
    let names: Vec<&str> = rows.values().map(|row| row.package_name.as_str()).collect();
    let versions: Vec<Option<&str>> = rows.values().map(|row| row.package_version.as_deref()).collect();
    let indexes: Vec<Option<i64>> = rows.values().map(|row| row.index_id).collect();
    let first_seen: Vec<DateTime<Utc>> = rows.values().map(|row| row.first_seen_at).collect();
    let missing: Vec<i64> = rows.values().map(|row| row.missing_position).collect();
    let present: Vec<i64> = rows.values().map(|row| row.present_position).collect();
    let source_distro: Vec<bool> = rows.values().map(|row| row.source_distro.is_none_or(|(value, _)| value)).collect();
    let source_distro_at: Vec<i64> = rows.values().map(|row| row.source_distro.map_or(0, |(_, p)| p)).collect();
    run(
        transaction,
        SQL,
        &[&ids, &names, &versions, &indexes, &first_seen, &missing, &present, &source_distro, &source_distro_at],
        stats,
    )
    .await
}

async fn missing_packages(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO python_package_missing AS t (package_name, python_package_index_id, \
        missing_position, marked_at) SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::timestamptz[]) \
        ON CONFLICT (package_name, python_package_index_id) DO UPDATE SET \
        missing_position = EXCLUDED.missing_position, marked_at = EXCLUDED.marked_at \
        WHERE EXCLUDED.missing_position > t.missing_position";
    if plan.missing_packages.is_empty() {
        return Ok(());
    }
    let rows = &plan.missing_packages;
    let names: Vec<&str> = rows.keys().map(|(name, _)| name.as_str()).collect();
    let indexes: Vec<i64> = rows.keys().map(|(_, index)| *index).collect();
    let positions: Vec<i64> = rows.values().map(|row| row.position).collect();
    let marked_at: Vec<DateTime<Utc>> = rows.values().map(|row| row.marked_at).collect();
    run(transaction, SQL, &[&names, &indexes, &positions, &marked_at], stats).await
}

async fn solvers_and_licenses(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const SOLVERS: &str = "INSERT INTO ecosystem_solver (id, solver_name, solver_version, os_name, os_version, \
        python_version) SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
        ON CONFLICT (ecosystem, solver_name, solver_version, os_name, os_version, python_version) DO NOTHING";
    const LICENSES: &str = "INSERT INTO python_package_license (id, license_name, license_identifier, \
        license_version) SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[]) \
        ON CONFLICT (license_name, license_identifier, license_version) DO NOTHING";
    if !plan.solvers.is_empty() {
        let rows = &plan.solvers;
        let ids: Vec<i64> = rows.keys().copied().collect();
        let names: Vec<&str> = rows.values().map(|row| row.solver_name.as_str()).collect();
        let versions: Vec<&str> = rows.values().map(|row| row.solver_version.as_str()).collect();
        let os_names: Vec<&str> = rows.values().map(|row| row.os_name.as_str()).collect();
        let os_versions: Vec<&str> = rows.values().map(|row| row.os_version.as_str()).collect();
        let pythons: Vec<&str> = rows.values().map(|row| row.python_version.as_str()).collect();
        run(transaction, SOLVERS, &[&ids, &names, &versions, &os_names, &os_versions, &pythons], stats).await?;
    }
    if !plan.licenses.is_empty() {
        let rows = &plan.licenses;
        let ids: Vec<i64> = rows.keys().copied().collect();
        let names: Vec<&str> = rows.values().map(|row| row.name.as_str()).collect();
        let identifiers: Vec<&str> = rows.values().map(|row| row.identifier.as_str()).collect();
        let versions: Vec<&str> = rows.values().map(|row| row.version.as_str()).collect();
        run(transaction, LICENSES, &[&ids, &names, &identifiers, &versions], stats).await?;
    }
    Ok(())
}

async fn versions_and_dependencies(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const VERSIONS: &str = "INSERT INTO python_package_version AS t (id, entity_id, package_name, package_version, \
        python_package_index_id, os_name, os_version, python_version, package_license, package_license_warning, \
        metadata, solver_entry, entry_datetime, entry_position) \
        SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::text[], \
        $8::text[], $9::int8[], $10::bool[], $11::jsonb[], $12::jsonb[], $13::timestamp[], $14::int8[]) \
        ON CONFLICT (package_name, package_version, python_package_index_id, os_name, os_version, python_version) \
        DO UPDATE SET package_license = EXCLUDED.package_license, \
        package_license_warning = EXCLUDED.package_license_warning, metadata = EXCLUDED.metadata, \
        solver_entry = EXCLUDED.solver_entry, entry_datetime = EXCLUDED.entry_datetime, \
        entry_position = EXCLUDED.entry_position \
        WHERE EXCLUDED.entry_position > 0 AND (t.entry_position = 0 \
            OR (EXCLUDED.entry_datetime, EXCLUDED.entry_position) > (t.entry_datetime, t.entry_position)) \
        RETURNING id";
    const DELETE_EDGES: &str = "DELETE FROM depends_on WHERE version_id = ANY($1)";
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
    let statement = transaction.prepare(VERSIONS).await?;
    let written = transaction
        .query(
            &statement,
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
    stats.rows += written.len() as u64;

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
    run(transaction, DELETE_EDGES, &[&replaced], stats).await?;
    // The batch's edges are distinct and the versions' old edges are gone: nothing can
    // conflict, so they go in with COPY.
    const COPY_EDGES: &str = "COPY depends_on (version_id, entity_id, version_range, marker, extra, \
        marker_evaluation_result) FROM STDIN BINARY";
    const TYPES: [Type; 6] = [Type::INT8, Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT, Type::BOOL];
    let entry = |version_id: &i64| rows.get(version_id).and_then(|row| row.entry.as_ref());
    if replaced.iter().filter_map(entry).all(|entry| entry.edges.is_empty()) {
        return Ok(());
    }
    let sink = transaction.copy_in(COPY_EDGES).await?;
    let writer = BinaryCopyInWriter::new(sink, &TYPES);
    futures_util::pin_mut!(writer);
    for version_id in &replaced {
        let Some(entry) = entry(version_id) else {
            continue;
        };
        for edge in &entry.edges {
            let row: [&(dyn ToSql + Sync); 6] = [
                version_id,
                &edge.entity_id,
                &edge.version_range,
                &edge.marker,
                &edge.extra,
                &edge.marker_evaluation_result,
            ];
            writer.as_mut().write(&row).await?;
        }
    }
    stats.rows += writer.finish().await?;
    Ok(())
}

async fn solver_runs(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const SOLVED: &str = "INSERT INTO solved AS t (ecosystem_solver_id, version_id, document_id, datetime, duration, \
        error, error_unparseable, error_unsolvable, is_provided, position) \
        SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::timestamp[], $5::int4[], $6::bool[], \
        $7::bool[], $8::bool[], $9::bool[], $10::int8[]) \
        ON CONFLICT (ecosystem_solver_id, version_id) DO UPDATE SET document_id = EXCLUDED.document_id, \
        datetime = EXCLUDED.datetime, duration = EXCLUDED.duration, error = EXCLUDED.error, \
        error_unparseable = EXCLUDED.error_unparseable, error_unsolvable = EXCLUDED.error_unsolvable, \
        is_provided = EXCLUDED.is_provided, position = EXCLUDED.position \
        WHERE (EXCLUDED.datetime, EXCLUDED.position) > (t.datetime, t.position)";
    const RUNS: &str = "INSERT INTO solver_run (document_id, version_id, ecosystem_solver_id, datetime, duration, \
        error, error_unparseable, error_unsolvable, is_provided) \
        SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::timestamp[], $5::int4[], $6::bool[], \
        $7::bool[], $8::bool[], $9::bool[]) ON CONFLICT (document_id, version_id) DO NOTHING";
    const UNPROVIDED: &str = "INSERT INTO solver_error_unprovided (document_id, ecosystem_solver_id, package_name, \
        package_version, index_url, details) \
        SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::jsonb[]) \
        ON CONFLICT (document_id, package_name, package_version, index_url) DO NOTHING";
    if !plan.solved.is_empty() {
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
        run(
            transaction,
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
            stats,
        )
        .await?;
    }
    if !plan.solver_runs.is_empty() {
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
        run(
            transaction,
            RUNS,
            &[&documents, &versions, &solvers, &datetimes, &durations, &errors, &unparseable, &unsolvable, &provided],
            stats,
        )
        .await?;
    }
    if !plan.unprovided.is_empty() {
        let rows = &plan.unprovided;
        let documents: Vec<&str> = rows.keys().map(|key| key.document_id.as_str()).collect();
        let solvers: Vec<i64> = rows.values().map(|row| row.solver_id).collect();
        let names: Vec<&str> = rows.keys().map(|key| key.package_name.as_str()).collect();
        let versions: Vec<Option<&str>> = rows.keys().map(|key| key.package_version.as_deref()).collect();
        let indexes: Vec<Option<&str>> = rows.keys().map(|key| key.index_url.as_deref()).collect();
        let details: Vec<&Value> = rows.values().map(|row| &row.details).collect();
        run(transaction, UNPROVIDED, &[&documents, &solvers, &names, &versions, &indexes, &details], stats).await?;
    }
    Ok(())
}

async fn artifacts_and_imports(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const ARTIFACTS: &str = "INSERT INTO python_artifact AS t (id, artifact_hash_sha256, seen_position, \
        absent_position) SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[], $4::int8[]) \
        ON CONFLICT (artifact_hash_sha256) DO UPDATE SET \
        seen_position = GREATEST(t.seen_position, EXCLUDED.seen_position), \
        absent_position = GREATEST(t.absent_position, EXCLUDED.absent_position) \
        WHERE EXCLUDED.seen_position > t.seen_position OR EXCLUDED.absent_position > t.absent_position";
    const HAS_ARTIFACT: &str = "INSERT INTO has_artifact (python_package_version_entity_id, python_artifact_id) \
        SELECT * FROM unnest($1::int8[], $2::int8[]) ON CONFLICT DO NOTHING";
    const IMPORTS: &str = "INSERT INTO import_package (id, import_package_name) \
        SELECT * FROM unnest($1::int8[], $2::text[]) ON CONFLICT (import_package_name) DO NOTHING";
    const FOUND_IMPORTS: &str = "INSERT INTO found_import_package (python_package_version_id, import_package_id) \
        SELECT * FROM unnest($1::int8[], $2::int8[]) ON CONFLICT DO NOTHING";
    if !plan.artifacts.is_empty() {
        let rows = &plan.artifacts;
        let ids: Vec<i64> = rows.keys().copied().collect();
        let hashes: Vec<&str> = rows.values().map(|row| row.sha256.as_str()).collect();
        let seen: Vec<i64> = rows.values().map(|row| row.seen_position).collect();
        let absent: Vec<i64> = rows.values().map(|row| row.absent_position).collect();
        run(transaction, ARTIFACTS, &[&ids, &hashes, &seen, &absent], stats).await?;
        pairs(transaction, HAS_ARTIFACT, &plan.has_artifact, stats).await?;
    }
    if !plan.imports.is_empty() {
        let ids: Vec<i64> = plan.imports.keys().copied().collect();
        let names: Vec<&str> = plan.imports.values().map(String::as_str).collect();
        run(transaction, IMPORTS, &[&ids, &names], stats).await?;
        pairs(transaction, FOUND_IMPORTS, &plan.found_imports, stats).await?;
    }
    Ok(())
}

/// A link table: pairs of ids.
async fn pairs(
    transaction: &Transaction<'_>,
    sql: &str,
    pairs: &std::collections::BTreeSet<(i64, i64)>,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    if pairs.is_empty() {
        return Ok(());
    }
    let left: Vec<i64> = pairs.iter().map(|(left, _)| *left).collect();
    let right: Vec<i64> = pairs.iter().map(|(_, right)| *right).collect();
    run(transaction, sql, &[&left, &right], stats).await
}

const SI_COUNTERS: [&str; 25] = [
    "severity_high_confidence_high",
    "severity_high_confidence_low",
    "severity_high_confidence_medium",
    "severity_high_confidence_undefined",
    "severity_low_confidence_high",
    "severity_low_confidence_low",
    "severity_low_confidence_medium",
    "severity_low_confidence_undefined",
    "severity_medium_confidence_high",
    "severity_medium_confidence_low",
    "severity_medium_confidence_medium",
    "severity_medium_confidence_undefined",
    "number_of_analyzed_files",
    "number_of_files_total",
    "number_of_files_with_severities",
    "number_of_filtered_files",
    "number_of_python_files",
    "number_of_lines_with_comments_in_python_files",
    "number_of_blank_lines_in_python_files",
    "number_of_lines_with_code_in_python_files",
    "total_number_of_files",
    "total_number_of_lines",
    "total_number_of_lines_with_comments",
    "total_number_of_blank_lines",
    "total_number_of_lines_with_code",
];

/// The counters travel as one two-dimensional int4 array, a row per run.
static SI_RUNS: LazyLock<String> = LazyLock::new(|| {
    let columns = SI_COUNTERS.join(", ");
    let values: Vec<String> = (1..=SI_COUNTERS.len()).map(|i| format!("($5::int4[])[r.n][{i}]")).collect();
    format!(
        "INSERT INTO si_aggregated_run (id, si_aggregated_run_document_id, datetime, error, {columns}) \
         SELECT r.id, r.document_id, r.datetime, r.error, {values} \
         FROM unnest($1::int8[], $2::text[], $3::timestamp[], $4::bool[]) WITH ORDINALITY \
             AS r (id, document_id, datetime, error, n) \
         ON CONFLICT (si_aggregated_run_document_id) DO NOTHING",
        values = values.join(", "),
    )
});

async fn security(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const CVES: &str = "INSERT INTO cve AS t (id, cve_id, details, link, aggregated_at, updated_position) \
        SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::timestamp[], $6::int8[]) \
        ON CONFLICT (cve_id) DO UPDATE SET details = EXCLUDED.details, link = EXCLUDED.link, \
        updated_position = EXCLUDED.updated_position WHERE EXCLUDED.updated_position > t.updated_position";
    const VULNERABILITIES: &str = "INSERT INTO has_vulnerability (python_package_version_entity_id, cve_id) \
        SELECT * FROM unnest($1::int8[], $2::int8[]) ON CONFLICT DO NOTHING";
    const CVE_TIMESTAMP: &str = "INSERT INTO cve_timestamp AS t (id, timestamp) VALUES (1, $1) \
        ON CONFLICT (id) DO UPDATE SET timestamp = GREATEST(t.timestamp, EXCLUDED.timestamp)";
    const SI_LINKS: &str = "INSERT INTO si_aggregated (si_aggregated_run_id, python_package_version_entity_id) \
        SELECT * FROM unnest($1::int8[], $2::int8[]) ON CONFLICT DO NOTHING";
    if !plan.cves.is_empty() {
        let rows = &plan.cves;
        let ids: Vec<i64> = rows.keys().copied().collect();
        let cve_ids: Vec<&str> = rows.values().map(|row| row.cve_id.as_str()).collect();
        let details: Vec<&str> = rows.values().map(|row| row.details.as_str()).collect();
        let links: Vec<Option<&str>> = rows.values().map(|row| row.link.as_deref()).collect();
        let first: Vec<NaiveDateTime> = rows.values().map(|row| row.first_at).collect();
        let positions: Vec<i64> = rows.values().map(|row| row.position).collect();
        run(transaction, CVES, &[&ids, &cve_ids, &details, &links, &first, &positions], stats).await?;
        pairs(transaction, VULNERABILITIES, &plan.vulnerabilities, stats).await?;
    }
    if let Some(timestamp) = &plan.cve_timestamp {
        run(transaction, CVE_TIMESTAMP, &[timestamp], stats).await?;
    }
    if !plan.si_runs.is_empty() {
        let rows = &plan.si_runs;
        let ids: Vec<i64> = rows.keys().copied().collect();
        let documents: Vec<&str> = rows.values().map(|row| row.document_id.as_str()).collect();
        let datetimes: Vec<NaiveDateTime> = rows.values().map(|row| row.datetime).collect();
        let errors: Vec<bool> = rows.values().map(|row| row.error).collect();
        let counters: Vec<i32> = rows.values().flat_map(|row| row.counters).collect();
        let counters = Matrix { values: counters, columns: SI_COUNTERS.len() };
        run(transaction, &SI_RUNS, &[&ids, &documents, &datetimes, &errors, &counters], stats).await?;
        pairs(transaction, SI_LINKS, &plan.si_links, stats).await?;
    }
    Ok(())
}

async fn workflows(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO workflow_run AS t (workflow_id, kind, namespace, status, package_name, \
        package_version, index_url, solver_name, trigger, parameters, requested_at, submitted_at, started_at, \
        finished_at, phase, message, status_rank, status_position) \
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
        $8::text[], $9::text[], $10::jsonb[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], \
        $14::timestamptz[], $15::text[], $16::text[], $17::int2[], $18::int8[]) \
        ON CONFLICT (workflow_id) DO UPDATE SET \
        kind = COALESCE(t.kind, EXCLUDED.kind), namespace = COALESCE(t.namespace, EXCLUDED.namespace), \
        package_name = COALESCE(t.package_name, EXCLUDED.package_name), \
        package_version = COALESCE(t.package_version, EXCLUDED.package_version), \
        index_url = COALESCE(t.index_url, EXCLUDED.index_url), \
        solver_name = COALESCE(t.solver_name, EXCLUDED.solver_name), \
        trigger = COALESCE(t.trigger, EXCLUDED.trigger), parameters = COALESCE(t.parameters, EXCLUDED.parameters), \
        requested_at = COALESCE(t.requested_at, EXCLUDED.requested_at), \
        submitted_at = COALESCE(t.submitted_at, EXCLUDED.submitted_at), \
        started_at = COALESCE(t.started_at, EXCLUDED.started_at), \
        status = CASE WHEN (EXCLUDED.status_rank, EXCLUDED.status_position) > (t.status_rank, t.status_position) \
            THEN EXCLUDED.status ELSE t.status END, \
        finished_at = CASE WHEN (EXCLUDED.status_rank, EXCLUDED.status_position) > (t.status_rank, t.status_position) \
            THEN EXCLUDED.finished_at ELSE t.finished_at END, \
        phase = CASE WHEN (EXCLUDED.status_rank, EXCLUDED.status_position) > (t.status_rank, t.status_position) \
            THEN EXCLUDED.phase ELSE t.phase END, \
        message = CASE WHEN (EXCLUDED.status_rank, EXCLUDED.status_position) > (t.status_rank, t.status_position) \
            THEN EXCLUDED.message ELSE t.message END, \
        status_rank = GREATEST(t.status_rank, EXCLUDED.status_rank), \
        status_position = CASE WHEN (EXCLUDED.status_rank, EXCLUDED.status_position) > (t.status_rank, t.status_position) \
            THEN EXCLUDED.status_position ELSE t.status_position END";
    if plan.workflows.is_empty() {
        return Ok(());
    }
    let rows = &plan.workflows;
    let ids: Vec<&str> = rows.keys().map(String::as_str).collect();
    let text = |field: fn(&super::plan::WorkflowRow) -> Option<&str>| -> Vec<Option<&str>> {
        rows.values().map(field).collect()
    };
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
    run(
        transaction,
        SQL,
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
        stats,
    )
    .await
}

async fn dead_letters(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "INSERT INTO dead_letter AS t (topic, partition, \"offset\", reason_code, reason, attempts, key, \
        payload, dead_lettered_at, position) \
        SELECT * FROM unnest($1::text[], $2::int4[], $3::int8[], $4::text[], $5::text[], $6::int4[], $7::jsonb[], \
        $8::jsonb[], $9::timestamptz[], $10::int8[]) \
        ON CONFLICT (topic, partition, \"offset\") DO UPDATE SET reason_code = EXCLUDED.reason_code, \
        reason = EXCLUDED.reason, attempts = EXCLUDED.attempts, key = EXCLUDED.key, payload = EXCLUDED.payload, \
        dead_lettered_at = EXCLUDED.dead_lettered_at, position = EXCLUDED.position, status = 'parked' \
        WHERE EXCLUDED.position > t.position";
    if plan.dead_letters.is_empty() {
        return Ok(());
    }
    let rows = &plan.dead_letters;
    let topics: Vec<&str> = rows.keys().map(|(topic, _, _)| topic.as_str()).collect();
    let partitions: Vec<i32> = rows.keys().map(|(_, partition, _)| *partition).collect();
    let offsets: Vec<i64> = rows.keys().map(|(_, _, offset)| *offset).collect();
    let codes: Vec<&str> = rows.values().map(|row| row.reason_code.as_str()).collect();
    let reasons: Vec<&str> = rows.values().map(|row| row.reason.as_str()).collect();
    let attempts: Vec<i32> = rows.values().map(|row| row.attempts).collect();
    let keys: Vec<Option<&Value>> = rows.values().map(|row| row.key.as_ref()).collect();
    let payloads: Vec<&Value> = rows.values().map(|row| &row.payload).collect();
    let at: Vec<DateTime<Utc>> = rows.values().map(|row| row.at).collect();
    let positions: Vec<i64> = rows.values().map(|row| row.position).collect();
    run(
        transaction,
        SQL,
        &[&topics, &partitions, &offsets, &codes, &reasons, &attempts, &keys, &payloads, &at, &positions],
        stats,
    )
    .await
}

/// The learning drivers' findings (latest attempt wins) and throttle states.
async fn learning(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const FINDINGS: &str = "INSERT INTO learning_message AS t (finding, driver, topic, reason, attempt, \
        first_queued_at, queued_at, position) \
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::timestamptz[], \
        $7::timestamptz[], $8::int8[]) \
        ON CONFLICT (finding) DO UPDATE SET driver = EXCLUDED.driver, topic = EXCLUDED.topic, \
        reason = EXCLUDED.reason, attempt = EXCLUDED.attempt, queued_at = EXCLUDED.queued_at, \
        position = EXCLUDED.position WHERE EXCLUDED.position > t.position";
    const THROTTLES: &str = "INSERT INTO learning_driver AS t (driver, throttled, lag, pending_workflows, max_lag, \
        max_pending_workflows, changed_at, position) \
        SELECT * FROM unnest($1::text[], $2::bool[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], \
        $7::timestamptz[], $8::int8[]) \
        ON CONFLICT (driver) DO UPDATE SET throttled = EXCLUDED.throttled, lag = EXCLUDED.lag, \
        pending_workflows = EXCLUDED.pending_workflows, max_lag = EXCLUDED.max_lag, \
        max_pending_workflows = EXCLUDED.max_pending_workflows, changed_at = EXCLUDED.changed_at, \
        position = EXCLUDED.position WHERE EXCLUDED.position > t.position";
    if !plan.learning.is_empty() {
        let rows = &plan.learning;
        let findings: Vec<&str> = rows.keys().map(String::as_str).collect();
        let drivers: Vec<&str> = rows.values().map(|row| row.driver.as_str()).collect();
        let topics: Vec<&str> = rows.values().map(|row| row.topic.as_str()).collect();
        let reasons: Vec<&str> = rows.values().map(|row| row.reason.as_str()).collect();
        let attempts: Vec<i32> = rows.values().map(|row| row.attempt).collect();
        let first_at: Vec<DateTime<Utc>> = rows.values().map(|row| row.first_at).collect();
        let at: Vec<DateTime<Utc>> = rows.values().map(|row| row.at).collect();
        let positions: Vec<i64> = rows.values().map(|row| row.position).collect();
        run(
            transaction,
            FINDINGS,
            &[&findings, &drivers, &topics, &reasons, &attempts, &first_at, &at, &positions],
            stats,
        )
        .await?;
    }
    if !plan.throttles.is_empty() {
        let rows = &plan.throttles;
        let drivers: Vec<&str> = rows.keys().map(String::as_str).collect();
        let throttled: Vec<bool> = rows.values().map(|(event, _, _)| event.throttled).collect();
        let lags: Vec<i64> = rows.values().map(|(event, _, _)| event.lag).collect();
        let pending: Vec<i64> = rows.values().map(|(event, _, _)| event.pending_workflows).collect();
        let max_lags: Vec<i64> = rows.values().map(|(event, _, _)| event.max_lag).collect();
        let max_pending: Vec<i64> = rows.values().map(|(event, _, _)| event.max_pending_workflows).collect();
        let at: Vec<DateTime<Utc>> = rows.values().map(|(_, _, at)| *at).collect();
        let positions: Vec<i64> = rows.values().map(|(_, position, _)| *position).collect();
        run(
            transaction,
            THROTTLES,
            &[&drivers, &throttled, &lags, &pending, &max_lags, &max_pending, &at, &positions],
            stats,
        )
        .await?;
    }
    Ok(())
}

/// Re-drives and discards: they apply to the dead-lettering they follow, never to a later one.
async fn dead_letter_statuses(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "UPDATE dead_letter AS t SET status = s.status, status_position = s.position         FROM unnest($1::text[], $2::int4[], $3::int8[], $4::text[], $5::int8[])             AS s (topic, partition, \"offset\", status, position)         WHERE t.topic = s.topic AND t.partition = s.partition AND t.\"offset\" = s.\"offset\"           AND s.position > t.position AND s.position > t.status_position";
    if plan.dead_letter_statuses.is_empty() {
        return Ok(());
    }
    let rows = &plan.dead_letter_statuses;
    let topics: Vec<&str> = rows.keys().map(|(topic, _, _)| topic.as_str()).collect();
    let partitions: Vec<i32> = rows.keys().map(|(_, partition, _)| *partition).collect();
    let offsets: Vec<i64> = rows.keys().map(|(_, _, offset)| *offset).collect();
    let statuses: Vec<&str> = rows.values().map(|(status, _)| *status).collect();
    let positions: Vec<i64> = rows.values().map(|(_, position)| *position).collect();
    run(transaction, SQL, &[&topics, &partitions, &offsets, &statuses, &positions], stats).await
}

async fn advisers(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const RUNS: &str = "INSERT INTO adviser_run AS t (id, adviser_document_id, datetime, adviser_version, \
        adviser_name, source_type, origin, recommendation_type, re_run_adviser_id, adviser_error, error_msg, \
        need_re_run, parameters, runtime_environment, recorded_position) \
        SELECT * FROM unnest($1::int8[], $2::text[], $3::timestamp[], $4::text[], $5::text[], $6::text[], \
        $7::text[], $8::text[], $9::text[], $10::bool[], $11::text[], $12::bool[], $13::jsonb[], $14::jsonb[], \
        $15::int8[]) \
        ON CONFLICT (adviser_document_id) DO UPDATE SET datetime = EXCLUDED.datetime, \
        adviser_version = EXCLUDED.adviser_version, adviser_name = EXCLUDED.adviser_name, \
        source_type = EXCLUDED.source_type, origin = EXCLUDED.origin, \
        recommendation_type = EXCLUDED.recommendation_type, re_run_adviser_id = EXCLUDED.re_run_adviser_id, \
        adviser_error = EXCLUDED.adviser_error, error_msg = EXCLUDED.error_msg, need_re_run = EXCLUDED.need_re_run, \
        parameters = EXCLUDED.parameters, runtime_environment = EXCLUDED.runtime_environment, \
        recorded_position = EXCLUDED.recorded_position WHERE EXCLUDED.recorded_position > t.recorded_position";
    const UNRESOLVED: &str = "INSERT INTO has_unresolved (adviser_run_id, python_package_version_entity_id) \
        SELECT * FROM unnest($1::int8[], $2::int8[]) ON CONFLICT DO NOTHING";
    const PARKED: &str = "INSERT INTO parked_adviser AS t (adviser_document_id, unresolved, solver_name, parked_at, \
        parked_position, re_run_requested_at, re_run_job_id, re_run_requested_position, resolved_by, \
        resolved_position) \
        SELECT * FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::timestamptz[], $5::int8[], \
        $6::timestamptz[], $7::text[], $8::int8[], $9::text[], $10::int8[]) \
        ON CONFLICT (adviser_document_id) DO UPDATE SET \
        unresolved = CASE WHEN EXCLUDED.parked_position > t.parked_position THEN EXCLUDED.unresolved ELSE t.unresolved END, \
        solver_name = CASE WHEN EXCLUDED.parked_position > t.parked_position THEN EXCLUDED.solver_name ELSE t.solver_name END, \
        parked_at = CASE WHEN EXCLUDED.parked_position > t.parked_position THEN EXCLUDED.parked_at ELSE t.parked_at END, \
        parked_position = GREATEST(t.parked_position, EXCLUDED.parked_position), \
        re_run_requested_at = CASE WHEN EXCLUDED.re_run_requested_position > t.re_run_requested_position \
            THEN EXCLUDED.re_run_requested_at ELSE t.re_run_requested_at END, \
        re_run_job_id = CASE WHEN EXCLUDED.re_run_requested_position > t.re_run_requested_position \
            THEN EXCLUDED.re_run_job_id ELSE t.re_run_job_id END, \
        re_run_requested_position = GREATEST(t.re_run_requested_position, EXCLUDED.re_run_requested_position), \
        resolved_by = CASE WHEN EXCLUDED.resolved_position > t.resolved_position \
            THEN EXCLUDED.resolved_by ELSE t.resolved_by END, \
        resolved_position = GREATEST(t.resolved_position, EXCLUDED.resolved_position)";
    if !plan.adviser_runs.is_empty() {
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
        run(
            transaction,
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
            stats,
        )
        .await?;
        pairs(transaction, UNRESOLVED, &plan.unresolved_links, stats).await?;
    }
    if !plan.parked.is_empty() {
        let rows = &plan.parked;
        let documents: Vec<&str> = rows.keys().map(String::as_str).collect();
        let empty = Value::Array(Vec::new());
        let unresolved: Vec<&Value> =
            rows.values().map(|row| row.parked.as_ref().map_or(&empty, |p| &p.unresolved)).collect();
        let solvers: Vec<Option<&str>> =
            rows.values().map(|row| row.parked.as_ref().and_then(|p| p.solver_name.as_deref())).collect();
        let parked_at: Vec<Option<DateTime<Utc>>> =
            rows.values().map(|row| row.parked.as_ref().map(|p| p.at)).collect();
        let parked_positions: Vec<i64> =
            rows.values().map(|row| row.parked.as_ref().map_or(0, |p| p.position)).collect();
        let re_run_at: Vec<Option<DateTime<Utc>>> = rows.values().map(|row| row.re_run.as_ref().map(|r| r.1)).collect();
        let jobs: Vec<Option<&str>> =
            rows.values().map(|row| row.re_run.as_ref().and_then(|r| r.2.as_deref())).collect();
        let re_run_positions: Vec<i64> = rows.values().map(|row| row.re_run.as_ref().map_or(0, |r| r.0)).collect();
        let resolved_by: Vec<Option<&str>> =
            rows.values().map(|row| row.resolved.as_ref().map(|r| r.1.as_str())).collect();
        let resolved_positions: Vec<i64> = rows.values().map(|row| row.resolved.as_ref().map_or(0, |r| r.0)).collect();
        run(
            transaction,
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
            stats,
        )
        .await?;
    }
    Ok(())
}

/// Recomputes the derived flags of the entities and packages the batch touched, and copies
/// them to every environment's version row.
async fn flags(
    transaction: &Transaction<'_>,
    plan: &Plan,
    stats: &mut WriteStats,
) -> Result<(), tokio_postgres::Error> {
    const SQL: &str = "WITH touched AS ( \
            SELECT unnest($1::int8[]) AS id \
            UNION \
            SELECT e.id FROM python_package_version_entity e \
            JOIN unnest($2::text[], $3::int8[]) AS p (package_name, index_id) \
              ON e.package_name = p.package_name AND e.python_package_index_id = p.index_id \
        ), target AS ( \
            SELECT e.id, GREATEST(e.missing_position, COALESCE(m.missing_position, 0)) > e.present_position \
                AS is_missing, e.provides_source_distro \
            FROM touched JOIN python_package_version_entity e ON e.id = touched.id \
            LEFT JOIN python_package_missing m \
              ON m.package_name = e.package_name AND m.python_package_index_id = e.python_package_index_id \
        ), entities AS ( \
            UPDATE python_package_version_entity e SET is_missing = target.is_missing FROM target \
            WHERE e.id = target.id AND e.is_missing IS DISTINCT FROM target.is_missing \
        ) \
        UPDATE python_package_version v \
        SET is_missing = target.is_missing, provides_source_distro = target.provides_source_distro \
        FROM target WHERE v.entity_id = target.id \
          AND (v.is_missing, v.provides_source_distro) IS DISTINCT FROM (target.is_missing, target.provides_source_distro)";
    if plan.flag_entities.is_empty() && plan.flag_packages.is_empty() {
        return Ok(());
    }
    let entities: Vec<i64> = plan.flag_entities.iter().copied().collect();
    let names: Vec<&str> = plan.flag_packages.iter().map(|(name, _)| name.as_str()).collect();
    let indexes: Vec<i64> = plan.flag_packages.iter().map(|(_, index)| *index).collect();
    run(transaction, SQL, &[&entities, &names, &indexes], stats).await
}

/// A two-dimensional int4 array, row after row.
#[derive(Debug)]
struct Matrix {
    values: Vec<i32>,
    columns: usize,
}

impl ToSql for Matrix {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use bytes::BufMut;
        let rows = self.values.len() / self.columns.max(1);
        let element = match ty.kind() {
            tokio_postgres::types::Kind::Array(element) => element.oid(),
            _ => return Err("Matrix is an array".into()),
        };
        // Array binary format: dimensions, has-nulls flag, element type, then per dimension
        // (length, lower bound), then each element as (length, bytes).
        out.put_i32(2);
        out.put_i32(0);
        out.put_u32(element);
        out.put_i32(i32::try_from(rows)?);
        out.put_i32(1);
        out.put_i32(i32::try_from(self.columns)?);
        out.put_i32(1);
        for value in &self.values {
            out.put_i32(4);
            out.put_i32(*value);
        }
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        *ty == tokio_postgres::types::Type::INT4_ARRAY
    }

    tokio_postgres::types::to_sql_checked!();
}
