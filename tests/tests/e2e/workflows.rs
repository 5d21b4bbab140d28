//! The workflow launcher and watcher against the fake Kubernetes API (`fake_kube`), with the
//! production code path: `investigator serve` with `INVESTIGATOR_LAUNCHER=kube` and a
//! kubeconfig pointing at the fake. Each test ends with the exactly-once check: every
//! requested workflow exists once on the cluster and once as `WorkflowSubmitted` in the log.

use std::path::PathBuf;
use std::time::Duration;

use investigator_projections::Database;
use investigator_projections::replay::{self, ReplayOptions, Unobserved};
use investigator_tests::fake_kube::{FakeKube, argo_status};
use investigator_tests::partition::{Link, PartitionProxy};
use investigator_tests::{PrivatePostgres, Service, TestDatabase, TestKafka, eventually};

use crate::pipeline::messages::{PYPI, unresolved};
use crate::pipeline::{count, publish, service_env, texts};

const MIDDLETIER: &str = "thoth-middletier";

/// The fake Kubernetes API and a kubeconfig pointing at it.
pub(crate) struct Cluster {
    pub(crate) kube: FakeKube,
    _directory: tempfile::TempDir,
    kubeconfig: PathBuf,
}

pub(crate) async fn cluster() -> Cluster {
    let kube = FakeKube::start().await;
    let directory = tempfile::tempdir().expect("a directory for the kubeconfig");
    let kubeconfig = kube.write_kubeconfig(directory.path());
    Cluster { kube, _directory: directory, kubeconfig }
}

/// A cluster the service reaches through a [`PartitionProxy`], which can cut the network.
async fn cluster_behind_proxy() -> (Cluster, PartitionProxy) {
    let kube = FakeKube::start().await;
    let proxy = PartitionProxy::start(kube.address()).await;
    let directory = tempfile::tempdir().expect("a directory for the kubeconfig");
    let kubeconfig = kube.write_kubeconfig_via(directory.path(), &proxy.url());
    (Cluster { kube, _directory: directory, kubeconfig }, proxy)
}

/// `investigator serve` with the kube launcher on `cluster`, quick to launch and to time out.
pub(crate) async fn serve_with(
    cluster: &Cluster,
    kafka: &TestKafka,
    database: &TestDatabase,
    extra: &[(&str, &str)],
) -> Service {
    Service::start(&service_env(kafka, database, &kube_settings(cluster, extra))).await
}

/// The settings of a service on `cluster`, plus `extra`.
pub(crate) fn kube_settings<'a>(cluster: &'a Cluster, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut settings = vec![
        ("INVESTIGATOR_LAUNCHER", "kube"),
        ("KUBECONFIG", cluster.kubeconfig.to_str().expect("a UTF-8 temporary path")),
        ("INVESTIGATOR_LAUNCH_INTERVAL_MS", "100"),
        ("INVESTIGATOR_KUBE_TIMEOUT_MS", "1000"),
    ];
    settings.extend_from_slice(extra);
    settings
}

async fn statuses(database: &TestDatabase) -> Vec<String> {
    statuses_in(&database.database).await
}

async fn statuses_in(database: &Database) -> Vec<String> {
    texts(database, "SELECT status FROM graph.workflow_run ORDER BY workflow_id").await
}

/// Each workflow's status and phase (`failed Deleted`), sorted.
async fn ends(database: &Database) -> Vec<String> {
    texts(database, "SELECT status || ' ' || coalesce(phase, '') FROM graph.workflow_run ORDER BY 1").await
}

async fn events_of(database: &TestDatabase, event_type: &str) -> i64 {
    events_in(&database.database, event_type).await
}

async fn events_in(database: &Database, event_type: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM investigator.event_log WHERE event_type = '{event_type}'");
    count(database, &sql).await
}

/// Every requested workflow is on the cluster once and submitted once in the log.
async fn assert_exactly_once(cluster: &Cluster, database: &TestDatabase) {
    assert_exactly_once_in(cluster, &database.database).await;
}

