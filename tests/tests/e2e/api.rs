//! The REST API over real HTTP: Thoth's user-api graph endpoints on a graph synced from the
//! sample solver documents.

use investigator_tests::{Service, TestDatabase, investigator};
use serde_json::Value;

use crate::knowledge_graph::documents_dir;

/// A service (on the embedded bus: no broker needed) over a graph with the sample documents.
async fn service_over_sample_graph() -> (TestDatabase, Service) {
    service_over_sample_graph_with(&[]).await
}

/// The same, with `extra` variables.
pub(crate) async fn service_over_sample_graph_with(extra: &[(&str, &str)]) -> (TestDatabase, Service) {
    let database = sample_graph().await;
    let mut env = database.vars();
    env.extend([
        ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()),
        ("THOTH_SOLVERS".to_owned(), "solver-rhel-8-py38,solver-fedora-35-py310".to_owned()),
    ]);
    env.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    let service = Service::start(&env).await;
    (database, service)
}

/// A database holding the sample solver documents.
pub(crate) async fn sample_graph() -> TestDatabase {
    let database = TestDatabase::create().await;
    let solver_documents = documents_dir().join("solver").display().to_string();
    let synced = investigator(&["sync", &solver_documents], &database.vars()).await;
    assert_eq!(synced.code, Some(0), "{}", synced.stderr);
    database
}

pub(crate) async fn get_json(service: &Service, path: &str) -> (u16, Value) {
    let (status, body) = service.get(path).await;
    let json = serde_json::from_str(&body).unwrap_or_else(|error| panic!("GET {path}: not JSON ({error}): {body}"));
    (status, json)
}

