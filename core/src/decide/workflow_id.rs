//! Deterministic workflow names in Thoth's format, `{prefix}-{yymmddHHMMSS}-{16 hex}`
//! (`OpenShift.generate_id`). Thoth took the clock and a random number, so a redelivered record
//! launched a second workflow; here the time is the record's own (its Kafka timestamp, or when it
//! was published on the embedded bus) and the hex a hash of what caused it, so the same record
//! always asks for the same names and the cluster refuses the second creation.
//!
//! The time is not decoration. A name is also the id of the document its workflow writes, and
//! Thoth's tools read a solver's name back as that id without its last two parts (so does
//! `documents::solver`): a name without them names no solver, and its results are refused. It
//! also keeps the names of one period together in the indexes they are written to (random keys
//! spread every batch's inserts over the whole index).

use chrono::{DateTime, Datelike};
use investigator_events::domain::{WorkflowKind, WorkflowTarget};
use sha2::{Digest, Sha256};

use super::MessageOrigin;
use super::fields::MAX_LABEL_LEN;

/// Hex digits of the hash in a name: 64 bits, as in Thoth's names.
const HASH_HEX_LEN: usize = 16;
/// `yymmddHHMMSS`.
const TIME_LEN: usize = 12;
/// The time of a record that has none (a broker that gave no timestamp, one outside the years
/// two digits can say).
const NO_TIME: &str = "000000000000";

