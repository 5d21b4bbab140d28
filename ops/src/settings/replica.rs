//! Who this replica is, and how long the lease of its singleton duties lasts
//! (`investigator_actors::duty`).

use std::time::Duration;

use investigator_actors::duty::LeaseSettings;

use super::{Reader, numbers};

/// The lease's time to live when `INVESTIGATOR_LEASE_TTL_S` is not set.
const DEFAULT_LEASE_TTL_S: u64 = 15;
/// The longest replica id (a pod's name is at most 253 characters, and the pid is added).
const MAX_REPLICA_ID_CHARS: usize = 200;

impl Reader<'_> {
    /// `INVESTIGATOR_REPLICA_ID` (the host's name and the process id) and
    /// `INVESTIGATOR_LEASE_TTL_S` (15, from 3 to 300).
    pub(super) fn lease(&mut self) -> LeaseSettings {
        LeaseSettings { replica_id: self.replica_id(), ttl: self.lease_ttl() }
    }

    fn replica_id(&mut self) -> String {
        const VARIABLE: &str = "INVESTIGATOR_REPLICA_ID";
        let Some(value) = self.text(VARIABLE) else {
            return default_replica_id(self.text("HOSTNAME"));
        };
        if value.chars().count() > MAX_REPLICA_ID_CHARS {
            self.problem(VARIABLE, format!("longer than {MAX_REPLICA_ID_CHARS} characters"));
        } else if !value.chars().all(is_replica_id_character) {
            self.problem(
                VARIABLE,
                format!(
                    "'{}' has characters other than letters, digits, '.', '_', ':' and '-'",
                    investigator_events::excerpt::excerpt(&value)
                ),
            );
        }
        value
    }

    fn lease_ttl(&mut self) -> Duration {
        Duration::from_secs(self.bounded(&numbers::INVESTIGATOR_LEASE_TTL_S).unwrap_or(DEFAULT_LEASE_TTL_S))
    }
}

fn is_replica_id_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | ':' | '-')
}

/// The host's name (`HOSTNAME`, which Kubernetes sets to the pod's name, else the kernel's)
/// and this process's id: two processes on one host are two replicas.
fn default_replica_id(hostname: Option<String>) -> String {
    let hostname = hostname
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().chars().filter(|character| is_replica_id_character(*character)).collect::<String>())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "investigator".to_owned());
    let hostname: String = hostname.chars().take(MAX_REPLICA_ID_CHARS - 12).collect();
    format!("{hostname}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, crate::settings::SettingsError> {
        Settings::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn the_replica_is_the_host_and_process_and_the_lease_lasts_15_seconds_by_default() {
        let lease = settings(&[("HOSTNAME", "investigator-7d9f-abcde")]).expect("valid").service.lease;
        assert_eq!(lease.replica_id, format!("investigator-7d9f-abcde-{}", std::process::id()));
        assert_eq!(lease.ttl, std::time::Duration::from_secs(15));
        let set = settings(&[("INVESTIGATOR_REPLICA_ID", "pod-1"), ("INVESTIGATOR_LEASE_TTL_S", "3")])
            .expect("valid")
            .service
            .lease;
        assert_eq!((set.replica_id.as_str(), set.ttl.as_secs()), ("pod-1", 3));
    }

    #[test]
    fn a_lease_ttl_out_of_range_and_a_replica_id_with_spaces_are_refused_by_name() {
        for ttl in ["2", "301", "0", "-5", "fifteen", "1.5"] {
            let error = settings(&[("INVESTIGATOR_LEASE_TTL_S", ttl)]).expect_err("refused");
            assert_eq!(error.0.len(), 1, "{ttl}: {error}");
            assert_eq!(error.0[0].variable, "INVESTIGATOR_LEASE_TTL_S");
            assert!(error.0[0].problem.contains("from 3 to 300"), "{}", error.0[0].problem);
        }
        let error = settings(&[("INVESTIGATOR_REPLICA_ID", "pod 1\n")]).expect_err("refused");
        assert_eq!(error.0[0].variable, "INVESTIGATOR_REPLICA_ID");
        let long = "a".repeat(201);
        let error = settings(&[("INVESTIGATOR_REPLICA_ID", long.as_str())]).expect_err("refused");
        assert_eq!(error.0[0].variable, "INVESTIGATOR_REPLICA_ID");
    }
}
