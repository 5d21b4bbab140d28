//! Bulk-loading a rebuild schema: its foreign keys and non-unique indexes are dropped while
//! the log is applied and created again afterwards, from their own definitions in the
//! catalog. Checking a foreign key and updating an index once per table, at the end, is far
//! cheaper than once per row; the unique constraints stay, because the upserts need them.
//! The restored schema has the same constraints and indexes, with the same names, as a
//! freshly migrated one.

use deadpool_postgres::GenericClient;

use crate::schema::SchemaName;

/// What was dropped, as the statements that create it again.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    restore: Vec<String>,
}

/// Drops the foreign keys and non-unique indexes of `schema` (a rebuild, never the live one).
pub(crate) async fn defer(client: &impl GenericClient, schema: &SchemaName) -> Result<Deferred, tokio_postgres::Error> {
    debug_assert!(schema != &SchemaName::live());
    let foreign_keys = client
        .query(
            "SELECT c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid) \
             FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
             WHERE n.nspname = $1 AND c.contype = 'f' ORDER BY 1, 2",
            &[&schema.as_str()],
        )
        .await?;
    let indexes = client
        .query(
            "SELECT quote_ident(i.schemaname) || '.' || quote_ident(i.indexname), i.indexdef FROM pg_indexes i \
             WHERE i.schemaname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                 JOIN pg_namespace n ON n.oid = c.connamespace \
                 WHERE n.nspname = i.schemaname AND c.conname = i.indexname) \
             ORDER BY 1",
            &[&schema.as_str()],
        )
        .await?;
    let mut drop = Vec::new();
    let mut restore = Vec::new();
    for row in &foreign_keys {
        let (table, name, definition): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        drop.push(format!("ALTER TABLE {table} DROP CONSTRAINT {name}"));
        restore.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"));
    }
    for row in &indexes {
        let (name, definition): (String, String) = (row.get(0), row.get(1));
        drop.push(format!("DROP INDEX {name}"));
        restore.insert(0, definition);
    }
    client.batch_execute(&drop.join(";\n")).await?;
    Ok(Deferred { restore })
}

/// Creates again what [`defer`] dropped: indexes first, then the foreign keys (validated
/// against the whole tables).
pub(crate) async fn restore(client: &impl GenericClient, deferred: &Deferred) -> Result<(), tokio_postgres::Error> {
    if deferred.restore.is_empty() {
        return Ok(());
    }
    client.batch_execute(&deferred.restore.join(";\n")).await
}
