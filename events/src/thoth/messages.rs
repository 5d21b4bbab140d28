//! One struct per message type, fields in thoth-messaging's declaration order (which is the
//! JSON key order on the wire), after the three base fields every message has.

mod advise_justification;
mod adviser_trigger;
mod build_analysis_trigger;
mod cve_provided;
mod hash_mismatch;
mod inspection_completed;
mod kebechet_run_url;
mod kebechet_trigger;
mod missing_package;
mod missing_version;
mod package_extract_trigger;
mod package_released;
mod provenance_checker_trigger;
mod si_unanalyzed_package;
mod solved_package;
mod thoth_repo_init;
mod unresolved_package;
mod unrevsolved_package;
mod update_provides_src_distro;

pub use advise_justification::AdviseJustification;
pub use adviser_trigger::AdviserTrigger;
pub use build_analysis_trigger::BuildAnalysisTrigger;
pub use cve_provided::CveProvided;
pub use hash_mismatch::HashMismatch;
pub use inspection_completed::InspectionCompleted;
pub use kebechet_run_url::{InternalTrigger, KebechetRunUrlMetadata, KebechetRunUrlTrigger};
pub use kebechet_trigger::KebechetTrigger;
pub use missing_package::MissingPackage;
pub use missing_version::MissingVersion;
pub use package_extract_trigger::PackageExtractTrigger;
pub use package_released::PackageReleased;
pub use provenance_checker_trigger::ProvenanceCheckerTrigger;
pub use si_unanalyzed_package::SiUnanalyzedPackage;
pub use solved_package::SolvedPackage;
pub use thoth_repo_init::ThothRepoInit;
pub use unresolved_package::UnresolvedPackage;
pub use unrevsolved_package::UnrevsolvedPackage;
pub use update_provides_src_distro::UpdateProvidesSourceDistro;
