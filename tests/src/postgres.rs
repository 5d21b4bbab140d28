//! A fresh database per test, reached through pgbouncer in transaction pooling when the run
//! asks for it (`INVESTIGATOR_TEST_POOLER`), as Thoth deploys PostgreSQL.

use investigator_projections::Database;
use tokio_postgres::NoTls;
use uuid::Uuid;

use crate::{environment, teardown};

/// A database created for one test and dropped when the value is dropped.
pub struct TestDatabase {
    /// The database name, `investigator_test_<uuid>`.
    pub name: String,
    /// The URL the code under test uses: through the pooler when the run has one.
    pub url: String,
    /// A pool on `url`.
    pub database: Database,
    /// The URL of the server itself, never through the pooler.
    pub direct_url: String,
    direct: deadpool_postgres::Pool,
    server_url: String,
}

impl TestDatabase {
    /// Creates an empty database on the server of `DATABASE_URL`.
    pub async fn create() -> Self {
        crate::init_logging();
        let server_url = environment::database_url();
        let name = format!("investigator_test_{}", Uuid::new_v4().simple());
        let client = connect(&server_url).await;
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        let direct_url = with_database(&server_url, &name);
        let url = match environment::pooler_url() {
            Some(pooler) => with_database(&pooler, &name),
            None => direct_url.clone(),
        };
        let database = Database::connect_lazy(&url, 8).expect("the test database URL is valid");
        let direct = direct_pool(&direct_url);
        TestDatabase { name, url, database, direct_url, direct, server_url }
    }

    /// A connection straight to the server, in autocommit: for a test's own setup and checks,
    /// which need not be pooler-safe (the code under test uses [`TestDatabase::database`]).
    pub async fn sql(&self) -> deadpool_postgres::Object {
        self.direct.get().await.expect("a direct connection to the test database")
    }

    /// A fresh database with the investigator's schema in place.
    pub async fn migrated() -> Self {
        let database = TestDatabase::create().await;
        investigator_projections::migrations::migrate(&database.database).await.expect("migrations apply");
        database
    }

    /// Another pool on the same database, with room for `connections` at once.
    pub fn pool(&self, connections: usize) -> Database {
        Database::connect_lazy(&self.url, connections).expect("the test database URL is valid")
    }

    /// The environment `investigator` needs to use this database.
    pub fn vars(&self) -> Vec<(String, String)> {
        vec![("DATABASE_URL".to_owned(), self.url.clone())]
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        self.database.close();
        self.direct.close();
        teardown::run_to_completion(async move {
            let client = connect(&server_url).await;
            if let Err(error) = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await
            {
                eprintln!("teardown: cannot drop database {name}: {error}");
            }
        });
    }
}

/// A pool of autocommit connections to `url`, for the tests' own statements.
fn direct_pool(url: &str) -> deadpool_postgres::Pool {
    let config: tokio_postgres::Config = url.parse().expect("the test database URL is valid");
    let manager = deadpool_postgres::Manager::new(config, NoTls);
    deadpool_postgres::Pool::builder(manager).max_size(4).build().expect("a pool for the test database")
}

/// A plain connection to the server's maintenance database.
pub(crate) async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to PostgreSQL ({error}); is DATABASE_URL right?"));
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "test connection closed");
        }
    });
    client
}

/// `url` with its database replaced by `database`, for both URL and key=value forms.
fn with_database(url: &str, database: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return format!("{url} dbname={database}");
    };
    let (location, query) = rest.split_once('?').map_or((rest, None), |(location, query)| (location, Some(query)));
    let authority = location.split_once('/').map_or(location, |(authority, _)| authority);
    match query {
        Some(query) => format!("{scheme}://{authority}/{database}?{query}"),
        None => format!("{scheme}://{authority}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgresql://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgresql://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(with_database("postgres://u:p@h/x?sslmode=disable", "t1"), "postgres://u:p@h/t1?sslmode=disable");
        assert_eq!(with_database("postgresql://h:1", "t1"), "postgresql://h:1/t1");
        assert_eq!(with_database("host=h user=u", "t1"), "host=h user=u dbname=t1");
    }
}
