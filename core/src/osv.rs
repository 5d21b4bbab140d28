//! Security advisories in the OSV format (<https://ossf.github.io/osv-schema/>), as the
//! PyPA advisory database and OSV's PyPI export publish them, and the question the CVE driver
//! asks of them: which of the versions the graph knows does an advisory affect?
//!
//! What Thoth's cve-update-job kept of an advisory is kept here: its id (`PYSEC-…`,
//! `GHSA-…`), its details and one link, the first `WEB` reference, preferring one on a Red Hat
//! host. Only the `PyPI` ecosystem is read; every other field of the document is skipped
//! unread ([`pruned`]).
//!
//! What is kept is bounded, since a source may hold tens of thousands of advisories and
//! whoever serves it chooses their contents: `details` and `summary` are cut at
//! [`MAX_DETAILS_CHARS`] and [`MAX_SUMMARY_CHARS`], a link longer than [`MAX_LINK_CHARS`] is
//! dropped, an id longer than [`MAX_ID_CHARS`] makes the document unreadable, and so do more
//! than [`MAX_KEPT_VALUES`] values in the fields read.
//!
//! Boundary: parsing and matching only, on values; reading files, archives or URLs is the
//! caller's.

mod pruned;

use std::collections::HashSet;

use serde_json::{Map, Value};

pub use pruned::MAX_KEPT_VALUES;

use crate::{PackageVersion, normalize_package_name};

/// The longest `details` kept, in characters; longer text is cut and marked.
pub const MAX_DETAILS_CHARS: usize = 8_192;
/// The longest `summary` kept, in characters; longer text is cut and marked.
pub const MAX_SUMMARY_CHARS: usize = 1_024;
/// The longest link kept, in characters; a longer one is dropped.
pub const MAX_LINK_CHARS: usize = 2_048;
/// The longest id read, in characters (OSV ids are some twenty).
pub const MAX_ID_CHARS: usize = 256;
/// What marks text that was cut.
const CUT_MARK: &str = " […]";

/// The only ecosystem whose `affected` entries are kept.
const PYPI_ECOSYSTEM: &str = "PyPI";
/// The only range type whose bounds are PEP 440 versions (`GIT` and `SEMVER` are not).
const ECOSYSTEM_RANGE: &str = "ECOSYSTEM";
/// The reference type Thoth took its link from.
const WEB_REFERENCE: &str = "WEB";
/// The text a preferred link's host contains.
const PREFERRED_LINK_HOST: &str = "redhat";
/// The `introduced` value that means "since the first version".
const INTRODUCED_AT_THE_BEGINNING: &str = "0";

/// One advisory, reduced to what the investigator records and matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    /// The advisory's id (`PYSEC-2021-1`, `GHSA-xxxx-xxxx-xxxx`), Thoth's `cve_id`.
    pub id: String,
    /// The one-line summary, when the advisory has one.
    pub summary: Option<String>,
    /// The `details` text, falling back to the summary, else empty.
    pub details: String,
    /// The first `WEB` reference whose host contains "redhat", else the first `WEB` reference.
    pub link: Option<String>,
    /// Whether the advisory was withdrawn (it has a `withdrawn` time); it affects nothing.
    pub withdrawn: bool,
    /// The PyPI packages the advisory names; entries of other ecosystems are left out.
    pub affected: Vec<AffectedPackage>,
}

/// The versions of one package an advisory affects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedPackage {
    /// The package name, PEP 503 normalised.
    pub name: String,
    /// Versions listed one by one, as the advisory gives them.
    pub versions: Vec<String>,
    /// The advisory's `ECOSYSTEM` ranges, one per `introduced` event.
    pub ranges: Vec<VersionRange>,
}

/// One span of affected versions: from `introduced` up to, but not including, `fixed`, or up
/// to and including `last_affected`; with neither, every later version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    /// The first affected version; `None` for OSV's `"introduced": "0"`, the first version.
    pub introduced: Option<String>,
    /// The first version no longer affected.
    pub fixed: Option<String>,
    /// The last version affected.
    pub last_affected: Option<String>,
}

