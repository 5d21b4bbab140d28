//! Table checksums, to tell whether two schemas hold the same rows.
//!
//! Each row's text form is hashed and the hashes summed (as numeric, so nothing overflows):
//! the result does not depend on row order or on the physical layout, so a rebuilt table and
//! a live one compare equal exactly when they hold the same rows, byte for byte, up to a
//! 64-bit hash collision.

use deadpool_postgres::Transaction;

use crate::schema::SchemaName;

/// One table's contents, summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableChecksum {
    pub rows: i64,
    /// The sum of the rows' hashes, as text.
    pub digest: String,
}

/// A table in both schemas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableComparison {
    pub table: String,
    /// In the live schema (`None`: not there).
    pub live: Option<TableChecksum>,
    /// In the rebuilt schema (`None`: not there).
    pub rebuilt: Option<TableChecksum>,
}

impl TableComparison {
    /// Whether both hold the same rows.
    pub fn matches(&self) -> bool {
        self.live.is_some() && self.live == self.rebuilt
    }
}

/// The tables of `schema` that projections fill (not its migration bookkeeping).
async fn tables(transaction: &Transaction<'_>, schema: &SchemaName) -> Result<Vec<String>, tokio_postgres::Error> {
    let rows = transaction
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 \
             AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name",
            &[&schema.as_str()],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// The checksum of one table.
pub(crate) async fn table_checksum(
    transaction: &Transaction<'_>,
    schema: &SchemaName,
    table: &str,
) -> Result<TableChecksum, tokio_postgres::Error> {
    // Names come from information_schema and are quoted.
    let sql = format!(
        "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text FROM \"{schema}\".\"{}\" t",
        table.replace('"', "\"\"")
    );
    let row = transaction.query_one(&sql, &[]).await?;
    Ok(TableChecksum { rows: row.get(0), digest: row.get(1) })
}

/// The checksum of every table of the live knowledge graph, by table name: two databases
/// hold the same graph when these are equal.
pub async fn checksums(database: &crate::Database) -> Result<Vec<(String, TableChecksum)>, crate::DatabaseError> {
    let unreachable = |error: tokio_postgres::Error| crate::DatabaseError::Unreachable {
        target: database.target().to_owned(),
        source: Box::new(error),
    };
    let mut client = database.connection().await?;
    let transaction = client.build_transaction().read_only(true).start().await.map_err(unreachable)?;
    let live = SchemaName::live();
    let mut sums = Vec::new();
    for table in tables(&transaction, &live).await.map_err(unreachable)? {
        let sum = table_checksum(&transaction, &live, &table).await.map_err(unreachable)?;
        sums.push((table, sum));
    }
    Ok(sums)
}

/// Every table of either schema, with its checksum in each.
pub(crate) async fn compare(
    transaction: &Transaction<'_>,
    live: &SchemaName,
    rebuilt: &SchemaName,
) -> Result<Vec<TableComparison>, tokio_postgres::Error> {
    let live_tables = tables(transaction, live).await?;
    let rebuilt_tables = tables(transaction, rebuilt).await?;
    let mut names: Vec<&String> = live_tables.iter().chain(&rebuilt_tables).collect();
    names.sort();
    names.dedup();
    let mut comparison = Vec::new();
    for table in names {
        let live_sum =
            if live_tables.contains(table) { Some(table_checksum(transaction, live, table).await?) } else { None };
        let rebuilt_sum = if rebuilt_tables.contains(table) {
            Some(table_checksum(transaction, rebuilt, table).await?)
        } else {
            None
        };
        comparison.push(TableComparison { table: table.clone(), live: live_sum, rebuilt: rebuilt_sum });
    }
    Ok(comparison)
}