async fn assert_exactly_once_in(cluster: &Cluster, database: &Database) {
    let requested = texts(database, "SELECT workflow_id FROM graph.workflow_run ORDER BY 1").await;
    let mut created = cluster.kube.created_names();
    created.sort();
    assert_eq!(created, requested, "each requested workflow created once, and nothing else");
    assert_eq!(events_in(database, "WorkflowSubmitted").await, requested.len() as i64, "submitted once each");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_become_workflows_once_and_their_lives_are_followed() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    let service = serve_with(&cluster, &kafka, &database, &[]).await;
    // The same request twice: the second finds the first in flight and asks for nothing.
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI), unresolved("flask", "2.0.1", PYPI)]).await;
    eventually("both solvers' workflows submitted", Duration::from_secs(30), || async {
        statuses(&database).await == ["submitted", "submitted"]
    })
    .await;
    assert_eq!(cluster.kube.count(MIDDLETIER), 2);
    let workflow = cluster.kube.objects(MIDDLETIER).remove(0);
    let name = workflow["metadata"]["name"].as_str().expect("a name").to_owned();
    assert_eq!(workflow["metadata"]["labels"]["app"], "thoth");
    assert_eq!(workflow["metadata"]["labels"]["component"], "solver");
    assert_eq!(workflow["spec"]["workflowTemplateRef"]["name"], "solver");
    let parameters = workflow["spec"]["arguments"]["parameters"].to_string();
    assert!(parameters.contains("THOTH_SOLVER_PACKAGES") && parameters.contains("flask===2.0.1"), "{parameters}");

    // Quiet watches outlive the request timeout (1 s here): they are not cut by it.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (_, metrics) = service.get("/metrics").await;
    let watch_errors: Vec<&str> =
        metrics.lines().filter(|line| line.starts_with("investigator_workflow_watch_errors_total{")).collect();
    assert!(
        !watch_errors.is_empty() && watch_errors.iter().all(|line| line.ends_with(" 0")),
        "no watch failed (each namespace's series at 0 from the start): {watch_errors:?}"
    );
    cluster.kube.set_status(MIDDLETIER, &name, argo_status("Running")).expect("the workflow");
    eventually("the start recorded", Duration::from_secs(20), || async {
        statuses(&database).await.contains(&"running".to_owned())
    })
    .await;
    // A disconnect, then a change while away: the watch resumes and sees it.
    cluster.kube.drop_watches();
    cluster.kube.set_status(MIDDLETIER, &name, argo_status("Succeeded")).expect("the workflow");
    eventually("the success recorded after the disconnect", Duration::from_secs(30), || async {
        statuses(&database).await.contains(&"succeeded".to_owned())
    })
    .await;
    // History gone: the watch relists (410 Gone) and records nothing twice.
    cluster.kube.compact_history();
    cluster.kube.drop_watches();
    let other = cluster.kube.objects(MIDDLETIER).into_iter().find(|w| w["metadata"]["name"] != name.as_str());
    let other = other.expect("the other workflow")["metadata"]["name"].as_str().expect("a name").to_owned();
    cluster.kube.set_status(MIDDLETIER, &other, argo_status("Failed")).expect("the workflow");
    eventually("the failure recorded after the relist", Duration::from_secs(30), || async {
        statuses(&database).await.contains(&"failed".to_owned())
    })
    .await;
    assert_eq!(events_of(&database, "WorkflowStarted").await, 2, "each start once");
    assert_eq!(events_of(&database, "WorkflowSucceeded").await, 1);
    assert_eq!(events_of(&database, "WorkflowFailed").await, 1);
    assert_exactly_once(&cluster, &database).await;
    drop(service);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_lost_answers_and_timeouts_are_retried_into_one_workflow_each() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    cluster.kube.fail_next(2, 500);
    cluster.kube.fail_next_creates_after_storing(1);
    let _service = serve_with(&cluster, &kafka, &database, &[]).await;
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI)]).await;
    eventually("both workflows submitted despite the failures", Duration::from_secs(40), || async {
        statuses(&database).await == ["submitted", "submitted"]
    })
    .await;
    let conflicts = cluster.kube.requests().iter().filter(|request| request.status == 409).count();
    assert!(conflicts >= 1, "the create whose answer was lost came back as 409: {:?}", cluster.kube.requests());

    // An answer that never comes in time (the create happened): retried, answered 409.
    cluster.kube.delay_next(1, Duration::from_secs(5));
    publish(&kafka, &[unresolved("click", "8.0.0", PYPI)]).await;
    eventually("the delayed one submitted too", Duration::from_secs(40), || async {
        statuses(&database).await.iter().filter(|status| *status == "submitted").count() == 4
    })
    .await;
    assert_exactly_once(&cluster, &database).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_then_partitioned_api_server_gets_every_workflow_once() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::create().await);
    let (cluster, proxy) = cluster_behind_proxy().await;
    let submitted = || async { statuses(&database).await.iter().filter(|status| *status == "submitted").count() };

    // Slow: every answer 300 ms late, within the client's 1 s timeout.
    cluster.kube.delay_next(60, Duration::from_millis(300));
    let service = serve_with(&cluster, &kafka, &database, &[]).await;
    let first: Vec<_> = (0..5).map(|i| unresolved(&format!("slow-{i}"), "1.0.0", PYPI)).collect();
    publish(&kafka, &first).await;
    eventually("the first 10 workflows submitted", Duration::from_secs(60), || async { submitted().await == 10 }).await;

    // Partitioned: first packets dropped (connections never answered), then refused.
    proxy.cut(Link::Blackhole);
    let second: Vec<_> = (0..5).map(|i| unresolved(&format!("cut-{i}"), "1.0.0", PYPI)).collect();
    publish(&kafka, &second).await;
    eventually("the new requests in the outbox", Duration::from_secs(30), || async {
        statuses(&database).await.len() == 20
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    proxy.cut(Link::Refused);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(submitted().await, 10, "nothing submitted while the API server is unreachable");
    assert_eq!(cluster.kube.count(MIDDLETIER), 10);
    assert_eq!(service.get("/_health").await.0, 200, "the service stays up");

    proxy.heal();
    eventually("every workflow submitted once the network is back", Duration::from_secs(90), || async {
        submitted().await == 20
    })
    .await;
    assert_exactly_once(&cluster, &database).await;
    // The watch came back too: a workflow that starts now is seen.
    let name = cluster.kube.created_names().remove(0);
    cluster.kube.set_status(MIDDLETIER, &name, argo_status("Running")).expect("the workflow");
    eventually("the start recorded after the partition", Duration::from_secs(90), || async {
        events_of(&database, "WorkflowStarted").await == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watch_silenced_by_the_network_is_given_up_and_resumed_without_a_loss() {
    let (kafka, database) = (TestKafka::new(), TestDatabase::create().await);
    let (cluster, proxy) = cluster_behind_proxy().await;
    // Watches renewed every 3 s: a silent one is given up after 8 s instead of 295.
    let _service = serve_with(&cluster, &kafka, &database, &[("INVESTIGATOR_WATCH_TIMEOUT_S", "3")]).await;
    let watches = || cluster.kube.requests().iter().filter(|request| request.path.contains("watch=true")).count();
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI)]).await;
    eventually("both workflows submitted and watched", Duration::from_secs(30), || async {
        statuses(&database).await == ["submitted", "submitted"] && watches() > 0
    })
    .await;

    // The open connections go silent for good (no close, no reset), new ones pass again.
    proxy.cut(Link::Silent);
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.heal();
    let watches_before = watches();
    let name = cluster.kube.created_names().remove(0);
    cluster.kube.set_status(MIDDLETIER, &name, argo_status("Running")).expect("the workflow");
    eventually("the start recorded through a new watch", Duration::from_secs(30), || async {
        events_of(&database, "WorkflowStarted").await == 1
    })
    .await;
    assert!(watches() > watches_before, "a new watch was opened");
    assert_exactly_once(&cluster, &database).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn at_the_pending_limit_launches_wait_until_workflows_start() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    let _service = serve_with(&cluster, &kafka, &database, &[("ARGO_PENDING_WORKFLOW_LIMIT", "1")]).await;
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI)]).await;
    eventually("one workflow submitted", Duration::from_secs(30), || async { cluster.kube.count(MIDDLETIER) == 1 })
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(cluster.kube.count(MIDDLETIER), 1, "the second waits while the first is pending");
    let mut now = statuses(&database).await;
    now.sort();
    assert_eq!(now, ["requested", "submitted"], "the second waits in the outbox");
    let first = cluster.kube.created_names().remove(0);
    cluster.kube.set_status(MIDDLETIER, &first, argo_status("Running")).expect("the workflow");
    eventually("the second submitted once the first started", Duration::from_secs(30), || async {
        // Created on the cluster, then recorded: wait for the record too.
        cluster.kube.count(MIDDLETIER) == 2 && !statuses(&database).await.contains(&"requested".to_owned())
    })
    .await;
    assert_exactly_once(&cluster, &database).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_between_the_create_and_its_record_the_workflow_is_still_made_once() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    let extra = [("INVESTIGATOR_KUBE_TIMEOUT_MS", "60000"), ("THOTH_SOLVERS", "solver-rhel-8-py38")];
    let service = serve_with(&cluster, &kafka, &database, &extra).await;
    eventually("the watcher watching", Duration::from_secs(20), || async {
        cluster.kube.requests().iter().any(|request| request.path.contains("watch=true"))
    })
    .await;
    // The next request is the create: applied at once, its answer held back, the window a
    // crash can hit.
    cluster.kube.delay_next(1, Duration::from_secs(30));
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI)]).await;
    eventually("the workflow created on the cluster", Duration::from_secs(30), || async {
        cluster.kube.count(MIDDLETIER) == 1
    })
    .await;
    assert_eq!(statuses(&database).await, ["requested"], "not recorded yet");
    service.kill().await;

    let _service = serve_with(&cluster, &kafka, &database, &extra).await;
    eventually("the submission recorded after the restart", Duration::from_secs(30), || async {
        statuses(&database).await == ["submitted"]
    })
    .await;
    assert_eq!(cluster.kube.count(MIDDLETIER), 1);
    assert_exactly_once(&cluster, &database).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_outbox_pauses_the_topics_that_feed_it_until_it_drains() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    let limits = [("ARGO_PENDING_WORKFLOW_LIMIT", "1"), ("INVESTIGATOR_OUTBOX_LIMIT", "2")];
    let service = serve_with(&cluster, &kafka, &database, &limits).await;
    let unresolved_topic = kafka.naming().topic(investigator_events::thoth::MessageKind::UnresolvedPackage);
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI), unresolved("click", "8.0.0", PYPI)]).await;
    let halted = || async {
        let (_, body) = service.get("/api/v1/status").await;
        let status: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        status["halted_topics"]
            .as_array()
            .is_some_and(|topics| topics.iter().any(|topic| topic == unresolved_topic.as_str()))
    };
    eventually("the topic paused: three requests wait behind the pending one", Duration::from_secs(30), halted).await;
    publish(&kafka, &[unresolved("jinja2", "3.0.0", PYPI)]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(statuses(&database).await.len(), 4, "the paused topic's new message waits on the broker");

    // Each workflow starting makes room for the next; once the outbox drains, the topic
    // resumes and the third message's two workflows follow.
    eventually("every workflow submitted, the paused message included", Duration::from_secs(60), || async {
        for name in cluster.kube.created_names() {
            let _ = cluster.kube.set_status(MIDDLETIER, &name, argo_status("Running"));
        }
        let now = statuses(&database).await;
        now.len() == 6 && now.iter().all(|status| status != "requested")
    })
    .await;
    assert!(!halted().await, "resumed");
    assert_exactly_once(&cluster, &database).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_credentials_reach_the_cluster_as_a_secret_and_nowhere_else() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    let _service = serve_with(&cluster, &kafka, &database, &[]).await;
    let trigger = crate::pipeline::messages::message(
        investigator_events::thoth::MessageKind::PackageExtractTrigger,
        serde_json::json!({"image": "quay.io/example/app:1", "environment_type": "runtime", "is_external": true,
                           "verify_tls": true, "debug": false, "job_id": "package-extract-secret-1",
                           "origin": null, "registry_user": "robot", "registry_password": "s3cr3t-Pa55",
                           "graph_sync": false}),
    );
    publish(&kafka, &[trigger]).await;
    eventually("the workflow submitted", Duration::from_secs(30), || async {
        statuses(&database).await == ["submitted"]
    })
    .await;
    let secrets = cluster.kube.secret_names();
    assert_eq!(secrets.len(), 1, "{secrets:?}");
    let (namespace, name) = secrets[0].split_once('/').expect("namespace/name");
    let secret = cluster.kube.secret(namespace, name).expect("the secret");
    let stored = secret["data"].to_string();
    assert!(!stored.contains("s3cr3t-Pa55"), "base64 on the cluster, as Kubernetes keeps it: {stored}");
    let workflow = cluster.kube.get(namespace, "package-extract-secret-1").expect("the workflow");
    assert!(workflow.to_string().contains(name), "the workflow names its secret");
    assert!(!workflow.to_string().contains("s3cr3t-Pa55"), "and holds no password");
    // The Secret is the workflow's, so it goes when the workflow goes (Argo's TTL).
    let owner = serde_json::json!([{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                    "name": "package-extract-secret-1", "uid": workflow["metadata"]["uid"]}]);
    assert!(workflow["metadata"]["uid"].is_string(), "{workflow}");
    eventually("the secret owned by its workflow", Duration::from_secs(10), || async {
        cluster.kube.secret(namespace, name).is_some_and(|secret| secret["metadata"]["ownerReferences"] == owner)
    })
    .await;
    cluster.kube.delete(namespace, "package-extract-secret-1").expect("the workflow");
    assert!(cluster.kube.secret(namespace, name).is_none(), "collected with its owner");
    let in_log = count(
        &database.database,
        "SELECT count(*) FROM investigator.event_log WHERE payload::text LIKE '%s3cr3t-Pa55%' OR metadata::text LIKE '%s3cr3t-Pa55%'",
    )
    .await;
    assert_eq!(in_log, 0, "no password in the event log");
    // Deleted just after the submission is recorded.
    eventually(
        "the credentials leave the database once the workflow is submitted",
        Duration::from_secs(10),
        || async { count(&database.database, "SELECT count(*) FROM investigator.workflow_secret").await == 0 },
    )
    .await;
}

