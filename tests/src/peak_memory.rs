//! The peak resident memory of the investigator's processes, for the tests that feed it
//! memory bombs: a running `serve`'s high-water mark (`VmHWM`), or a whole command's, as
//! GNU time reports it (`%M`) once the command ends. Both count the process's own memory,
//! the most it ever held, not what it holds when asked.

use std::time::Duration;

use crate::environment;
use crate::investigator_binary::{InvestigatorRun, investigator_binary};

/// GNU time, which reports a command's peak resident memory (Debian's package `time`).
const GNU_TIME: &str = "/usr/bin/time";

/// The most memory the process `pid` has held so far, in MiB (its `VmHWM`); `None` once it
/// has ended.
pub fn peak_resident_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs `investigator <args>` as [`crate::investigator`] does, under GNU time; gives what it
/// did and the most memory it held, in MiB.
pub async fn investigator_with_peak_memory(args: &[&str], env: &[(String, String)]) -> (InvestigatorRun, f64) {
    assert!(
        std::path::Path::new(GNU_TIME).is_file(),
        "{GNU_TIME} is missing: install Debian's package `time` (scripts/install-system.sh does)"
    );
    let report = tempfile::NamedTempFile::new().expect("a file for the time report");
    let log_filter = if environment::test_log() { environment::test_log_filter() } else { "warn".to_owned() };
    let mut command = tokio::process::Command::new(GNU_TIME);
    command
        .arg("--format=%M")
        .arg(format!("--output={}", report.path().display()))
        .arg(investigator_binary())
        .args(args)
        .env("RUST_LOG", log_filter)
        .env(crate::ALLOW_PRIVATE_NETWORKS.0, crate::ALLOW_PRIVATE_NETWORKS.1)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .expect("investigator finished within 300 s")
        .expect("investigator could be started under GNU time");
    let run = InvestigatorRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    let reported = std::fs::read_to_string(report.path()).expect("the time report");
    // GNU time writes "Command exited with non-zero status N" first when the command fails.
    let kib: f64 = reported
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .next_back()
        .unwrap_or_else(|| panic!("no peak memory in the time report: {reported}"));
    (run, kib / 1024.0)
}
