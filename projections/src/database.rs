//! The connection pool, and the one way to run statements: inside a transaction.
//!
//! Thoth runs PostgreSQL behind pgbouncer in transaction pooling, where each transaction may
//! run on another server connection, and pgbouncer 1.18 does not carry prepared statements
//! across them. So nothing may outlive the transaction that made it:
//! - statements are prepared, used and closed inside one transaction ([`Connection`] offers
//!   nothing but transactions, and `prepare_cached` is a disallowed method, see
//!   `clippy.toml`): outside one, the driver's prepare and execute may reach two different
//!   servers ("prepared statement does not exist"), and a statement left prepared clashes
//!   with the next client's of the same name ("already exists"); a `Row` holds its statement,
//!   so rows are read before the commit, never after (the statement's close would follow the
//!   commit to another server);
//! - settings are `set_config(name, value, true)`, which ends with the transaction;
//! - locks are transaction-scoped (`pg_advisory_xact_lock`, row locks), never session locks.
//!
//! The same code runs unchanged against PostgreSQL directly.

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Transaction, TransactionBuilder};
use tokio_postgres::NoTls;

/// How long getting a connection may take: from the pool, or a new one from the server.
const CONNECTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A pool of connections to one PostgreSQL database.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    target: String,
}

/// What can go wrong reaching the database. Messages never contain the password.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// The URL or key=value string cannot be parsed.
    #[error("the database URL is not a valid PostgreSQL connection string: {reason}")]
    InvalidUrl {
        /// The parser's explanation.
        reason: String,
    },
    /// The pool could not be built from the settings.
    #[error("cannot build a connection pool for {target}: {reason}")]
    Pool {
        /// host:port/database, without credentials.
        target: String,
        /// Why.
        reason: String,
    },
    /// No connection could be made, or a query on it failed.
    #[error("cannot reach PostgreSQL at {target}")]
    Unreachable {
        /// host:port/database, without credentials.
        target: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// What the server says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// `server_version`, e.g. `15.19 (Debian 15.19-0+deb12u1)`.
    pub version: String,
    /// The database connected to.
    pub database: String,
}

impl Database {
    /// A pool of at most `max_connections` for `url` (`postgresql://user@host:port/db` or
    /// libpq's `key=value` form). No connection is made until one is needed.
    pub fn connect_lazy(url: &str, max_connections: usize) -> Result<Self, DatabaseError> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|error| DatabaseError::InvalidUrl { reason: error.to_string() })?;
        let target = describe_target(&config);
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .runtime(Runtime::Tokio1)
            // A pool that is used up, or a server that does not answer, is an error after a
            // while, never a silent hang.
            .wait_timeout(Some(CONNECTION_TIMEOUT))
            .create_timeout(Some(CONNECTION_TIMEOUT))
            .build()
            .map_err(|error| DatabaseError::Pool { target: target.clone(), reason: error.to_string() })?;
        Ok(Database { pool, target })
    }

    /// Checks that `url` is a PostgreSQL connection string, without connecting; gives the
    /// `host:port/database` it names (no credentials).
    pub fn check_url(url: &str) -> Result<String, DatabaseError> {
        tokio_postgres::Config::from_str(url)
            .map(|config| describe_target(&config))
            .map_err(|error| DatabaseError::InvalidUrl { reason: error.to_string() })
    }

    /// How many connections the pool holds, and how many of them are idle.
    pub fn status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }

    /// Closes the pool: its connections end, and no new one is given out.
    pub fn close(&self) {
        self.pool.close();
    }

    /// host:port/database, safe to log.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// A connection from the pool.
    pub async fn connection(&self) -> Result<Connection, DatabaseError> {
        self.pool
            .get()
            .await
            .map(|client| Connection { client })
            .map_err(|error| DatabaseError::Unreachable { target: self.target.clone(), source: Box::new(error) })
    }

    /// Connects and asks the server for its version and the current database.
    pub async fn server_info(&self) -> Result<ServerInfo, DatabaseError> {
        let unreachable = |source: Box<dyn std::error::Error + Send + Sync>| DatabaseError::Unreachable {
            target: self.target.clone(),
            source,
        };
        let mut connection = self.connection().await?;
        let transaction = connection.read().await.map_err(|error| unreachable(Box::new(error)))?;
        let row = transaction
            .query_one("SELECT current_setting('server_version'), current_database()", &[])
            .await
            .map_err(|error| unreachable(Box::new(error)))?;
        Ok(ServerInfo { version: row.get(0), database: row.get(1) })
    }
}

/// A connection from the pool, through which statements run only inside transactions (see
/// the module documentation for why). A transaction dropped without `commit` rolls back.
pub struct Connection {
    client: deadpool_postgres::Object,
}

impl Connection {
    /// A read-write transaction.
    pub async fn transaction(&mut self) -> Result<Transaction<'_>, tokio_postgres::Error> {
        self.client.transaction().await
    }

    /// A read-only transaction: for reads, including on a hot standby. Dropping it ends it.
    pub async fn read(&mut self) -> Result<Transaction<'_>, tokio_postgres::Error> {
        self.client.build_transaction().read_only(true).start().await
    }

    /// A transaction with other characteristics (isolation level...).
    pub fn build_transaction(&mut self) -> TransactionBuilder<'_> {
        self.client.build_transaction()
    }

    /// Closes the connection instead of giving it back to the pool: its buffers grew to the
    /// size of what it carried (large archive frames), and a pooled connection would keep them.
    pub fn discard(self) {
        drop(deadpool_postgres::Object::take(self.client));
    }
}

fn describe_target(config: &tokio_postgres::Config) -> String {
    let host = config.get_hosts().first().map_or_else(
        || "localhost".to_owned(),
        |host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        },
    );
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().or(config.get_user()).unwrap_or("postgres");
    format!("{host}:{port}/{database}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_never_shows_the_password() {
        let database = Database::connect_lazy("postgresql://thoth:s3cret@db.example:6543/knowledge", 2).expect("valid");
        assert_eq!(database.target(), "db.example:6543/knowledge");
    }

    #[test]
    fn an_unparseable_url_is_refused_without_echoing_it() {
        let error = Database::connect_lazy("postgresql://thoth:s3cret@db:notaport/x", 2).err().expect("invalid port");
        assert!(matches!(error, DatabaseError::InvalidUrl { .. }));
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
