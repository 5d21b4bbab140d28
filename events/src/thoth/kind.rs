//! The 19 message types registered in thoth-messaging 0.16.2, with what the investigator
//! needs to know about each: its base topic name, the schema version thoth-messaging writes,
//! the versions the investigator handles and the consumer modes that handle it. The list of
//! kinds itself, with the enum of messages, is generated in `catalogue`.

use std::fmt;
use std::str::FromStr;

use crate::thoth::MessageKind;

/// The consumer modes of Thoth's investigator (`THOTH_CONSUMER_MODE`). A deployment
/// consumes the union of the topics of its modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsumerMode {
    /// User-facing work: advisers, provenance checks, kebechet, package extracts, flags.
    Backend,
    /// Learning work: solvers, security indicators, revsolvers, build analyses, graph syncs.
    Middletier,
    /// Counts every message by type and version; updates the advise-justification gauge.
    Metrics,
}

impl ConsumerMode {
    /// Every mode, in Thoth's order.
    pub const ALL: [ConsumerMode; 3] = [ConsumerMode::Backend, ConsumerMode::Middletier, ConsumerMode::Metrics];

    /// The mode's name as written in `THOTH_CONSUMER_MODE`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConsumerMode::Backend => "backend",
            ConsumerMode::Middletier => "middletier",
            ConsumerMode::Metrics => "metrics",
        }
    }
}

impl fmt::Display for ConsumerMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A consumer mode name that Thoth does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown consumer mode '{0}' (expected backend, middletier or metrics)")]
pub struct UnknownConsumerMode(pub String);

impl FromStr for ConsumerMode {
    type Err = UnknownConsumerMode;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ConsumerMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == name)
            .ok_or_else(|| UnknownConsumerMode(name.to_owned()))
    }
}

/// What is fixed about a message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSpec {
    /// The topic name without the deployment prefix.
    pub base_name: &'static str,
    /// The `version` thoth-messaging 0.16.2 writes by default.
    pub current_version: &'static str,
    /// The `version` values the investigator's handlers accept. Any other version is
    /// routed nowhere (a dead letter), except in the metrics mode, which counts them all.
    pub handled_versions: &'static [&'static str],
    /// The modes with a handler for this type. The metrics mode also counts every message of
    /// every type; it is listed only where it has the type's handler (advise-justification,
    /// which updates Thoth's justification gauge).
    pub handled_by: &'static [ConsumerMode],
}

use ConsumerMode::{Backend, Metrics, Middletier};

const V1: &[&str] = &["v1"];

impl MessageKind {
    /// The fixed facts about this kind.
    pub const fn spec(self) -> KindSpec {
        let (base_name, current_version, handled_versions, handled_by): (
            _,
            _,
            &'static [&'static str],
            &'static [ConsumerMode],
        ) = match self {
            MessageKind::AdviseJustification => ("thoth.advise-reporter.advise-justification", "v1", V1, &[Metrics]),
            MessageKind::AdviserTrigger => ("thoth.adviser-trigger", "v5", &["v1", "v2", "v3", "v4", "v5"], &[Backend]),
            MessageKind::BuildAnalysisTrigger => ("thoth.build-analysis-trigger", "v1", V1, &[Middletier]),
            MessageKind::CveProvided => ("thoth.cve-update.cve-provided", "v1", V1, &[Backend]),
            MessageKind::HashMismatch => ("thoth.package-update.hash-mismatch", "v1", V1, &[Backend, Middletier]),
            MessageKind::InspectionCompleted => ("thoth.inspection-completed", "v1", V1, &[Middletier]),
            MessageKind::KebechetRunUrlTrigger => ("thoth.kebechet-run-url-trigger", "v2", &["v1", "v2"], &[Backend]),
            MessageKind::KebechetTrigger => ("thoth.kebechet-trigger", "v1", V1, &[Backend]),
            MessageKind::MissingPackage => ("thoth.package-update.missing-package", "v1", V1, &[Backend]),
            MessageKind::MissingVersion => ("thoth.package-update.missing-package-version", "v1", V1, &[Backend]),
            MessageKind::PackageExtractTrigger => ("thoth.package-extract-trigger", "v2", &["v1", "v2"], &[Backend]),
            MessageKind::PackageReleased => ("thoth.package-release.package-released", "v1", V1, &[Middletier]),
            MessageKind::ProvenanceCheckerTrigger => {
                ("thoth.provenance-checker-trigger", "v4", &["v1", "v2", "v3", "v4"], &[Backend])
            }
            MessageKind::SiUnanalyzedPackage => ("thoth.investigator.si-unanalyzed-package", "v1", V1, &[Middletier]),
            MessageKind::SolvedPackage => ("thoth.solver.solved-package", "v1", V1, &[Middletier]),
            MessageKind::ThothRepoInit => ("thoth.repo-init", "v1", V1, &[Backend]),
            MessageKind::UnresolvedPackage => ("thoth.investigator.unresolved-package", "v1", V1, &[Middletier]),
            MessageKind::UnrevsolvedPackage => ("thoth.investigator.unrevsolved-package", "v1", V1, &[Middletier]),
            MessageKind::UpdateProvidesSourceDistro => ("thoth.update-provides-source-distro", "v1", V1, &[Middletier]),
        };
        KindSpec { base_name, current_version, handled_versions, handled_by }
    }

    /// The top-level fields of this kind's messages that hold a credential (registry
    /// passwords of the user triggers). Their values never reach the event log, a dead letter,
    /// a log line or a workflow parameter: a workflow gets them from a Kubernetes Secret
    /// (`core::decide`'s `Decision::secrets`), and a kept record has them redacted
    /// (`credentials::without_credentials`). Every kind is listed, so a new one is a decision.
    pub const fn credential_fields(self) -> &'static [&'static str] {
        match self {
            MessageKind::BuildAnalysisTrigger => &["base_registry_password", "output_registry_password"],
            MessageKind::PackageExtractTrigger => &["registry_password"],
            MessageKind::AdviseJustification
            | MessageKind::AdviserTrigger
            | MessageKind::CveProvided
            | MessageKind::HashMismatch
            | MessageKind::InspectionCompleted
            | MessageKind::KebechetRunUrlTrigger
            | MessageKind::KebechetTrigger
            | MessageKind::MissingPackage
            | MessageKind::MissingVersion
            | MessageKind::PackageReleased
            | MessageKind::ProvenanceCheckerTrigger
            | MessageKind::SiUnanalyzedPackage
            | MessageKind::SolvedPackage
            | MessageKind::ThothRepoInit
            | MessageKind::UnresolvedPackage
            | MessageKind::UnrevsolvedPackage
            | MessageKind::UpdateProvidesSourceDistro => &[],
        }
    }

    /// The topic name without the deployment prefix, e.g. `thoth.repo-init`.
    pub const fn base_name(self) -> &'static str {
        self.spec().base_name
    }

    /// The kind whose base topic name is `base_name`.
    pub fn from_base_name(base_name: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|kind| kind.base_name() == base_name)
    }

    /// Thoth's short type name, used as the `message_type` label of its metrics: the last
    /// dotted segment of the base name with `-` turned into `_` (`unresolved_package`).
    pub fn short_type(self) -> String {
        let base_name = self.base_name();
        let last_segment = base_name.rsplit('.').next().unwrap_or(base_name);
        last_segment.replace('-', "_")
    }

    /// Whether the investigator has a handler for this `version` of the message in `mode`.
    /// The metrics mode counts every version of every type.
    pub fn is_handled(self, mode: ConsumerMode, version: &str) -> bool {
        let spec = self.spec();
        match mode {
            Metrics => true,
            Backend | Middletier => spec.handled_by.contains(&mode) && spec.handled_versions.contains(&version),
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base_name())
    }
}

