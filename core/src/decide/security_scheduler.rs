//! The security-indicator scheduler (middletier): si-unanalyzed-package and solved-package
//! ask for a security-indicator analysis of versions without one; solved-package also asks
//! kebechet-administrator to tell the repositories that use the package.

use investigator_events::thoth::{SiUnanalyzedPackage, SolvedPackage};

use super::draft::DecisionDraft;
use super::fields;
use super::learning::{request_kebechet_administrator, request_security_indicator};
use super::parameters::{AdministratorSubject, PackageRef};
use super::{DecisionSettings, Rejection};

/// si-unanalyzed-package.
pub(super) fn si_unanalyzed_package(
    draft: &mut DecisionDraft<'_>,
    message: &SiUnanalyzedPackage,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let (name, version, index) =
        fields::version_on_index(&message.package_name, &message.package_version, &message.index_url)?;
    analyse_if_unanalysed(draft, settings, &PackageRef { name: &name, version: &version, index: &index });
    Ok(())
}

/// solved-package.
pub(super) fn solved_package(
    draft: &mut DecisionDraft<'_>,
    message: &SolvedPackage,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let (name, version, index) =
        fields::version_on_index(&message.package_name, &message.package_version, &message.index_url)?;
    let solver = fields::solver(&message.solver)?.to_string();
    analyse_if_unanalysed(draft, settings, &PackageRef { name: &name, version: &version, index: &index });
    let subject = AdministratorSubject { name: &name, version: Some(&version), index: &index, solver: Some(&solver) };
    request_kebechet_administrator(draft, settings, &subject);
    Ok(())
}

/// Asks for an analysis unless the version has one (a failed one counts, as in Thoth, so a
/// package that cannot be analysed is not tried again and again).
fn analyse_if_unanalysed(draft: &mut DecisionDraft<'_>, settings: &DecisionSettings, package: &PackageRef<'_>) {
    if !settings.schedule_security {
        draft.skip("security-indicator scheduling is off (THOTH_INVESTIGATOR_SCHEDULE_SECURITY=0)".to_owned());
        return;
    }
    if draft.knowledge().is_security_analyzed(package.name, package.version) {
        draft.skip(format!("{} {} already has security indicators", package.name, package.version));
        return;
    }
    request_security_indicator(draft, settings, package);
}

#[cfg(test)]
mod tests;