/// Records carrying every credential field of every message type that declares one, plus
/// credentials nested in free-form objects, under escaped keys and in records cut off: some
/// become workflows, the rest dead letters. Each credential is a value of its own.
struct CredentialRecords {
    /// (kind, bytes), sent in this order.
    records: Vec<(investigator_events::thoth::MessageKind, Vec<u8>)>,
    /// Every credential value sent.
    secrets: Vec<String>,
    /// How many of the records become workflows; the rest become dead letters.
    workflows: usize,
}

fn credential_records() -> CredentialRecords {
    use investigator_events::thoth::MessageKind;
    let mut secrets = Vec::new();
    let mut secret = |name: &str| {
        let value = format!("{name}-Pa55-never-0ut");
        secrets.push(value.clone());
        value
    };
    let header = |version: &str| serde_json::json!({"component_name": "c", "service_version": "1", "version": version});
    let with = |version: &str, fields: serde_json::Value| {
        let mut object = header(version);
        object.as_object_mut().expect("an object").extend(fields.as_object().cloned().unwrap_or_default());
        serde_json::to_vec(&object).expect("JSON")
    };
    let extract = |job: &str, version: &str, password: &str| {
        with(
            version,
            serde_json::json!({"image": "quay.io/example/app:1", "environment_type": "runtime",
            "is_external": true, "verify_tls": true, "debug": false, "job_id": job, "origin": null,
            "registry_user": "robot", "registry_password": password, "graph_sync": false}),
        )
    };
    let build = |job: &str, version: &str, base: &str, output: &str| {
        with(
            version,
            serde_json::json!({"base_image": "quay.io/base:1", "output_image": "quay.io/out:1",
            "job_id": job, "base_registry_user": "base-user", "base_registry_password": base,
            "output_registry_user": "output-user", "output_registry_password": output}),
        )
    };
    // Every kind that declares credentials is here, good and dead-lettered.
    let declaring: Vec<MessageKind> =
        MessageKind::ALL.into_iter().filter(|kind| !kind.credential_fields().is_empty()).collect();
    assert_eq!(
        declaring,
        [MessageKind::BuildAnalysisTrigger, MessageKind::PackageExtractTrigger],
        "a new kind to cover"
    );
    let escaped_key = format!(
        r#"{{"component_name": "c", "service_version": "1", "version": "v99", "image": "quay.io/example/app:1",
            "environment_type": "runtime", "job_id": "package-extract-grep-3", "registry\u005fpassword": "{}"}}"#,
        secret("escaped")
    );
    let mut cut_off = extract("package-extract-grep-4", "v2", &secret("cut-off"));
    cut_off.truncate(cut_off.len() - 10);
    let build_escaped =
        String::from_utf8(build("build-analysis-grep-2", "v99", &secret("base-dead"), &secret("output-dead")))
            .expect("UTF-8")
            .replace("base_registry_password", "base_registry\\u005fpassword");
    let records = vec![
        (MessageKind::PackageExtractTrigger, extract("package-extract-grep-1", "v2", &secret("extract"))),
        (MessageKind::BuildAnalysisTrigger, build("build-analysis-grep-1", "v1", &secret("base"), &secret("output"))),
        // A schema version no handler takes: dead letters.
        (MessageKind::PackageExtractTrigger, extract("package-extract-grep-2", "v99", &secret("extract-dead"))),
        (MessageKind::PackageExtractTrigger, escaped_key.into_bytes()),
        (MessageKind::PackageExtractTrigger, cut_off),
        (MessageKind::BuildAnalysisTrigger, build_escaped.into_bytes()),
        (
            MessageKind::KebechetTrigger,
            with(
                "v99",
                serde_json::json!({"job_id": null, "webhook_payload": {
                "installation": {"id": 7, "access_token": secret("nested-token")},
                "repository": {"full_name": "thoth-station/thamos"}}}),
            ),
        ),
        (
            MessageKind::AdviserTrigger,
            with(
                "v99",
                serde_json::json!({"recommendation_type": "stable",
                "kebechet_metadata": {"github": {"password": secret("nested-password")}}}),
            ),
        ),
    ];
    CredentialRecords { records, secrets, workflows: 2 }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_in_the_input_appears_nowhere_the_service_writes() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    let token = "t0ken-never-0ut";
    let service =
        serve_with(&cluster, &kafka, &database, &[("RUST_LOG", "debug"), ("INVESTIGATOR_API_TOKEN", token)]).await;
    let CredentialRecords { records, secrets, workflows } = credential_records();
    let dead_letters = records.len() - workflows;
    for (kind, bytes) in &records {
        kafka.send_raw(&kafka.naming().topic(*kind), bytes).await;
    }
    eventually("the workflows submitted and the rest dead letters", Duration::from_secs(30), || async {
        statuses(&database).await == vec!["submitted"; workflows]
            && count(&database.database, "SELECT count(*) FROM graph.dead_letter").await == dead_letters as i64
    })
    .await;
    assert_eq!(cluster.kube.secret_names().len(), workflows, "each workflow's credentials went to a Secret");

    let mut written = Vec::new();
    for sql in [
        "SELECT payload::text || metadata::text FROM investigator.event_log",
        "SELECT payload::text || reason FROM graph.dead_letter",
        "SELECT coalesce(parameters::text, '') FROM graph.workflow_run",
        "SELECT name || data::text FROM investigator.workflow_secret",
    ] {
        written.extend(texts(&database.database, sql).await);
    }
    let dead_letter_topic = kafka.naming().topic_for_base_name("thoth.investigator.dead-letter");
    let copies = kafka.read_topic(&dead_letter_topic, dead_letters).await;
    assert_eq!(copies.len(), dead_letters, "the dead letters' copies on their topic");
    for record in copies {
        written.push(String::from_utf8_lossy(&record.payload).into_owned());
    }
    // The knowledge-event mirror: every event of the log, as published for kafdrop and kcat.
    let log_events = count(&database.database, "SELECT count(*) FROM investigator.event_log").await;
    let mirror_topic = kafka.naming().topic_for_base_name("thoth.investigator.knowledge-events");
    let mut mirrored = Vec::new();
    for _ in 0..20 {
        mirrored = kafka.read_topic(&mirror_topic, log_events as usize).await;
        if mirrored.len() as i64 >= log_events {
            break;
        }
    }
    assert!(mirrored.len() as i64 >= log_events, "the mirror topic holds the log ({} of {log_events})", mirrored.len());
    for record in mirrored {
        written.push(String::from_utf8_lossy(&record.payload).into_owned());
    }
    for path in ["/metrics", "/api/v1/dead-letters", "/api/v1/events?limit=1000", "/api/v1/workflows", "/api/v1/status"]
    {
        written.push(service.get(path).await.1);
    }
    for namespace in [MIDDLETIER, "thoth-backend"] {
        for workflow in cluster.kube.objects(namespace) {
            written.push(workflow.to_string());
        }
    }
    written.push(service.log_text());
    for job in ["package-extract-grep-2", "package-extract-grep-3", "build-analysis-grep-2", "thoth-station/thamos"] {
        assert!(written.iter().any(|text| text.contains(job)), "the dead letter of {job} is among what was read");
    }
    assert!(service.log_text().contains("DEBUG"), "the log was read at debug level");
    for text in &written {
        for secret in &secrets {
            let leak = text.lines().find(|line| line.contains(secret.as_str()));
            assert!(leak.is_none(), "a credential leaked: {}", leak.unwrap_or_default());
        }
        assert!(!text.contains(token), "the API token leaked");
    }
}