/// A base topic name that is not one of Thoth's 19 message types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not the base name of a Thoth message type (see `investigator emit --help` for the list)")]
pub struct UnknownMessageType(pub String);

impl FromStr for MessageKind {
    type Err = UnknownMessageType;

    fn from_str(base_name: &str) -> Result<Self, Self::Err> {
        MessageKind::from_base_name(base_name).ok_or_else(|| UnknownMessageType(base_name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn base_names_are_unique_and_round_trip() {
        let names: HashSet<_> = MessageKind::ALL.iter().map(|kind| kind.base_name()).collect();
        assert_eq!(names.len(), 19);
        for kind in MessageKind::ALL {
            assert_eq!(kind.base_name().parse::<MessageKind>(), Ok(kind));
        }
    }

    #[test]
    fn every_current_version_is_handled_by_every_mode_that_handles_the_type() {
        for kind in MessageKind::ALL {
            let spec = kind.spec();
            assert!(!spec.handled_by.is_empty(), "{kind} has no mode");
            for mode in spec.handled_by {
                assert!(kind.is_handled(*mode, spec.current_version), "{kind} v{}", spec.current_version);
            }
        }
    }

    #[test]
    fn versions_outside_the_handler_table_are_not_handled() {
        assert!(MessageKind::AdviserTrigger.is_handled(Backend, "v3"));
        assert!(!MessageKind::AdviserTrigger.is_handled(Backend, "v6"));
        assert!(!MessageKind::AdviserTrigger.is_handled(Middletier, "v5"));
        assert!(MessageKind::AdviserTrigger.is_handled(Metrics, "v6"));
        assert!(MessageKind::HashMismatch.is_handled(Backend, "v1"));
        assert!(MessageKind::HashMismatch.is_handled(Middletier, "v1"));
        assert!(!MessageKind::UnresolvedPackage.is_handled(Middletier, "v2"));
    }

    #[test]
    fn short_types_match_thoth_metric_labels() {
        assert_eq!(MessageKind::UnresolvedPackage.short_type(), "unresolved_package");
        assert_eq!(MessageKind::MissingVersion.short_type(), "missing_package_version");
        assert_eq!(MessageKind::ThothRepoInit.short_type(), "repo_init");
        assert_eq!(MessageKind::UpdateProvidesSourceDistro.short_type(), "update_provides_source_distro");
    }

    #[test]
    fn unknown_names_are_refused() {
        assert_eq!(
            "thoth.investigator.adviser-re-run".parse::<MessageKind>(),
            Err(UnknownMessageType("thoth.investigator.adviser-re-run".to_owned()))
        );
        assert_eq!("middletier".parse(), Ok(Middletier));
        assert!("investigator".parse::<ConsumerMode>().is_err());
    }
}
