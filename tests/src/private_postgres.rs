//! A PostgreSQL server of one test's own, which the test may stop and start again (the
//! shared server cannot be stopped under the other tests).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::free_address;

/// A throwaway cluster under `/var/tmp` (the `postgres` user must reach it when the tests
/// run as root), on a free loopback port; removed when dropped.
pub struct PrivatePostgres {
    directory: PathBuf,
    binaries: PathBuf,
    port: u16,
    as_root: bool,
}

impl PrivatePostgres {
    /// Creates and starts the cluster.
    pub fn start() -> Self {
        let binaries = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries under /usr/lib/postgresql (scripts/test.sh installs them)")
            .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
            .filter(|bin| bin.join("initdb").is_file())
            .max()
            .expect("an initdb binary");
        let as_root = Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"));
        let directory = PathBuf::from(format!("/var/tmp/investigator-test-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).expect("cluster directory");
        let cluster = PrivatePostgres { directory, binaries, port: free_address().port(), as_root };
        if as_root {
            cluster.run(Command::new("chown").args(["postgres:postgres", &cluster.path()]));
        }
        let data = cluster.data();
        cluster.run_as_postgres(&[
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
        self.run_as_postgres(&["pg_ctl", "-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }

    /// Starts the server (again), on the same port.
    pub fn resume(&self) {
        let options = format!("-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off", self.port, self.path());
        let log = self.directory.join("server.log").display().to_string();
        self.run_as_postgres(&["pg_ctl", "-D", &self.data(), "-l", &log, "-w", "-t", "60", "-o", &options, "start"]);
    }

    fn run_as_postgres(&self, args: &[&str]) {
        let mut command = self.postgres_command(args[0]);
        command.args(&args[1..]);
        self.run(&mut command);
    }

    /// One of the server's programs, run as the `postgres` user when the tests run as root
    /// (PostgreSQL refuses to run as root).
    fn postgres_command(&self, program: &str) -> Command {
        let program = self.binaries.join(program);
        let mut command = if self.as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        command.current_dir(Path::new("/"));
        command
    }

    fn run(&self, command: &mut Command) {
        let output = command.stdin(Stdio::null()).output().expect("command runs");
        assert!(
            output.status.success(),
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        let program = self.binaries.join("pg_ctl");
        let mut command = if self.as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let _ =
            command.args(["-D", &data, "-m", "immediate", "stop"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
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
        if data.is_dir() {
            let stop = format!(
                "$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)/pg_ctl -D {} -m immediate stop",
                data.display()
            );
            let as_root = Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"));
            let mut command = if as_root {
                let mut command = Command::new("runuser");
                command.args(["-u", "postgres", "--", "sh", "-c"]);
                command
            } else {
                let mut command = Command::new("sh");
                command.arg("-c");
                command
            };
            let _ = command.arg(stop).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