/// The name of a workflow a message's record asked for about `target`: the hash covers the
/// record's coordinates, the kind and the target, so different targets of one record get
/// different names.
pub(super) fn for_target(prefix: &str, origin: &MessageOrigin, kind: WorkflowKind, target: &WorkflowTarget) -> String {
    let optional = |field: &Option<String>| field.clone().unwrap_or_default();
    hashed(
        prefix,
        &record_time(origin),
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
    hashed(
        kind.name(),
        &record_time(origin),
        &[&origin.topic, &origin.partition.to_string(), &origin.offset.to_string(), kind.name()],
    )
}

/// The name of the re-run of a parked adviser: from the parked run's id alone, so however
/// many solved-package messages release it, there is one re-run. It keeps the parked run's time.
pub(super) fn adviser_re_run(adviser_document_id: &str) -> String {
    hashed(WorkflowKind::Adviser.name(), time_within(adviser_document_id), &["re-run", adviser_document_id])
}

/// A name derived from another workflow's name (the analysis ids a build analysis needs), with
/// that workflow's time.
pub(super) fn derived(prefix: &str, workflow_id: &str, role: &str) -> String {
    hashed(prefix, time_within(workflow_id), &[workflow_id, role])
}

/// The record's time as `yymmddHHMMSS` in UTC, as Thoth wrote its clock.
fn record_time(origin: &MessageOrigin) -> String {
    origin
        .published_at_ms
        .and_then(DateTime::from_timestamp_millis)
        .filter(|time| (2000..=2099).contains(&time.year()))
        .map_or_else(|| NO_TIME.to_owned(), |time| time.format("%y%m%d%H%M%S").to_string())
}

/// The time part of a name in Thoth's format, or [`NO_TIME`] for a name without one (a
/// `job_id` a sender chose).
fn time_within(name: &str) -> &str {
    name.rsplit('-')
        .nth(1)
        .filter(|part| part.len() == TIME_LEN && part.bytes().all(|byte| byte.is_ascii_digit()))
        .unwrap_or(NO_TIME)
}

/// `{prefix}-{time}-{hash of parts}`, a DNS-1123 label whatever the prefix: characters outside
/// `[a-z0-9-]` become `-` and the prefix is shortened so the name fits in 63 characters.
fn hashed(prefix: &str, time: &str, parts: &[&str]) -> String {
    // JSON keeps the parts apart: ("a-b", "c") and ("a", "b-c") hash differently.
    let encoded = serde_json::Value::from(parts.iter().map(|part| (*part).to_owned()).collect::<Vec<_>>()).to_string();
    let digest = Sha256::digest(encoded.as_bytes());
    let hash: String = digest.iter().take(HASH_HEX_LEN / 2).map(|byte| format!("{byte:02x}")).collect();
    let prefix = label_prefix(prefix, MAX_LABEL_LEN - TIME_LEN - HASH_HEX_LEN - 2);
    if prefix.is_empty() { format!("{time}-{hash}") } else { format!("{prefix}-{time}-{hash}") }
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

    /// 2021-10-08 12:10:19.5 UTC.
    const PUBLISHED_AT_MS: i64 = 1_633_695_019_500;

    fn origin(offset: i64) -> MessageOrigin {
        MessageOrigin {
            topic: "ocp4-stage.thoth.investigator.unresolved-package".to_owned(),
            partition: 0,
            offset,
            published_at_ms: Some(PUBLISHED_AT_MS),
        }
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
        assert!(first.starts_with("solver-rhel-8-py38-211008121019-"), "{first}");
        assert_eq!(first.len(), "solver-rhel-8-py38-211008121019-".len() + 16);
    }

    #[test]
    fn a_solver_workflows_name_reads_back_as_its_solver_like_thoths_tools_read_it() {
        for solver in ["solver-rhel-8-py38", "solver-fedora-35-py310", "solver-ubi-9-py39"] {
            let name = for_target(solver, &origin(7), WorkflowKind::Solver, &target("2.0.1", solver));
            let read_back =
                crate::documents::solver::solver_of(&name).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(read_back, crate::SolverName::parse(solver).expect("a valid solver name"), "{name}");
        }
    }

    #[test]
    fn a_record_without_a_usable_time_gives_zeros_where_the_time_goes() {
        let at = |published_at_ms| MessageOrigin { published_at_ms, ..origin(7) };
        let solver = target("2.0.1", "solver-rhel-8-py38");
        let name =
            |published_at_ms| for_target("solver-rhel-8-py38", &at(published_at_ms), WorkflowKind::Solver, &solver);
        assert!(name(None).starts_with("solver-rhel-8-py38-000000000000-"), "{}", name(None));
        // 1970 and 2150 do not fit in two digits of a year of this century.
        assert!(name(Some(0)).starts_with("solver-rhel-8-py38-000000000000-"), "{}", name(Some(0)));
        assert!(name(Some(5_617_000_000_000)).starts_with("solver-rhel-8-py38-000000000000-"));
        assert!(name(Some(-1)).starts_with("solver-rhel-8-py38-000000000000-"));
        // The time is not part of the hash: only where the record is says which record it is.
        assert_eq!(name(None).rsplit('-').next(), name(Some(PUBLISHED_AT_MS)).rsplit('-').next());
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
        // Cut to 33 characters, this prefix would end in '-', which is trimmed.
        let cut_at_dash = "solver-opensuseleaptumbleweedmic-9-py39";
        let cut_at_dash = for_target(cut_at_dash, &origin(1), WorkflowKind::Solver, &target("1", cut_at_dash));
        assert_eq!(cut_at_dash.len(), 62, "{cut_at_dash}");
        let longest = prefixes[4];
        let full = for_target(longest, &origin(1), WorkflowKind::Solver, &target("1", longest));
        assert_eq!(full.len(), 63, "{full}");
        assert!(full.starts_with("solver-opensuseleaptumbleweedmicr-211008121019-"), "{full}");
        assert_eq!(label_prefix("solver-almalinux-9.10-py3120", 33), "solver-almalinux-9-10-py3120");
        assert!(is_dns_label(&for_target("---", &origin(1), WorkflowKind::Solver, &WorkflowTarget::default())));
    }

    #[test]
    fn a_re_run_name_depends_on_the_parked_run_only() {
        let name = adviser_re_run("adviser-210714091502-7c1f3b1a9d2e4f60");
        assert_eq!(name, adviser_re_run("adviser-210714091502-7c1f3b1a9d2e4f60"));
        assert_ne!(name, adviser_re_run("adviser-210714091502-7c1f3b1a9d2e4f61"));
        assert!(name.starts_with("adviser-210714091502-") && name.len() == 37 && is_dns_label(&name), "{name}");
        // A parked run named by a sender, without a time: zeros stand in for it.
        assert!(adviser_re_run("my-advise").starts_with("adviser-000000000000-"));
    }

    #[test]
    fn a_derived_name_keeps_the_time_of_the_name_it_comes_from() {
        let build = for_record(&origin(3), WorkflowKind::BuildAnalysis);
        let base = derived("package-extract", &build, "base");
        assert!(base.starts_with("package-extract-211008121019-"), "{base}");
        assert_ne!(base, derived("package-extract", &build, "output"));
    }
}
