//! The flagger (backend, and middletier for source distributions): facts an index reported
//! about a package become knowledge events, and kebechet-administrator is asked to tell the
//! repositories that use the package.

use investigator_events::domain::{
    CveProvided as CveRecorded, PackageMarkedMissing, SourceDistributionFlagSet, StreamId, VersionMarkedMissing,
};
use investigator_events::thoth::{
    CveProvided, HashMismatch, MissingPackage, MissingVersion, UpdateProvidesSourceDistro,
};

use super::draft::DecisionDraft;
use super::fields;
use super::learning::request_kebechet_administrator;
use super::parameters::AdministratorSubject;
use super::{DecisionSettings, Rejection};

/// missing-package: every version of the package is gone from the index.
pub(super) fn missing_package(
    draft: &mut DecisionDraft<'_>,
    message: &MissingPackage,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let name = fields::package_name(&message.package_name)?;
    let index = fields::index_url(&message.index_url)?;
    draft
        .event(StreamId::package(&name), PackageMarkedMissing { package_name: name.clone(), index_url: index.clone() });
    let subject = AdministratorSubject { name: &name, version: None, index: &index, solver: None };
    request_kebechet_administrator(draft, settings, &subject);
    Ok(())
}

/// missing-package-version: one version is gone from the index.
pub(super) fn missing_version(
    draft: &mut DecisionDraft<'_>,
    message: &MissingVersion,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let (name, version, index) =
        fields::version_on_index(&message.package_name, &message.package_version, &message.index_url)?;
    draft.event(
        StreamId::package(&name),
        VersionMarkedMissing { package_name: name.clone(), package_version: version.clone(), index_url: index.clone() },
    );
    administrate_version(draft, settings, &name, &version, &index);
    Ok(())
}

/// update-provides-source-distro: whether the version ships a source distribution.
pub(super) fn update_provides_source_distro(
    draft: &mut DecisionDraft<'_>,
    message: &UpdateProvidesSourceDistro,
) -> Result<(), Rejection> {
    let (name, version, index) =
        fields::version_on_index(&message.package_name, &message.package_version, &message.index_url)?;
    draft.event(
        StreamId::package(&name),
        SourceDistributionFlagSet {
            package_name: name.clone(),
            package_version: version,
            index_url: index,
            provides_source_distro: message.value,
        },
    );
    Ok(())
}

/// cve-provided: the version is vulnerable (the message does not say to what).
pub(super) fn cve_provided(
    draft: &mut DecisionDraft<'_>,
    message: &CveProvided,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let (name, version, index) =
        fields::version_on_index(&message.package_name, &message.package_version, &message.index_url)?;
    draft.event(
        StreamId::package(&name),
        CveRecorded {
            package_name: name.clone(),
            package_version: version.clone(),
            index_url: index.clone(),
            advisory: None,
        },
    );
    administrate_version(draft, settings, &name, &version, &index);
    Ok(())
}

/// hash-mismatch (backend part): only kebechet-administrator; the middletier part records
/// the hashes.
pub(super) fn hash_mismatch(
    draft: &mut DecisionDraft<'_>,
    message: &HashMismatch,
    settings: &DecisionSettings,
) -> Result<(), Rejection> {
    let (name, version, index) =
        fields::version_on_index(&message.package_name, &message.package_version, &message.index_url)?;
    administrate_version(draft, settings, &name, &version, &index);
    Ok(())
}

fn administrate_version(
    draft: &mut DecisionDraft<'_>,
    settings: &DecisionSettings,
    name: &str,
    version: &str,
    index: &str,
) {
    let subject = AdministratorSubject { name, version: Some(version), index, solver: None };
    request_kebechet_administrator(draft, settings, &subject);
}

#[cfg(test)]
mod tests;
