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
    let output = Command::new("bash")
        .arg(script())
        .args([action, name])
        .env("DATABASE_URL", environment::database_url())
        .output()
        .expect("scripts/pgbouncer.sh runs");
    assert!(output.status.success(), "pgbouncer.sh {action} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl TestPooler {
    /// Starts one (installing Debian's pgbouncer first if needed).
    pub fn start() -> Self {
        let name = format!("test-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let exported = run("start", &name);
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
