//! The fake Kubernetes API server, driven with plain HTTP the way kube-rs drives the real one.

use std::time::{Duration, Instant};

use investigator_tests::fake_kube::{FakeKube, FakeKubeSettings, argo_status};
use serde_json::{Value, json};

const NAMESPACE: &str = "thoth-middletier";
/// How long a test waits for a watch event before failing.
const EVENT_WAIT: Duration = Duration::from_secs(5);

fn collection(fake: &FakeKube, namespace: &str) -> String {
    format!("{}/apis/argoproj.io/v1alpha1/namespaces/{namespace}/workflows", fake.url())
}

fn workflow(name: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "labels": labels},
        "spec": {"workflowTemplateRef": {"name": "solver"}},
    })
}

async fn post(url: &str, body: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the fake answers");
    let (code, headers) = (response.status().as_u16(), response.headers().clone());
    let bytes = response.bytes().await.expect("a body");
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null), headers)
}

async fn create(fake: &FakeKube, object: &Value) -> (u16, Value) {
    let (code, body, _) = post(&collection(fake, NAMESPACE), &object.to_string()).await;
    (code, body)
}

async fn get(url: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = reqwest::get(url).await.expect("the fake answers");
    let (code, headers) = (response.status().as_u16(), response.headers().clone());
    let bytes = response.bytes().await.expect("a body");
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null), headers)
}

async fn list_names(url: &str) -> Vec<String> {
    let (code, list, _) = get(url).await;
    assert_eq!(code, 200, "{list}");
    names(&list)
}

fn names(list: &Value) -> Vec<String> {
    let items = list["items"].as_array().cloned().unwrap_or_default();
    items.iter().map(|item| item["metadata"]["name"].as_str().unwrap_or_default().to_owned()).collect()
}

fn revision(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .expect("a numeric resourceVersion")
}

/// An open watch, read line by line.
struct Watch {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Watch {
    async fn open(url: &str) -> Watch {
        let response = reqwest::get(url).await.expect("the fake answers the watch");
        assert_eq!(response.status().as_u16(), 200);
        Watch { response, buffer: Vec::new() }
    }

    /// The next event; `Ok(None)` when the stream ended cleanly, `Err` when it broke off.
    async fn next(&mut self) -> Result<Option<Value>, reqwest::Error> {
        loop {
            if let Some(end) = self.buffer.iter().position(|byte| *byte == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Ok(Some(serde_json::from_slice(&line).expect("each line is one JSON event")));
            }
            let chunk = tokio::time::timeout(EVENT_WAIT, self.response.chunk()).await.expect("a watch event in time");
            match chunk? {
                Some(bytes) => self.buffer.extend_from_slice(&bytes),
                None => {
                    assert!(self.buffer.is_empty(), "the stream ended inside an event");
                    return Ok(None);
                }
            }
        }
    }

