//! The investigator's private PostgreSQL server (no `DATABASE_URL`) is private in earnest: no
//! other local account reaches it, no connection without its password is accepted, it takes
//! no TCP connection unless asked, and a cluster an earlier version made (which trusted every
//! local user) is locked down the first time it is used.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use investigator_ops::embedded_postgres::{find_binaries, is_root, server_command};
use investigator_tests::{PrivateCluster, free_address, investigator};

fn env(cluster: &PrivateCluster, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = vec![
        ("DATABASE_URL".to_owned(), String::new()),
        ("INVESTIGATOR_DATA_DIR".to_owned(), cluster.path().display().to_string()),
    ];
    env.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    env
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|error| panic!("{}: {error}", path.display())).permissions().mode() & 0o777
}

/// What the cluster keeps: its password and port.
fn password_and_port(server: &Path) -> (String, u16) {
    let password = std::fs::read_to_string(server.join("password")).expect("the password is kept").trim().to_owned();
    let port = std::fs::read_to_string(server.join("port")).expect("the port").trim().parse().expect("a port");
    (password, port)
}

/// A URL over the cluster's socket, with `password` when given.
fn socket_url(server: &Path, port: u16, password: Option<&str>) -> String {
    let socket: String = server
        .join("socket")
        .display()
        .to_string()
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-_.".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    let credentials = password.map_or_else(|| "postgres".to_owned(), |password| format!("postgres:{password}"));
    format!("postgresql://{credentials}@{socket}:{port}/postgres")
}

/// Every rule of `pg_hba.conf` asks for the password; none is for replication.
fn assert_password_for_everything(server: &Path) {
    let rules = std::fs::read_to_string(server.join("data/pg_hba.conf")).expect("pg_hba.conf");
    let rules: Vec<&str> =
        rules.lines().filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty()).collect();
    assert!(!rules.is_empty());
    for rule in rules {
        assert!(rule.ends_with("scram-sha-256"), "every connection needs the password: {rule}");
        assert!(!rule.contains("replication"), "no replication entry: {rule}");
    }
}

/// Connects and asks one question; the error's text when refused.
async fn connect(url: &str) -> Result<(), String> {
    let (client, connection) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.map_err(|error| format!("{error:?}"))?;
    tokio::spawn(connection);
    client.simple_query("SELECT 1").await.map(drop).map_err(|error| format!("{error:?}"))
}

