//! A Python package index on loopback, for the learning drivers' tests: the simple API in
//! both of its formats and the warehouse JSON API, served from files the test writes through
//! [`FakeIndex::put_project`], so that tests point the real index client at it (through
//! [`FakeIndex::simple_url`] and [`FakeIndex::warehouse_url`]) and the production code path
//! stays unchanged.
//!
//! Served, as PyPI serves them:
//! - `GET /simple/`: every project, PEP 691 JSON (`projects[].name`) when the `Accept` header
//!   names `application/vnd.pypi.simple.v1+json`, else a PEP 503 HTML page of anchors;
//! - `GET /simple/<name>/`: one project's files, PEP 691 v1.1 JSON (`files[].filename`, `url`,
//!   `hashes.sha256`, and PEP 700's `versions`) or PEP 503 HTML (`#sha256=` fragments), chosen
//!   the same way;
//! - `GET /pypi/<name>/json`: the warehouse answer (`info.name`, `releases` by version, each
//!   file with `digests.sha256`).
//!
//! Anything else, a project never put or since removed included, answers 404; a method other
//! than GET answers 405. Names are used as given: tests pass PEP 503 normalised names, as a
//! client asks for them.
//!
//! Each request is one connection (`Connection: close`) on 127.0.0.1, on a port the system
//! chose. The fake never changes a project by itself and never fails by itself: projects,
//! faults ([`Fault`]: a status, a delay, a garbled answer) and an index that only speaks
//! PEP 503 ([`FakeIndex::pep503_only`]) come only from the test. The files live in a
//! temporary directory the fake owns; dropping the fake stops the server (connections still
//! open included) and deletes them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The media type of PEP 691 JSON.
const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";
/// The largest request head read; a longer one is answered 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How requests under a path fail, until [`FakeIndex::clear_faults`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status (and a short text body).
    Status(u16),
    /// Wait this long, then answer as usual.
    Delay(Duration),
    /// Answer 200 with a JSON content type and a body cut short in the middle of a file.
    MalformedJson,
    /// Answer 200 with `text/html` and a body that is no HTML page (a proxy's error text).
    MalformedHtml,
}

/// A running fake index. See the [module documentation](self).
#[derive(Debug)]
pub struct FakeIndex {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
    /// Holds the served files; deleted when the fake is dropped.
    _directory: tempfile::TempDir,
}

/// What the server task and the test share.
#[derive(Debug)]
struct Shared {
    /// The served files: `simple/…` and `pypi/…`.
    root: PathBuf,
    /// (path prefix, fault), in the order set.
    faults: Mutex<Vec<(String, Fault)>>,
    /// Whether JSON is refused, as by an index that predates PEP 691.
    pep503_only: AtomicBool,
    /// Requests read so far.
    requests: AtomicUsize,
}

impl FakeIndex {
    /// Starts a fake index without projects on a free port of 127.0.0.1.
    pub async fn start() -> FakeIndex {
        let directory = tempfile::TempDir::new().expect("a temporary directory for the fake index");
        let root = directory.path().to_owned();
        for folder in ["simple", "pypi"] {
            std::fs::create_dir_all(root.join(folder)).expect("the fake index's folders");
        }
        let shared = Arc::new(Shared {
            root,
            faults: Mutex::new(Vec::new()),
            pep503_only: AtomicBool::new(false),
            requests: AtomicUsize::new(0),
        });
        write_root_listings(&shared.root);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port for the fake index");
        let address = listener.local_addr().expect("the fake index's address");
        let server = tokio::spawn(serve(listener, Arc::clone(&shared)));
        FakeIndex { address, shared, server, _directory: directory }
    }

    /// The simple API's root, without a trailing slash: `http://127.0.0.1:<port>/simple`.
    pub fn simple_url(&self) -> String {
        format!("http://{}/simple", self.address)
    }

    /// The warehouse JSON API's root: `http://127.0.0.1:<port>/pypi`.
    pub fn warehouse_url(&self) -> String {
        format!("http://{}/pypi", self.address)
    }

