//! PostgreSQL servers of one test's own: one the test may stop and start again (the shared
//! server cannot be stopped under the other tests), a streaming standby of one, and a data
//! directory for the investigator's own private server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use investigator_ops::embedded_postgres::{find_binaries, is_root, server_command};

use crate::free_address;

/// A throwaway cluster under `/var/tmp` (the `postgres` user must reach it when the tests
/// run as root), on a free loopback port; removed when dropped.
pub struct PrivatePostgres {
    directory: PathBuf,
    binaries: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    /// Creates and starts the cluster.
    pub fn start() -> Self {
        let binaries = find_binaries().expect("PostgreSQL's server binaries (scripts/test.sh installs them)");
        let directory = PathBuf::from(format!("/var/tmp/investigator-test-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).expect("cluster directory");
        let cluster = PrivatePostgres { directory, binaries, port: free_address().port() };
        if is_root() {
            run(Command::new("chown").args(["postgres:postgres", &cluster.path()]));
        }
        let data = cluster.data();
        cluster.run_server(&[
            "initdb",
            "-D",
            &data,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-N",
        ]);
        cluster.resume();
        cluster
    }

    /// A hot standby of `primary`, streaming from it: `pg_basebackup` of the running primary
    /// (whose `initdb` defaults let local replication connections in), started on a port of
    /// its own. It is promoted never; dropped like any other.
    pub fn standby_of(primary: &PrivatePostgres) -> Self {
        let directory = PathBuf::from(format!("/var/tmp/investigator-test-standby-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).expect("cluster directory");
        let standby = PrivatePostgres { directory, binaries: primary.binaries.clone(), port: free_address().port() };
        if is_root() {
            run(Command::new("chown").args(["postgres:postgres", &standby.path()]));
        }
        let (data, port) = (standby.data(), primary.port.to_string());
        // -R writes the standby's connection to the primary; -X stream copies the WAL written
        // during the copy.
        standby.run_server(&[
            "pg_basebackup",
            "-D",
            &data,
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        ]);
        standby.resume();
        standby
    }

    fn path(&self) -> String {
        self.directory.display().to_string()
    }

    fn data(&self) -> String {
        self.directory.join("data").display().to_string()
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once, as a crash or an operator would (`-m immediate`).
    pub fn stop(&self) {
        self.run_server(&["pg_ctl", "-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }

    /// Starts the server (again), on the same port.
    pub fn resume(&self) {
        let options = format!("-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off", self.port, self.path());
        let log = self.directory.join("server.log").display().to_string();
        self.run_server(&["pg_ctl", "-D", &self.data(), "-l", &log, "-w", "-t", "60", "-o", &options, "start"]);
    }

    fn run_server(&self, args: &[&str]) {
        run(server_command(&self.binaries, args[0]).args(&args[1..]));
    }
}

fn run(command: &mut Command) {
    let output = command.stdin(Stdio::null()).output().expect("command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Stops the server of a data directory at once, if one runs; errors are ignored (teardown).
fn stop_quietly(binaries: &Path, data: &Path) {
    let _ = server_command(binaries, "pg_ctl")
        .arg("-D")
        .arg(data)
        .args(["-m", "immediate", "stop"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        stop_quietly(&self.binaries, &self.directory.join("data"));
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// A data directory for the investigator's own private server (`INVESTIGATOR_DATA_DIR`),
/// whose server is stopped and directory removed when dropped.
pub struct PrivateCluster {
    directory: PathBuf,
}

impl PrivateCluster {
    /// A fresh directory under `/var/tmp` (reachable by the `postgres` user).
    pub fn directory() -> Self {
        let directory = PathBuf::from(format!("/var/tmp/investigator-test-data-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).expect("data directory");
        PrivateCluster { directory }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.directory
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let data = self.directory.join("postgres/data");
        if data.is_dir()
            && let Ok(binaries) = find_binaries()
        {
            stop_quietly(&binaries, &data);
        }
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
