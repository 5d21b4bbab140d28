//! pgbouncer in transaction pooling (`scripts/pgbouncer.sh`), of one test's own, in front of
//! the server of `DATABASE_URL`: so a test can restart it mid-stream, whatever pooler the rest
//! of the run goes through.

use std::path::PathBuf;
use std::process::Command;

use crate::environment;

/// A pgbouncer started for one test and stopped when the value is dropped.
pub struct TestPooler {
    name: String,
    /// Its URL, naming the `postgres` database.
    url: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/pgbouncer.sh")
}

fn run(action: &str, name: &str) -> String {
    run_with_pool_size(action, name, 40, false)
}

fn run_with_pool_size(action: &str, name: &str, pool_size: u32, round_robin: bool) -> String {
    let output = Command::new("bash")
        .arg(script())
        .args([action, name])
        .env("DATABASE_URL", environment::database_url())
        .env("PGBOUNCER_POOL_SIZE", pool_size.to_string())
        .env("PGBOUNCER_ROUND_ROBIN", if round_robin { "1" } else { "0" })
        .output()
        .expect("scripts/pgbouncer.sh runs");
    assert!(output.status.success(), "pgbouncer.sh {action} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl TestPooler {
    /// Starts one (installing Debian's pgbouncer first if needed).
    pub fn start() -> Self {
        TestPooler::with_pool_size(40, false)
    }

    /// One with two server connections handed out in turn: a message a client sends after its
    /// transaction ended (a statement's close after the commit) reaches the other one.
    pub fn with_two_server_connections_in_turn() -> Self {
        TestPooler::with_pool_size(2, true)
    }

    fn with_pool_size(pool_size: u32, round_robin: bool) -> Self {
        let name = format!("test-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let exported = run_with_pool_size("start", &name, pool_size, round_robin);
        let url = exported
            .trim()
            .strip_prefix("export INVESTIGATOR_TEST_POOLER_URL='")
            .and_then(|rest| rest.strip_suffix('\''))
            .unwrap_or_else(|| panic!("pgbouncer.sh printed {exported:?}"))
            .to_owned();
        TestPooler { name, url }
    }

    /// Its URL for `database`.
    pub fn url_for(&self, database: &str) -> String {
        match self.url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{database}"),
            None => self.url.clone(),
        }
    }

    /// Stops it (every client connection is cut) and starts it again on the same port.
    pub fn restart(&self) {
        run("restart", &self.name);
    }
}

impl Drop for TestPooler {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["remove", &self.name])
            .env("DATABASE_URL", environment::database_url())
            .output();
    }
}