/// Creates a Secret on the fake cluster, as someone else with access to the namespace would.
async fn plant_secret(cluster: &Cluster, namespace: &str, secret: serde_json::Value) {
    let url = format!("{}/api/v1/namespaces/{namespace}/secrets", cluster.kube.url());
    let request = reqwest::Client::new().post(url).header("content-type", "application/json").body(secret.to_string());
    let response = request.send().await.expect("the fake API answers");
    assert_eq!(response.status().as_u16(), 201, "planted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_of_the_workflows_name_that_is_not_ours_is_never_used_and_ours_from_a_lost_answer_is() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    // Someone with create rights in the namespace guessed the name the next trigger's secret gets.
    plant_secret(
        &cluster,
        MIDDLETIER,
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "package-extract-planted-1-registry"},
                           "stringData": {"THOTH_REGISTRY_CREDENTIALS": "attacker:their-registry"}}),
    )
    .await;
    // Ours, from a launch whose answer was lost before a restart: the same labels and data.
    plant_secret(
        &cluster,
        MIDDLETIER,
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "package-extract-ours-1-registry",
            "labels": {"app.kubernetes.io/managed-by": "thoth-investigator",
                       "investigator.thoth-station.ninja/workflow": "package-extract-ours-1"}},
            "stringData": {"THOTH_REGISTRY_CREDENTIALS": "robot:s3cr3t-Pa55"}}),
    )
    .await;
    let service = serve_with(&cluster, &kafka, &database, &[]).await;
    let trigger = |job: &str| {
        crate::pipeline::messages::message(
            investigator_events::thoth::MessageKind::PackageExtractTrigger,
            serde_json::json!({"image": "quay.io/example/app:1", "environment_type": "runtime", "job_id": job,
                               "registry_user": "robot", "registry_password": "s3cr3t-Pa55"}),
        )
    };
    publish(&kafka, &[trigger("package-extract-planted-1"), trigger("package-extract-ours-1")]).await;
    eventually("one refused, one submitted", Duration::from_secs(30), || async {
        statuses(&database).await == ["submitted", "failed"]
    })
    .await;
    assert!(cluster.kube.get(MIDDLETIER, "package-extract-planted-1").is_none(), "no workflow reads their secret");
    assert!(cluster.kube.get(MIDDLETIER, "package-extract-ours-1").is_some(), "ours is used");
    let planted = cluster.kube.secret(MIDDLETIER, "package-extract-planted-1-registry").expect("still there");
    assert!(planted["metadata"]["labels"].is_null(), "left as it was: {planted}");
    assert!(planted["metadata"]["ownerReferences"].is_null(), "never handed to a workflow: {planted}");
    let ours = cluster.kube.secret(MIDDLETIER, "package-extract-ours-1-registry").expect("ours");
    let workflow = cluster.kube.get(MIDDLETIER, "package-extract-ours-1").expect("the workflow");
    assert_eq!(ours["metadata"]["ownerReferences"][0]["uid"], workflow["metadata"]["uid"], "owned by its workflow");
    let refusal = texts(
        &database.database,
        "SELECT payload ->> 'message' FROM investigator.event_log WHERE event_type = 'WorkflowFailed'",
    )
    .await;
    assert_eq!(refusal.len(), 1);
    assert!(refusal[0].contains("was not made by the investigator"), "{refusal:?}");
    assert!(service.log_text().contains("workflow refused by the cluster"), "refused loudly");
    eventually("the refused workflow's credentials leave the database too", Duration::from_secs(10), || async {
        count(&database.database, "SELECT count(*) FROM investigator.workflow_secret").await == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_producers_trace_context_reaches_the_events_and_the_workflow() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    let extra = [("THOTH_SOLVERS", "solver-rhel-8-py38")];
    let _service = serve_with(&cluster, &kafka, &database, &extra).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let topic = kafka.naming().topic(investigator_events::thoth::MessageKind::UnresolvedPackage);
    let traced = unresolved("flask", "2.0.1", PYPI).encode();
    kafka.send_raw_with_headers(&topic, traced.as_bytes(), &[("traceparent", traceparent)]).await;
    let untraced = unresolved("click", "8.0.0", PYPI).encode();
    kafka.send_raw(&topic, untraced.as_bytes()).await;
    eventually("both workflows submitted", Duration::from_secs(30), || async {
        statuses(&database).await == ["submitted", "submitted"]
    })
    .await;

    let traces = texts(
        &database.database,
        "SELECT (payload ->> 'target')::jsonb ->> 'package_name' || ' ' || (metadata ->> 'traceparent')
         FROM investigator.event_log WHERE event_type = 'WorkflowRequested' ORDER BY position",
    )
    .await;
    assert_eq!(traces[0], format!("flask {traceparent}"), "the producer's trace in the event's metadata");
    let started = traces[1].strip_prefix("click ").expect("click's request");
    assert!(started.starts_with("00-") && started.len() == 55 && started != traceparent, "a new trace: {started}");
    let annotation = |package: &str| {
        cluster
            .kube
            .objects(MIDDLETIER)
            .into_iter()
            .find(|workflow| workflow.to_string().contains(&format!("{package}===")))
            .map(|workflow| workflow["metadata"]["annotations"]["investigator.thoth-station.ninja/traceparent"].clone())
    };
    assert_eq!(annotation("flask"), Some(serde_json::json!(traceparent)), "and on the workflow");
    assert_eq!(annotation("click"), Some(serde_json::json!(started)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_deleted_before_it_finishes_fails_once_and_frees_its_pending_slot() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    let service = serve_with(&cluster, &kafka, &database, &[("ARGO_PENDING_WORKFLOW_LIMIT", "1")]).await;
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI)]).await;
    eventually("the first workflow submitted", Duration::from_secs(30), || async {
        cluster.kube.created_names().len() == 1
    })
    .await;

    // Deleted before Argo started it: it ends, and the pending slot it held goes to the second.
    let first = cluster.kube.created_names().remove(0);
    cluster.kube.delete(MIDDLETIER, &first).expect("the first workflow");
    eventually("the second submitted once the first was deleted", Duration::from_secs(30), || async {
        cluster.kube.created_names().len() == 2
    })
    .await;
    // Deleted while running.
    let second = cluster.kube.created_names().remove(1);
    cluster.kube.set_status(MIDDLETIER, &second, argo_status("Running")).expect("the second workflow");
    eventually("the second running", Duration::from_secs(30), || async {
        statuses(&database).await.contains(&"running".to_owned())
    })
    .await;
    cluster.kube.delete(MIDDLETIER, &second).expect("the second workflow");
    eventually("both deletions recorded as failures in phase Deleted", Duration::from_secs(30), || async {
        ends(&database.database).await == ["failed Deleted", "failed Deleted"]
    })
    .await;

    // A workflow deleted after it finished (Argo's TTL) keeps the end it had.
    publish(&kafka, &[unresolved("click", "8.0.0", PYPI)]).await;
    eventually("the third submitted", Duration::from_secs(30), || async { cluster.kube.created_names().len() == 3 })
        .await;
    let third = cluster.kube.created_names().remove(2);
    cluster.kube.set_status(MIDDLETIER, &third, argo_status("Succeeded")).expect("the third workflow");
    eventually("the third succeeded and the fourth submitted", Duration::from_secs(30), || async {
        cluster.kube.created_names().len() == 4 && statuses(&database).await.contains(&"succeeded".to_owned())
    })
    .await;
    cluster.kube.delete(MIDDLETIER, &third).expect("the third workflow");
    // The watch delivers in order: once the fourth's deletion is recorded, the third's was seen.
    let fourth = cluster.kube.created_names().remove(3);
    cluster.kube.delete(MIDDLETIER, &fourth).expect("the fourth workflow");
    eventually("the fourth's deletion recorded", Duration::from_secs(30), || async {
        ends(&database.database).await.iter().filter(|end| *end == "failed Deleted").count() == 3
    })
    .await;
    assert_eq!(
        ends(&database.database).await,
        ["failed Deleted", "failed Deleted", "failed Deleted", "succeeded Succeeded"]
    );
    assert_eq!(events_of(&database, "WorkflowFailed").await, 3, "each deletion once");
    assert_eq!(events_of(&database, "WorkflowSucceeded").await, 1);
    assert_eq!(events_of(&database, "WorkflowStarted").await, 2);
    assert_exactly_once(&cluster, &database).await;
    drop(service);
    let options = ReplayOptions { verify: true, ..ReplayOptions::default() };
    let report = replay::replay(&database.database, &options, &mut Unobserved).await.expect("a replay");
    let differing: Vec<_> = report.differences().collect();
    assert!(differing.is_empty(), "the graph rebuilt from the log equals the live one: {differing:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn workflows_deleted_while_the_service_was_down_end_as_deleted_after_the_restart() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    let service = serve_with(&cluster, &kafka, &database, &[]).await;
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI)]).await;
    eventually("both workflows submitted", Duration::from_secs(30), || async {
        statuses(&database).await == ["submitted", "submitted"]
    })
    .await;
    let names = cluster.kube.created_names();
    cluster.kube.set_status(MIDDLETIER, &names[0], argo_status("Running")).expect("the workflow");
    eventually("one running", Duration::from_secs(30), || async {
        statuses(&database).await.contains(&"running".to_owned())
    })
    .await;

    service.kill().await;
    for name in &names {
        cluster.kube.delete(MIDDLETIER, name).expect("the workflow");
    }
    // Requested while the service is down, submitted after the list of the restart began:
    // not taken for deleted.
    publish(&kafka, &[unresolved("click", "8.0.0", PYPI)]).await;
    let _service = serve_with(&cluster, &kafka, &database, &[]).await;
    eventually("the two deleted found gone and the two new ones submitted", Duration::from_secs(60), || async {
        ends(&database.database).await == ["failed Deleted", "failed Deleted", "submitted ", "submitted "]
    })
    .await;
    assert_eq!(events_of(&database, "WorkflowFailed").await, 2);
    assert_eq!(events_of(&database, "WorkflowStarted").await, 1);
    assert_exactly_once(&cluster, &database).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn transitions_seen_while_postgres_is_away_are_recorded_once_it_is_back() {
    let (kafka, cluster) = (TestKafka::new(), cluster().await);
    let server = PrivatePostgres::start();
    let database_url = server.url();
    let database = Database::connect_lazy(&database_url, 2).expect("a valid URL");
    let mut env = kafka.vars();
    env.push(("DATABASE_URL".to_owned(), database_url.clone()));
    env.push(("THOTH_SOLVERS".to_owned(), crate::pipeline::SOLVERS.to_owned()));
    env.extend(kube_settings(&cluster, &[]).into_iter().map(|(name, value)| (name.to_owned(), value.to_owned())));
    let mut service = Service::start(&env).await;
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI)]).await;
    eventually("both workflows submitted", Duration::from_secs(30), || async {
        statuses_in(&database).await == ["submitted", "submitted"]
    })
    .await;

    server.stop();
    let names = cluster.kube.created_names();
    cluster.kube.set_status(MIDDLETIER, &names[0], argo_status("Running")).expect("the workflow");
    cluster.kube.delete(MIDDLETIER, &names[1]).expect("the workflow");
    // Longer than the watcher once tried (8 attempts in about 28 s) before giving a transition up.
    tokio::time::sleep(Duration::from_secs(35)).await;
    assert!(service.exited().is_none(), "the service outlives the database");
    server.resume();
    // Within 60 s: the queue is tried at least every 30 s.
    eventually("the start and the deletion recorded once PostgreSQL is back", Duration::from_secs(60), || async {
        ends(&database).await == ["failed Deleted", "running "]
    })
    .await;
    assert_eq!(events_in(&database, "WorkflowStarted").await, 1);
    assert_eq!(events_in(&database, "WorkflowFailed").await, 1);
    eventually("nothing left waiting", Duration::from_secs(30), || async {
        let waiting = format!("investigator_workflow_observations_unrecorded{{namespace=\"{MIDDLETIER}\"}}");
        service.metric(&waiting).await == Some(0.0)
    })
    .await;
    assert_exactly_once_in(&cluster, &database).await;
}

