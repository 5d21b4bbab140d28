//! The real `investigator` binary, run as a user would run it.

use std::path::PathBuf;
use std::time::Duration;

use crate::environment;

/// What a run of the binary gave.
#[derive(Debug)]
pub struct InvestigatorRun {
    /// The exit status code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// The binary built next to the test executable (`scripts/test.sh` builds it first).
pub fn investigator_binary() -> PathBuf {
    if let Some(binary) = environment::binary_override() {
        return binary;
    }
    let test_executable = std::env::current_exe().expect("the test executable's path");
    // <target>/<profile>/deps/<test> -> <target>/<profile>/investigator
    let profile_dir = test_executable.parent().and_then(|deps| deps.parent()).expect("target layout");
    let binary = profile_dir.join("investigator");
    assert!(
        binary.is_file(),
        "{} does not exist: build it with `cargo build -p investigator-ops` (scripts/test.sh does)",
        binary.display()
    );
    binary
}

/// Runs `investigator <args>` with `env` added to the environment, `stdin` on its input.
/// Loopback is allowed ([`crate::ALLOW_PRIVATE_NETWORKS`]) unless `env` says otherwise.
pub async fn investigator(args: &[&str], env: &[(String, String)]) -> InvestigatorRun {
    let log_filter = if environment::test_log() { environment::test_log_filter() } else { "warn".to_owned() };
    let mut command = tokio::process::Command::new(investigator_binary());
    command
        .args(args)
        .env("RUST_LOG", log_filter)
        .env(crate::ALLOW_PRIVATE_NETWORKS.0, crate::ALLOW_PRIVATE_NETWORKS.1)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("investigator finished within 120 s")
        .expect("investigator could be started");
    let run = InvestigatorRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    if environment::test_log() {
        eprintln!("investigator {}: exit {:?}\n{}", args.join(" "), run.code, run.stderr);
    }
    run
}
