//! The versions of a package on an index, from its simple API (PEP 503 pages, or PEP 691
//! JSON with PEP 700's `versions`), for messages that ask about every version
//! (`package_version` null or `*`). A short timeout and a small cache keep a slow or absent
//! index from holding up a batch; when the index cannot be asked, the decision uses the
//! versions the graph knows, and says so in its workflow requests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use investigator_core::PackageVersion;

/// How long a listing is reused.
const CACHE_TIME: Duration = Duration::from_secs(300);
/// Listings kept at most.
const CACHE_ENTRIES: usize = 10_000;

/// (name, index) -> when it was listed, and the versions.
type ListingCache = HashMap<(String, String), (Instant, Vec<String>)>;

/// Asks indexes for package versions.
pub struct VersionLister {
    client: reqwest::Client,
    cache: Mutex<ListingCache>,
}

impl std::fmt::Debug for VersionLister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VersionLister")
    }
}

impl VersionLister {
    /// A lister whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("thoth-investigator/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(VersionLister { client, cache: Mutex::new(HashMap::new()) })
    }

    /// The versions of `name` (PEP 503 normalised) on `index`, newest first; `None` when the
    /// index could not be asked or its answer not read.
    pub async fn list(&self, name: &str, index: &str) -> Option<Vec<String>> {
        let key = (name.to_owned(), index.to_owned());
        if let Some((at, versions)) = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&key)
            && at.elapsed() < CACHE_TIME
        {
            return Some(versions.clone());
        }
        let url = format!("{}/{name}/", index.trim_end_matches('/'));
        let response = self
            .client
            .get(&url)
            .header("Accept", "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        let body = match response {
            Ok(response) => response.text().await,
            Err(error) => Err(error),
        };
        let versions = match body {
            Ok(body) => parse_listing(name, &body),
            Err(error) => {
                tracing::warn!(url, %error, "the index could not list the package's versions; using the graph's");
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

/// The PEP 440 versions a simple-API page lists, newest first, without repeats.
pub fn parse_listing(name: &str, body: &str) -> Vec<String> {
    let mut raw: Vec<String> = Vec::new();
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(json) => {
            if let Some(versions) = json.get("versions").and_then(|versions| versions.as_array()) {
                raw.extend(versions.iter().filter_map(|version| version.as_str()).map(str::to_owned));
            } else if let Some(files) = json.get("files").and_then(|files| files.as_array()) {
                raw.extend(
                    files
                        .iter()
                        .filter_map(|file| file.get("filename")?.as_str())
                        .filter_map(|filename| version_of_file(name, filename))
                        .map(str::to_owned),
                );
            }
        }
        Err(_) => {
            raw.extend(html_file_names(body).filter_map(|filename| version_of_file(name, filename)).map(str::to_owned))
        }
    }
    let mut versions: Vec<PackageVersion> = raw.iter().filter_map(|text| PackageVersion::parse(text).ok()).collect();
    versions.sort();
    versions.dedup();
    versions.reverse();
    versions.iter().map(PackageVersion::normalized).collect()
}

/// The text of each `<a>` element of a PEP 503 page (the file names).
fn html_file_names(body: &str) -> impl Iterator<Item = &str> {
    body.split("</a>").filter_map(|chunk| {
        let start = chunk.rfind("<a ")?;
        let text_start = chunk[start..].find('>')? + start + 1;
        Some(chunk[text_start..].trim())
    })
}

/// The version in a distribution file name: `name-version-….whl`, or `name-version.tar.gz`
/// (and the other sdist extensions). Names in files use `_`, `.` or `-` and any case.
fn version_of_file<'a>(name: &str, filename: &'a str) -> Option<&'a str> {
    let canonical = |text: &str| text.to_ascii_lowercase().replace(['_', '.'], "-");
    if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.splitn(3, '-');
        let (file_name, version) = (parts.next()?, parts.next()?);
        return (canonical(file_name) == name).then_some(version);
    }
    let stem = [".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".tgz"].iter().find_map(|ext| filename.strip_suffix(ext))?;
    let (file_name, version) = stem.rsplit_once('-')?;
    (canonical(file_name) == name).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_listings_use_pep_700_versions() {
        let body =
            r#"{"meta": {"api-version": "1.1"}, "name": "flask", "versions": ["1.0", "2.0.1", "2.1.0rc1", "2.0.1"]}"#;
        assert_eq!(parse_listing("flask", body), ["2.1.0rc1", "2.0.1", "1.0"]);
    }

    #[test]
    fn json_listings_without_versions_read_the_file_names() {
        let body = r#"{"files": [{"filename": "Flask-2.0.1-py3-none-any.whl"}, {"filename": "Flask-2.0.1.tar.gz"},
                                  {"filename": "flask-1.1.4.zip"}, {"filename": "other-9.0.tar.gz"}]}"#;
        assert_eq!(parse_listing("flask", body), ["2.0.1", "1.1.4"]);
    }

    #[test]
    fn html_pages_are_read_too() {
        let body = r#"<html><body><a href="x/zope_interface-5.4.0-cp39-none.whl#sha256=1">zope_interface-5.4.0-cp39-none.whl</a>
            <a href="y">zope.interface-5.3.0.tar.gz</a><a href="z">not-a-file</a></body></html>"#;
        assert_eq!(parse_listing("zope-interface", body), ["5.4.0", "5.3.0"]);
    }
}
