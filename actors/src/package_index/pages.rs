//! Reading an index's answers: a project's page (simple API, PEP 691 JSON or PEP 503 HTML, or
//! the warehouse JSON API) and the simple API's root. Pure functions over the answer's bytes,
//! tested without a server; a page that is not what the API promises is an error, never an
//! empty project.

use investigator_core::{PackageVersion, normalize_package_name};
use investigator_events::excerpt::excerpt;
use serde_json::Value;

use super::file_names::version_of_file;
use super::html::html_anchors;
use super::{Artifact, Project};

/// How a simple API answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// PEP 691 JSON.
    Json,
    /// PEP 503 HTML.
    Html,
}

/// The format the `Content-Type` names; when it names neither (or is absent), a body that
/// starts with `{` is JSON and anything else HTML.
pub(super) fn format_of(content_type: Option<&str>, body: &[u8]) -> Format {
    let media_type =
        content_type.and_then(|value| value.split(';').next()).map(|media_type| media_type.trim().to_ascii_lowercase());
    match media_type.as_deref() {
        Some("application/vnd.pypi.simple.v1+json" | "application/json") => Format::Json,
        Some("text/html" | "application/vnd.pypi.simple.v1+html") => Format::Html,
        _ if body.trim_ascii_start().starts_with(b"{") => Format::Json,
        _ => Format::Html,
    }
}

/// A project's simple API page.
pub(super) fn parse_simple_project(name: &str, format: Format, body: &[u8]) -> Result<Project, String> {
    match format {
        Format::Json => parse_simple_json_project(name, body),
        Format::Html => parse_simple_html_project(name, &String::from_utf8_lossy(body)),
    }
}

/// A PEP 691 project page: `files[].filename` and `files[].hashes.sha256`, and PEP 700's
/// `versions` when present (versions without files kept). Files of another project, or of
/// a kind that is neither a wheel nor an sdist, are left out. A page with `versions` and no
/// `files` (some mirrors serve only what PEP 700 adds) gives versions without files; a page
/// with neither is malformed.
fn parse_simple_json_project(name: &str, body: &[u8]) -> Result<Project, String> {
    let json = parse_json(body)?;
    let files = match json.get("files") {
        None if json.get("versions").is_some() => &Vec::new(),
        files => files.and_then(Value::as_array).ok_or("the answer has no `files` array")?,
    };
    let mut project = Project::default();
    for file in files {
        let filename = file.get("filename").and_then(Value::as_str).ok_or("a file has no `filename` string")?;
        let Some(version) = version_of_file(name, filename) else {
            tracing::trace!(project = name, filename, "a file that is not a distribution of the project is left out");
            continue;
        };
        let sha256 = file.get("hashes").and_then(|hashes| hashes.get("sha256")).and_then(Value::as_str);
        project.add_file(version, filename, sha256);
    }
    if let Some(versions) = json.get("versions") {
        let versions = versions.as_array().ok_or("`versions` is not an array")?;
        for version in versions {
            project.add_version(version.as_str().ok_or("a version is not a string")?);
        }
    }
    Ok(project)
}

/// A PEP 503 project page: one anchor per file, the file name as its text, the digest in the
/// `#sha256=` fragment of its `href`. A page without anchors is a project without files.
fn parse_simple_html_project(name: &str, body: &str) -> Result<Project, String> {
    let anchors = html_anchors(body);
    require_html_page(body, anchors.len())?;
    let mut project = Project::default();
    for anchor in &anchors {
        let Some(version) = version_of_file(name, &anchor.text) else {
            tracing::trace!(
                project = name,
                filename = anchor.text,
                "a file that is not a distribution of the project is left out"
            );
            continue;
        };
        let sha256 = anchor
            .href
            .as_deref()
            .and_then(|href| href.split_once('#'))
            .and_then(|(_, fragment)| fragment.strip_prefix("sha256="));
        project.add_file(version, &anchor.text, sha256);
    }
    Ok(project)
}

/// A warehouse JSON API answer: `releases` maps each version to its files (`filename`,
/// `digests.sha256`); a version with no files is still a version.
pub(super) fn parse_warehouse_project(body: &[u8]) -> Result<Project, String> {
    let json = parse_json(body)?;
    let releases = json.get("releases").and_then(Value::as_object).ok_or("the answer has no `releases` object")?;
    let mut project = Project::default();
    for (version, files) in releases {
        let files =
            files.as_array().ok_or_else(|| format!("the files of release {} are not an array", excerpt(version)))?;
        let Some(artifacts) = project.add_version(version) else {
            continue;
        };
        for file in files {
            let filename = file
                .get("filename")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("a file of release {} has no `filename` string", excerpt(version)))?;
            let sha256 = file.get("digests").and_then(|digests| digests.get("sha256")).and_then(Value::as_str);
            artifacts.push(Artifact { filename: filename.to_owned(), sha256: sha256.and_then(valid_sha256) });
        }
    }
    Ok(project)
}

