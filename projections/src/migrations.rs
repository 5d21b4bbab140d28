//! Numbered, append-only SQL migrations, applied in order and recorded with a checksum.
//!
//! Two sets: `store` (the event log, offsets, checkpoints; schema `investigator`, applied
//! once per database) and `graph` (the knowledge-graph projection; applied to the live schema
//! and, from scratch, to every rebuild schema). A migration that was changed after it was
//! applied, or one this build does not know (the database is newer than the build), stops
//! everything with an error instead of guessing.

use deadpool_postgres::Transaction;
use sha2::{Digest, Sha256};

use crate::schema::SchemaName;
use crate::{Database, DatabaseError};

/// One migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number; applied in ascending order.
    pub version: i32,
    /// What it does, from its file name.
    pub name: &'static str,
    pub sql: &'static str,
}

/// The event log's migrations, in order.
pub const STORE: &[Migration] = &[
    Migration { version: 1, name: "event_log", sql: include_str!("../migrations/store/0001_event_log.sql") },
    Migration {
        version: 2,
        name: "consumer_offsets",
        sql: include_str!("../migrations/store/0002_consumer_offsets.sql"),
    },
    Migration {
        version: 3,
        name: "projection_checkpoints",
        sql: include_str!("../migrations/store/0003_projection_checkpoints.sql"),
    },
    Migration { version: 4, name: "bus", sql: include_str!("../migrations/store/0004_bus.sql") },
    Migration {
        version: 5,
        name: "workflow_secrets",
        sql: include_str!("../migrations/store/0005_workflow_secrets.sql"),
    },
    Migration { version: 6, name: "duty_leases", sql: include_str!("../migrations/store/0006_duty_leases.sql") },
];

/// The knowledge graph's migrations, in order.
pub const GRAPH: &[Migration] = &[
    Migration { version: 1, name: "packages", sql: include_str!("../migrations/graph/0001_packages.sql") },
    Migration {
        version: 2,
        name: "artifacts_imports",
        sql: include_str!("../migrations/graph/0002_artifacts_imports.sql"),
    },
    Migration { version: 3, name: "security", sql: include_str!("../migrations/graph/0003_security.sql") },
    Migration { version: 4, name: "runs", sql: include_str!("../migrations/graph/0004_runs.sql") },
    Migration {
        version: 5,
        name: "dead_letter_status",
        sql: include_str!("../migrations/graph/0005_dead_letter_status.sql"),
    },
    Migration {
        version: 6,
        name: "workflow_outbox",
        sql: include_str!("../migrations/graph/0006_workflow_outbox.sql"),
    },
    Migration { version: 7, name: "learning", sql: include_str!("../migrations/graph/0007_learning.sql") },
    Migration {
        version: 8,
        name: "consumer_offset_resets",
        sql: include_str!("../migrations/graph/0008_consumer_offset_resets.sql"),
    },
];