/// Why a document is not an advisory this module can read. `field` is a path into the
/// document, such as `affected[0].package.name`.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OsvError {
    /// The bytes are not JSON.
    #[error("the document is not JSON: {reason}")]
    NotJson {
        /// The JSON parser's explanation.
        reason: String,
    },
    /// The document is JSON, but not an object.
    #[error("the document is not a JSON object")]
    NotAnObject,
    /// A field the advisory needs is absent (or null).
    #[error("the field '{field}' is missing")]
    MissingField {
        /// Where the field should be.
        field: String,
    },
    /// A field holds the wrong kind of JSON value.
    #[error("the field '{field}' is not {expected}")]
    WrongType {
        /// Where the field is.
        field: String,
        /// What it should be ("a string", "an array", "an object").
        expected: &'static str,
    },
    /// A field longer than the advisory may hold.
    #[error("the field '{field}' is longer than {limit} characters")]
    TooLong {
        /// Where the field is.
        field: String,
        limit: usize,
    },
    /// More values in the fields read than an advisory may hold.
    #[error("the advisory holds more than {MAX_KEPT_VALUES} values in the fields read")]
    TooManyValues,
}

/// Parses one OSV document (a JSON object). Only `affected` entries whose
/// `package.ecosystem` is `PyPI` are kept; unknown fields are ignored; an advisory with a
/// `withdrawn` time is read with `withdrawn` set. Text is bounded as the module says.
pub fn parse_advisory(json: &[u8]) -> Result<Advisory, OsvError> {
    let document = pruned::read_pruned(json, &pruned::ADVISORY).map_err(|error| match error {
        pruned::PruneError::NotJson(error) => OsvError::NotJson { reason: error.to_string() },
        pruned::PruneError::TooManyValues => OsvError::TooManyValues,
    })?;
    let Value::Object(fields) = &document else {
        return Err(OsvError::NotAnObject);
    };
    let root = Fields { path: String::new(), map: fields };

    let id = root.required_string("id")?;
    if id.chars().count() > MAX_ID_CHARS {
        return Err(OsvError::TooLong { field: "id".to_owned(), limit: MAX_ID_CHARS });
    }
    let id = id.to_owned();
    let summary = root.string("summary")?.map(|summary| cut(summary, MAX_SUMMARY_CHARS));
    let details = root
        .string("details")?
        .or(root.string("summary")?)
        .map(|details| cut(details, MAX_DETAILS_CHARS))
        .unwrap_or_default();
    let withdrawn = root.string("withdrawn")?.is_some();
    let link = preferred_link(&root.objects("references")?)?.filter(|link| link.chars().count() <= MAX_LINK_CHARS);
    let mut affected = Vec::new();
    for entry in root.objects("affected")? {
        if let Some(package) = affected_package(&entry)? {
            affected.push(package);
        }
    }
    Ok(Advisory { id, summary, details, link, withdrawn, affected })
}

/// `text`, cut after `limit` characters and marked when longer.
fn cut(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}{CUT_MARK}", &text[..end]),
        None => text.to_owned(),
    }
}

impl Advisory {
    /// About how many bytes of memory the advisory holds: its text, plus a word's worth of
    /// bookkeeping for every string and list. What a source may keep is bounded by it.
    pub fn approximate_size(&self) -> usize {
        const OVERHEAD: usize = 32;
        let text = |text: &str| text.len() + OVERHEAD;
        let affected: usize = self
            .affected
            .iter()
            .map(|package| {
                let versions: usize = package.versions.iter().map(|version| text(version)).sum();
                let ranges: usize = package
                    .ranges
                    .iter()
                    .map(|range| {
                        [&range.introduced, &range.fixed, &range.last_affected]
                            .into_iter()
                            .map(|bound| bound.as_deref().map_or(OVERHEAD, text))
                            .sum::<usize>()
                    })
                    .sum();
                text(&package.name) + versions + ranges
            })
            .sum();
        text(&self.id)
            + self.summary.as_deref().map_or(OVERHEAD, text)
            + text(&self.details)
            + self.link.as_deref().map_or(OVERHEAD, text)
            + affected
    }