/// The simple API's root: PEP 691 `projects[].name`, or the text of each PEP 503 anchor;
/// normalised, sorted, without repeats.
pub(super) fn parse_simple_root(format: Format, body: &[u8]) -> Result<Vec<String>, String> {
    let mut names = match format {
        Format::Json => {
            let json = parse_json(body)?;
            let projects =
                json.get("projects").and_then(Value::as_array).ok_or("the answer has no `projects` array")?;
            projects
                .iter()
                .map(|project| {
                    project
                        .get("name")
                        .and_then(Value::as_str)
                        .map(normalize_package_name)
                        .ok_or("a project has no `name` string")
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        Format::Html => {
            let body = String::from_utf8_lossy(body);
            let anchors = html_anchors(&body);
            require_html_page(&body, anchors.len())?;
            anchors
                .iter()
                .filter(|anchor| !anchor.text.is_empty())
                .map(|anchor| normalize_package_name(&anchor.text))
                .collect()
        }
    };
    names.sort();
    names.dedup();
    Ok(names)
}

/// The answer read as JSON.
fn parse_json(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|error| format!("the answer is not JSON: {error}"))
}

/// Refuses a body that is not recognisably an HTML page: no `<html`, no `<!doctype`, no anchor.
/// (An error page or a truncated answer must not read as a project without files.)
fn require_html_page(body: &str, anchors: usize) -> Result<(), String> {
    let lower = body.to_ascii_lowercase();
    let recognisable = anchors > 0 || ["<html", "<!doctype", "<a "].iter().any(|marker| lower.contains(marker));
    if recognisable { Ok(()) } else { Err("the answer is not an HTML page".to_owned()) }
}

/// A SHA-256 digest as 64 lower-case hex digits, when `text` is one (in either case).
fn valid_sha256(text: &str) -> Option<String> {
    (text.len() == 64 && text.bytes().all(|byte| byte.is_ascii_hexdigit())).then(|| text.to_ascii_lowercase())
}

impl Project {
    /// The files of `version` (created empty), or `None` when it is not a PEP 440 version.
    fn add_version(&mut self, version: &str) -> Option<&mut Vec<Artifact>> {
        match PackageVersion::parse(version) {
            Ok(parsed) => Some(self.versions.entry(parsed.normalized()).or_default()),
            Err(error) => {
                tracing::debug!(version = %excerpt(version), %error, "a version that is not PEP 440 is left out");
                None
            }
        }
    }

    /// Adds a file of `version`, unless the version is not PEP 440.
    fn add_file(&mut self, version: &str, filename: &str, sha256: Option<&str>) {
        if let Some(artifacts) = self.add_version(version) {
            artifacts.push(Artifact { filename: filename.to_owned(), sha256: sha256.and_then(valid_sha256) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const HASH_B: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn artifact(filename: &str, sha256: Option<&str>) -> Artifact {
        Artifact { filename: filename.to_owned(), sha256: sha256.map(str::to_owned) }
    }

    fn versions(project: &Project) -> Vec<&str> {
        project.versions.keys().map(String::as_str).collect()
    }

    #[test]
    fn json_pages_give_files_by_normalised_version_with_their_digests() {
        let body = format!(
            r#"{{"meta": {{"api-version": "1.1"}}, "name": "flask", "versions": ["2.0.1", "2.1.0-rc1", "3.0"],
                "files": [{{"filename": "Flask-2.0.1-py3-none-any.whl", "url": "x", "hashes": {{"sha256": "{HASH_A}"}}}},
                          {{"filename": "Flask-2.0.1.tar.gz", "url": "y", "hashes": {{}}}},
                          {{"filename": "flask-2.1.0rc1.zip", "url": "z", "hashes": {{"sha256": "{}"}}}}]}}"#,
            HASH_B.to_ascii_uppercase()
        );
        let project = parse_simple_project("flask", Format::Json, body.as_bytes()).expect("a project");
        assert_eq!(versions(&project), ["2.0.1", "2.1.0rc1", "3.0"], "PEP 700 versions without files are kept");
        assert_eq!(
            project.versions["2.0.1"],
            [artifact("Flask-2.0.1-py3-none-any.whl", Some(HASH_A)), artifact("Flask-2.0.1.tar.gz", None)]
        );
        assert_eq!(project.versions["2.1.0rc1"], [artifact("flask-2.1.0rc1.zip", Some(HASH_B))]);
        assert!(project.versions["3.0"].is_empty());
    }

    #[test]
    fn html_pages_give_digests_from_the_url_fragment() {
        let body = format!(
            r#"<!DOCTYPE html><html><body>
            <a href="../../packages/zope_interface-5.4.0-cp39-none-any.whl#sha256={HASH_A}" data-requires-python="&gt;=3.6">zope_interface-5.4.0-cp39-none-any.whl</a><br/>
            <a href="/p/zope.interface-5.4.0.tar.gz#md5=0123">zope.interface-5.4.0.tar.gz</a>
            <A HREF="/p/zope.interface-5.3.0.tar.gz#sha256={HASH_B}">zope.interface-5.3.0.tar.gz</A>
            </body></html>"#
        );
        let project = parse_simple_project("zope-interface", Format::Html, body.as_bytes()).expect("a project");
        assert_eq!(versions(&project), ["5.3.0", "5.4.0"]);
        assert_eq!(
            project.versions["5.4.0"],
            [
                artifact("zope_interface-5.4.0-cp39-none-any.whl", Some(HASH_A)),
                artifact("zope.interface-5.4.0.tar.gz", None)
            ]
        );
        assert_eq!(project.versions["5.3.0"], [artifact("zope.interface-5.3.0.tar.gz", Some(HASH_B))]);
    }

    #[test]
    fn an_html_page_without_anchors_is_a_project_without_files() {
        let body = b"<!DOCTYPE html>\n<html><head><title>Links for nothing</title></head><body></body></html>";
        assert_eq!(parse_simple_project("nothing", Format::Html, body), Ok(Project::default()));
    }

    #[test]
    fn warehouse_answers_take_versions_from_the_releases_keys() {
        let body = format!(
            r#"{{"info": {{"name": "Flask"}}, "releases": {{
                "1.0": [{{"filename": "Flask-1.0-py2.py3-none-any.whl", "digests": {{"md5": "x", "sha256": "{HASH_A}"}}}}],
                "2.0.0.dev1": [],
                "2004d": [{{"filename": "Flask-2004d.tar.gz", "digests": {{}}}}],
                "2.1.0-RC1": [{{"filename": "renamed-anything.egg", "digests": {{"sha256": "not-hex"}}}}]}}}}"#
        );
        let project = parse_warehouse_project(body.as_bytes()).expect("a project");
        assert_eq!(versions(&project), ["1.0", "2.0.0.dev1", "2.1.0rc1"], "2004d is not PEP 440");
        assert_eq!(project.versions["1.0"], [artifact("Flask-1.0-py2.py3-none-any.whl", Some(HASH_A))]);
        assert!(project.versions["2.0.0.dev1"].is_empty(), "a release without files is still a version");
        assert_eq!(project.versions["2.1.0rc1"], [artifact("renamed-anything.egg", None)]);
    }

    #[test]
    fn files_of_other_projects_and_other_kinds_are_left_out() {
        let body = br#"{"files": [{"filename": "flask-sqlalchemy-2.0.tar.gz"}, {"filename": "flask_login-0.6.0-py3-none-any.whl"},
                                   {"filename": "flask-1.0.exe"}, {"filename": "flask-1.0.egg"}, {"filename": "flask-nonsense!.tar.gz"},
                                   {"filename": "Flask-1.1.tar.gz"}]}"#;
        let project = parse_simple_project("flask", Format::Json, body).expect("a project");
        assert_eq!(versions(&project), ["1.1"]);
        let html = br#"<a href="/a">Flask_SQLAlchemy-2.0.tar.gz</a><a href="/b">flask-1.2-py3-none-any.whl</a>"#;
        let project = parse_simple_project("flask-sqlalchemy", Format::Html, html).expect("a project");
        assert_eq!(versions(&project), ["2.0"], "the requested name is compared normalised too");
    }

    #[test]
    fn a_json_page_with_versions_and_no_files_gives_versions_without_files() {
        let body = br#"{"meta": {"api-version": "1.1"}, "versions": ["1.0.0", "2.1.0", "not a version"]}"#;
        let project = parse_simple_project("flask", Format::Json, body).expect("a project");
        assert_eq!(versions(&project), ["1.0.0", "2.1.0"]);
        assert!(project.versions.values().all(Vec::is_empty));
    }

    #[test]
    fn only_sixty_four_hex_digits_are_a_sha256() {
        assert_eq!(valid_sha256(HASH_B), Some(HASH_B.to_owned()));
        assert_eq!(valid_sha256(&HASH_B.to_ascii_uppercase()), Some(HASH_B.to_owned()));
        for bad in
            ["", "abc", &HASH_B[1..], &format!("{HASH_B}0"), &format!("g{}", &HASH_B[1..]), "é".repeat(32).as_str()]
        {
            assert_eq!(valid_sha256(bad), None, "{bad:?}");
        }
        let body = br#"{"files": [{"filename": "a-1.0.tar.gz", "hashes": {"sha256": 7}},
                                   {"filename": "a-1.0.zip", "hashes": "sha256"}]}"#;
        let project = parse_simple_project("a", Format::Json, body).expect("a project");
        assert_eq!(project.versions["1.0"], [artifact("a-1.0.tar.gz", None), artifact("a-1.0.zip", None)]);
    }

    #[test]
    fn malformed_answers_are_errors_never_empty_projects() {
        let cases: [(Format, &[u8]); 9] = [
            (Format::Json, b"{\"files\": ["),
            (Format::Json, b"<html><a href=x>a-1.0.tar.gz</a></html>"),
            (Format::Json, b"{\"meta\": {\"api-version\": \"1.0\"}}"),
            (Format::Json, b"[]"),
            (Format::Json, b"{\"files\": {}}"),
            (Format::Json, b"{\"files\": [{\"url\": \"x\"}]}"),
            (Format::Json, b"{\"files\": [], \"versions\": \"1.0\"}"),
            (Format::Html, b"Service Unavailable"),
            (Format::Html, b""),
        ];
        for (format, body) in cases {
            let parsed = parse_simple_project("a", format, body);
            assert!(parsed.is_err(), "{format:?} {:?} gave {parsed:?}", String::from_utf8_lossy(body));
        }
        for body in [
            &b"{}"[..],
            b"{\"releases\": []}",
            b"{\"releases\": {\"1.0\": {}}}",
            b"{\"releases\": {\"1.0\": [{}]}}",
            b"nope",
        ] {
            let parsed = parse_warehouse_project(body);
            assert!(parsed.is_err(), "{:?} gave {parsed:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn the_content_type_decides_the_format_and_the_body_only_without_one() {
        assert_eq!(format_of(Some("application/vnd.pypi.simple.v1+json"), b"<html>"), Format::Json);
        assert_eq!(format_of(Some("Application/JSON; charset=utf-8"), b""), Format::Json);
        assert_eq!(format_of(Some("text/html; charset=utf-8"), b"{}"), Format::Html);
        assert_eq!(format_of(Some("application/vnd.pypi.simple.v1+html"), b"{}"), Format::Html);
        assert_eq!(format_of(None, b"  \n{\"files\": []}"), Format::Json);
        assert_eq!(format_of(None, b"<html>"), Format::Html);
        assert_eq!(format_of(Some("application/octet-stream"), b"{}"), Format::Json);
    }

    #[test]
    fn root_listings_give_normalised_sorted_names() {
        let json = br#"{"meta": {"api-version": "1.0"}, "projects": [{"name": "Flask"}, {"name": "zope.interface"}, {"name": "flask"}]}"#;
        assert_eq!(parse_simple_root(Format::Json, json), Ok(vec!["flask".to_owned(), "zope-interface".to_owned()]));
        let html = br#"<html><body><a href="/simple/zope-interface/">zope.interface</a><a href="/simple/flask/">Flask</a></body></html>"#;
        assert_eq!(parse_simple_root(Format::Html, html), Ok(vec!["flask".to_owned(), "zope-interface".to_owned()]));
        assert!(parse_simple_root(Format::Json, br#"{"projects": [{"title": "x"}]}"#).is_err());
        assert!(parse_simple_root(Format::Json, br#"{"files": []}"#).is_err());
        assert!(parse_simple_root(Format::Html, b"Bad Gateway").is_err());
    }

    #[test]
    fn a_root_page_of_many_projects_is_read_whole() {
        let anchors: String = (0..100_000).map(|n| format!("<a href=\"/simple/p{n}/\">P_{n}</a>\n")).collect();
        let body = format!("<!DOCTYPE html><html><body>{anchors}</body></html>");
        let names = parse_simple_root(Format::Html, body.as_bytes()).expect("names");
        assert_eq!(names.len(), 100_000);
        assert_eq!(names.first().map(String::as_str), Some("p-0"));
    }
}