/// Runs `psql` as the unprivileged `nobody`: another account on the machine.
fn psql_as_nobody(url: &str) -> std::process::Output {
    Command::new("su")
        .args(["nobody", "-s", "/bin/sh", "-c", &format!("psql -w '{url}' -XAtc 'SELECT 1'")])
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .expect("su runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_private_server_refuses_other_users_and_connections_without_its_password() {
    let cluster = PrivateCluster::directory();
    let migrated = investigator(&["migrate"], &env(&cluster, &[])).await;
    assert_eq!(migrated.code, Some(0), "{}", migrated.stderr);
    let server = cluster.path().join("postgres");

    assert_eq!(mode(&server), 0o700, "the cluster's directory");
    assert_eq!(mode(&server.join("socket")), 0o700, "the socket's directory: no other account may enter it");
    assert_eq!(mode(&server.join("password")), 0o600, "the password file");
    assert_password_for_everything(&server);

    let (password, port) = password_and_port(&server);
    connect(&socket_url(&server, port, Some(&password))).await.expect("with the password, over the socket");
    let refused = connect(&socket_url(&server, port, None)).await.expect_err("without the password");
    assert!(refused.contains("password"), "{refused}");
    let wrong = connect(&socket_url(&server, port, Some("0123456789abcdef0123456789abcdef"))).await;
    assert!(wrong.expect_err("a wrong password").contains("password authentication failed"));
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "nothing listens on TCP unless INVESTIGATOR_POSTGRES_LISTEN asks"
    );
    if is_root() {
        let other = psql_as_nobody(&socket_url(&server, port, Some(&password)));
        let stderr = String::from_utf8_lossy(&other.stderr);
        assert!(!other.status.success(), "another account got in: {}", String::from_utf8_lossy(&other.stdout));
        assert!(
            stderr.contains("Permission denied"),
            "refused at the socket's directory, even with the password: {stderr}"
        );
    }

    // Asked to listen on TCP: the same server restarts with it, and TCP needs the password too.
    let listening = investigator(&["migrate"], &env(&cluster, &[("INVESTIGATOR_POSTGRES_LISTEN", "127.0.0.1")])).await;
    assert_eq!(listening.code, Some(0), "{}", listening.stderr);
    let tcp = |password: Option<&str>| {
        let credentials = password.map_or_else(|| "postgres".to_owned(), |password| format!("postgres:{password}"));
        format!("postgresql://{credentials}@127.0.0.1:{port}/postgres")
    };
    let refused = connect(&tcp(None)).await.expect_err("TCP without the password");
    assert!(refused.contains("password"), "{refused}");
    connect(&tcp(Some(&password))).await.expect("TCP with the password");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_an_earlier_version_made_trusting_every_local_user_is_given_a_password() {
    let cluster = PrivateCluster::directory();
    let server = cluster.path().join("postgres");
    std::fs::create_dir_all(&server).expect("the cluster's directory");
    if is_root() {
        let given = Command::new("chown").args(["postgres:postgres"]).arg(&server).status().expect("chown runs");
        assert!(given.success());
    }
    // What earlier versions did: initdb --auth=trust, TCP on loopback, the socket in the
    // cluster's (world-readable) directory.
    let binaries = find_binaries().expect("PostgreSQL's server binaries");
    let port = free_address().port();
    std::fs::write(server.join("port"), port.to_string()).expect("the port file");
    let data = server.join("data").display().to_string();
    let run = |args: &[&str]| {
        let output = server_command(&binaries, args[0]).args(&args[1..]).stdin(Stdio::null()).output().expect("runs");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    run(&["initdb", "-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "-N"]);
    let old_options = format!("-c listen_addresses=127.0.0.1 -p {port} -k {}", server.display());
    let log = server.join("server.log").display().to_string();
    run(&["pg_ctl", "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &old_options, "start"]);
    let trusted = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    connect(&trusted).await.expect("the old cluster trusts anyone on loopback");

    let migrated = investigator(&["migrate"], &env(&cluster, &[])).await;
    assert_eq!(migrated.code, Some(0), "{}", migrated.stderr);

    assert!(connect(&trusted).await.is_err(), "no TCP any more, and no trust");
    let (password, port) = password_and_port(&server);
    let refused = connect(&socket_url(&server, port, None)).await.expect_err("without the password");
    assert!(refused.contains("password"), "{refused}");
    connect(&socket_url(&server, port, Some(&password))).await.expect("with the password");
    assert_eq!(mode(&server.join("socket")), 0o700);
    assert_eq!(mode(&server), 0o700);
    assert_password_for_everything(&server);
}

/// The clusters `scripts/postgres.sh` made in a test, stopped and removed afterwards.
struct ScriptClusters {
    home: tempfile::TempDir,
    made: Vec<std::path::PathBuf>,
}

impl Drop for ScriptClusters {
    fn drop(&mut self) {
        let Ok(binaries) = find_binaries() else { return };
        for cluster in &self.made {
            let _ = server_command(&binaries, "pg_ctl")
                .arg("-D")
                .arg(cluster.join("data"))
                .args(["-m", "immediate", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if cluster.starts_with("/var/tmp") {
                let _ = std::fs::remove_dir_all(cluster);
            }
        }
    }
}

/// Runs `scripts/postgres.sh --private` with `home` as INVESTIGATOR_HOME.
fn postgres_script(home: &Path) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh");
    Command::new(script)
        .arg("--private")
        .env("INVESTIGATOR_HOME", home)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("the script runs")
}

/// The URL a successful run printed.
fn printed_url(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let line = stdout.lines().find_map(|line| line.strip_prefix("export DATABASE_URL='")).expect("an export line");
    line.trim_end_matches('\'').to_owned()
}

/// Where the script's cluster of `state` is.
fn script_cluster(state: &Path) -> std::path::PathBuf {
    match std::fs::read_to_string(state.join("postgres-cluster")) {
        Ok(recorded) => std::path::PathBuf::from(recorded.trim()),
        Err(_) => state.join("postgres"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scripts_private_cluster_is_theirs_alone_and_needs_its_password() {
    let mut clusters = ScriptClusters { home: tempfile::tempdir().expect("a directory"), made: Vec::new() };
    let state = clusters.home.path().join("state");
    let first = postgres_script(&state);
    let cluster = script_cluster(&state);
    clusters.made.push(cluster.clone());
    let url = printed_url(&first);

    assert_eq!(mode(&state), 0o700, "INVESTIGATOR_HOME");
    assert_eq!(mode(&state.join("postgres-password")), 0o600);
    assert_eq!(mode(&cluster), 0o700, "the cluster's directory");
    assert_eq!(mode(&cluster.join("socket")), 0o700, "the socket's directory");
    assert_password_for_everything(&cluster);
    connect(&url).await.expect("the printed URL connects");
    let password = std::fs::read_to_string(state.join("postgres-password")).expect("the password").trim().to_owned();
    let without = url.replace(&format!(":{password}@"), "@");
    assert_ne!(without, url);
    let refused = connect(&without).await.expect_err("without the password");
    assert!(refused.contains("password"), "{refused}");
    let port: u16 = std::fs::read_to_string(cluster.join("port")).expect("port").trim().parse().expect("a port");
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(), "no TCP listener");
    if is_root() {
        let other = psql_as_nobody(&url);
        assert!(!other.status.success(), "another account got in");
        assert!(String::from_utf8_lossy(&other.stderr).contains("Permission denied"));
    }
    assert_eq!(printed_url(&postgres_script(&state)), url, "run again, the same running cluster");

    // A state directory someone else owns is refused, never used.
    if is_root() {
        let theirs = clusters.home.path().join("theirs");
        std::fs::create_dir(&theirs).expect("a directory");
        let given = Command::new("chown").arg("nobody").arg(&theirs).status().expect("chown runs");
        assert!(given.success());
        let refused = postgres_script(&theirs);
        assert!(!refused.status.success(), "a home of someone else's was used");
        assert!(String::from_utf8_lossy(&refused.stderr).contains("refusing to use it"));
        assert!(!theirs.join("postgres-password").exists(), "nothing written into it");

        // A recorded cluster directory that is not the postgres user's private one is not used.
        let planted = clusters.home.path().join("planted");
        std::fs::create_dir(&planted).expect("a directory");
        std::fs::write(state.join("postgres-cluster"), format!("{}\n", planted.display())).expect("tamper");
        let replaced = postgres_script(&state);
        let new_cluster = script_cluster(&state);
        clusters.made.push(new_cluster.clone());
        printed_url(&replaced);
        assert_ne!(new_cluster, planted, "a new cluster, not the planted directory");
        assert!(!planted.join("data").exists(), "nothing created in the planted directory");
    }
}