    /// Of `known` versions (PEP 440 strings) of the package `name`, those this advisory
    /// affects: listed in `versions` (compared PEP 440-normalised), or inside an `ECOSYSTEM`
    /// range. The name is PEP 503 normalised before it is looked up. A version that is not
    /// PEP 440 is never affected, nor is any version by a withdrawn advisory; a range whose
    /// bounds are not PEP 440 affects nothing. The known strings are returned as given, in
    /// their input order, each once.
    pub fn affected_versions<'a>(&self, name: &str, known: &'a [String]) -> Vec<&'a String> {
        if self.withdrawn {
            return Vec::new();
        }
        let name = normalize_package_name(name);
        let matchers: Vec<PackageMatcher> =
            self.affected.iter().filter(|package| package.name == name).map(PackageMatcher::new).collect();
        if matchers.is_empty() {
            return Vec::new();
        }
        let mut returned: HashSet<&str> = HashSet::new();
        known
            .iter()
            .filter(|raw| {
                PackageVersion::parse(raw).is_ok_and(|version| matchers.iter().any(|matcher| matcher.affects(&version)))
            })
            .filter(|raw| returned.insert(raw.as_str()))
            .collect()
    }
}

/// One `affected` entry with its versions parsed once, for matching many known versions.
struct PackageMatcher {
    versions: Vec<PackageVersion>,
    ranges: Vec<ParsedRange>,
}

/// A [`VersionRange`] whose bounds all parse.
struct ParsedRange {
    introduced: Option<PackageVersion>,
    fixed: Option<PackageVersion>,
    last_affected: Option<PackageVersion>,
}

impl PackageMatcher {
    fn new(package: &AffectedPackage) -> Self {
        let versions = package.versions.iter().filter_map(|raw| PackageVersion::parse(raw).ok()).collect();
        let ranges = package.ranges.iter().filter_map(ParsedRange::new).collect();
        PackageMatcher { versions, ranges }
    }

    fn affects(&self, version: &PackageVersion) -> bool {
        self.versions.contains(version) || self.ranges.iter().any(|range| range.contains(version))
    }
}

impl ParsedRange {
    /// `None` when a bound is not PEP 440: such a range cannot say what it covers.
    fn new(range: &VersionRange) -> Option<Self> {
        let parse = |bound: &Option<String>| match bound {
            None => Some(None),
            Some(raw) => PackageVersion::parse(raw).ok().map(Some),
        };
        Some(ParsedRange {
            introduced: parse(&range.introduced)?,
            fixed: parse(&range.fixed)?,
            last_affected: parse(&range.last_affected)?,
        })
    }

    fn contains(&self, version: &PackageVersion) -> bool {
        let after_start = self.introduced.as_ref().is_none_or(|introduced| introduced <= version);
        let before_fix = self.fixed.as_ref().is_none_or(|fixed| version < fixed);
        let up_to_last = self.last_affected.as_ref().is_none_or(|last| version <= last);
        after_start && before_fix && up_to_last
    }
}

/// An `affected` entry as an [`AffectedPackage`]; `None` when it is not about PyPI.
fn affected_package(entry: &Fields<'_>) -> Result<Option<AffectedPackage>, OsvError> {
    let Some(package) = entry.object("package")? else {
        return Ok(None);
    };
    if package.required_string("ecosystem")? != PYPI_ECOSYSTEM {
        return Ok(None);
    }
    let name = normalize_package_name(package.required_string("name")?);
    let versions = entry.strings("versions")?;
    let mut ranges = Vec::new();
    for range in entry.objects("ranges")? {
        if range.required_string("type")? == ECOSYSTEM_RANGE {
            ranges.extend(split_events(&range.required_objects("events")?)?);
        }
    }
    Ok(Some(AffectedPackage { name, versions, ranges }))
}

