//! With no `DATABASE_URL`, a private PostgreSQL server under the data directory, started
//! from the machine's PostgreSQL binaries: the investigator runs on a fresh machine without
//! a database to set up. The server keeps running after the command (the next command finds
//! it); `pg_ctl -D <data directory>/postgres/data stop` stops it.
//!
//! It is private in earnest (`access`): its directories are 0700 and belong to the user it runs
//! as, it listens on a Unix socket only (TCP only when `INVESTIGATOR_POSTGRES_LISTEN` asks), and
//! every connection needs a password generated when the cluster is made and kept in
//! `postgres/password` (0600). A cluster made by an earlier version, which trusted every local
//! user, is given a password and the same rules the first time it is used.

mod access;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use access::Owner;

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

/// A private cluster: its directory, binaries, the user it runs as, and where it listens.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    directory: PathBuf,
    binaries: PathBuf,
    owner: Owner,
    listen: String,
}

impl EmbeddedPostgres {
    /// The cluster under `data_directory`, created and started when needed; returns its URL
    /// (over the Unix socket, with the password). `binaries` overrides where the server's
    /// programs are (`INVESTIGATOR_POSTGRES_BIN`); `listen` is `listen_addresses` (empty: the
    /// socket only; `INVESTIGATOR_POSTGRES_LISTEN`).
    pub fn ensure(
        data_directory: &Path,
        binaries: Option<&Path>,
        listen: Option<&str>,
    ) -> Result<String, EmbeddedPostgresError> {
        let binaries = match binaries {
            Some(path) if path.join("initdb").is_file() => path.to_path_buf(),
            Some(path) => return Err(EmbeddedPostgresError::NoBinaries { looked: path.display().to_string() }),
            None => find_binaries()?,
        };
        // `server_command` runs the programs as `postgres` when we are root.
        let owner = if is_root() {
            Owner::postgres().map_err(|_| EmbeddedPostgresError::NoPostgresUser)?
        } else {
            Owner::current().map_err(|detail| EmbeddedPostgresError::Step {
                directory: data_directory.display().to_string(),
                step: "tell which user runs it",
                detail,
            })?
        };
        let cluster = EmbeddedPostgres {
            directory: data_directory.join("postgres"),
            binaries,
            owner,
            listen: listen.unwrap_or_default().to_owned(),
        };
        cluster.prepare_directories(data_directory)?;
        let port = cluster.port()?;
        let password = cluster.password()?;
        let rules_changed = cluster.write_access_rules()?;
        cluster.run_server(port, rules_changed)?;
        let socket = access::socket_host(&cluster.path("socket"));
        Ok(format!("postgresql://postgres:{password}@{socket}:{port}/postgres"))
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

    /// The data directory (created when missing; the investigator's, so not taken from anyone
    /// else either), then the cluster's and the socket's directories: 0700, the server user's.
    fn prepare_directories(&self, data_directory: &Path) -> Result<(), EmbeddedPostgresError> {
        std::fs::create_dir_all(data_directory).map_err(|error| self.step_error("create its directory", error))?;
        access::private_directory(&self.directory, self.owner)
            .and_then(|()| access::private_directory(&self.directory.join("socket"), self.owner))
            .map_err(|detail| self.step_error("make its directories private", detail))
    }

    /// The port, chosen once (a free loopback port) and kept in the cluster directory; with
    /// no TCP listener it names the socket (`.s.PGSQL.<port>`).
    fn port(&self) -> Result<u16, EmbeddedPostgresError> {
        let file = self.directory.join("port");
        if let Some(port) = std::fs::read_to_string(&file).ok().and_then(|text| text.trim().parse().ok()) {
            return Ok(port);
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| self.step_error("find a free port", error))?
            .port();
        access::write_private(&file, &port.to_string(), self.owner)
            .map_err(|detail| self.step_error("record its port", detail))?;
        Ok(port)
    }

    /// The superuser's password: the kept one; for a new cluster, a new one given to `initdb`;
    /// for a cluster made before passwords (it trusted every local user), a new one set while
    /// the server is stopped.
    fn password(&self) -> Result<String, EmbeddedPostgresError> {
        let file = self.directory.join("password");
        let initialised = self.directory.join("data/PG_VERSION").is_file();
        if initialised && let Some(password) = access::read_password(&file) {
            return Ok(password);
        }
        let password = access::new_password().map_err(|detail| self.step_error("make a password", detail))?;
        let data = self.path("data");
        if initialised {
            tracing::warn!(directory = %self.directory.display(),
                           "the private PostgreSQL cluster trusted every local user: giving it a password");
            self.stop_if_running()?;
            // Single-user mode needs no connection, so no authentication.
            let statement = format!("ALTER ROLE postgres PASSWORD '{password}';\n");
            self.run_with_input("postgres", &["--single", "-D", &data, "postgres"], &statement, "set its password")?;
        } else {
            tracing::info!(directory = %self.directory.display(), "creating a private PostgreSQL cluster");
            // initdb reads the password from a file, which the server's user must open: one in
            // the cluster's 0700 directory, removed once read.
            let password_for_initdb = self.directory.join("initdb-password");
            access::write_private(&password_for_initdb, &format!("{password}\n"), self.owner)
                .map_err(|detail| self.step_error("initialise", detail))?;
            let pwfile = format!("--pwfile={}", password_for_initdb.display());
            let arguments = [
                "-D",
                data.as_str(),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                &pwfile,
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ];
            let initialised = self.run("initdb", &arguments, "initialise");
            let _ = std::fs::remove_file(&password_for_initdb);
            initialised?;
        }
        access::write_private(&file, &password, Owner::current().unwrap_or(self.owner))
            .map_err(|detail| self.step_error("keep its password", detail))?;
        Ok(password)
    }

    /// Writes `pg_hba.conf` when it is not [`access::PG_HBA`]; whether it did.
    fn write_access_rules(&self) -> Result<bool, EmbeddedPostgresError> {
        let file = self.directory.join("data/pg_hba.conf");
        if std::fs::read_to_string(&file).is_ok_and(|rules| rules == access::PG_HBA) {
            return Ok(false);
        }
        access::write_private(&file, access::PG_HBA, self.owner)
            .map_err(|detail| self.step_error("write its access rules", detail))?;
        Ok(true)
    }

    /// Starts the server, or restarts it when it runs with other options (an earlier version's,
    /// or another `INVESTIGATOR_POSTGRES_LISTEN`), or has it reload changed access rules.
    fn run_server(&self, port: u16, rules_changed: bool) -> Result<(), EmbeddedPostgresError> {
        let data = self.path("data");
        let options = format!(
            "-c listen_addresses='{}' -p {port} -k '{}' -c unix_socket_permissions=0700",
            self.listen,
            self.path("socket")
        );
        let options_file = self.directory.join("server.options");
        let running = self.is_running();
        let same_options = std::fs::read_to_string(&options_file).is_ok_and(|kept| kept == options);
        if running && same_options {
            if rules_changed {
                self.run("pg_ctl", &["-D", &data, "reload"], "reload its access rules")?;
            }
            return Ok(());
        }
        if running {
            self.stop_if_running()?;
        }
        tracing::info!(port, listen = %self.listen, "starting the private PostgreSQL server");
        let log = self.path("server.log");
        self.run("pg_ctl", &["-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start"], "start")?;
        access::write_private(&options_file, &options, Owner::current().unwrap_or(self.owner))
            .map_err(|detail| self.step_error("record its options", detail))
    }

    fn is_running(&self) -> bool {
        self.directory.join("data/PG_VERSION").is_file()
            && self.run("pg_ctl", &["-D", &self.path("data"), "status"], "report its status").is_ok()
    }

    fn stop_if_running(&self) -> Result<(), EmbeddedPostgresError> {
        if self.is_running() {
            self.run("pg_ctl", &["-D", &self.path("data"), "-m", "fast", "-w", "stop"], "stop")?;
        }
        Ok(())
    }

    fn run(&self, program: &str, args: &[&str], step: &'static str) -> Result<(), EmbeddedPostgresError> {
        self.run_with_input(program, args, "", step)
    }

    /// Runs one of the server's programs with `input` on its standard input (a password never
    /// goes on a command line, where `ps` shows it).
    fn run_with_input(
        &self,
        program: &str,
        args: &[&str],
        input: &str,
        step: &'static str,
    ) -> Result<(), EmbeddedPostgresError> {
        use std::io::Write;
        let mut child = server_command(&self.binaries, program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| self.step_error(step, error))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes()).map_err(|error| self.step_error(step, error))?;
        }
        let output = child.wait_with_output().map_err(|error| self.step_error(step, error))?;
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