    /// Writes (or rewrites) the project `name` with these `(version, filename, sha256)` files,
    /// in every format, and the root listings. An empty `sha256` gives the file no digest.
    pub fn put_project(&self, name: &str, files: &[(&str, &str, &str)]) {
        let root = &self.shared.root;
        let package_url = |filename: &str| format!("http://{}/packages/{filename}", self.address);
        let mut versions: Vec<&str> = Vec::new();
        for (version, _, _) in files {
            if !versions.contains(version) {
                versions.push(version);
            }
        }

        let simple_files: Vec<Value> = files
            .iter()
            .map(|(_, filename, sha256)| {
                json!({"filename": filename, "url": package_url(filename), "hashes": hashes(sha256)})
            })
            .collect();
        let simple_json = json!({
            "meta": {"api-version": "1.1"},
            "name": name,
            "files": simple_files,
            "versions": versions,
        });
        let anchors: String = files
            .iter()
            .map(|(_, filename, sha256)| {
                let fragment = if sha256.is_empty() { String::new() } else { format!("#sha256={sha256}") };
                let href = format!("{}{fragment}", package_url(filename));
                format!("    <a href=\"{}\">{}</a><br/>\n", escape_html(&href), escape_html(filename))
            })
            .collect();
        let mut releases = Map::new();
        for version in &versions {
            let release: Vec<Value> = files
                .iter()
                .filter(|(file_version, _, _)| file_version == version)
                .map(|(_, filename, sha256)| {
                    json!({"filename": filename, "url": package_url(filename), "digests": hashes(sha256)})
                })
                .collect();
            releases.insert((*version).to_owned(), Value::Array(release));
        }
        let warehouse_json = json!({"info": {"name": name}, "releases": releases});

        let simple = root.join("simple").join(name);
        let warehouse = root.join("pypi").join(name);
        for folder in [&simple, &warehouse] {
            std::fs::create_dir_all(folder).expect("a project folder of the fake index");
        }
        write_file(&simple.join("index.json"), simple_json.to_string());
        write_file(&simple.join("index.html"), html_page(&format!("Links for {name}"), &anchors));
        write_file(&warehouse.join("json"), warehouse_json.to_string());
        write_root_listings(root);
    }

    /// Removes the project `name`: later requests for it answer 404, and the root listings
    /// no longer name it.
    pub fn remove_project(&self, name: &str) {
        let root = &self.shared.root;
        for folder in [root.join("simple").join(name), root.join("pypi").join(name)] {
            match std::fs::remove_dir_all(&folder) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => panic!("removing {}: {error}", folder.display()),
            }
        }
        write_root_listings(root);
    }

    /// Makes requests whose path starts with `path_prefix` (`/simple/flask/`, `/pypi/`, `/`)
    /// fail with `fault`, until [`FakeIndex::clear_faults`]. When several prefixes match, the
    /// longest wins.
    pub fn fail_with(&self, path_prefix: &str, fault: Fault) {
        self.shared.faults().push((path_prefix.to_owned(), fault));
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// Makes the simple API answer HTML whatever the `Accept` header asks for, as an index
    /// that only implements PEP 503 does (`false` restores content negotiation).
    pub fn pep503_only(&self, only: bool) {
        self.shared.pep503_only.store(only, Ordering::SeqCst);
    }

    /// The requests read so far (faulty answers included).
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FakeIndex {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Shared {
    fn faults(&self) -> MutexGuard<'_, Vec<(String, Fault)>> {
        self.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The fault for `path`, if any.
    fn fault_for(&self, path: &str) -> Option<Fault> {
        self.faults()
            .iter()
            .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, fault)| fault.clone())
    }
}

/// `{"sha256": …}`, or `{}` for an empty digest.
fn hashes(sha256: &str) -> Value {
    if sha256.is_empty() { json!({}) } else { json!({"sha256": sha256}) }
}

