//! New releases (Thoth's package-releases-job): for each enabled index, the versions it
//! serves that the graph does not know, published as package-released, once per version.
//!
//! An index with `only_if_package_seen` is asked only about the names the graph knows on it;
//! any other index is listed whole first. A project the index cannot list (timeout, error,
//! malformed answer) gives an error in the report and no finding.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use investigator_core::learning::Driver;
use investigator_events::error_chain::one_line;
use investigator_events::thoth::MessageKind;
use investigator_projections::learning;
use serde_json::json;

use super::indexes::{count_error, endpoint, projects};
use super::outbox::{Finding, message};
use super::round::Found;
use super::{LearningContext, LearningError};
use crate::package_index::ProjectListing;

/// The finding key of a version new on an index.
pub fn released_finding(index: &str, name: &str, version: &str) -> String {
    format!("released/{index}/{name}/{version}")
}

/// Finds new versions on every enabled index.
pub async fn find(context: &LearningContext, _budget: usize) -> Result<Found, LearningError> {
    let mut connection = context.database.connection().await?;
    let indexes = learning::enabled_indexes(&connection.read().await?).await?;
    let mut found = Found::default();
    for index in indexes {
        // Read in a transaction that ends before the index is asked: no connection is held
        // while the network is slow.
        let client = connection.read().await?;
        let mut known: BTreeMap<String, HashSet<String>> = BTreeMap::new();
        for version in learning::indexed_versions(&client, &index.url).await? {
            known.entry(version.package_name).or_default().insert(version.package_version);
        }
        let queued =
            learning::queued_findings(&client, Driver::Releases.name(), &format!("released/{}/", index.url)).await?;
        drop(client);
        let endpoint = endpoint(&index);
        let names: Vec<String> = if index.only_if_package_seen {
            known.keys().cloned().collect()
        } else {
            match context.index.project_names(&endpoint).await {
                Ok(names) => {
                    names.into_iter().chain(known.keys().cloned()).collect::<BTreeSet<_>>().into_iter().collect()
                }
                Err(error) => {
                    count_error(context, Driver::Releases, error.code());
                    found.errors.push(format!("{}: {}", index.url, one_line(&error)));
                    continue;
                }
            }
        };
        let listings = projects(context, &endpoint, names).await;
        for (name, listing) in listings {
            found.checked += 1;
            match listing {
                Ok(ProjectListing::Found(project)) => {
                    let known = known.get(&name);
                    for version in project.versions.keys() {
                        let key = released_finding(&index.url, &name, version);
                        if known.is_some_and(|known| known.contains(version)) || queued.contains(&key) {
                            continue;
                        }
                        let fields = json!({"index_url": index.url, "package_name": name, "package_version": version});
                        found.findings.push(Finding {
                            key,
                            attempt: 1,
                            reason: "new on the index".to_owned(),
                            message: message(Driver::Releases, MessageKind::PackageReleased, fields)?,
                            knowledge: Vec::new(),
                        });
                    }
                }
                // A package gone from the index is the update check's finding, not a release.
                Ok(ProjectListing::NotFound) => {}
                Err(error) => {
                    count_error(context, Driver::Releases, error.code());
                    found.errors.push(format!("{name} on {}: {}", index.url, one_line(&error)));
                }
            }
        }
    }
    Ok(found)
}