    async fn event(&mut self) -> Value {
        self.next().await.expect("an unbroken stream").expect("one more event")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_create_answers_201_with_server_fields_then_409_already_exists() {
    let fake = FakeKube::start().await;
    let name = "solver-rhel-8-py38-260101120000-0123456789abcdef";

    let (code, stored) = create(&fake, &workflow(name, json!({"app": "thoth"}))).await;
    assert_eq!(code, 201, "{stored}");
    assert_eq!(stored["metadata"]["name"], name);
    assert_eq!(stored["metadata"]["namespace"], NAMESPACE);
    assert_eq!(stored["metadata"]["labels"]["app"], "thoth");
    assert_eq!(stored["spec"]["workflowTemplateRef"]["name"], "solver");
    assert_eq!(stored["metadata"]["uid"].as_str().map(str::len), Some(36), "{stored}");
    assert!(stored["metadata"]["creationTimestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{stored}");
    assert_eq!(revision(&stored), fake.resource_version());

    let (code, conflict) = create(&fake, &workflow(name, json!({}))).await;
    assert_eq!(code, 409);
    let expected = format!(
        r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"workflows.argoproj.io \"{name}\" already exists","reason":"AlreadyExists","details":{{"name":"{name}","group":"argoproj.io","kind":"workflows"}},"code":409}}"#
    );
    assert_eq!(conflict.to_string(), expected);

    let (code, fetched, _) = get(&format!("{}/{name}", collection(&fake, NAMESPACE))).await;
    assert_eq!(code, 200);
    assert_eq!(fetched["metadata"]["uid"], stored["metadata"]["uid"]);
    let (code, missing, _) = get(&format!("{}/no-such-workflow", collection(&fake, NAMESPACE))).await;
    assert_eq!((code, missing["reason"].as_str()), (404, Some("NotFound")), "{missing}");
    let (code, _, _) = get(&format!("{}/{name}", collection(&fake, "thoth-backend"))).await;
    assert_eq!(code, 404, "names are per namespace");

    assert_eq!(fake.created_names(), [name]);
    assert_eq!(fake.count(NAMESPACE), 1);
    let statuses: Vec<(String, u16)> =
        fake.requests().into_iter().map(|request| (request.method, request.status)).collect();
    let expected_log = [("POST", 201), ("POST", 409), ("GET", 200), ("GET", 404), ("GET", 404)];
    assert_eq!(statuses, expected_log.map(|(method, status)| (method.to_owned(), status)));
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_generate_name_appends_five_characters_and_bad_bodies_are_refused() {
    let fake = FakeKube::start().await;
    let generated = json!({"metadata": {"generateName": "solver-"}, "spec": {}});
    let (code, first) = create(&fake, &generated).await;
    assert_eq!(code, 201, "{first}");
    let (_, second) = create(&fake, &generated).await;
    let first_name = first["metadata"]["name"].as_str().expect("a generated name");
    let suffix = first_name.strip_prefix("solver-").expect("the prefix is kept");
    assert_eq!(suffix.len(), 5, "{first_name}");
    assert!(suffix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{first_name}");
    assert_ne!(first["metadata"]["name"], second["metadata"]["name"]);
    assert_eq!(first["apiVersion"], "argoproj.io/v1alpha1", "type fields are filled in");
    assert_eq!(fake.count(NAMESPACE), 2);

    let (code, nameless) = create(&fake, &json!({"metadata": {"labels": {"app": "thoth"}}})).await;
    assert_eq!((code, nameless["reason"].as_str()), (422, Some("Invalid")), "{nameless}");
    let (code, upper) = create(&fake, &workflow("Solver-X", json!({}))).await;
    assert_eq!((code, upper["reason"].as_str()), (422, Some("Invalid")), "{upper}");
    let (code, garbage, _) = post(&collection(&fake, NAMESPACE), "{not json").await;
    assert_eq!((code, garbage["reason"].as_str()), (400, Some("BadRequest")), "{garbage}");
    let elsewhere = json!({"metadata": {"name": "wf", "namespace": "thoth-backend"}});
    let (code, mismatch) = create(&fake, &elsewhere).await;
    assert_eq!((code, mismatch["reason"].as_str()), (400, Some("BadRequest")), "{mismatch}");
    assert_eq!(fake.count(NAMESPACE), 2, "refused bodies store nothing");

    let dry_run = format!("{}?dryRun=All", collection(&fake, NAMESPACE));
    let (code, dry, _) = post(&dry_run, &workflow("dry", json!({})).to_string()).await;
    assert_eq!((code, dry["metadata"]["name"].as_str()), (201, Some("dry")), "{dry}");
    assert!(fake.get(NAMESPACE, "dry").is_none(), "a dry run stores nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_lists_by_label_selector_and_pages_with_continue() {
    let fake = FakeKube::start().await;
    for (name, component) in [("wf-a", "solver"), ("wf-b", "adviser"), ("wf-c", "solver")] {
        let (code, body) = create(&fake, &workflow(name, json!({"app": "thoth", "component": component}))).await;
        assert_eq!(code, 201, "{body}");
    }
    let other = format!("{}/apis/argoproj.io/v1alpha1/namespaces/thoth-backend/workflows", fake.url());
    let (code, _, _) = post(&other, &workflow("wf-d", json!({"app": "thoth"})).to_string()).await;
    assert_eq!(code, 201);
    fake.set_status(NAMESPACE, "wf-c", argo_status("Succeeded")).expect("wf-c exists");

    let url = collection(&fake, NAMESPACE);
    assert_eq!(list_names(&format!("{url}?labelSelector=component%3Dsolver")).await, ["wf-a", "wf-c"]);
    assert_eq!(list_names(&format!("{url}?labelSelector=app%3D%3Dthoth%2Ccomponent%21%3Dsolver")).await, ["wf-b"]);
    assert_eq!(list_names(&format!("{url}?labelSelector=workflows.argoproj.io%2Fphase")).await, ["wf-c"]);
    assert_eq!(list_names(&format!("{url}?labelSelector=%21workflows.argoproj.io%2Fphase")).await, ["wf-a", "wf-b"]);
    let pending = format!("{url}?labelSelector=component%3Dsolver%2Cworkflows.argoproj.io%2Fcompleted%21%3Dtrue");
    assert_eq!(list_names(&pending).await, ["wf-a"]);
    assert_eq!(list_names(&format!("{url}?fieldSelector=metadata.name%3Dwf-b")).await, ["wf-b"]);
    let everywhere = format!("{}/apis/argoproj.io/v1alpha1/workflows", fake.url());
    assert_eq!(list_names(&everywhere).await, ["wf-d", "wf-a", "wf-b", "wf-c"], "ordered by namespace, then name");
    let (code, bad, _) = get(&format!("{url}?labelSelector=component%3D%3D%3D")).await;
    assert_eq!((code, bad["reason"].as_str()), (400, Some("BadRequest")), "{bad}");

    let (code, first, _) = get(&format!("{url}?limit=2")).await;
    assert_eq!(code, 200);
    assert_eq!(first["kind"], "WorkflowList");
    assert_eq!(first["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(names(&first), ["wf-a", "wf-b"]);
    assert_eq!(first["metadata"]["resourceVersion"], fake.resource_version().to_string());
    assert_eq!(first["metadata"]["remainingItemCount"], 1);
    let token = first["metadata"]["continue"].as_str().expect("a continue token");
    let (_, second, _) = get(&format!("{url}?limit=2&continue={token}")).await;
    assert_eq!(names(&second), ["wf-c"]);
    assert!(second["metadata"].get("continue").is_none(), "{second}");
    let (code, _, _) = get(&format!("{url}?limit=2&continue=garbage")).await;
    assert_eq!(code, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_watch_from_zero_sends_added_then_modified_after_set_status() {
    let fake = FakeKube::start().await;
    let (_, created) = create(&fake, &workflow("wf-watched", json!({"app": "thoth"}))).await;
    let url = collection(&fake, NAMESPACE);
    let mut watch = Watch::open(&format!("{url}?watch=true&resourceVersion=0&labelSelector=app%3Dthoth")).await;

    let added = watch.event().await;
    assert_eq!(added["type"], "ADDED");
    assert_eq!(added["object"]["metadata"]["name"], "wf-watched");
    assert_eq!(fake.open_watches(), 1);

    let (code, _) = create(&fake, &workflow("wf-unlabelled", json!({"app": "other"}))).await;
    assert_eq!(code, 201);
    fake.set_status(NAMESPACE, "wf-watched", argo_status("Running")).expect("wf-watched exists");

    let modified = watch.event().await;
    assert_eq!(modified["type"], "MODIFIED", "the unlabelled workflow is filtered out: {modified}");
    assert_eq!(modified["object"]["metadata"]["name"], "wf-watched");
    assert_eq!(modified["object"]["status"]["phase"], "Running");
    assert!(modified["object"]["status"]["startedAt"].is_string());
    assert_eq!(modified["object"]["metadata"]["labels"]["workflows.argoproj.io/phase"], "Running");
    assert_eq!(modified["object"]["metadata"]["labels"]["workflows.argoproj.io/completed"], "false");
    assert_eq!(modified["object"]["metadata"]["uid"], created["metadata"]["uid"]);
    assert!(revision(&modified["object"]) > revision(&created));

    fake.delete(NAMESPACE, "wf-watched").expect("wf-watched exists");
    let deleted = watch.event().await;
    assert_eq!(deleted["type"], "DELETED");
    assert_eq!(revision(&deleted["object"]), fake.resource_version());
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_watch_replays_changes_after_a_version_and_drop_watches_breaks_it() {
    let fake = FakeKube::start().await;
    let (_, first) = create(&fake, &workflow("wf-1", json!({}))).await;
    create(&fake, &workflow("wf-2", json!({}))).await;
    fake.set_status(NAMESPACE, "wf-1", argo_status("Failed")).expect("wf-1 exists");

    let url = collection(&fake, NAMESPACE);
    let mut watch = Watch::open(&format!("{url}?watch=1&resourceVersion={}", revision(&first))).await;
    let replayed = [watch.event().await, watch.event().await];
    let seen: Vec<(&str, &str)> = replayed
        .iter()
        .map(|event| {
            (
                event["type"].as_str().unwrap_or_default(),
                event["object"]["metadata"]["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(seen, [("ADDED", "wf-2"), ("MODIFIED", "wf-1")]);
    assert_eq!(replayed[1]["object"]["metadata"]["labels"]["workflows.argoproj.io/completed"], "true");

    fake.drop_watches();
    assert!(watch.next().await.is_err(), "a dropped watch breaks off without the final chunk");
    let deadline = Instant::now() + EVENT_WAIT;
    while fake.open_watches() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(fake.open_watches(), 0);

    let mut later = Watch::open(&format!("{url}?watch=true&resourceVersion={}", fake.resource_version())).await;
    create(&fake, &workflow("wf-3", json!({}))).await;
    assert_eq!(later.event().await["object"]["metadata"]["name"], "wf-3", "only earlier watches were dropped");
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_watch_from_a_compacted_version_gets_a_410_error_event() {
    let fake = FakeKube::start().await;
    let (_, first) = create(&fake, &workflow("wf-1", json!({}))).await;
    create(&fake, &workflow("wf-2", json!({}))).await;
    fake.compact_history();

    let url = collection(&fake, NAMESPACE);
    let old = revision(&first);
    let mut expired = Watch::open(&format!("{url}?watch=true&resourceVersion={old}&allowWatchBookmarks=true")).await;
    let error = expired.event().await;
    assert_eq!(error["type"], "ERROR");
    let status = &error["object"];
    assert_eq!((status["kind"].as_str(), status["code"].as_u64()), (Some("Status"), Some(410)), "{error}");
    assert_eq!(status["reason"], "Expired");
    assert_eq!(status["message"], format!("too old resource version: {old} ({})", fake.resource_version()));
    assert_eq!(expired.next().await.expect("a clean end"), None, "the server closes the watch after the error");

    let current = fake.resource_version();
    let mut fresh = Watch::open(&format!("{url}?watch=true&resourceVersion={current}")).await;
    create(&fake, &workflow("wf-3", json!({}))).await;
    let added = fresh.event().await;
    assert_eq!((added["type"].as_str(), added["object"]["metadata"]["name"].as_str()), (Some("ADDED"), Some("wf-3")));
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_bounded_history_expires_watches_from_versions_it_no_longer_holds() {
    let settings = FakeKubeSettings { history_limit: 2, ..FakeKubeSettings::default() };
    let fake = FakeKube::start_with(settings).await;
    let start = fake.resource_version();
    for name in ["wf-1", "wf-2", "wf-3"] {
        create(&fake, &workflow(name, json!({}))).await;
    }
    let url = collection(&fake, NAMESPACE);
    let mut too_old = Watch::open(&format!("{url}?watch=true&resourceVersion={start}")).await;
    assert_eq!(too_old.event().await["object"]["code"], 410);
    let mut kept = Watch::open(&format!("{url}?watch=true&resourceVersion={}", start + 1)).await;
    assert_eq!(kept.event().await["object"]["metadata"]["name"], "wf-2");
    assert_eq!(kept.event().await["object"]["metadata"]["name"], "wf-3");
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_watch_ends_cleanly_after_timeout_seconds() {
    let fake = FakeKube::start().await;
    let url = collection(&fake, NAMESPACE);
    let (code, _, _) = get(&format!("{url}?watch=true&timeoutSeconds=soon")).await;
    assert_eq!(code, 400);
    // A huge timeout is capped rather than overflowing the deadline.
    drop(Watch::open(&format!("{url}?watch=true&timeoutSeconds={}", u64::MAX)).await);
    let started = Instant::now();
    let mut watch = Watch::open(&format!("{url}?watch=true&timeoutSeconds=1")).await;
    assert_eq!(watch.next().await.expect("a clean end"), None);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_streaming_list_sends_current_objects_then_the_initial_events_end_bookmark() {
    let fake = FakeKube::start().await;
    create(&fake, &workflow("wf-1", json!({}))).await;
    create(&fake, &workflow("wf-2", json!({}))).await;
    let url = collection(&fake, NAMESPACE);

    let (code, refused, _) = get(&format!("{url}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true")).await;
    assert_eq!((code, refused["reason"].as_str()), (422, Some("Invalid")), "{refused}");

    let streaming = "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true";
    let mut watch = Watch::open(&format!("{url}?{streaming}&resourceVersion=")).await;
    assert_eq!(watch.event().await["object"]["metadata"]["name"], "wf-1");
    assert_eq!(watch.event().await["object"]["metadata"]["name"], "wf-2");
    let bookmark = watch.event().await;
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(bookmark["object"]["kind"], "Workflow");
    assert_eq!(bookmark["object"]["metadata"]["resourceVersion"], fake.resource_version().to_string());
    assert_eq!(bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_watch_with_bookmarks_gets_them_while_nothing_changes() {
    let settings = FakeKubeSettings { bookmark_interval: Duration::from_millis(100), ..FakeKubeSettings::default() };
    let fake = FakeKube::start_with(settings).await;
    let url = collection(&fake, NAMESPACE);
    let current = fake.resource_version();
    let mut watch = Watch::open(&format!("{url}?watch=true&resourceVersion={current}&allowWatchBookmarks=true")).await;
    let bookmark = watch.event().await;
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(bookmark["object"]["metadata"]["resourceVersion"], current.to_string());
    assert!(bookmark["object"]["metadata"].get("annotations").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_fail_next_answers_the_injected_status_then_succeeds() {
    let fake = FakeKube::start().await;
    fake.fail_next(1, 500);
    let (code, failed) = create(&fake, &workflow("wf-1", json!({}))).await;
    assert_eq!((code, failed["reason"].as_str()), (500, Some("InternalError")), "{failed}");
    assert_eq!(failed["kind"], "Status");
    assert_eq!(fake.count(NAMESPACE), 0, "an injected failure has no effect");
    let (code, _) = create(&fake, &workflow("wf-1", json!({}))).await;
    assert_eq!(code, 201);

    fake.fail_next(1, 429);
    fake.fail_next(1, 503);
    let (code, throttled, headers) = get(&collection(&fake, NAMESPACE)).await;
    assert_eq!((code, throttled["reason"].as_str()), (429, Some("TooManyRequests")), "{throttled}");
    assert_eq!(headers.get("retry-after").and_then(|value| value.to_str().ok()), Some("1"));
    let (code, unavailable, _) = get(&collection(&fake, NAMESPACE)).await;
    assert_eq!((code, unavailable["reason"].as_str()), (503, Some("ServiceUnavailable")), "{unavailable}");
    assert_eq!(names(&get(&collection(&fake, NAMESPACE)).await.1), ["wf-1"]);

    let statuses: Vec<u16> = fake.requests().iter().map(|request| request.status).collect();
    assert_eq!(statuses, [500, 201, 429, 503, 200]);
    assert_eq!(fake.created_names(), ["wf-1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_delay_next_holds_the_answer_back() {
    let fake = FakeKube::start().await;
    fake.delay_next(1, Duration::from_millis(400));
    let started = Instant::now();
    let (code, _) = create(&fake, &workflow("wf-slow", json!({}))).await;
    assert_eq!(code, 201);
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
    let started = Instant::now();
    let (code, _, _) = get(&format!("{}/wf-slow", collection(&fake, NAMESPACE))).await;
    assert_eq!(code, 200);
    assert!(started.elapsed() < Duration::from_millis(400), "only the next request is delayed");
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_create_failing_after_storing_keeps_the_object_so_the_retry_gets_409() {
    let fake = FakeKube::start().await;
    fake.fail_next_creates_after_storing(1);
    let (code, failed) = create(&fake, &workflow("wf-once", json!({}))).await;
    assert_eq!((code, failed["reason"].as_str()), (500, Some("InternalError")), "{failed}");
    assert!(fake.get(NAMESPACE, "wf-once").is_some(), "the object was stored before the 500");
    let (code, retried) = create(&fake, &workflow("wf-once", json!({}))).await;
    assert_eq!((code, retried["reason"].as_str()), (409, Some("AlreadyExists")), "{retried}");
    assert_eq!(fake.created_names(), ["wf-once"]);
    assert_eq!(fake.objects(NAMESPACE).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_writes_a_kubeconfig_pointing_at_itself() {
    let settings = FakeKubeSettings { namespace: NAMESPACE.to_owned(), ..FakeKubeSettings::default() };
    let fake = FakeKube::start_with(settings).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = fake.write_kubeconfig(dir.path());
    let kubeconfig: Value = serde_json::from_slice(&std::fs::read(&path).expect("written")).expect("JSON, so YAML");
    assert_eq!(kubeconfig["current-context"], "fake-kube");
    assert_eq!(kubeconfig["clusters"][0]["cluster"]["server"], fake.url());
    assert_eq!(kubeconfig["contexts"][0]["context"]["namespace"], NAMESPACE);
    assert!(kubeconfig["users"][0]["user"]["token"].is_string());
    assert!(fake.url().starts_with("http://127.0.0.1:"), "{}", fake.url());
}

fn secrets(fake: &FakeKube, namespace: &str) -> String {
    format!("{}/api/v1/namespaces/{namespace}/secrets", fake.url())
}

fn secret(name: &str, string_data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": string_data})
}

async fn create_secret(fake: &FakeKube, object: &Value) -> (u16, Value) {
    let (code, body, _) = post(&secrets(fake, NAMESPACE), &object.to_string()).await;
    (code, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_secret_create_stores_string_data_as_base64_data_then_409_already_exists() {
    let fake = FakeKube::start().await;
    create(&fake, &workflow("wf-1", json!({}))).await;
    let name = "registry-credentials-0123456789abcdef";

    let given = secret(name, json!({"username": "thoth", "password": "hunter2"}));
    let (code, created) = create_secret(&fake, &given).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!((created["apiVersion"].as_str(), created["kind"].as_str()), (Some("v1"), Some("Secret")));
    assert_eq!(created["metadata"]["namespace"], NAMESPACE);
    assert_eq!(created["metadata"]["uid"].as_str().map(str::len), Some(36), "{created}");
    assert!(created["metadata"]["creationTimestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{created}");
    assert_eq!(revision(&created), fake.resource_version(), "one counter for workflows and Secrets");
    assert_eq!(revision(&created), revision(&fake.get(NAMESPACE, "wf-1").expect("wf-1")) + 1);

    let (code, fetched, _) = get(&format!("{}/{name}", secrets(&fake, NAMESPACE))).await;
    assert_eq!(code, 200, "{fetched}");
    assert_eq!(fetched["data"], json!({"password": "aHVudGVyMg==", "username": "dGhvdGg="}));
    assert_eq!(fetched["type"], "Opaque");
    assert!(fetched.get("stringData").is_none(), "{fetched}");
    assert_eq!(fetched, created);
    assert_eq!(fake.secret(NAMESPACE, name), Some(fetched));

    let (code, conflict) = create_secret(&fake, &secret(name, json!({"other": "value"}))).await;
    assert_eq!(code, 409);
    let expected = format!(
        r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"secrets \"{name}\" already exists","reason":"AlreadyExists","details":{{"name":"{name}","kind":"secrets"}},"code":409}}"#
    );
    assert_eq!(conflict.to_string(), expected);
    assert_eq!(fake.secret(NAMESPACE, name).expect("kept")["data"]["username"], "dGhvdGg=", "the first is kept");

    let (code, elsewhere) = create_secret(&fake, &json!({"metadata": {"name": "plain"}, "data": {"k": "dg=="}})).await;
    assert_eq!(code, 201, "apiVersion and kind may be left out: {elsewhere}");
    let other_namespace = format!("{}/api/v1/namespaces/thoth-backend/secrets", fake.url());
    let (code, _, _) = post(&other_namespace, &secret(name, json!({})).to_string()).await;
    assert_eq!(code, 201, "names are per namespace");

    assert_eq!(
        fake.secret_names(),
        [format!("{NAMESPACE}/{name}"), format!("{NAMESPACE}/plain"), format!("thoth-backend/{name}")]
    );
    assert_eq!(fake.created_names(), ["wf-1"]);
    assert_eq!(list_names(&collection(&fake, NAMESPACE)).await, ["wf-1"], "Secrets are not workflows");
    assert_eq!(fake.count(NAMESPACE), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_secret_get_unknown_is_404_and_bad_bodies_are_refused() {
    let fake = FakeKube::start().await;
    let (code, missing, _) = get(&format!("{}/no-such-secret", secrets(&fake, NAMESPACE))).await;
    assert_eq!(code, 404);
    let expected = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"secrets \"no-such-secret\" not found","reason":"NotFound","details":{"name":"no-such-secret","kind":"secrets"},"code":404}"#;
    assert_eq!(missing.to_string(), expected);

    let (code, nameless) = create_secret(&fake, &json!({"apiVersion": "v1", "kind": "Secret", "data": {}})).await;
    assert_eq!((code, nameless["reason"].as_str()), (422, Some("Invalid")), "{nameless}");
    assert_eq!(
        nameless["message"],
        r#"Secret "" is invalid: metadata.name: Required value: name or generateName is required"#
    );
    let (code, bad_key) = create_secret(&fake, &secret("s", json!({"bad key": "v"}))).await;
    assert_eq!((code, bad_key["reason"].as_str()), (422, Some("Invalid")), "{bad_key}");
    assert_eq!(bad_key["details"]["causes"][0]["field"], "data[bad key]");
    let (code, garbage, _) = post(&secrets(&fake, NAMESPACE), "{not json").await;
    assert_eq!((code, garbage["reason"].as_str()), (400, Some("BadRequest")), "{garbage}");
    let wrong_version = json!({"apiVersion": "v2", "kind": "Secret", "metadata": {"name": "s"}});
    let (code, version) = create_secret(&fake, &wrong_version).await;
    assert_eq!((code, version["reason"].as_str()), (400, Some("BadRequest")), "{version}");
    let wrong_kind = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s"}});
    let (code, kind) = create_secret(&fake, &wrong_kind).await;
    assert_eq!((code, kind["reason"].as_str()), (400, Some("BadRequest")), "{kind}");
    let not_base64 = json!({"metadata": {"name": "s"}, "data": {"k": "not base64!"}});
    let (code, undecodable) = create_secret(&fake, &not_base64).await;
    assert_eq!((code, undecodable["reason"].as_str()), (400, Some("BadRequest")), "{undecodable}");
    assert!(fake.secret(NAMESPACE, "s").is_none() && fake.secret_names().is_empty(), "refused bodies store nothing");

    let (code, _, _) = get(&secrets(&fake, NAMESPACE)).await;
    assert_eq!(code, 405, "Secrets are not listed");
    let (code, _, _) =
        post(&format!("{}/apis/argoproj.io/v1alpha1/namespaces/{NAMESPACE}/secrets", fake.url()), "{}").await;
    assert_eq!(code, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_fail_next_and_delay_next_apply_to_secret_requests() {
    let fake = FakeKube::start().await;
    fake.fail_next(1, 500);
    let given = secret("s", json!({"token": "t"}));
    let (code, failed) = create_secret(&fake, &given).await;
    assert_eq!((code, failed["reason"].as_str()), (500, Some("InternalError")), "{failed}");
    assert!(fake.secret(NAMESPACE, "s").is_none(), "an injected failure has no effect");
    assert!(fake.secret_names().is_empty());

    fake.fail_next_creates_after_storing(1);
    fake.delay_next(1, Duration::from_millis(300));
    let started = Instant::now();
    let (code, created) = create_secret(&fake, &given).await;
    assert_eq!(code, 201, "lost answers are for workflow creates only: {created}");
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    let (code, failed) = create(&fake, &workflow("wf-1", json!({}))).await;
    assert_eq!(code, 500, "the workflow create still gets the lost answer: {failed}");

    let log: Vec<(String, String, u16)> =
        fake.requests().into_iter().map(|request| (request.method, request.path, request.status)).collect();
    let secrets_path = format!("/api/v1/namespaces/{NAMESPACE}/secrets");
    let workflows_path = format!("/apis/argoproj.io/v1alpha1/namespaces/{NAMESPACE}/workflows");
    assert_eq!(
        log,
        [
            ("POST".to_owned(), secrets_path.clone(), 500),
            ("POST".to_owned(), secrets_path, 201),
            ("POST".to_owned(), workflows_path, 500),
        ]
    );
    assert_eq!(fake.secret_names(), [format!("{NAMESPACE}/s")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_a_deleted_namespace_refuses_creates_with_404_and_reads_as_empty() {
    let fake = FakeKube::start().await;
    create(&fake, &workflow("wf-1", json!({}))).await;
    let url = collection(&fake, NAMESPACE);
    let mut watch = Watch::open(&format!("{url}?watch=true&resourceVersion={}", fake.resource_version())).await;

    assert_eq!(fake.delete_namespace(NAMESPACE), 1);
    let deleted = watch.event().await;
    assert_eq!(
        (deleted["type"].as_str(), deleted["object"]["metadata"]["name"].as_str()),
        (Some("DELETED"), Some("wf-1"))
    );
    assert_eq!(revision(&deleted["object"]), fake.resource_version(), "the deletion's own version");

    let (code, refused) = create(&fake, &workflow("wf-2", json!({}))).await;
    assert_eq!(code, 404);
    let expected = format!(
        r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"namespaces \"{NAMESPACE}\" not found","reason":"NotFound","details":{{"name":"{NAMESPACE}","kind":"namespaces"}},"code":404}}"#
    );
    assert_eq!(refused.to_string(), expected);
    let (code, garbage, _) = post(&url, "{not json").await;
    assert_eq!(code, 400, "a body is decoded before the namespace is looked up: {garbage}");
    let (code, secret_refused) = create_secret(&fake, &secret("s", json!({"k": "v"}))).await;
    assert_eq!((code, secret_refused["details"]["kind"].as_str()), (404, Some("namespaces")), "{secret_refused}");
    assert!(list_names(&url).await.is_empty(), "reads of a missing namespace answer 200 with nothing");
    assert!(fake.created_names() == ["wf-1"] && fake.count(NAMESPACE) == 0);

    fake.create_namespace(NAMESPACE);
    let (code, created) = create(&fake, &workflow("wf-2", json!({}))).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(watch.event().await["object"]["metadata"]["name"], "wf-2", "the watch went on");
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_kube_without_the_workflow_crd_every_workflow_path_answers_404() {
    let fake = FakeKube::start().await;
    create(&fake, &workflow("wf-1", json!({}))).await;
    let url = collection(&fake, NAMESPACE);
    let mut watch = Watch::open(&format!("{url}?watch=true&resourceVersion={}", fake.resource_version())).await;

    assert_eq!(fake.uninstall_workflow_crd(), 1);
    assert_eq!(watch.event().await["type"], "DELETED", "the workflows go first");
    assert_eq!(watch.next().await.expect("a clean end"), None, "then the watch ends");
    let no_such_resource = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#;
    let (code, refused) = create(&fake, &workflow("wf-2", json!({}))).await;
    assert_eq!((code, refused.to_string().as_str()), (404, no_such_resource));
    for path in [url.clone(), format!("{url}?watch=true"), format!("{url}/wf-1")] {
        let (code, answer, _) = get(&path).await;
        assert_eq!((code, answer.to_string().as_str()), (404, no_such_resource), "{path}");
    }
    let (code, _) = create_secret(&fake, &secret("s", json!({"k": "v"}))).await;
    assert_eq!(code, 201, "Secrets are not Argo's");

    fake.install_workflow_crd();
    assert!(list_names(&url).await.is_empty());
    let (code, _) = create(&fake, &workflow("wf-2", json!({}))).await;
    assert_eq!(code, 201);
}
