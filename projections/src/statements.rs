//! Statements in one round trip each.
//!
//! A statement given as text is prepared (parse and describe: one round trip) and then
//! executed (a second one). On a batch's path, which runs a few dozen statements, half of
//! those round trips only repeat what the first batch learnt: the types of the parameters.
//! So the first execution of each SQL text prepares it and keeps its parameter types, and
//! every later one sends them with the statement (tokio-postgres' `query_typed_raw`: parse,
//! bind and execute of the unnamed statement at once). Nothing is left prepared on the
//! server connection, so this holds behind pgbouncer in transaction pooling as well.
//!
//! Contract: the SQL texts are constants (the cache is keyed by the text and never shrinks),
//! and the types are kept only when every parameter's type is one of PostgreSQL's built-in
//! types, whose identifiers are the same in every database; a statement with any other type
//! is prepared each time.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use futures_util::TryStreamExt;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Error, Row, RowStream, Transaction};

/// Parameter types learnt so far, by SQL text.
type Learnt = HashMap<&'static str, Arc<[Type]>>;

static PARAMETER_TYPES: LazyLock<RwLock<Learnt>> = LazyLock::new(Default::default);

/// Runs `sql` and returns how many rows it inserted, updated or deleted.
pub async fn execute(
    transaction: &Transaction<'_>,
    sql: &'static str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, Error> {
    match known_types(sql, params) {
        Some(types) => {
            let stream = typed(transaction, sql, params, &types).await?;
            let mut stream = std::pin::pin!(stream);
            while stream.try_next().await?.is_some() {}
            Ok(stream.rows_affected().unwrap_or(0))
        }
        None => {
            let statement = learn(transaction, sql).await?;
            transaction.execute(&statement, params).await
        }
    }
}

/// Runs `sql` and returns its rows.
pub async fn query(
    transaction: &Transaction<'_>,
    sql: &'static str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, Error> {
    match known_types(sql, params) {
        Some(types) => typed(transaction, sql, params, &types).await?.try_collect().await,
        None => {
            let statement = learn(transaction, sql).await?;
            transaction.query(&statement, params).await
        }
    }
}

/// The types learnt for `sql`, if they are as many as `params` (if not, preparing it reports
/// the mismatch as PostgreSQL words it).
fn known_types(sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Option<Arc<[Type]>> {
    let known = PARAMETER_TYPES.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(sql).cloned()?;
    (known.len() == params.len()).then_some(known)
}

/// Prepares `sql`, keeping its parameter types when they are all built in.
async fn learn(transaction: &Transaction<'_>, sql: &'static str) -> Result<tokio_postgres::Statement, Error> {
    let statement = transaction.prepare(sql).await?;
    if statement.params().iter().all(|parameter| Type::from_oid(parameter.oid()).is_some()) {
        PARAMETER_TYPES.write().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(sql, statement.params().into());
    }
    Ok(statement)
}

async fn typed(
    transaction: &Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    types: &[Type],
) -> Result<RowStream, Error> {
    let typed = params.iter().zip(types.iter()).map(|(param, param_type)| (*param, param_type.clone()));
    transaction.query_typed_raw(sql, typed).await
}
