//! The versions of a package on an index, for messages that ask about every version
//! (`package_version` null or `*`): the package index client's answer, newest first, behind a
//! small cache. A short timeout and the cache keep a slow or absent index from holding up a
//! batch; when the index cannot be asked, or its answer not read, the decision uses the
//! versions the graph knows, and says so in its workflow requests. An answer larger than
//! [`MAX_LISTING_BYTES`] is not read whole: the graph's versions are used for it too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use investigator_core::PackageVersion;
use investigator_events::error_chain::one_line;
use investigator_events::excerpt::excerpt;

use crate::outbound::OutboundClient;
use crate::package_index::{IndexClient, IndexEndpoint, Project, ProjectListing};

/// The largest simple-API page read for a listing. PyPI's largest project pages (nightly
/// builds with thousands of wheels) come near it; an index streaming an endless page stops
/// here instead of filling the service's memory.
pub const MAX_LISTING_BYTES: u64 = 16 * 1024 * 1024;
/// How long a listing is reused.
const CACHE_TIME: Duration = Duration::from_secs(300);
/// Listings kept at most.
const CACHE_ENTRIES: usize = 10_000;

/// (name, index) -> when it was listed, and the versions.
type ListingCache = HashMap<(String, String), (Instant, Vec<String>)>;

/// Asks indexes for package versions.
pub struct VersionLister {
    client: IndexClient,
    cache: Mutex<ListingCache>,
}

impl std::fmt::Debug for VersionLister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VersionLister")
    }
}

impl VersionLister {
    /// A lister whose requests, bodies included, give up after `timeout`.
    pub fn new(outbound: OutboundClient, timeout: Duration) -> Self {
        let client = IndexClient::new(outbound, timeout).with_max_body_bytes(MAX_LISTING_BYTES);
        VersionLister { client, cache: Mutex::new(HashMap::new()) }
    }

    /// The versions of `name` (PEP 503 normalised) on `index`, newest first; `None` when the
    /// index could not be asked, does not have the project, or its answer could not be read.
    pub async fn list(&self, name: &str, index: &str) -> Option<Vec<String>> {
        let key = (name.to_owned(), index.to_owned());
        if let Some((at, versions)) = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&key)
            && at.elapsed() < CACHE_TIME
        {
            return Some(versions.clone());
        }
        // The simple API only: an index given by URL in a message has no known warehouse API.
        let endpoint = IndexEndpoint { url: index.to_owned(), warehouse_api_url: None, verify_ssl: true };
        let versions = match self.client.project(&endpoint, name).await {
            Ok(ProjectListing::Found(project)) => newest_first(&project),
            Ok(ProjectListing::NotFound) => {
                tracing::warn!(
                    package = %excerpt(name),
                    index = %excerpt(index),
                    "the index does not have the package; using the graph's versions"
                );
                return None;
            }
            Err(error) => {
                tracing::warn!(
                    error = %one_line(&error),
                    "the index could not list the package's versions; using the graph's"
                );
                return None;
            }
        };
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), versions.clone()));
        Some(versions)
    }
}

/// A project's versions, newest first by PEP 440 order.
fn newest_first(project: &Project) -> Vec<String> {
    let mut versions: Vec<PackageVersion> =
        project.versions.keys().filter_map(|text| PackageVersion::parse(text).ok()).collect();
    versions.sort();
    versions.dedup();
    versions.reverse();
    versions.iter().map(PackageVersion::normalized).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_newest_first_in_pep_440_order_not_text_order() {
        let project = Project {
            versions: ["1.0", "10.0", "2.0.1", "2.1.0rc1", "2.1.0"]
                .into_iter()
                .map(|version| (version.to_owned(), Vec::new()))
                .collect(),
        };
        assert_eq!(newest_first(&project), ["10.0", "2.1.0", "2.1.0rc1", "2.0.1", "1.0"]);
    }
}
