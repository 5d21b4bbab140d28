//! With no `DATABASE_URL`, a private PostgreSQL server under the data directory, started
//! from the machine's PostgreSQL binaries: the investigator runs on a fresh machine without
//! a database to set up. The server keeps running after the command (the next command finds
//! it); `pg_ctl -D <data directory>/postgres/data stop` stops it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why the private server could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPostgresError {
    /// No server binaries on this machine.
    #[error(
        "DATABASE_URL is not set and no PostgreSQL server binaries were found (looked in {looked}): install \
         PostgreSQL's server (Debian: apt-get install postgresql) or set DATABASE_URL"
    )]
    NoBinaries {
        /// Where they were looked for.
        looked: String,
    },
    /// Running as root needs the `postgres` user, which PostgreSQL runs as.
    #[error("running as root, the private PostgreSQL server must run as the 'postgres' user, and there is none")]
    NoPostgresUser,
    /// A step failed.
    #[error("the private PostgreSQL server in {directory} could not {step}: {detail}")]
    Step {
        /// The cluster directory.
        directory: String,
        /// What was being done.
        step: &'static str,
        /// What the tool said.
        detail: String,
    },
}

/// A private cluster: its directory, binaries and port.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    directory: PathBuf,
    binaries: PathBuf,
    as_root: bool,
}

impl EmbeddedPostgres {
    /// The cluster under `data_directory`, created and started when needed; returns its URL.
    /// `binaries` overrides where the server's programs are (`INVESTIGATOR_POSTGRES_BIN`).
    pub fn ensure(data_directory: &Path, binaries: Option<&Path>) -> Result<String, EmbeddedPostgresError> {
        let binaries = match binaries {
            Some(path) if path.join("initdb").is_file() => path.to_path_buf(),
            Some(path) => return Err(EmbeddedPostgresError::NoBinaries { looked: path.display().to_string() }),
            None => find_binaries()?,
        };
        let as_root = is_root();
        // `server_command` runs the programs as `postgres` when we are root.
        if as_root
            && !Command::new("id")
                .arg("postgres")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        {
            return Err(EmbeddedPostgresError::NoPostgresUser);
        }
        let cluster = EmbeddedPostgres { directory: data_directory.join("postgres"), binaries, as_root };
        cluster.prepare_directory()?;
        let port = cluster.port()?;
        if !cluster.directory.join("data/PG_VERSION").is_file() {
            tracing::info!(directory = %cluster.directory.display(), "creating a private PostgreSQL cluster");
            let data = cluster.path("data");
            cluster.run(
                "initdb",
                &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
                "initialise",
            )?;
        }
        let data = cluster.path("data");
        if cluster.run("pg_ctl", &["-D", &data, "status"], "report its status").is_err() {
            tracing::info!(port, "starting the private PostgreSQL server");
            let options = format!("-c listen_addresses=127.0.0.1 -p {port} -k {}", cluster.path(""));
            let log = cluster.path("server.log");
            cluster.run("pg_ctl", &["-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start"], "start")?;
        }
        Ok(format!("postgresql://postgres@127.0.0.1:{port}/postgres"))
    }

    fn path(&self, name: &str) -> String {
        self.directory.join(name).display().to_string()
    }

    fn step_error(&self, step: &'static str, detail: impl ToString) -> EmbeddedPostgresError {
        EmbeddedPostgresError::Step {
            directory: self.directory.display().to_string(),
            step,
            detail: detail.to_string(),
        }
    }

    /// The directory, reachable by the `postgres` user when we are root.
    fn prepare_directory(&self) -> Result<(), EmbeddedPostgresError> {
        std::fs::create_dir_all(&self.directory).map_err(|error| self.step_error("create its directory", error))?;
        if self.as_root {
            let status = Command::new("chown").arg("postgres:postgres").arg(&self.directory).status();
            if !status.is_ok_and(|status| status.success()) {
                return Err(self.step_error("give its directory to the postgres user", "chown failed"));
            }
        }
        Ok(())
    }

    /// The port, chosen once (a free loopback port) and kept in the cluster directory.
    fn port(&self) -> Result<u16, EmbeddedPostgresError> {
        let file = self.directory.join("port");
        if let Some(port) = std::fs::read_to_string(&file).ok().and_then(|text| text.trim().parse().ok()) {
            return Ok(port);
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| self.step_error("find a free port", error))?
            .port();
        std::fs::write(&file, port.to_string()).map_err(|error| self.step_error("record its port", error))?;
        Ok(port)
    }

    fn run(&self, program: &str, args: &[&str], step: &'static str) -> Result<(), EmbeddedPostgresError> {
        let output = server_command(&self.binaries, program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|error| self.step_error(step, error))?;
        if output.status.success() {
            Ok(())
        } else {
            let detail =
                format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            Err(self.step_error(step, detail.trim()))
        }
    }
}

/// One of the server's programs (`initdb`, `pg_ctl`...) in `binaries`, run as the `postgres`
/// user when this process is root (PostgreSQL refuses to run as root), from `/`.
pub fn server_command(binaries: &Path, program: &str) -> Command {
    let program = binaries.join(program);
    let mut command = if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    command.current_dir("/");
    command
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), or `pg_config --bindir`.
pub fn find_binaries() -> Result<PathBuf, EmbeddedPostgresError> {
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .max_by_key(|bin| bin.parent().and_then(|version| version.file_name()?.to_str()?.parse::<u32>().ok()));
    if let Some(bin) = debian {
        return Ok(bin);
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
        .filter(|bin| bin.join("initdb").is_file());
    from_pg_config.ok_or_else(|| EmbeddedPostgresError::NoBinaries {
        looked: "/usr/lib/postgresql/*/bin, pg_config --bindir".to_owned(),
    })
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}
