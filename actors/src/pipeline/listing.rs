//! The versions of a package on an index, from its simple API (PEP 503 pages, or PEP 691
//! JSON with PEP 700's `versions`), for messages that ask about every version
//! (`package_version` null or `*`). A short timeout and a small cache keep a slow or absent
//! index from holding up a batch; when the index cannot be asked, the decision uses the
//! versions the graph knows, and says so in its workflow requests. An answer larger than
//! [`MAX_LISTING_BYTES`] is not read whole: the graph's versions are used for it too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use investigator_core::{PackageVersion, normalize_package_name};
use investigator_events::excerpt::excerpt;

use crate::outbound::{OutboundClient, OutboundRequest, SIMPLE_API_ACCEPT};

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
    client: OutboundClient,
    timeout: Duration,
    cache: Mutex<ListingCache>,
}

impl std::fmt::Debug for VersionLister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VersionLister")
    }
}

impl VersionLister {
    /// A lister whose requests, bodies included, give up after `timeout`.
    pub fn new(client: OutboundClient, timeout: Duration) -> Self {
        VersionLister { client, timeout, cache: Mutex::new(HashMap::new()) }
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
        let request = OutboundRequest {
            accept: SIMPLE_API_ACCEPT,
            deadline: self.timeout,
            max_body_bytes: MAX_LISTING_BYTES,
            verify_tls: true,
        };
        let versions = match self.client.get(&url, request).await {
            Ok(answer) if answer.is_success() => parse_listing(name, &String::from_utf8_lossy(&answer.body)),
            Ok(answer) => {
                tracing::warn!(
                    url = %excerpt(&url),
                    status = answer.status,
                    "the index could not list the package's versions; using the graph's"
                );
                return None;
            }
            Err(error) => {
                tracing::warn!(%error, "the index could not list the package's versions; using the graph's");
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
        Err(_) => raw.extend(
            html_anchors(body).iter().filter_map(|anchor| version_of_file(name, &anchor.text)).map(str::to_owned),
        ),
    }
    let mut versions: Vec<PackageVersion> = raw.iter().filter_map(|text| PackageVersion::parse(text).ok()).collect();
    versions.sort();
    versions.dedup();
    versions.reverse();
    versions.iter().map(PackageVersion::normalized).collect()
}

/// An `<a>` element of an HTML page: the target, and the text (a file name on a project's
/// PEP 503 page, a project name on the index's root page), both with entities decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HtmlAnchor {
    /// The `href` attribute, when the element has one.
    pub(crate) href: Option<String>,
    /// The text between `<a …>` and `</a>`, trimmed.
    pub(crate) text: String,
}

/// The `<a>` elements of an HTML page, in order. Tag and attribute names in any case,
/// attribute values quoted either way or not at all; an element left open at the end of the
/// page is not counted.
pub(crate) fn html_anchors(body: &str) -> Vec<HtmlAnchor> {
    // ASCII lower-casing keeps every byte offset, so positions found in `lower` index `body`.
    let lower = body.to_ascii_lowercase();
    let mut anchors = Vec::new();
    let mut position = 0;
    while let Some(found) = lower[position..].find("<a") {
        let after_name = position + found + "<a".len();
        position = after_name;
        let starts_attributes = lower[after_name..].starts_with(|next: char| next.is_ascii_whitespace() || next == '>');
        if !starts_attributes {
            continue; // `<abbr>` and the like
        }
        let Some(tag_end) = tag_end(&lower, after_name) else {
            break;
        };
        let text_start = tag_end + 1;
        let Some(text_length) = lower[text_start..].find("</a") else {
            break;
        };
        let text_end = text_start + text_length;
        anchors.push(HtmlAnchor {
            href: attribute(&body[after_name..tag_end], "href").map(decode_entities),
            text: decode_entities(body[text_start..text_end].trim()),
        });
        position = text_end;
    }
    anchors
}

/// The offset of the `>` closing the tag whose attributes start at `from`, outside quotes.
fn tag_end(lower: &str, from: usize) -> Option<usize> {
    let mut quote = None;
    for (offset, &byte) in lower.as_bytes().get(from..)?.iter().enumerate() {
        match (quote, byte) {
            (None, b'"' | b'\'') => quote = Some(byte),
            (None, b'>') => return Some(from + offset),
            (Some(open), _) if open == byte => quote = None,
            _ => {}
        }
    }
    None
}

/// The raw value of the attribute `wanted` (lower-case) in a tag's attribute text.
fn attribute<'a>(attributes: &'a str, wanted: &str) -> Option<&'a str> {
    let mut rest = attributes;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let name_end = rest.find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/').unwrap_or(rest.len());
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let Some(after_equals) = rest.strip_prefix('=') else {
            if name.eq_ignore_ascii_case(wanted) {
                return Some("");
            }
            continue;
        };
        rest = after_equals.trim_start();
        let value;
        if let Some(quote) = rest.chars().next().filter(|first| matches!(first, '"' | '\'')) {
            let quoted = &rest[1..];
            let value_end = quoted.find(quote).unwrap_or(quoted.len());
            value = &quoted[..value_end];
            rest = quoted.get(value_end + 1..).unwrap_or("");
        } else {
            let value_end = rest.find(|c: char| c.is_ascii_whitespace()).unwrap_or(rest.len());
            value = &rest[..value_end];
            rest = &rest[value_end..];
        }
        if name.eq_ignore_ascii_case(wanted) {
            return Some(value);
        }
    }
}

