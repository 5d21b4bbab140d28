//! Names of the schemas projections live in.

use std::fmt;

use deadpool_postgres::Transaction;

/// A projection schema: `graph` is the live one; rebuilds go to `graph_rebuild_<n>` and
/// are swapped in. Only lower-case letters, digits and `_`, so names can go into DDL, which
/// takes no parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchemaName(String);

impl SchemaName {
    /// The live knowledge graph.
    pub fn live() -> Self {
        SchemaName("graph".to_owned())
    }

    /// A schema for a rebuild, distinct from every other rebuild's.
    pub fn rebuild(tag: &str) -> Option<Self> {
        SchemaName::new(&format!("graph_rebuild_{tag}"))
    }

    /// A name that is safe to use, or `None`.
    pub fn new(name: &str) -> Option<Self> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        valid.then(|| SchemaName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Makes unqualified table names mean this schema's until [`SearchPath::restore`] puts
    /// back the `search_path` the transaction had, which this returns.
    pub(crate) async fn use_in(&self, transaction: &Transaction<'_>) -> Result<SearchPath, tokio_postgres::Error> {
        let statement =
            transaction.prepare("SELECT current_setting('search_path'), set_config('search_path', $1, true)").await?;
        let row = transaction.query_one(&statement, &[&self.0]).await?;
        Ok(SearchPath(row.get(0)))
    }
}

/// A transaction's `search_path` before a projection changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "restore it, or later statements of the transaction resolve names in the projection's schema"]
pub(crate) struct SearchPath(String);

impl SearchPath {
    /// Puts the `search_path` back for the rest of the transaction.
    pub(crate) async fn restore(self, transaction: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        let statement = transaction.prepare("SELECT set_config('search_path', $1, true)").await?;
        transaction.execute(&statement, &[&self.0]).await?;
        Ok(())
    }
}

impl fmt::Display for SchemaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_lower_case_names_are_schema_names() {
        assert_eq!(SchemaName::live().as_str(), "graph");
        assert!(SchemaName::rebuild("20261124_0701").is_some());
        for bad in ["", "Graph", "graph; DROP TABLE x", "1graph", "graph-x", &"g".repeat(64)] {
            assert!(SchemaName::new(bad).is_none(), "{bad}");
        }
    }
}
