//! Deterministic workflow names. Thoth named machine-triggered workflows with the clock and
//! a random number, so a redelivered record launched a second workflow; here a name is a
//! hash of what caused it, so the same record always asks for the same names and the cluster
//! refuses the second creation.

use investigator_events::domain::{WorkflowKind, WorkflowTarget};
use sha2::{Digest, Sha256};

use super::MessageOrigin;
use super::fields::MAX_LABEL_LEN;

/// Hex digits of the hash in a name: 64 bits, as in Thoth's names.
const HASH_HEX_LEN: usize = 16;

/// The name of a workflow a message's record asked for about `target`:
/// `{prefix}-{16 hex}`, where the hash covers the record's coordinates, the kind and the
/// target, so different targets of one record get different names.
pub(super) fn for_target(prefix: &str, origin: &MessageOrigin, kind: WorkflowKind, target: &WorkflowTarget) -> String {
    let optional = |field: &Option<String>| field.clone().unwrap_or_default();
    hashed(
        prefix,
        &[
            &origin.topic,
            &origin.partition.to_string(),
            &origin.offset.to_string(),
            kind.name(),
            &optional(&target.package_name),
            &optional(&target.package_version),
            &optional(&target.index_url),
            &optional(&target.solver_name),
        ],
    )
}

/// The name of the one workflow a record asked for, when the sender gave no `job_id`.
pub(super) fn for_record(origin: &MessageOrigin, kind: WorkflowKind) -> String {
    hashed(kind.name(), &[&origin.topic, &origin.partition.to_string(), &origin.offset.to_string(), kind.name()])
}

/// The name of the re-run of a parked adviser: from the parked run's id alone, so however
/// many solved-package messages release it, there is one re-run.
pub(super) fn adviser_re_run(adviser_document_id: &str) -> String {
    hashed(WorkflowKind::Adviser.name(), &["re-run", adviser_document_id])
}

/// A name derived from another workflow's name (the analysis ids a build analysis needs).
pub(super) fn derived(prefix: &str, workflow_id: &str, role: &str) -> String {
    hashed(prefix, &[workflow_id, role])
}

/// `{prefix}-{hash of parts}`, a DNS-1123 label whatever the prefix: characters outside
/// `[a-z0-9-]` become `-` and the prefix is shortened so the name fits in 63 characters.
fn hashed(prefix: &str, parts: &[&str]) -> String {
    // JSON keeps the parts apart: ("a-b", "c") and ("a", "b-c") hash differently.
    let encoded = serde_json::Value::from(parts.iter().map(|part| (*part).to_owned()).collect::<Vec<_>>()).to_string();
    let digest = Sha256::digest(encoded.as_bytes());
    let hash: String = digest.iter().take(HASH_HEX_LEN / 2).map(|byte| format!("{byte:02x}")).collect();
    let prefix = label_prefix(prefix, MAX_LABEL_LEN - HASH_HEX_LEN - 1);
    if prefix.is_empty() { hash } else { format!("{prefix}-{hash}") }
}

fn label_prefix(prefix: &str, max_len: usize) -> String {
    let sanitized: String = prefix
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' })
        .take(max_len)
        .collect();
    sanitized.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::super::fields::is_dns_label;
    use super::*;

    fn origin(offset: i64) -> MessageOrigin {
        MessageOrigin { topic: "ocp4-stage.thoth.investigator.unresolved-package".to_owned(), partition: 0, offset }
    }

    fn target(version: &str, solver: &str) -> WorkflowTarget {
        WorkflowTarget {
            package_name: Some("flask".to_owned()),
            package_version: Some(version.to_owned()),
            index_url: Some("https://pypi.org/simple".to_owned()),
            solver_name: Some(solver.to_owned()),
        }
    }

    #[test]
    fn the_same_record_and_target_always_give_the_same_name() {
        let first =
            for_target("solver-rhel-8-py38", &origin(7), WorkflowKind::Solver, &target("2.0.1", "solver-rhel-8-py38"));
        let again =
            for_target("solver-rhel-8-py38", &origin(7), WorkflowKind::Solver, &target("2.0.1", "solver-rhel-8-py38"));
        assert_eq!(first, again);
        assert!(first.starts_with("solver-rhel-8-py38-"), "{first}");
        assert_eq!(first.len(), "solver-rhel-8-py38-".len() + 16);
    }

    #[test]
    fn other_records_and_targets_give_other_names() {
        let base =
            for_target("solver-rhel-8-py38", &origin(7), WorkflowKind::Solver, &target("2.0.1", "solver-rhel-8-py38"));
        let other_offset =
            for_target("solver-rhel-8-py38", &origin(8), WorkflowKind::Solver, &target("2.0.1", "solver-rhel-8-py38"));
        let other_version =
            for_target("solver-rhel-8-py38", &origin(7), WorkflowKind::Solver, &target("2.0.0", "solver-rhel-8-py38"));
        let other_kind = for_target(
            "solver-rhel-8-py38",
            &origin(7),
            WorkflowKind::Revsolver,
            &target("2.0.1", "solver-rhel-8-py38"),
        );
        assert_ne!(base, other_offset);
        assert_ne!(base, other_version);
        assert_ne!(base, other_kind);
        assert_ne!(for_record(&origin(7), WorkflowKind::Adviser), for_record(&origin(8), WorkflowKind::Adviser));
    }

    #[test]
    fn names_are_dns_labels_even_for_long_or_odd_prefixes() {
        let prefixes = [
            "solver-fedora-35-py310",
            "solver-rhel-8-py312",
            "solver-almalinux-9.10-py3120",
            "solver-centos_stream-10-py314",
            "solver-opensuseleaptumbleweedmicroos-20261120-py3130",
            "kebechet-administrator",
            "security-indicator",
            "Solver-UPPER-8-py38",
            "---",
        ];
        for prefix in prefixes {
            let name = for_target(prefix, &origin(i64::MAX), WorkflowKind::Solver, &target("2.0.1", prefix));
            assert!(name.len() <= 63, "{name} has {} characters", name.len());
            assert!(is_dns_label(&name), "{name}");
        }
        // Cut to 46 characters, the prefix would end in '-', which is trimmed.
        let cut_at_dash = for_target(prefixes[4], &origin(1), WorkflowKind::Solver, &target("1", prefixes[4]));
        assert_eq!(cut_at_dash.len(), 62, "{cut_at_dash}");
        let longest = "solver-opensuseleaptumbleweedmicroos-2026112099-py3130";
        let full = for_target(longest, &origin(1), WorkflowKind::Solver, &target("1", longest));
        assert_eq!(full.len(), 63, "{full}");
        assert!(full.starts_with("solver-opensuseleaptumbleweedmicroos-202611209-"), "{full}");
        assert_eq!(label_prefix("solver-almalinux-9.10-py3120", 46), "solver-almalinux-9-10-py3120");
        assert!(is_dns_label(&for_target("---", &origin(1), WorkflowKind::Solver, &WorkflowTarget::default())));
    }

    #[test]
    fn a_re_run_name_depends_on_the_parked_run_only() {
        let name = adviser_re_run("adviser-210714091502-7c1f3b1a9d2e4f60");
        assert_eq!(name, adviser_re_run("adviser-210714091502-7c1f3b1a9d2e4f60"));
        assert_ne!(name, adviser_re_run("adviser-210714091502-7c1f3b1a9d2e4f61"));
        assert!(name.starts_with("adviser-") && name.len() == 24 && is_dns_label(&name), "{name}");
    }
}