/// Rewrites `simple/index.json` and `simple/index.html` from the project folders on disk.
fn write_root_listings(root: &Path) {
    let simple = root.join("simple");
    let mut names: Vec<String> = std::fs::read_dir(&simple)
        .expect("the fake index's simple folder")
        .filter_map(|entry| {
            let entry = entry.expect("a folder entry of the fake index");
            let is_folder = entry.file_type().expect("a folder entry's type").is_dir();
            is_folder.then(|| entry.file_name().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    let projects: Vec<Value> = names.iter().map(|name| json!({"name": name})).collect();
    let listing = json!({"meta": {"api-version": "1.1"}, "projects": projects});
    let anchors: String =
        names.iter().map(|name| format!("    <a href=\"/simple/{0}/\">{0}</a><br/>\n", escape_html(name))).collect();
    write_file(&simple.join("index.json"), listing.to_string());
    write_file(&simple.join("index.html"), html_page("Simple index", &anchors));
}

/// A PEP 503 page, as PyPI writes it.
fn html_page(title: &str, anchors: &str) -> String {
    let title = escape_html(title);
    format!(
        "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    \
         <title>{title}</title>\n  </head>\n  <body>\n    <h1>{title}</h1>\n{anchors}  </body>\n</html>\n"
    )
}

/// `text` with the characters HTML gives a meaning escaped.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Writes `contents` to `path` through a rename, so that a request never reads half a file.
fn write_file(path: &Path, contents: String) {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, contents).unwrap_or_else(|error| panic!("writing {}: {error}", partial.display()));
    std::fs::rename(&partial, path).unwrap_or_else(|error| panic!("renaming to {}: {error}", path.display()));
}

/// Accepts connections until aborted; aborting drops the connections still being answered.
async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        while connections.try_join_next().is_some() {}
        connections.spawn(answer(stream, Arc::clone(&shared)));
    }
}

/// A request as far as the fake reads it.
struct Request {
    method: String,
    /// The path, without the query.
    path: String,
    accept: String,
}