#[tokio::test(flavor = "multi_thread")]
async fn thoths_graph_endpoints_answer_with_thoths_shapes() {
    let (_database, service) = service_over_sample_graph().await;

    let (status, discovery) = get_json(&service, "/api/v1").await;
    assert_eq!(status, 200);
    assert!(
        discovery["paths"]
            .as_array()
            .is_some_and(|paths| paths.iter().any(|path| path == "/api/v1/python/package/versions"))
    );

    let (status, versions) = get_json(&service, "/api/v1/python/package/versions?name=Requests&order_by=DESC").await;
    assert_eq!(status, 200, "{versions}");
    let listed: Vec<&str> = versions["versions"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|row| row["package_version"].as_str())
        .collect();
    assert!(listed.contains(&"2.26.0"), "{versions}");
    assert_eq!(versions["versions"][0]["index_url"], "https://pypi.org/simple");
    assert_eq!(versions["parameters"]["name"], "Requests", "parameters are echoed");

    let (status, dependencies) = get_json(
        &service,
        "/api/v1/python/package/dependencies?name=requests&version=2.26.0&index=https://pypi.org/simple",
    )
    .await;
    assert_eq!(status, 200, "{dependencies}");
    let names: Vec<&str> = dependencies["dependencies"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|row| row["name"].as_str())
        .collect();
    assert!(names.contains(&"urllib3"), "{dependencies}");

    let (status, environments) = get_json(
        &service,
        "/api/v1/python/package/version/environments?name=requests&version=2.26.0&index=https://pypi.org/simple",
    )
    .await;
    assert_eq!(status, 200, "{environments}");
    assert!(environments["environments"].as_array().is_some_and(|list| !list.is_empty()));

    let (_, environment) = get_json(&service, "/api/v1/python/environment").await;
    let os_names: Vec<&str> = environment["environment"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|row| row["os_name"].as_str())
        .collect();
    assert_eq!(os_names, ["fedora", "rhel", "ubi"], "each RHEL environment also as UBI, sorted");
    let (_, solvers) = get_json(&service, "/api/v1/solvers").await;
    assert_eq!(solvers["solvers"]["python"][0]["solver_name"], "solver-rhel-8-py38");
    let (_, indexes) = get_json(&service, "/api/v1/python-package-index").await;
    assert!(
        indexes["indexes"]
            .as_array()
            .is_some_and(|list| list.iter().any(|index| index["url"] == "https://pypi.org/simple"))
    );

    let (status, headers, body) = service.get_with_headers("/api/v1/python/package?per_page=1").await;
    assert_eq!(status, 200, "{body}");
    let header = |name: &str| headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    let entries: i64 = header("entries_count").and_then(|count| count.parse().ok()).expect("entries_count");
    assert!(entries > 1, "the sample graph has several packages");
    assert_eq!(header("page_count"), Some(entries.to_string()), "one per page");
    assert_eq!(header("next").as_deref(), Some("/api/v1/python/package?per_page=1&page=1"));
    assert_eq!(header("prev").as_deref(), Some("null"));
    assert!(header("x-thoth-version").is_some());
    let (_, last) = get_json(&service, "/api/v1/python/package?per_page=1&page=-1").await;
    assert_eq!(last["packages"].as_array().map(Vec::len), Some(1), "a negative page counts from the end");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_and_hostile_parameters_get_clear_errors_and_change_nothing() {
    let (database, service) = service_over_sample_graph().await;
    let cases: [(&str, u16, &str); 9] = [
        ("/api/v1/python/package/versions", 400, "missing_parameter"),
        ("/api/v1/python/package/versions?name=no-such-package", 404, "not_found"),
        ("/api/v1/python/package/versions?name=requests&order_by=SIDEWAYS", 400, "invalid_parameter"),
        (
            "/api/v1/python/package/versions?name=%27%3B%20DROP%20TABLE%20graph.python_package_version%3B%20--",
            404,
            "not_found",
        ),
        ("/api/v1/python/package?per_page=1000", 400, "invalid_parameter"),
        ("/api/v1/python/package?page=banana", 400, "invalid_parameter"),
        ("/api/v1/python/package/versions?name=%FF%FE", 400, "invalid_query"),
        (
            "/api/v1/python/package/dependencies?name=requests&version=2.26.0&index=https://pypi.org/simple&os_name=rhel",
            400,
            "invalid_parameter",
        ),
        (
            "/api/v1/python/package/dependencies?name=requests&version=9.9.9&index=https://pypi.org/simple",
            404,
            "not_found",
        ),
    ];
    for (path, expected_status, expected_code) in cases {
        let (status, body) = get_json(&service, path).await;
        assert_eq!(status, expected_status, "{path}: {body}");
        assert_eq!(body["code"], expected_code, "{path}: {body}");
        assert!(body["error"].as_str().is_some_and(|error| !error.is_empty()), "{path}: Thoth's error field: {body}");
    }
    let huge = format!("/api/v1/python/package/versions?name={}", "a".repeat(2_000));
    let (status, _) = service.get(&huge).await;
    assert_eq!(status, 400, "an oversized parameter is refused");
    let client = database.sql().await;
    let still: i64 =
        client.query_one("SELECT count(*) FROM graph.python_package_version", &[]).await.expect("count").get(0);
    assert!(still > 0, "the graph is intact");
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_read_the_log_the_workflows_the_dead_letters_and_the_status() {
    let (database, service) = service_over_sample_graph().await;
    let mut env = database.vars();
    env.push(("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()));
    // A package the sample graph does not know, so every configured solver is asked for.
    for (index, name) in [("https://pypi.org/simple", "new-package"), ("https://unknown.example.org/simple", "flask")] {
        let json = format!(r#"{{"package_name": "{name}", "package_version": "2.0.1", "index_url": "{index}"}}"#);
        let sent = investigator(&["emit", "thoth.investigator.unresolved-package", "--json", &json], &env).await;
        assert_eq!(sent.code, Some(0), "{}", sent.stderr);
    }
    investigator_tests::eventually("both messages applied", std::time::Duration::from_secs(30), || async {
        let (_, status) = get_json(&service, "/api/v1/status").await;
        status["offsets"].as_array().is_some_and(|offsets| offsets.iter().any(|offset| offset["next_offset"] == 2))
    })
    .await;

    let (_, status) = get_json(&service, "/api/v1/status").await;
    assert_eq!(status["source"], "embedded bus");
    let offset = &status["offsets"][0];
    assert_eq!((offset["high_watermark"].as_i64(), offset["lag"].as_i64()), (Some(2), Some(0)), "{status}");

    let (status, headers, body) = service.get_with_headers("/api/v1/workflows?kind=solver&per_page=1").await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains(&("entries_count".to_owned(), "2".to_owned())), "{headers:?}");
    let workflows: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(workflows["workflows"][0]["package_name"], "new-package");
    let status = workflows["workflows"][0]["status"].as_str().unwrap_or_default().to_owned();
    assert!(status == "requested" || status == "submitted", "the log launcher may have taken it: {status}");

    let (_, dead) = get_json(&service, "/api/v1/dead-letters").await;
    assert_eq!(dead["dead_letters"].as_array().map(Vec::len), Some(1), "{dead}");
    assert_eq!(dead["dead_letters"][0]["reason_code"], "unregistered_index");

    let (_, first) = get_json(&service, "/api/v1/events?type=WorkflowRequested&limit=1").await;
    let position = first["next"].as_i64().expect("a cursor");
    assert_eq!(first["events"][0]["position"].as_i64(), Some(position));
    assert_eq!(first["events"][0]["type"], "WorkflowRequested");
    let (_, second) = get_json(&service, &format!("/api/v1/events?type=WorkflowRequested&after={position}")).await;
    assert_eq!(second["events"].as_array().map(Vec::len), Some(1), "the other solver's request, after the cursor");
    let (status, _) = get_json(&service, "/api/v1/events?limit=0").await;
    assert_eq!(status, 400);

    let metadata = "/api/v1/python/package/version/metadata?name=requests&version=2.26.0&index=https://pypi.org/simple";
    let (status, body) = get_json(&service, &format!("{metadata}&os_name=ubi&os_version=8&python_version=3.8")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["metadata"].is_object(), "the solver's entry: {body}");
    let (status, _) = get_json(&service, metadata).await;
    assert_eq!(status, 400, "the environment is required");
}

/// `serve` on the embedded bus (no Kafka), with `extra` settings.
pub(crate) async fn service_with(database: &TestDatabase, extra: &[(&str, &str)]) -> Service {
    let mut env = database.vars();
    env.push(("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()));
    env.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    Service::start(&env).await
}

fn code(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|json| json["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_need_the_token_publish_messages_and_register_indexes() {
    let database = TestDatabase::create().await;
    let service = service_with(&database, &[("INVESTIGATOR_API_TOKEN", "s3cret")]).await;
    let unresolved =
        br#"{"package_name": "brand-new", "package_version": "1.0.0", "index_url": "https://pypi.org/simple"}"#;
    let path = "/api/v1/messages/thoth.investigator.unresolved-package";

    let (status, body) = service.post(path, None, unresolved).await;
    assert_eq!((status, code(&body)), (401, "missing_token".to_owned()), "{body}");
    let (status, body) = service.post(path, Some("guess"), unresolved).await;
    assert_eq!((status, code(&body)), (401, "invalid_token".to_owned()), "{body}");

    let (status, body) = service.post(path, Some("s3cret"), unresolved).await;
    assert_eq!(status, 202, "{body}");
    assert!(body.contains("\"offset\":0"), "{body}");
    investigator_tests::eventually("the published message applied", std::time::Duration::from_secs(30), || async {
        let (_, workflows) = get_json(&service, "/api/v1/workflows?package_name=brand-new").await;
        workflows["workflows"].as_array().is_some_and(|list| list.len() == 3)
    })
    .await;

    let (status, body) = service.post(path, Some("s3cret"), br#"{"package_name": 42}"#).await;
    assert_eq!((status, code(&body)), (422, "invalid_message".to_owned()), "{body}");
    let (status, body) = service.post("/api/v1/messages/thoth.nope", Some("s3cret"), b"{}").await;
    assert_eq!(status, 404, "{body}");
    let huge = vec![b' '; 2 * 1024 * 1024];
    let (status, body) = service.post(path, Some("s3cret"), &huge).await;
    assert_eq!((status, code(&body)), (413, "payload_too_large".to_owned()), "{body}");

    let index = br#"{"url": "https://download.pytorch.org/whl/cpu", "verify_ssl": true, "enabled": true}"#;
    let (status, body) = service.post("/api/v1/python/package-index", Some("s3cret"), index).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = service.post("/api/v1/python/package-index", Some("s3cret"), index).await;
    assert_eq!((status, code(&body)), (422, "index_already_registered".to_owned()), "{body}");
    let disable = br#"{"url": "https://download.pytorch.org/whl/cpu", "enabled": false}"#;
    let (status, body) = service.post("/api/v1/python/package-index/state", Some("s3cret"), disable).await;
    assert_eq!(status, 201, "{body}");
    let unknown = br#"{"url": "https://nowhere.example.org/simple", "enabled": true}"#;
    let (status, _) = service.post("/api/v1/python/package-index/state", Some("s3cret"), unknown).await;
    assert_eq!(status, 404);
    let (_, indexes) = get_json(&service, "/api/v1/python-package-index").await;
    assert!(
        indexes["indexes"]
            .as_array()
            .is_some_and(|list| list.iter().any(|index| index["url"] == "https://download.pytorch.org/whl/cpu"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_token_writes_are_disabled_and_a_read_token_closes_reads() {
    let database = TestDatabase::create().await;
    let open = service_with(&database, &[]).await;
    let (status, body) =
        open.post("/api/v1/python/package-index", None, br#"{"url": "https://example.org/simple"}"#).await;
    assert_eq!((status, code(&body)), (401, "writes_disabled".to_owned()), "{body}");
    drop(open);

    let closed = service_with(&database, &[("INVESTIGATOR_API_READ_TOKEN", "reader")]).await;
    let (status, body) = closed.get("/api/v1/python-package-index").await;
    assert_eq!((status, code(&body)), (401, "missing_token".to_owned()), "{body}");
    let (status, _) = closed.get_with_token("/api/v1/python-package-index", "reader").await;
    assert_eq!(status, 200);
    let (status, _) = closed.get("/_health").await;
    assert_eq!(status, 200, "Thoth's health endpoint stays open");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_letter_is_redriven_once_its_cause_is_fixed_or_discarded() {
    let database = TestDatabase::create().await;
    let service = service_with(&database, &[("INVESTIGATOR_API_TOKEN", "s3cret")]).await;
    let token = Some("s3cret");
    let path = "/api/v1/messages/thoth.investigator.unresolved-package";
    let on_torch = br#"{"package_name": "torch", "package_version": "2.1.0", "index_url": "https://download.pytorch.org/whl/cpu"}"#;
    let elsewhere =
        br#"{"package_name": "other", "package_version": "1.0", "index_url": "https://nowhere.example.org/simple"}"#;
    for body in [&on_torch[..], &elsewhere[..]] {
        let (status, reply) = service.post(path, token, body).await;
        assert_eq!(status, 202, "{reply}");
    }
    investigator_tests::eventually("both dead-lettered", std::time::Duration::from_secs(30), || async {
        let (_, dead) = get_json(&service, "/api/v1/dead-letters?status=parked").await;
        dead["dead_letters"].as_array().is_some_and(|list| list.len() == 2)
    })
    .await;

    let index = br#"{"url": "https://download.pytorch.org/whl/cpu", "enabled": true}"#;
    assert_eq!(service.post("/api/v1/python/package-index", token, index).await.0, 201);
    let topic = "thoth.investigator.unresolved-package";
    let (status, body) = service.post(&format!("/api/v1/dead-letters/{topic}/0/0/redrive"), token, b"").await;
    assert_eq!(status, 202, "{body}");
    investigator_tests::eventually("the re-driven message applied", std::time::Duration::from_secs(30), || async {
        let (_, workflows) = get_json(&service, "/api/v1/workflows?package_name=torch").await;
        workflows["workflows"].as_array().is_some_and(|list| list.len() == 3)
    })
    .await;
    let (status, body) = service.post(&format!("/api/v1/dead-letters/{topic}/0/0/redrive"), token, b"").await;
    assert_eq!((status, code(&body)), (422, "not_parked".to_owned()), "re-driven once: {body}");

    let (status, body) =
        service.post(&format!("/api/v1/dead-letters/{topic}/0/1/discard"), token, br#"{"reason": "a typo"}"#).await;
    assert_eq!(status, 200, "{body}");
    let (_, dead) = get_json(&service, "/api/v1/dead-letters").await;
    let statuses: Vec<&str> = dead["dead_letters"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|letter| letter["status"].as_str())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&"redriven") && statuses.contains(&"discarded"), "{dead}");
    let (status, _) = service.post(&format!("/api/v1/dead-letters/{topic}/0/99/discard"), token, b"").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_exactly_the_routes_served() {
    let database = TestDatabase::create().await;
    let service = service_with(&database, &[("INVESTIGATOR_API_TOKEN", "s3cret")]).await;
    let (status, document) = get_json(&service, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.0.3");
    let paths = document["paths"].as_object().expect("paths");
    let (_, discovery) = get_json(&service, "/api/v1").await;
    let mut listed: Vec<&str> =
        discovery["paths"].as_array().expect("paths").iter().filter_map(Value::as_str).collect();
    let mut documented: Vec<&str> = paths.keys().map(String::as_str).collect();
    listed.sort_unstable();
    listed.dedup();
    documented.sort_unstable();
    assert_eq!(listed, documented, "discovery and OpenAPI list the same paths");

    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("operations") {
            let mut concrete = path.replace("{base_name}", "thoth.repo-init").replace("{topic}", "t");
            concrete = concrete.replace("{partition}", "0").replace("{offset}", "0");
            let query: Vec<String> = operation["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .filter(|param| param["in"] == "query" && param["required"] == true)
                .map(|param| format!("{}=x", param["name"].as_str().unwrap_or_default()))
                .collect();
            if !query.is_empty() {
                concrete = format!("{concrete}?{}", query.join("&"));
            }
            let (status, body) = match method.as_str() {
                "get" => service.get(&concrete).await,
                _ => service.post(&concrete, Some("s3cret"), b"").await,
            };
            // A route that is not served answers actix's bare 404; every handler answers JSON.
            let answered = serde_json::from_str::<Value>(&body).is_ok_and(|json| json.is_object());
            assert!(answered, "{method} {concrete}: {status} {body:?} is not one of our answers");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn solver_documents_uploaded_through_the_api_enter_the_graph_once() {
    let database = TestDatabase::create().await;
    let service = service_with(&database, &[("INVESTIGATOR_API_TOKEN", "s3cret")]).await;
    let file = std::fs::read_dir(documents_dir().join("solver"))
        .expect("sample documents")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("solver-rhel-8-py38")))
        .expect("a rhel-8 solver document");
    let document = std::fs::read(&file).expect("readable");

    let (status, body) = service.post("/api/v1/documents", Some("s3cret"), &document).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = service.post("/api/v1/documents", Some("s3cret"), &document).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"already_present\":true"), "{body}");
    let (status, body) = service.post("/api/v1/documents", Some("s3cret"), br#"{"metadata": {}}"#).await;
    assert_eq!((status, code(&body)), (422, "invalid_document".to_owned()), "{body}");

    let (status, _) = get_json(&service, "/api/v1/python/package?per_page=1").await;
    assert_eq!(status, 200);
    let (_, packages) = get_json(&service, "/api/v1/python/package?per_page=100").await;
    assert!(
        packages["packages"].as_array().is_some_and(|list| !list.is_empty()),
        "the document's packages are in the graph"
    );
}

/// Percent-encodes every byte but the unreserved ones, as a client sending any text would.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn arbitrary_text_in_every_parameter_never_gets_a_server_error() {
    use proptest::strategy::{Strategy, ValueTree};
    let database = TestDatabase::create().await;
    let service =
        service_with(&database, &[("INVESTIGATOR_API_TOKEN", "s3cret"), ("INVESTIGATOR_API_CACHE_TTL_MS", "0")]).await;
    // Every route and parameter the server describes, so a new one is covered as it is added.
    let (_, document) = get_json(&service, "/api/v1/openapi.json").await;
    let mut targets: Vec<(String, String, String, String)> = Vec::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let (Some(name), Some(location)) = (parameter["name"].as_str(), parameter["in"].as_str()) else {
                    continue;
                };
                if location != "header" {
                    targets.push((method.clone(), path.clone(), name.to_owned(), location.to_owned()));
                }
            }
        }
    }
    assert!(targets.len() > 20, "{targets:?}");
    let (status, _) = service.get(&format!("{}?{}=x", targets[0].1, targets[0].2)).await;
    assert_ne!(status, 404, "the routes are where the document says: {}", targets[0].1);
    // Text of every kind: NUL and other control characters, invalid-looking escapes, quotes,
    // SQL and regex metacharacters, long runs, astral planes.
    let strategy = proptest::string::string_regex("(\\PC|[\\x00-\\x1f\\x7f%'\"\\\\]){0,40}|[\\x00a]{300,600}")
        .expect("a regex strategy");
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    // Known troublemakers first (a NUL is what PostgreSQL refuses), then generated text.
    let mut values: Vec<String> =
        ["\0", "flask\0", "\0\0\0", "%", "'; DROP TABLE graph.dead_letter; --", "\u{10FFFF}", "\u{1F600}\0"]
            .into_iter()
            .map(str::to_owned)
            .collect();
    values.extend((0..10).map(|_| strategy.new_tree(&mut runner).expect("a value").current()));
    let mut failures = Vec::new();
    for (case, value) in values.iter().enumerate() {
        let encoded = percent_encoded(value);
        let requests = targets.iter().map(|(method, path, name, location)| {
            let encoded = &encoded;
            let service = &service;
            async move {
                let url = if location == "path" {
                    let filled = path.replace(&format!("{{{name}}}"), encoded);
                    // The other path parameters get plausible values.
                    filled
                        .replace("{partition}", "0")
                        .replace("{offset}", "0")
                        .replace("{topic}", "t")
                        .replace("{base_name}", "thoth.investigator.unresolved-package")
                } else {
                    format!("{path}?{name}={encoded}")
                };
                // The document's paths are the full ones (`/api/v1/...`).
                let full = if url.starts_with("/api/") { url } else { format!("/api/v1{url}") };
                let status = if method == "get" {
                    service.get(&full).await.0
                } else {
                    service.post(&full, Some("s3cret"), b"{}").await.0
                };
                (method.clone(), full, status)
            }
        });
        for (method, full, status) in futures_util::future::join_all(requests).await {
            if status >= 500 {
                failures.push((case, method, full.chars().take(120).collect::<String>(), status));
            }
        }
    }
    assert!(failures.is_empty(), "{} server errors, e.g. {:?}", failures.len(), &failures[..failures.len().min(5)]);
}

fn code_of(body: &str) -> String {
    let error: Value =
        serde_json::from_str(body).unwrap_or_else(|error| panic!("a JSON error body ({error}): {body:?}"));
    error["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_paths_undeclared_methods_and_bad_filters_get_the_json_error_of_the_contract() {
    let (_database, service) = service_over_sample_graph_with(&[("INVESTIGATOR_API_TOKEN", "s3cret")]).await;
    let header = |headers: &[(String, String)], name: &str| {
        headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone())
    };

    // An undeclared method is 405 with Allow, before the token is looked at.
    for (method, path, allow) in [
        ("TRACE", "/api/v1/python/package/versions?name=requests", "GET"),
        ("PUT", "/api/v1/python/package-index", "POST"),
        ("GET", "/api/v1/python/package-index", "POST"),
        ("DELETE", "/api/v1/dead-letters/t/0/1/redrive", "POST"),
        ("POST", "/api/v1/openapi.json", "GET"),
    ] {
        let (status, headers, body) = service.exchange(method, path, &[], b"").await;
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(header(&headers, "allow").as_deref(), Some(allow), "{method} {path}");
        assert_eq!(code_of(&body), "method_not_allowed", "{method} {path}");
    }
    // An unknown path, inside the API or not, is a JSON 404.
    for path in ["/api/v1/nothing-here", "/api/v1/python/package/versions/extra", "/nothing-here"] {
        let (status, body) = service.get(path).await;
        assert_eq!((status, code_of(&body).as_str()), (404, "unknown_path"), "{path}: {body}");
    }
    // A path segment that does not parse is a JSON 400, not plain text.
    let (status, body) = service.post("/api/v1/dead-letters/t/not-a-number/0/redrive", Some("s3cret"), b"{}").await;
    assert_eq!((status, code_of(&body).as_str()), (400, "invalid_parameter"), "{body}");
    // A filter outside its values is 400 naming them, not an empty list.
    let (status, body) = service.get("/api/v1/workflows?status=bogus").await;
    assert_eq!((status, code_of(&body).as_str()), (400, "invalid_parameter"), "{body}");
    assert!(body.contains("requested, submitted, running, succeeded, failed"), "{body}");
    let (status, body) = service.get("/api/v1/dead-letters?status=gone").await;
    assert_eq!(status, 400, "{body}");
    for good in ["/api/v1/workflows?status=failed&kind=solver", "/api/v1/dead-letters?status=parked"] {
        let (status, body) = service.get(good).await;
        assert_eq!(status, 200, "{good}: {body}");
    }

    // The description states the bounds the server enforces.
    let (_, document) = get_json(&service, "/api/v1/openapi.json").await;
    let parameter = |path: &str, name: &str| {
        document["paths"][path]["get"]["parameters"]
            .as_array()
            .and_then(|parameters| parameters.iter().find(|parameter| parameter["name"] == name).cloned())
            .unwrap_or_else(|| panic!("{path} {name}"))
    };
    assert_eq!(parameter("/api/v1/workflows", "per_page")["schema"]["minimum"], 1);
    assert_eq!(parameter("/api/v1/workflows", "per_page")["schema"]["maximum"], 100);
    assert_eq!(parameter("/api/v1/events", "limit")["schema"]["maximum"], 1000);
    let statuses = &parameter("/api/v1/workflows", "status")["schema"]["enum"];
    assert_eq!(statuses, &serde_json::json!(["requested", "submitted", "running", "succeeded", "failed"]));
    assert!(parameter("/api/v1/workflows", "kind")["schema"]["enum"].as_array().is_some_and(|kinds| kinds.len() == 12));
    assert_eq!(parameter("/api/v1/python/package/versions", "name")["schema"]["minLength"], 1);
    let (status, body) = service.get("/api/v1/workflows?per_page=0").await;
    assert_eq!(status, 400, "what the description excludes is refused: {body}");
}