/// HTML character references decoded: the named ones an index page uses, and numeric ones.
/// Anything else is kept as written.
fn decode_entities(text: &str) -> String {
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(ampersand) = rest.find('&') {
        decoded.push_str(&rest[..ampersand]);
        rest = &rest[ampersand..];
        let reference = rest.find(';').map(|semicolon| (&rest[1..semicolon], semicolon + 1));
        let character = reference.and_then(|(name, length)| {
            let character = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            };
            character.map(|character| (character, length))
        });
        match character {
            Some((character, length)) => {
                decoded.push(character);
                rest = &rest[length..];
            }
            None => {
                decoded.push('&');
                rest = &rest[1..];
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

/// The version in a distribution file name: `name-version-….whl`, or `name-version.tar.gz`
/// (and the other sdist extensions), when the file's project is `name`. Both names are
/// compared PEP 503 normalised: files use `_`, `.` or `-` and any case.
pub(crate) fn version_of_file<'a>(name: &str, filename: &'a str) -> Option<&'a str> {
    let (file_project, version) = split_file_name(filename)?;
    (normalize_package_name(file_project) == normalize_package_name(name)).then_some(version)
}

/// The project and version parts of a wheel or sdist file name.
fn split_file_name(filename: &str) -> Option<(&str, &str)> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.splitn(3, '-');
        let (file_project, version, _tags) = (parts.next()?, parts.next()?, parts.next()?);
        return Some((file_project, version));
    }
    let stem = SDIST_EXTENSIONS.iter().find_map(|extension| filename.strip_suffix(extension))?;
    stem.rsplit_once('-')
}

/// The file name endings of source distributions.
const SDIST_EXTENSIONS: [&str; 5] = [".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".tgz"];

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

    #[test]
    fn anchors_read_attributes_in_any_case_and_quoting_with_entities_decoded() {
        let body = r#"<A data-requires-python=">=3.6" HREF='/p/a-1.0.tar.gz#sha256=ab'>a-1.0.tar.gz</A>
            <abbr>not an anchor</abbr><a href=/p/b&amp;c>b&amp;c &#x41;&#66;</a><a name="x">no target</a><a href="open">"#;
        let anchors = html_anchors(body);
        let found: Vec<(Option<&str>, &str)> =
            anchors.iter().map(|anchor| (anchor.href.as_deref(), anchor.text.as_str())).collect();
        assert_eq!(
            found,
            [(Some("/p/a-1.0.tar.gz#sha256=ab"), "a-1.0.tar.gz"), (Some("/p/b&c"), "b&c AB"), (None, "no target")],
            "a `>` inside a quoted value does not end the tag; an element left open is not counted"
        );
    }

    #[test]
    fn file_names_match_their_project_pep_503_normalised() {
        assert_eq!(version_of_file("zope-interface", "Zope__Interface-5.4.0-cp39-none-any.whl"), Some("5.4.0"));
        assert_eq!(version_of_file("zope_interface", "zope.interface-5.3.0.tar.gz"), Some("5.3.0"));
        assert_eq!(version_of_file("flask", "flask-sqlalchemy-2.0.tar.gz"), None);
        assert_eq!(version_of_file("flask", "flask-2.0.exe"), None);
        assert_eq!(decode_entities("a &unknown; & b &#xZZ;"), "a &unknown; & b &#xZZ;");
    }
}