/// Workflow creates the fake answered 404.
fn creates_answered_404(cluster: &Cluster) -> usize {
    let creates = cluster.kube.requests().into_iter().filter(|request| request.method == "POST");
    let to_workflows = |path: &str| path.split('?').next().is_some_and(|path| path.ends_with("/workflows"));
    creates.filter(|request| request.status == 404 && to_workflows(&request.path)).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_namespace_keeps_its_requests_in_the_outbox_until_it_exists() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    // A redeploy: the namespace is gone and comes back later.
    cluster.kube.delete_namespace(MIDDLETIER);
    let service = serve_with(&cluster, &kafka, &database, &[]).await;
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI)]).await;
    eventually("the creates answered 404 and tried again", Duration::from_secs(30), || async {
        creates_answered_404(&cluster) >= 3
    })
    .await;
    assert_eq!(statuses(&database).await, ["requested", "requested"], "nothing recorded: both wait in the outbox");
    assert_eq!(events_of(&database, "WorkflowFailed").await, 0);
    let counted = format!("investigator_workflow_not_found_total{{missing=\"namespace\",namespace=\"{MIDDLETIER}\"}}");
    assert!(service.metric(&counted).await.unwrap_or_default() >= 1.0, "{counted} counts them");
    let log = service.log_text();
    let warning = log.lines().find(|line| line.contains("answers 404 for the namespace's workflows"));
    assert!(
        warning.is_some_and(|line| line.contains("WARN") && line.contains(MIDDLETIER) && line.contains("namespace")),
        "a warning names the namespace and what is missing: {warning:?}"
    );

    cluster.kube.create_namespace(MIDDLETIER);
    eventually("both submitted once the namespace exists", Duration::from_secs(60), || async {
        statuses(&database).await == ["submitted", "submitted"]
    })
    .await;
    assert_eq!(events_of(&database, "WorkflowFailed").await, 0, "none refused");
    assert_exactly_once(&cluster, &database).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_workflow_crd_refuses_requests_only_after_the_grace() {
    let (kafka, database, cluster) = (TestKafka::new(), TestDatabase::create().await, cluster().await);
    cluster.kube.uninstall_workflow_crd();
    let extra = [("INVESTIGATOR_KUBE_NOT_FOUND_GRACE_S", "5"), ("THOTH_SOLVERS", "solver-rhel-8-py38")];
    let service = serve_with(&cluster, &kafka, &database, &extra).await;
    publish(&kafka, &[unresolved("flask", "2.0.1", PYPI)]).await;
    eventually("the request refused once the grace is over", Duration::from_secs(60), || async {
        ends(&database.database).await == ["failed Refused"]
    })
    .await;
    assert!(creates_answered_404(&cluster) >= 2, "tried again within the grace: {:?}", cluster.kube.requests());
    let message = texts(&database.database, "SELECT message FROM graph.workflow_run").await;
    assert!(message[0].contains("404") && message[0].contains("Workflow resource"), "{message:?}");
    assert_eq!(events_of(&database, "WorkflowFailed").await, 1, "refused once");
    let counted =
        format!("investigator_workflow_not_found_total{{missing=\"workflows-resource\",namespace=\"{MIDDLETIER}\"}}");
    assert!(service.metric(&counted).await.unwrap_or_default() >= 2.0, "{counted} counts each 404");
    assert!(cluster.kube.created_names().is_empty());
}