/// One [`VersionRange`] per `introduced` event, closed by the `fixed` or `last_affected`
/// event that follows it. A closing event with no open range, and `limit` events (which only
/// `GIT` ranges use), are ignored.
fn split_events(events: &[Fields<'_>]) -> Result<Vec<VersionRange>, OsvError> {
    let mut ranges = Vec::new();
    let mut open: Option<VersionRange> = None;
    for event in events {
        if let Some(introduced) = event.string("introduced")? {
            ranges.extend(open.take());
            let introduced = (introduced != INTRODUCED_AT_THE_BEGINNING).then(|| introduced.to_owned());
            open = Some(VersionRange { introduced, fixed: None, last_affected: None });
        } else if let Some(fixed) = event.string("fixed")? {
            if let Some(mut range) = open.take() {
                range.fixed = Some(fixed.to_owned());
                ranges.push(range);
            }
        } else if let Some(last_affected) = event.string("last_affected")?
            && let Some(mut range) = open.take()
        {
            range.last_affected = Some(last_affected.to_owned());
            ranges.push(range);
        }
    }
    ranges.extend(open);
    Ok(ranges)
}

/// The first `WEB` reference whose host contains "redhat", else the first `WEB` reference.
fn preferred_link(references: &[Fields<'_>]) -> Result<Option<String>, OsvError> {
    let mut web_urls = Vec::new();
    for reference in references {
        let kind = reference.required_string("type")?;
        let url = reference.required_string("url")?;
        if kind == WEB_REFERENCE {
            web_urls.push(url);
        }
    }
    let preferred = web_urls.iter().find(|url| url_host(url).to_ascii_lowercase().contains(PREFERRED_LINK_HOST));
    Ok(preferred.or(web_urls.first()).map(|url| (*url).to_owned()))
}

/// The host (with its port, if any) of a URL: what lies between `scheme://` and the path,
/// without user information.
fn url_host(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit_once('@').map_or(authority, |(_, host)| host)
}

/// A JSON object and where it is in the document, so that errors can name the field.
struct Fields<'a> {
    /// The object's path (`""` for the document, `affected[0].package`).
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn field_path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    /// The value of `key`; `None` when absent or null.
    fn value(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    fn string(&self, key: &str) -> Result<Option<&'a str>, OsvError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(OsvError::WrongType { field: self.field_path(key), expected: "a string" }),
        }
    }

    fn required_string(&self, key: &str) -> Result<&'a str, OsvError> {
        self.string(key)?.ok_or_else(|| OsvError::MissingField { field: self.field_path(key) })
    }

    fn object(&self, key: &str) -> Result<Option<Fields<'a>>, OsvError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields { path: self.field_path(key), map })),
            Some(_) => Err(OsvError::WrongType { field: self.field_path(key), expected: "an object" }),
        }
    }

    /// The elements of the array `key`; `None` when absent or null.
    fn array(&self, key: &str) -> Result<Option<&'a [Value]>, OsvError> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Array(elements)) => Ok(Some(elements)),
            Some(_) => Err(OsvError::WrongType { field: self.field_path(key), expected: "an array" }),
        }
    }

    /// The objects of the array `key`; empty when absent.
    fn objects(&self, key: &str) -> Result<Vec<Fields<'a>>, OsvError> {
        let elements = self.array(key)?.unwrap_or_default();
        let field = self.field_path(key);
        elements
            .iter()
            .enumerate()
            .map(|(index, element)| {
                let path = format!("{field}[{index}]");
                match element {
                    Value::Object(map) => Ok(Fields { path, map }),
                    _ => Err(OsvError::WrongType { field: path, expected: "an object" }),
                }
            })
            .collect()
    }

    fn required_objects(&self, key: &str) -> Result<Vec<Fields<'a>>, OsvError> {
        if self.value(key).is_none() {
            return Err(OsvError::MissingField { field: self.field_path(key) });
        }
        self.objects(key)
    }

    /// The strings of the array `key`; empty when absent.
    fn strings(&self, key: &str) -> Result<Vec<String>, OsvError> {
        let elements = self.array(key)?.unwrap_or_default();
        let field = self.field_path(key);
        elements
            .iter()
            .enumerate()
            .map(|(index, element)| match element {
                Value::String(text) => Ok(text.clone()),
                _ => Err(OsvError::WrongType { field: format!("{field}[{index}]"), expected: "a string" }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn advisory(document: &Value) -> Advisory {
        parse_advisory(document.to_string().as_bytes()).expect("a readable advisory")
    }

    fn pypi(name: &str, affected: Value) -> Value {
        let mut entry = affected;
        entry["package"] = json!({"ecosystem": "PyPI", "name": name});
        entry
    }

    fn known(versions: &[&str]) -> Vec<String> {
        versions.iter().map(|version| (*version).to_owned()).collect()
    }

    fn affected<'a>(advisory: &Advisory, name: &str, known: &'a [String]) -> Vec<&'a str> {
        advisory.affected_versions(name, known).into_iter().map(String::as_str).collect()
    }

    #[test]
    fn explicitly_listed_versions_are_affected_when_pep_440_equal() {
        let advisory = advisory(&json!({
            "id": "PYSEC-2021-1",
            "affected": [pypi("flask", json!({"versions": ["1.0", "1.1.0rc1"]}))],
        }));
        let known = known(&["1.0.0", "1.1rc1", "1.1", "0.9", "not a version", "1.0.0"]);
        assert_eq!(affected(&advisory, "flask", &known), ["1.0.0", "1.1rc1"]);
    }

    #[test]
    fn introduced_zero_to_fixed_covers_everything_before_the_fix() {
        let advisory = advisory(&json!({
            "id": "PYSEC-2021-2",
            "affected": [pypi("urllib3", json!({"ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.26.5"}]},
            ]}))],
        }));
        let range = &advisory.affected[0].ranges;
        assert_eq!(range, &[VersionRange { introduced: None, fixed: Some("1.26.5".into()), last_affected: None }]);
        let known = known(&["0.1", "1.26.4", "1.26.5", "1.26.5.post1", "2.0", "1.26.5rc1"]);
        assert_eq!(affected(&advisory, "urllib3", &known), ["0.1", "1.26.4", "1.26.5rc1"]);
    }

    #[test]
    fn last_affected_is_included_and_introduced_alone_is_open_ended() {
        let advisory = advisory(&json!({
            "id": "GHSA-aaaa-bbbb-cccc",
            "affected": [
                pypi("pillow", json!({"ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"last_affected": "2.2"}]},
                ]})),
                pypi("pillow", json!({"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "9.0"}]}]})),
            ],
        }));
        let known = known(&["1.9", "2.0", "2.2", "2.2.1", "8.0", "9.0", "10.1"]);
        assert_eq!(affected(&advisory, "pillow", &known), ["2.0", "2.2", "9.0", "10.1"]);
    }

    #[test]
    fn one_range_with_two_introduced_fixed_pairs_is_split() {
        let advisory = advisory(&json!({
            "id": "PYSEC-2022-3",
            "affected": [pypi("django", json!({"ranges": [{"type": "ECOSYSTEM", "events": [
                {"introduced": "3.2"}, {"fixed": "3.2.14"}, {"introduced": "4.0"}, {"fixed": "4.0.6"},
            ]}]}))],
        }));
        assert_eq!(advisory.affected[0].ranges.len(), 2);
        let known = known(&["3.1", "3.2", "3.2.13", "3.2.14", "3.3", "4.0.5", "4.0.6", "4.1"]);
        assert_eq!(affected(&advisory, "django", &known), ["3.2", "3.2.13", "4.0.5"]);
    }

    #[test]
    fn other_ecosystems_and_git_ranges_are_ignored() {
        let advisory = advisory(&json!({
            "id": "OSV-2021-4",
            "affected": [
                {"package": {"ecosystem": "npm", "name": "lodash"}, "versions": ["1.0"]},
                pypi("requests", json!({"ranges": [
                    {"type": "GIT", "repo": "https://github.com/psf/requests",
                     "events": [{"introduced": "0"}, {"fixed": "abc123"}]},
                ]})),
            ],
        }));
        assert_eq!(advisory.affected.len(), 1);
        assert!(advisory.affected[0].ranges.is_empty());
        assert!(affected(&advisory, "lodash", &known(&["1.0"])).is_empty());
        assert!(affected(&advisory, "requests", &known(&["1.0", "2.31.0"])).is_empty());
    }

    #[test]
    fn a_range_with_a_bound_that_is_not_pep_440_affects_nothing() {
        let advisory = advisory(&json!({
            "id": "PYSEC-2020-5",
            "affected": [pypi("pytz", json!({"ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2004d"}]},
            ]}))],
        }));
        assert!(affected(&advisory, "pytz", &known(&["2004.1", "1.0"])).is_empty());
    }

    #[test]
    fn a_withdrawn_advisory_affects_nothing() {
        let advisory = advisory(&json!({
            "id": "PYSEC-2021-6",
            "withdrawn": "2021-08-01T00:00:00Z",
            "affected": [pypi("numpy", json!({"versions": ["1.0"]}))],
        }));
        assert!(advisory.withdrawn);
        assert!(affected(&advisory, "numpy", &known(&["1.0"])).is_empty());
    }

    #[test]
    fn package_names_are_pep_503_normalised_on_both_sides() {
        let advisory = advisory(&json!({
            "id": "PYSEC-2021-7",
            "affected": [
                pypi("Django", json!({"versions": ["1.0"]})),
                pypi("Foo_Bar", json!({"versions": ["2.0"]})),
            ],
        }));
        assert_eq!(advisory.affected[0].name, "django");
        assert_eq!(advisory.affected[1].name, "foo-bar");
        let known = known(&["1.0", "2.0"]);
        assert_eq!(affected(&advisory, "django", &known), ["1.0"]);
        assert_eq!(affected(&advisory, "DJANGO", &known), ["1.0"]);
        assert_eq!(affected(&advisory, "foo-bar", &known), ["2.0"]);
        assert_eq!(affected(&advisory, "Foo.Bar", &known), ["2.0"]);
    }

    #[test]
    fn the_link_prefers_a_red_hat_web_reference() {
        let advisory = advisory(&json!({
            "id": "PYSEC-2021-8",
            "references": [
                {"type": "ADVISORY", "url": "https://bugzilla.redhat.com/show_bug.cgi?id=1"},
                {"type": "WEB", "url": "https://example.org/redhat"},
                {"type": "WEB", "url": "https://access.redhat.com/security/cve/CVE-2021-1"},
            ],
        }));
        assert_eq!(advisory.link.as_deref(), Some("https://access.redhat.com/security/cve/CVE-2021-1"));
    }

    #[test]
    fn the_link_is_the_first_web_reference_else_none() {
        let first_web = advisory(&json!({
            "id": "PYSEC-2021-9",
            "references": [
                {"type": "FIX", "url": "https://github.com/a/b/commit/1"},
                {"type": "WEB", "url": "https://example.org/one"},
                {"type": "WEB", "url": "https://example.org/two"},
            ],
        }));
        assert_eq!(first_web.link.as_deref(), Some("https://example.org/one"));
        let no_web = advisory(&json!({
            "id": "PYSEC-2021-10",
            "references": [{"type": "FIX", "url": "https://github.com/a/b/commit/1"}],
        }));
        assert_eq!(no_web.link, None);
    }

    #[test]
    fn details_fall_back_to_the_summary_then_to_nothing() {
        let both = advisory(&json!({"id": "A-1", "summary": "short", "details": "long"}));
        assert_eq!((both.summary.as_deref(), both.details.as_str()), (Some("short"), "long"));
        let summary_only = advisory(&json!({"id": "A-2", "summary": "short"}));
        assert_eq!(summary_only.details, "short");
        let neither = advisory(&json!({"id": "A-3"}));
        assert_eq!((neither.summary, neither.details, neither.withdrawn), (None, String::new(), false));
        assert!(neither.affected.is_empty());
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let advisory = advisory(&json!({
            "id": "PYSEC-2021-11",
            "schema_version": "1.6.0",
            "aliases": ["CVE-2021-1"],
            "database_specific": {"anything": [1, 2]},
            "affected": [pypi("jinja2", json!({"ecosystem_specific": {}, "versions": ["2.0"]}))],
        }));
        assert_eq!(advisory.affected[0].versions, ["2.0"]);
    }

    #[test]
    fn errors_name_the_field() {
        let parse = |document: Value| parse_advisory(document.to_string().as_bytes());
        assert_eq!(parse(json!({"details": "x"})), Err(OsvError::MissingField { field: "id".into() }));
        assert_eq!(
            parse(json!({"id": "A", "affected": {"package": {}}})),
            Err(OsvError::WrongType { field: "affected".into(), expected: "an array" })
        );
        assert_eq!(
            parse(json!({"id": "A", "affected": [{}, {"package": {"ecosystem": "PyPI"}}]})),
            Err(OsvError::MissingField { field: "affected[1].package.name".into() })
        );
        assert_eq!(
            parse(json!({"id": "A", "affected": [pypi("x", json!({"ranges": [{"type": "ECOSYSTEM"}]}))]})),
            Err(OsvError::MissingField { field: "affected[0].ranges[0].events".into() })
        );
        assert_eq!(
            parse(json!({"id": "A", "affected": [pypi("x", json!({"versions": ["1", 2]}))]})),
            Err(OsvError::WrongType { field: "affected[0].versions[1]".into(), expected: "a string" })
        );
        assert_eq!(parse(json!(["not", "an", "object"])), Err(OsvError::NotAnObject));
        let not_json = parse_advisory(b"{\"id\": ").expect_err("truncated");
        assert!(matches!(not_json, OsvError::NotJson { .. }));
        assert!(not_json.to_string().starts_with("the document is not JSON"));
        let message = OsvError::WrongType { field: "affected".into(), expected: "an array" }.to_string();
        assert_eq!(message, "the field 'affected' is not an array");
    }

    #[test]
    fn long_text_is_cut_and_long_ids_and_links_are_refused() {
        let details = "é".repeat(MAX_DETAILS_CHARS * 4);
        let long = advisory(&json!({
            "id": "GHSA-1", "details": details, "summary": "s".repeat(MAX_SUMMARY_CHARS + 1),
            "references": [{"type": "WEB", "url": format!("https://example.org/{}", "a".repeat(MAX_LINK_CHARS))}],
        }));
        assert_eq!(long.details.chars().count(), MAX_DETAILS_CHARS + CUT_MARK.chars().count());
        assert!(long.details.ends_with(CUT_MARK) && long.details.starts_with("éé"));
        assert_eq!(long.summary.as_deref().map(|summary| summary.chars().count()), Some(MAX_SUMMARY_CHARS + 4));
        assert_eq!(long.link, None, "a link too long to be one is dropped");
        assert!(
            long.approximate_size() < 2 * (MAX_DETAILS_CHARS * 2 + MAX_SUMMARY_CHARS),
            "{}",
            long.approximate_size()
        );
        let summary_only = advisory(&json!({"id": "A", "summary": "x".repeat(MAX_DETAILS_CHARS + 10)}));
        assert_eq!(summary_only.details.chars().count(), MAX_DETAILS_CHARS + CUT_MARK.chars().count());
        let error = parse_advisory(json!({"id": "x".repeat(MAX_ID_CHARS + 1)}).to_string().as_bytes());
        assert_eq!(error, Err(OsvError::TooLong { field: "id".into(), limit: MAX_ID_CHARS }));
    }

    #[test]
    fn an_advisory_with_too_many_values_in_the_fields_read_is_refused() {
        let versions: Vec<String> = (0..=MAX_KEPT_VALUES).map(|n| n.to_string()).collect();
        let document = json!({"id": "A", "affected": [pypi("x", json!({"versions": versions}))]});
        assert_eq!(parse_advisory(document.to_string().as_bytes()), Err(OsvError::TooManyValues));
    }

    #[test]
    fn url_host_strips_scheme_user_and_path() {
        assert_eq!(url_host("https://user@access.redhat.com:443/a?b#c"), "access.redhat.com:443");
        assert_eq!(url_host("example.org/redhat"), "example.org");
    }
}
