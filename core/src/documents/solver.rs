//! A solver document as one `SolverResultRecorded`.

use investigator_events::documents::{
    DependencyEntry, DocumentError, ErrorEntry, LicenseEntry, SolverDocument, TreeEntry, UnresolvedEntry,
};
use investigator_events::domain::{
    ResolvedVersions, SolvedDependency, SolvedPackage, SolverError, SolverLicense, SolverResultRecorded,
    SolverUnparsed, SolverUnresolved,
};
use serde_json::Value;

use super::{index_url, package_name, timestamp, version};
use crate::SolverName;

/// The solver's result, normalised; errors name the field.
pub(super) fn solver_result(document: &SolverDocument) -> Result<SolverResultRecorded, DocumentError> {
    let metadata = &document.metadata;
    let solver = solver_of(&metadata.document_id)?;
    let environment = solver.environment();
    let result = &document.result;
    Ok(SolverResultRecorded {
        document_id: metadata.document_id.clone(),
        solver_name: solver.to_string(),
        solver_version: metadata.analyzer_version.clone(),
        os_name: environment.os_name,
        os_version: environment.os_version,
        python_version: environment.python_version,
        datetime: timestamp(&metadata.datetime, "metadata.datetime")?,
        duration: metadata.duration,
        platform: result.platform.clone(),
        packages: enumerate(&result.tree, "result.tree", solved_package)?,
        errors: enumerate(&result.errors, "result.errors", solver_error)?,
        unresolved: enumerate(&result.unresolved, "result.unresolved", unresolved)?,
        unparsed: result
            .unparsed
            .iter()
            .map(|entry| SolverUnparsed { requirement: entry.requirement.clone(), details: entry.details.clone() })
            .collect(),
    })
}

/// The solver name is the document id without its last two parts (timestamp, random id).
pub(crate) fn solver_of(document_id: &str) -> Result<SolverName, DocumentError> {
    let field = "metadata.document_id";
    let parts: Vec<&str> = document_id.rsplitn(3, '-').collect();
    let [_, _, name] = parts.as_slice() else {
        return Err(DocumentError::at(field, format!("'{document_id}' is not <solver name>-<timestamp>-<id>")));
    };
    SolverName::parse(name).map_err(|error| DocumentError::at(field, format!("in '{document_id}': {error}")))
}

fn enumerate<E, T>(
    entries: &[E],
    field: &str,
    convert: impl Fn(&E, &str) -> Result<T, DocumentError>,
) -> Result<Vec<T>, DocumentError> {
    entries.iter().enumerate().map(|(i, entry)| convert(entry, &format!("{field}[{i}]"))).collect()
}

fn solved_package(entry: &TreeEntry, field: &str) -> Result<SolvedPackage, DocumentError> {
    let requested = entry.package_version_requested.as_deref().unwrap_or(&entry.package_version);
    Ok(SolvedPackage {
        package_name: package_name(&entry.package_name, &format!("{field}.package_name"))?,
        package_version: version(requested),
        installed_version: entry.package_version.trim().to_owned(),
        index_url: index_url(&entry.index_url, &format!("{field}.index_url"))?,
        importlib_metadata: entry.importlib_metadata.clone().unwrap_or_default(),
        sha256: entry.sha256.iter().map(|hash| hash.trim().to_ascii_lowercase()).collect(),
        imports: entry.packages.clone(),
        license: entry.package_license.as_ref().and_then(license),
        dependencies: enumerate(&entry.dependencies, &format!("{field}.dependencies"), dependency)?,
    })
}

fn license(entry: &LicenseEntry) -> Option<SolverLicense> {
    let names = entry.license.as_ref()?;
    let name = names.full_name.clone().or_else(|| names.identifier_spdx.clone())?;
    Some(SolverLicense {
        identifier: names.identifier_spdx.clone().unwrap_or_else(|| "UNKNOWN".to_owned()),
        name,
        version: entry.license_version.clone().unwrap_or_else(|| "UNKNOWN".to_owned()),
        warning: entry.warning.unwrap_or(false),
    })
}

fn dependency(entry: &DependencyEntry, field: &str) -> Result<SolvedDependency, DocumentError> {
    let specifier = entry.specifier.as_deref().map(str::trim).unwrap_or_default();
    let resolved_versions = entry
        .resolved_versions
        .iter()
        .enumerate()
        .map(|(i, resolved)| {
            let index = match &resolved.index {
                Some(url) => Some(index_url(url, &format!("{field}.resolved_versions[{i}].index"))?),
                None => None,
            };
            Ok(ResolvedVersions { index, versions: resolved.versions.iter().map(|v| version(v)).collect() })
        })
        .collect::<Result<_, DocumentError>>()?;
    Ok(SolvedDependency {
        package_name: package_name(&entry.package_name, &format!("{field}.package_name"))?,
        // Thoth's solver writes no specifier as "" and some documents as "*": both mean any version.
        specifier: if specifier == "*" { String::new() } else { specifier.to_owned() },
        extras: entry.extras.clone(),
        extra: entry.extra.clone(),
        marker: entry.marker.clone(),
        marker_evaluated: entry.marker_evaluated.clone(),
        marker_evaluation_result: entry.marker_evaluation_result.unwrap_or(true),
        marker_evaluation_error: entry.marker_evaluation_error.as_ref().and_then(|error| match error {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            other => Some(other.to_string()),
        }),
        resolved_versions,
    })
}

fn solver_error(entry: &ErrorEntry, field: &str) -> Result<SolverError, DocumentError> {
    Ok(SolverError {
        package_name: package_name(&entry.package_name, &format!("{field}.package_name"))?,
        package_version: entry.package_version.as_deref().map(version),
        index_url: optional_index(entry.index_url.as_deref(), &format!("{field}.index_url"))?,
        error_type: entry.error_type.clone().unwrap_or_else(|| "error".to_owned()),
        details: entry.details.clone(),
        is_provided_package: entry.is_provided_package.unwrap_or(true),
        is_provided_package_version: entry.is_provided_package_version.unwrap_or(true),
    })
}

fn unresolved(entry: &UnresolvedEntry, field: &str) -> Result<SolverUnresolved, DocumentError> {
    Ok(SolverUnresolved {
        package_name: package_name(&entry.package_name, &format!("{field}.package_name"))?,
        version_spec: entry.version_spec.clone(),
        index_url: optional_index(entry.index_url.as_deref(), &format!("{field}.index_url"))?,
    })
}

fn optional_index(url: Option<&str>, field: &str) -> Result<Option<String>, DocumentError> {
    url.map(|url| index_url(url, field)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_solver_is_the_document_id_without_its_last_two_parts() {
        let solver = solver_of("solver-rhel-8-py38-210713010253-a24759ebdaa1442c").expect("valid");
        assert_eq!(solver.to_string(), "solver-rhel-8-py38");
        let error = solver_of("solver-nonsense-210801000001-0000000000000bad").expect_err("no environment");
        assert_eq!(error.field.as_deref(), Some("metadata.document_id"));
        assert!(error.reason.contains("solver-nonsense"), "{error}");
        assert!(solver_of("solver").is_err());
    }
}