/// Reads one request and answers it.
async fn answer(mut stream: TcpStream, shared: Arc<Shared>) {
    let Some(request) = read_request(&mut stream).await else {
        respond(&mut stream, 431, "text/plain", b"the request head is too large or cut short").await;
        return;
    };
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let json_path = request.path.starts_with("/pypi/");
    match shared.fault_for(&request.path) {
        Some(Fault::Status(status)) => {
            return respond(&mut stream, status, "text/plain", b"a fault the test asked for").await;
        }
        Some(Fault::MalformedJson) => {
            let content_type = if json_path { "application/json" } else { SIMPLE_JSON };
            return respond(
                &mut stream,
                200,
                content_type,
                br#"{"meta": {"api-version": "1.1"}, "files": [{"filename": "#,
            )
            .await;
        }
        Some(Fault::MalformedHtml) => {
            return respond(
                &mut stream,
                200,
                "text/html",
                b"upstream connect error or disconnect/reset before headers",
            )
            .await;
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    if request.method != "GET" {
        return respond(&mut stream, 405, "text/plain", b"only GET is served").await;
    }
    let wants_json = request.accept.contains(SIMPLE_JSON) && !shared.pep503_only.load(Ordering::SeqCst);
    let Some((file, content_type)) = route(&request.path, wants_json) else {
        return respond(&mut stream, 404, "text/plain", b"not found").await;
    };
    match std::fs::read(shared.root.join(file)) {
        Ok(body) => respond(&mut stream, 200, content_type, &body).await,
        Err(_) => respond(&mut stream, 404, "text/plain", b"not found").await,
    }
}

/// The request line and the `Accept` header of the request head, read up to `\r\n\r\n`;
/// `None` when the head is cut short or too large.
async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut head = Vec::new();
    let mut buffer = [0; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 || head.len() + read > MAX_HEAD_BYTES {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split_whitespace();
    let (method, target) = (request_line.next()?.to_owned(), request_line.next()?);
    let path = target.split(['?', '#']).next().unwrap_or_default().to_owned();
    let accept = lines
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("accept"))
        .map(|(_, value)| value.trim().to_owned())
        .collect::<Vec<_>>()
        .join(", ");
    Some(Request { method, path, accept })
}

/// The file (under the root) and content type that answer `path`; `None` for a path the
/// index does not serve.
fn route(path: &str, wants_json: bool) -> Option<(PathBuf, &'static str)> {
    let simple = |folder: PathBuf| {
        if wants_json {
            (folder.join("index.json"), SIMPLE_JSON)
        } else {
            (folder.join("index.html"), "text/html; charset=utf-8")
        }
    };
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    match segments.as_slice() {
        ["simple", ""] => Some(simple(PathBuf::from("simple"))),
        ["simple", name, ""] if is_plain_name(name) => Some(simple(Path::new("simple").join(name))),
        ["pypi", name, "json"] if is_plain_name(name) => {
            Some((Path::new("pypi").join(name).join("json"), "application/json"))
        }
        _ => None,
    }
}

/// Whether `name` can only name a project folder (no `..`, no separators).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

/// Writes a whole answer and closes the connection.
async fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Fault",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // The client may have given up (a delay longer than its timeout): nothing to do then.
    if stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(body).await.is_ok() {
        let _ = stream.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use investigator_actors::package_index::{
        Artifact, IndexClient, IndexEndpoint, IndexError, Project, ProjectListing,
    };

    use super::*;

    const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const HASH_B: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn client(timeout: Duration) -> IndexClient {
        let allowance = investigator_core::network::NetworkAllowance::parse(crate::ALLOW_PRIVATE_NETWORKS.1)
            .expect("a valid allowance");
        let outbound = investigator_actors::outbound::OutboundClient::new(allowance).expect("an outbound client");
        IndexClient::new(outbound, timeout)
    }

    fn simple(index: &FakeIndex) -> IndexEndpoint {
        IndexEndpoint { url: index.simple_url(), warehouse_api_url: None, verify_ssl: true }
    }

    fn warehouse(index: &FakeIndex) -> IndexEndpoint {
        IndexEndpoint { url: index.simple_url(), warehouse_api_url: Some(index.warehouse_url()), verify_ssl: true }
    }

    async fn found(client: &IndexClient, endpoint: &IndexEndpoint, name: &str) -> Project {
        match client.project(endpoint, name).await {
            Ok(ProjectListing::Found(project)) => project,
            other => panic!("{name} on {endpoint:?}: {other:?}"),
        }
    }

    fn put_flask(index: &FakeIndex) {
        index.put_project(
            "flask",
            &[
                ("2.0.1", "Flask-2.0.1-py3-none-any.whl", HASH_A),
                ("2.0.1", "Flask-2.0.1.tar.gz", HASH_B),
                ("2.1.0rc1", "flask-2.1.0rc1.tar.gz", ""),
            ],
        );
    }

    #[tokio::test]
    async fn json_html_and_warehouse_listings_agree() {
        let index = FakeIndex::start().await;
        put_flask(&index);
        let client = client(Duration::from_secs(5));

        let from_json = found(&client, &simple(&index), "flask").await;
        let from_warehouse = found(&client, &warehouse(&index), "flask").await;
        index.pep503_only(true);
        let from_html = found(&client, &simple(&index), "Flask").await;

        let artifact = |filename: &str, sha256: Option<&str>| Artifact {
            filename: filename.to_owned(),
            sha256: sha256.map(str::to_owned),
        };
        let expected = Project {
            versions: [
                (
                    "2.0.1".to_owned(),
                    vec![
                        artifact("Flask-2.0.1-py3-none-any.whl", Some(HASH_A)),
                        artifact("Flask-2.0.1.tar.gz", Some(HASH_B)),
                    ],
                ),
                ("2.1.0rc1".to_owned(), vec![artifact("flask-2.1.0rc1.tar.gz", None)]),
            ]
            .into_iter()
            .collect(),
        };
        assert_eq!(from_json, expected, "PEP 691 JSON");
        assert_eq!(from_html, expected, "PEP 503 HTML");
        assert_eq!(from_warehouse, expected, "the warehouse JSON API");
        assert_eq!(index.requests(), 3);
    }

    #[tokio::test]
    async fn the_simple_api_answers_the_format_the_accept_header_asks_for() {
        let index = FakeIndex::start().await;
        put_flask(&index);
        let http = reqwest::Client::new();
        let get =
            |accept: &'static str| http.get(format!("{}/flask/", index.simple_url())).header("Accept", accept).send();

        let json = get("application/vnd.pypi.simple.v1+json, text/html;q=0.1").await.expect("an answer");
        assert_eq!(json.headers()["content-type"], SIMPLE_JSON);
        let body: Value = serde_json::from_slice(&json.bytes().await.expect("a body")).expect("JSON");
        assert_eq!(body["versions"], json!(["2.0.1", "2.1.0rc1"]));

        let html = get("text/html").await.expect("an answer");
        assert!(html.headers()["content-type"].to_str().is_ok_and(|value| value.starts_with("text/html")));
        let body = html.text().await.expect("text");
        assert!(body.contains(&format!("Flask-2.0.1.tar.gz#sha256={HASH_B}\">Flask-2.0.1.tar.gz</a>")), "{body}");
    }

    #[tokio::test]
    async fn a_removed_or_unknown_project_is_not_found() {
        let index = FakeIndex::start().await;
        put_flask(&index);
        let client = client(Duration::from_secs(5));
        index.remove_project("flask");
        for endpoint in [simple(&index), warehouse(&index)] {
            for name in ["flask", "never-put"] {
                let listing = client.project(&endpoint, name).await.expect("an answer");
                assert_eq!(listing, ProjectListing::NotFound, "{name} on {endpoint:?}");
            }
        }
    }

    #[tokio::test]
    async fn a_server_error_is_a_status_error_until_the_fault_is_cleared() {
        let index = FakeIndex::start().await;
        put_flask(&index);
        let client = client(Duration::from_secs(5));
        index.fail_with("/simple/flask/", Fault::Status(500));
        index.fail_with("/pypi/", Fault::Status(503));

        let error = client.project(&simple(&index), "flask").await.expect_err("a 500 is no answer");
        assert!(matches!(error, IndexError::Status { status: 500, .. }), "{error:?}");
        let error = client.project(&warehouse(&index), "flask").await.expect_err("a 503 is no answer");
        assert!(matches!(error, IndexError::Status { status: 503, .. }), "{error:?}");
        assert_eq!(error.code(), "status");

        index.clear_faults();
        found(&client, &simple(&index), "flask").await;
    }

    #[tokio::test]
    async fn an_index_slower_than_the_timeout_is_a_timeout() {
        let index = FakeIndex::start().await;
        put_flask(&index);
        let client = client(Duration::from_millis(300));
        index.fail_with("/simple/", Fault::Delay(Duration::from_secs(5)));

        let error = client.project(&simple(&index), "flask").await.expect_err("too slow");
        assert!(matches!(error, IndexError::Timeout { .. }), "{error:?}");
        let error = client.project_names(&simple(&index)).await.expect_err("too slow");
        assert!(matches!(error, IndexError::Timeout { .. }), "{error:?}");

        index.fail_with("/pypi/flask/", Fault::Delay(Duration::from_millis(10)));
        found(&client, &warehouse(&index), "flask").await;
    }

    #[tokio::test]
    async fn garbled_answers_are_malformed_never_empty() {
        let index = FakeIndex::start().await;
        put_flask(&index);
        let client = client(Duration::from_secs(5));
        for (endpoint, fault) in [
            (simple(&index), Fault::MalformedJson),
            (simple(&index), Fault::MalformedHtml),
            (warehouse(&index), Fault::MalformedJson),
            (warehouse(&index), Fault::MalformedHtml),
        ] {
            index.clear_faults();
            index.fail_with("/", fault.clone());
            let error = client.project(&endpoint, "flask").await.expect_err("a garbled answer");
            assert!(matches!(error, IndexError::Malformed { .. }), "{fault:?} on {endpoint:?}: {error:?}");
            let error = client.project_names(&endpoint).await.expect_err("a garbled answer");
            assert!(matches!(error, IndexError::Malformed { .. }), "{fault:?} on the root: {error:?}");
        }
    }

    #[tokio::test]
    async fn project_names_lists_every_project_in_either_format() {
        let index = FakeIndex::start().await;
        let client = client(Duration::from_secs(5));
        assert_eq!(client.project_names(&simple(&index)).await.expect("names"), Vec::<String>::new());

        put_flask(&index);
        index.put_project("zope-interface", &[("5.4.0", "zope.interface-5.4.0.tar.gz", HASH_A)]);
        index.put_project("click", &[]);
        let names = ["click", "flask", "zope-interface"];
        assert_eq!(client.project_names(&simple(&index)).await.expect("names"), names);
        index.pep503_only(true);
        assert_eq!(client.project_names(&simple(&index)).await.expect("names"), names);

        index.remove_project("flask");
        assert_eq!(client.project_names(&simple(&index)).await.expect("names"), ["click", "zope-interface"]);
        assert_eq!(found(&client, &simple(&index), "click").await, Project::default(), "a project without files");
    }
}
