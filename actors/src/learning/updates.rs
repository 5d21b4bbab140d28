//! Package updates (Thoth's package-update-job): for the versions the graph knows on each
//! enabled index, whether the index still serves them and the same artifacts.
//!
//! - the index answers 404 for the package: missing-package;
//! - the package is listed without a version the graph knows: missing-package-version;
//! - a version's sha256 hashes differ from the graph's: hash-mismatch, with the hashes the
//!   index no longer serves (`missing_from_source`) and the ones the graph lacks
//!   (`missing_from_database`).
//!
//! Each finding is published once. Only a 404 counts as "missing": a timeout, an error or a
//! malformed answer is reported as an error and leads to no finding.

use std::collections::{BTreeMap, BTreeSet};

use investigator_core::learning::Driver;
use investigator_events::error_chain::one_line;
use investigator_events::thoth::MessageKind;
use investigator_projections::learning::{self, IndexedVersion};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::indexes::{count_error, endpoint, projects};
use super::outbox::{Finding, message};
use super::round::Found;
use super::{LearningContext, LearningError};
use crate::package_index::ProjectListing;

/// Checks every known version on every enabled index.
pub async fn find(context: &LearningContext, _budget: usize) -> Result<Found, LearningError> {
    let mut connection = context.database.connection().await?;
    let client = connection.read().await?;
    let indexes = learning::enabled_indexes(&client).await?;
    let queued = learning::queued_findings(&client, Driver::Updates.name(), "").await?;
    drop(client);
    let mut found = Found::default();
    for index in indexes {
        // Read in a transaction that ends before the index is asked: no connection is held
        // while the network is slow.
        let client = connection.read().await?;
        let gone: BTreeSet<String> = learning::missing_packages(&client, &index.url).await?.into_iter().collect();
        let mut by_name: BTreeMap<String, Vec<IndexedVersion>> = BTreeMap::new();
        for version in learning::indexed_versions(&client, &index.url).await? {
            if !version.is_missing && !gone.contains(&version.package_name) {
                by_name.entry(version.package_name.clone()).or_default().push(version);
            }
        }
        drop(client);
        let names: Vec<String> = by_name.keys().cloned().collect();
        for (name, listing) in projects(context, &endpoint(&index), names).await {
            found.checked += 1;
            let versions = by_name.get(&name).map(Vec::as_slice).unwrap_or_default();
            let findings = match listing {
                Ok(ProjectListing::NotFound) => vec![(
                    format!("missing-package/{}/{name}", index.url),
                    "the index no longer serves the package".to_owned(),
                    MessageKind::MissingPackage,
                    json!({"index_url": index.url, "package_name": name}),
                )],
                Ok(ProjectListing::Found(project)) => versions
                    .iter()
                    .filter_map(|known| {
                        let Some(artifacts) = project.versions.get(&known.package_version) else {
                            return Some((
                                format!("missing-version/{}/{name}/{}", index.url, known.package_version),
                                "the index no longer serves the version".to_owned(),
                                MessageKind::MissingVersion,
                                json!({"index_url": index.url, "package_name": name,
                                       "package_version": known.package_version}),
                            ));
                        };
                        let served: BTreeSet<&str> =
                            artifacts.iter().filter_map(|artifact| artifact.sha256.as_deref()).collect();
                        mismatch(&index.url, &name, known, &served)
                    })
                    .collect(),
                Err(error) => {
                    count_error(context, Driver::Updates, error.code());
                    found.errors.push(format!("{name} on {}: {}", index.url, one_line(&error)));
                    Vec::new()
                }
            };
            for (key, reason, kind, fields) in findings {
                if queued.contains(&key) {
                    continue;
                }
                found.findings.push(Finding {
                    key,
                    attempt: 1,
                    reason,
                    message: message(Driver::Updates, kind, fields)?,
                    knowledge: Vec::new(),
                });
            }
        }
    }
    Ok(found)
}

type Candidate = (String, String, MessageKind, serde_json::Value);

/// A hash-mismatch when the graph knows hashes for the version and the index serves others.
fn mismatch(index: &str, name: &str, known: &IndexedVersion, served: &BTreeSet<&str>) -> Option<Candidate> {
    if known.sha256.is_empty() || served.is_empty() {
        return None;
    }
    let stored: BTreeSet<&str> = known.sha256.iter().map(String::as_str).collect();
    let missing_from_source: Vec<&str> = stored.difference(served).copied().collect();
    let missing_from_database: Vec<&str> = served.difference(&stored).copied().collect();
    if missing_from_source.is_empty() && missing_from_database.is_empty() {
        return None;
    }
    let mut digest = Sha256::new();
    for hash in missing_from_source.iter().chain([&"|"]).chain(&missing_from_database) {
        digest.update(hash.as_bytes());
    }
    let digest: String = digest.finalize().iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    Some((
        format!("hash-mismatch/{index}/{name}/{}/{digest}", known.package_version),
        format!(
            "{} hash(es) no longer served, {} new on the index",
            missing_from_source.len(),
            missing_from_database.len()
        ),
        MessageKind::HashMismatch,
        json!({"index_url": index, "package_name": name, "package_version": known.package_version,
               "missing_from_source": missing_from_source, "missing_from_database": missing_from_database}),
    ))
}