/// The newest migration of each set, as `store/0005_name,graph/0008_name`: the schema a
/// database has once [`migrate`] succeeded (it refuses a database newer than the build).
pub fn head_revision() -> String {
    [("store", STORE), ("graph", GRAPH)]
        .iter()
        .filter_map(|(set, migrations)| {
            migrations.last().map(|newest| format!("{set}/{:04}_{}", newest.version, newest.name))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Serialises migrations (and replays' schema swaps) across processes.
pub(crate) const MIGRATION_LOCK: i64 = 0x696e_7665_7374_0001;

/// What `migrate` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Migrations applied now, as `set/0001_name`.
    pub applied: Vec<String>,
    /// Migrations that were already there.
    pub already_applied: usize,
}

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// An applied migration's SQL differs from this build's.
    #[error(
        "migration {set}/{version:04}_{name} was changed after it was applied (checksum differs); migrations are append-only: add a new one instead"
    )]
    Changed {
        /// `store` or `graph`.
        set: &'static str,
        /// Its number.
        version: i32,
        name: &'static str,
    },
    /// The database has a migration this build does not know.
    #[error(
        "the database has {set} migration {version} ({name}), which this build does not know: it was migrated by a newer investigator"
    )]
    Unknown {
        /// `store` or `graph`.
        set: &'static str,
        /// Its number.
        version: i32,
        /// Its recorded name.
        name: String,
    },
    /// A migration's SQL failed.
    #[error("migration {set}/{version:04}_{name} failed")]
    Failed {
        /// `store` or `graph`.
        set: &'static str,
        /// Its number.
        version: i32,
        name: &'static str,
        /// PostgreSQL's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// PostgreSQL could not be reached or refused.
    #[error("cannot migrate the database")]
    Database(#[from] tokio_postgres::Error),
    /// No connection.
    #[error(transparent)]
    Connection(#[from] DatabaseError),
}

/// Brings the database up to date: the store, then the live knowledge graph. Safe to run
/// again and from several processes at once (they take turns).
pub async fn migrate(database: &Database) -> Result<MigrationReport, MigrationError> {
    let mut client = database.connection().await?;
    let transaction = client.transaction().await?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    // "already exists, skipping" notices are expected on every run but the first.
    transaction.execute("SELECT set_config('client_min_messages', 'warning', true)", &[]).await?;
    transaction
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS investigator; \
             CREATE TABLE IF NOT EXISTS investigator.schema_migrations ( \
                 version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, \
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
    let mut report = MigrationReport::default();
    apply_set(&transaction, "store", STORE, "investigator", &mut report).await?;
    let live = SchemaName::live();
    prepare_graph_schema(&transaction, &live).await?;
    apply_set(&transaction, "graph", GRAPH, live.as_str(), &mut report).await?;
    transaction
        .execute(
            "INSERT INTO investigator.projection_checkpoint (projection, position, updated_at) \
             VALUES ($1, 0, now()) ON CONFLICT (projection) DO NOTHING",
            &[&crate::projector::KNOWLEDGE_GRAPH],
        )
        .await?;
    transaction.commit().await?;
    Ok(report)
}

/// Whether the database has the event log (`migrate` ran at least once).
pub async fn has_event_log(database: &Database) -> Result<bool, MigrationError> {
    let mut connection = database.connection().await?;
    let row =
        connection.read().await?.query_one("SELECT to_regclass('investigator.event_log') IS NOT NULL", &[]).await?;
    Ok(row.get(0))
}

/// Creates `schema` (if needed) with its migration table, ready for the graph set.
async fn prepare_graph_schema(transaction: &Transaction<'_>, schema: &SchemaName) -> Result<(), tokio_postgres::Error> {
    // DDL takes no parameters; SchemaName only holds [a-z0-9_] names.
    transaction
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}; \
             CREATE TABLE IF NOT EXISTS {schema}.schema_migrations ( \
                 version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, \
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        ))
        .await
}

/// Creates a new, empty knowledge-graph schema with every graph migration applied.
pub(crate) async fn create_graph_schema(
    transaction: &Transaction<'_>,
    schema: &SchemaName,
) -> Result<(), MigrationError> {
    prepare_graph_schema(transaction, schema).await?;
    apply_set(transaction, "graph", GRAPH, schema.as_str(), &mut MigrationReport::default()).await
}

async fn apply_set(
    transaction: &Transaction<'_>,
    set: &'static str,
    migrations: &[Migration],
    schema: &str,
    report: &mut MigrationReport,
) -> Result<(), MigrationError> {
    let recorded = transaction
        .query(&format!("SELECT version, name, checksum FROM {schema}.schema_migrations ORDER BY version"), &[])
        .await?;
    for row in &recorded {
        let version: i32 = row.get(0);
        let Some(known) = migrations.iter().find(|migration| migration.version == version) else {
            return Err(MigrationError::Unknown { set, version, name: row.get(1) });
        };
        if row.get::<_, String>(2) != checksum(known.sql) {
            return Err(MigrationError::Changed { set, version, name: known.name });
        }
    }
    // Unqualified names in the SQL go to `schema`.
    transaction.execute("SELECT set_config('search_path', $1, true)", &[&schema]).await?;
    for migration in migrations {
        if recorded.iter().any(|row| row.get::<_, i32>(0) == migration.version) {
            report.already_applied += 1;
            continue;
        }
        let failed = |source| MigrationError::Failed { set, version: migration.version, name: migration.name, source };
        transaction.batch_execute(migration.sql).await.map_err(failed)?;
        transaction
            .execute(
                &format!("INSERT INTO {schema}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"),
                &[&migration.version, &migration.name, &checksum(migration.sql)],
            )
            .await
            .map_err(failed)?;
        if schema.starts_with("graph_rebuild_") {
            // Every replay builds a schema from scratch: not news.
            tracing::debug!(set, version = migration.version, name = migration.name, schema, "migration applied");
        } else {
            tracing::info!(set, version = migration.version, name = migration.name, schema, "migration applied");
        }
        report.applied.push(format!("{set}/{:04}_{}", migration.version, migration.name));
    }
    transaction.execute("SELECT set_config('search_path', 'public', true)", &[]).await?;
    Ok(())
}

fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for set in [STORE, GRAPH] {
            for (i, migration) in set.iter().enumerate() {
                assert_eq!(migration.version, i as i32 + 1, "{}", migration.name);
                assert!(!migration.sql.trim().is_empty());
            }
        }
    }
}
