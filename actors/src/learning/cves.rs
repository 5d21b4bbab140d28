//! Vulnerabilities (Thoth's cve-update-job): OSV advisories matched against the versions the
//! graph knows on the CVE index; each affected version is recorded with the advisory (its
//! id, details and link become knowledge: `graph.cve`, `graph.has_vulnerability`) and
//! published as cve-provided, once per (advisory, version).

use std::collections::{BTreeMap, HashSet};

use investigator_core::learning::Driver;
use investigator_events::domain::{CveAdvisory, CveProvided, StreamId};
use investigator_events::thoth::MessageKind;
use investigator_projections::learning;
use serde_json::json;

use super::osv_source::{self, OsvSource, SourceReading};
use super::outbox::{Finding, message};
use super::round::Found;
use super::{LearningContext, LearningError};

/// The finding key of a version an advisory affects.
pub fn cve_finding(advisory: &str, index: &str, name: &str, version: &str) -> String {
    format!("cve/{advisory}/{index}/{name}/{version}")
}

/// Reads the advisories of `source` (the configured one when `None`) and finds the known
/// versions they affect.
pub async fn find(
    context: &LearningContext,
    source: Option<&OsvSource>,
    _budget: usize,
) -> Result<Found, LearningError> {
    let settings = &context.settings;
    let source = source.or(settings.cve_source.as_ref()).ok_or(LearningError::NoAdvisorySource)?;
    let reading = SourceReading {
        client: context.outbound.clone(),
        download_deadline: settings.cve_download_timeout,
        max_kept_bytes: settings.cve_max_kept_bytes,
    };
    let batch = osv_source::load(source, &reading).await?;
    let mut found = Found::default();
    found.errors.extend(batch.rejected.iter().map(|(document, reason)| format!("{document}: {reason}")));
    if batch.rejected_unlisted > 0 {
        found.errors.push(format!("{} more advisory documents rejected", batch.rejected_unlisted));
    }

    let index = settings.cve_index.as_str();
    let mut names: Vec<String> = batch
        .advisories
        .iter()
        .filter(|advisory| !advisory.withdrawn)
        .flat_map(|advisory| advisory.affected.iter().map(|affected| affected.name.clone()))
        .collect();
    names.sort();
    names.dedup();
    let mut connection = context.database.connection().await?;
    let client = connection.read().await?;
    let mut known: BTreeMap<String, Vec<(String, Vec<String>)>> = BTreeMap::new();
    for (name, version, linked) in learning::vulnerabilities_known(&client, index, &names).await? {
        known.entry(name).or_default().push((version, linked));
    }
    let queued = learning::queued_findings(&client, Driver::Cves.name(), "cve/").await?;
    let mut seen: HashSet<String> = HashSet::new();
    for advisory in &batch.advisories {
        found.checked += 1;
        for affected in &advisory.affected {
            let Some(versions) = known.get(&affected.name) else {
                continue;
            };
            let strings: Vec<String> = versions.iter().map(|(version, _)| version.clone()).collect();
            for version in advisory.affected_versions(&affected.name, &strings) {
                let linked = versions.iter().any(|(known, linked)| known == version && linked.contains(&advisory.id));
                let key = cve_finding(&advisory.id, index, &affected.name, version);
                if linked || queued.contains(&key) || !seen.insert(key.clone()) {
                    continue;
                }
                let event = CveProvided {
                    package_name: affected.name.clone(),
                    package_version: version.clone(),
                    index_url: index.to_owned(),
                    advisory: Some(CveAdvisory {
                        cve_id: advisory.id.clone(),
                        details: advisory.details.clone(),
                        link: advisory.link.clone(),
                    }),
                };
                let fields = json!({"package_name": affected.name, "package_version": version, "index_url": index});
                found.findings.push(Finding {
                    key,
                    attempt: 1,
                    reason: format!("affected by {}", advisory.id),
                    message: message(Driver::Cves, MessageKind::CveProvided, fields)?,
                    knowledge: vec![(StreamId::package(&affected.name), event.into())],
                });
            }
        }
    }
    Ok(found)
}
