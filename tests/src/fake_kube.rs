//! An in-process fake of the Kubernetes API server, for the Argo `workflows` calls a launcher
//! and watcher built with kube-rs make, and the core/v1 `secrets` their workflows read, so that tests point a real kube client at it (through
//! [`FakeKube::write_kubeconfig`] or a `kube::Config` with [`FakeKube::url`]) and the
//! production code path stays unchanged.
//!
//! Served, as the real API server serves them (JSON only):
//! - `POST /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows`: 201 with the stored object
//!   (uid, resourceVersion, creationTimestamp, namespace filled in); `generateName`;
//!   `dryRun=All`; 409 `AlreadyExists`, 422 `Invalid`, 400 `BadRequest` `Status` bodies;
//! - `GET …/namespaces/{ns}/workflows/{name}`: 200, or 404 `NotFound`;
//! - `GET …/namespaces/{ns}/workflows` and `GET /apis/argoproj.io/v1alpha1/workflows`: a
//!   `WorkflowList` with `labelSelector`, `fieldSelector` (`metadata.name`,
//!   `metadata.namespace`), `limit` and `continue`;
//! - the same with `watch=true`: newline-delimited `ADDED`/`MODIFIED`/`DELETED` events after
//!   `resourceVersion` (every current object first when it is empty or `0`), `BOOKMARK`s with
//!   `allowWatchBookmarks`, streaming lists with `sendInitialEvents`, an `ERROR` 410 `Expired`
//!   event when the version is older than the kept history, the end after `timeoutSeconds`;
//! - `POST /api/v1/namespaces/{ns}/secrets`: 201 with the stored Secret (`stringData` merged
//!   into `data`, base64-encoded, and dropped; `type` defaulted to `Opaque`; fields a Secret
//!   does not have dropped); `generateName`; `dryRun=All`; 409 `AlreadyExists`, 422 `Invalid`
//!   (name, data keys, size, the keys each built-in `type` requires), 400 `BadRequest`;
//! - `GET /api/v1/namespaces/{ns}/secrets/{name}`: 200, or 404 `NotFound`;
//! - `PATCH /api/v1/namespaces/{ns}/secrets/{name}` with a JSON merge patch
//!   (`application/merge-patch+json`): 200 with the patched Secret, 404 `NotFound`; other patch
//!   types 415.
//!
//! Secrets share the resource version counter with workflows (one etcd) but never appear in
//! workflow lists or watches. Deleting a workflow deletes at once the Secrets whose
//! `ownerReferences` name its uid, as Kubernetes' garbage collector does (in the background,
//! moments later).
//!
//! Every namespace exists until the test deletes it ([`FakeKube::delete_namespace`]: its
//! workflows are deleted, `DELETED` sent, its Secrets dropped); then creates in it answer 404
//! `namespaces "<ns>" not found` (after decoding, before validation, as the API server's
//! namespace lifecycle admission does) while lists and watches of it answer 200 with nothing,
//! as the API server's reads do not check namespaces. The real server keeps a namespace
//! `Terminating` for a while (creates answer 403); the fake deletes it at once. Argo's
//! Workflow CRD is installed until the test uninstalls it ([`FakeKube::uninstall_workflow_crd`]:
//! every workflow deleted first, open watches ended cleanly once they sent the `DELETED`s);
//! then every request under `/apis/argoproj.io/v1alpha1/` answers 404 `the server could not
//! find the requested resource`.
//!
//! Everything else answers 404 or 405 with a `Status`. The fake never authenticates (the token
//! in the kubeconfig is accepted and ignored), never listens beyond 127.0.0.1, never changes
//! an object by itself: status changes, deletions and faults come only from the test, through
//! the methods of [`FakeKube`].

mod create;
mod filter;
mod list;
mod query;
mod routes;
mod secrets;
mod selector;
mod state;
mod status;
mod store;
mod watch;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpServer, web};
use serde_json::{Value, json};

use state::Shared;
use store::Store;

/// The API group and version of Argo's workflows.
const API_VERSION: &str = "argoproj.io/v1alpha1";
/// The API group of Argo's workflows.
const GROUP: &str = "argoproj.io";
/// The kind of a workflow object.
const KIND: &str = "Workflow";
/// The resource (plural) in paths and messages.
const RESOURCE: &str = "workflows";
/// The token the written kubeconfig carries.
const TOKEN: &str = "fake-kube-token";
/// The largest request body accepted, as the API server's limit.
const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;
/// A kind of object the fake serves, with the names the API server uses for it.
#[derive(Debug)]
pub(crate) struct Resource {
    /// `apiVersion` of its objects.
    pub(crate) api_version: &'static str,
    /// The API group; empty for the core group.
    pub(crate) group: &'static str,
    /// `kind` of its objects.
    pub(crate) kind: &'static str,
    /// The resource (plural) in paths and messages.
    pub(crate) plural: &'static str,
    /// Whether the server keeps `metadata.generation` on its objects.
    pub(crate) generation: bool,
}

impl Resource {
    /// `workflows.argoproj.io`, `secrets`: how "already exists" and "not found" name it.
    pub(crate) fn group_resource(&self) -> String {
        qualified(self.plural, self.group)
    }

    /// `Workflow.argoproj.io`, `Secret`: how "is invalid" names it.
    pub(crate) fn group_kind(&self) -> String {
        qualified(self.kind, self.group)
    }
}

fn qualified(name: &str, group: &str) -> String {
    if group.is_empty() { name.to_owned() } else { format!("{name}.{group}") }
}

/// Argo's workflows.
pub(crate) const WORKFLOWS: Resource =
    Resource { api_version: API_VERSION, group: GROUP, kind: KIND, plural: RESOURCE, generation: true };
/// Core Secrets.
pub(crate) const SECRETS: Resource =
    Resource { api_version: "v1", group: "", kind: "Secret", plural: "secrets", generation: false };
/// Core Namespaces (only named in the 404 a create into a missing one gets).
pub(crate) const NAMESPACES: Resource =
    Resource { api_version: "v1", group: "", kind: "Namespace", plural: "namespaces", generation: false };

/// The labels Argo's controller keeps on every workflow it operates.
const PHASE_LABEL: &str = "workflows.argoproj.io/phase";
const COMPLETED_LABEL: &str = "workflows.argoproj.io/completed";

/// How the fake behaves where the real API server is configurable or unpredictable.
#[derive(Clone, Debug)]
pub struct FakeKubeSettings {
    /// How many changes are kept for watches; a watch from an older version gets 410.
    pub history_limit: usize,
    /// How long a watch without `timeoutSeconds` stays open.
    pub default_watch_timeout: Duration,
    /// How often a watch that allows bookmarks gets one while nothing changes.
    pub bookmark_interval: Duration,
    /// The namespace of the context in the written kubeconfig.
    pub namespace: String,
}

impl Default for FakeKubeSettings {
    fn default() -> Self {
        FakeKubeSettings {
            history_limit: 1000,
            default_watch_timeout: Duration::from_secs(290),
            bookmark_interval: Duration::from_secs(60),
            namespace: "default".to_owned(),
        }
    }
}

/// One request the fake answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`…
    pub method: String,
    /// The path and query, as sent (percent-encoded).
    pub path: String,
    /// The status answered (200 for a watch, however it ended).
    pub status: u16,
}

/// A test control named a workflow that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoSuchWorkflow {
    /// The namespace looked in.
    pub namespace: String,
    /// The name looked for.
    pub name: String,
}

impl std::fmt::Display for NoSuchWorkflow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "no workflow {}/{} in the fake API server", self.namespace, self.name)
    }
}

impl std::error::Error for NoSuchWorkflow {}

/// A running fake API server; stopped when dropped.
#[derive(Debug)]
pub struct FakeKube {
    shared: Arc<Shared>,
    address: SocketAddr,
    server: ServerHandle,
}

impl FakeKube {
    /// Starts a fake with the default settings on a free 127.0.0.1 port.
    pub async fn start() -> FakeKube {
        FakeKube::start_with(FakeKubeSettings::default()).await
    }

    /// Starts a fake with `settings` on a free 127.0.0.1 port.
    pub async fn start_with(settings: FakeKubeSettings) -> FakeKube {
        let shared = Arc::new(Shared::new(settings));
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port for the fake API server");
        let address = listener.local_addr().expect("the fake API server's address");
        let data = web::Data::from(Arc::clone(&shared));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .default_service(web::to(routes::dispatch))
        })
        .workers(1)
        // Longer than a client's idle pool timeout (hyper: 90 s), so that the fake never closes
        // a pooled connection just as the client reuses it.
        .keep_alive(Duration::from_secs(300))
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .expect("the fake API server listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeKube { shared, address, server: handle }
    }

    /// `http://127.0.0.1:<port>`, the cluster URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address the fake listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Writes `dir/kubeconfig`: one cluster at [`FakeKube::url`], a user with a dummy token and
    /// a current context in the settings' namespace. Returns its path, for `KUBECONFIG` or
    /// `Kubeconfig::read_from`.
    pub fn write_kubeconfig(&self, dir: &Path) -> PathBuf {
        self.write_kubeconfig_via(dir, &self.url())
    }

    /// Writes `dir/kubeconfig` as [`FakeKube::write_kubeconfig`] does, with the cluster at
    /// `server` (a proxy in front of this fake).
    pub fn write_kubeconfig_via(&self, dir: &Path, server: &str) -> PathBuf {
        // JSON is YAML: every kubeconfig reader takes it, and serde escapes the values.
        let kubeconfig = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake-kube", "cluster": {"server": server}}],
            "users": [{"name": "fake-kube", "user": {"token": TOKEN}}],
            "contexts": [{
                "name": "fake-kube",
                "context": {"cluster": "fake-kube", "user": "fake-kube", "namespace": self.shared.settings.namespace},
            }],
            "current-context": "fake-kube",
            "preferences": {},
        });
        let path = dir.join("kubeconfig");
        let text = serde_json::to_string_pretty(&kubeconfig).unwrap_or_default();
        std::fs::write(&path, text).unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        path
    }

    /// The workflow `namespace/name` as stored.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Value> {
        self.shared.read(|store| store.get(&key(namespace, name)).cloned())
    }

    /// Every workflow in `namespace`, by name.
    pub fn objects(&self, namespace: &str) -> Vec<Value> {
        self.shared.read(|store| {
            store.objects_after(None).filter(|((ns, _), _)| ns == namespace).map(|(_, object)| object.clone()).collect()
        })
    }

    /// How many workflows `namespace` holds.
    pub fn count(&self, namespace: &str) -> usize {
        self.shared.read(|store| store.objects_after(None).filter(|((ns, _), _)| ns == namespace).count())
    }

    /// The name of every workflow created through the API, in order, including creates
    /// answered with an injected 500 after storing.
    pub fn created_names(&self) -> Vec<String> {
        self.shared.read(|store| store.created().iter().map(|(_, name)| name.clone()).collect())
    }

    /// The Secret `namespace/name` as stored: `data` base64-encoded, no `stringData`.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<Value> {
        self.shared.read(|store| store.secret(&key(namespace, name)).cloned())
    }

    /// Every Secret created through the API, in order, as `namespace/name`.
    pub fn secret_names(&self) -> Vec<String> {
        self.shared.read(|store| {
            store.created_secrets().iter().map(|(namespace, name)| format!("{namespace}/{name}")).collect()
        })
    }

    /// The current resource version (workflows and Secrets share it).
    pub fn resource_version(&self) -> u64 {
        self.shared.read(|store| store.revision())
    }

    /// Sets `.status` as Argo's controller does: replaces it with `status`, sets the labels
    /// `workflows.argoproj.io/phase` (when `status.phase` is set) and
    /// `workflows.argoproj.io/completed`, bumps the resource version and sends `MODIFIED`.
    /// [`argo_status`] builds a typical `status`.
    pub fn set_status(&self, namespace: &str, name: &str, status: Value) -> Result<Value, NoSuchWorkflow> {
        let phase = status.get("phase").and_then(Value::as_str).filter(|phase| !phase.is_empty()).map(str::to_owned);
        let completed = matches!(phase.as_deref(), Some("Succeeded" | "Failed" | "Error"));
        self.modify(namespace, name, move |object| {
            object["status"] = status;
            let labels = &mut object["metadata"]["labels"];
            if !labels.is_object() {
                *labels = json!({});
            }
            if let Some(phase) = phase {
                labels[PHASE_LABEL] = json!(phase);
            }
            labels[COMPLETED_LABEL] = json!(completed.to_string());
        })
    }

    /// Changes the stored workflow with `change` (name, namespace and uid are kept), bumps its
    /// resource version and sends `MODIFIED`.
    pub fn modify(
        &self,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> Result<Value, NoSuchWorkflow> {
        let modified = self.shared.write(|store| store.modify(&key(namespace, name), change));
        modified.ok_or_else(|| no_such_workflow(namespace, name))
    }

    /// Deletes the workflow, as Argo's TTL does, sends `DELETED` and deletes the Secrets it
    /// owns.
    pub fn delete(&self, namespace: &str, name: &str) -> Result<Value, NoSuchWorkflow> {
        let deleted = self.shared.write(|store| store.delete(&key(namespace, name)));
        deleted.ok_or_else(|| no_such_workflow(namespace, name))
    }

    /// Deletes `namespace` and everything in it (see the module documentation); returns how
    /// many workflows it held.
    pub fn delete_namespace(&self, namespace: &str) -> usize {
        self.shared.write(|store| store.delete_namespace(namespace))
    }

    /// Creates `namespace` again, empty.
    pub fn create_namespace(&self, namespace: &str) {
        self.shared.write(|store| store.create_namespace(namespace));
    }

    /// Uninstalls Argo's Workflow CRD (see the module documentation); returns how many
    /// workflows it deleted.
    pub fn uninstall_workflow_crd(&self) -> usize {
        self.shared.write(Store::uninstall_workflows)
    }

    /// Installs Argo's Workflow CRD again, with no workflows.
    pub fn install_workflow_crd(&self) {
        self.shared.write(Store::install_workflows);
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    /// Answers the next `count` requests, whatever they are, with `status` and the `Status`
    /// body the API server sends with it (`Retry-After: 1` with 429, 503 and 504); they have no
    /// effect. Queued after any failures already queued.
    ///
    /// # Panics
    /// When `status` is not an HTTP status code (100 to 999).
    pub fn fail_next(&self, count: usize, status: u16) {
        let status = StatusCode::from_u16(status).expect("fail_next needs an HTTP status code");
        self.shared.fail_next(count, status);
    }

    /// Holds back the answer to each of the next `count` requests by `delay`. The request takes
    /// effect at once, like a server whose answer is slow or lost after it committed; a client
    /// that gives up first never sees the answer.
    pub fn delay_next(&self, count: usize, delay: Duration) {
        self.shared.delay_next(count, delay);
    }

    /// Makes the next `count` workflow creates that store their object answer 500 anyway, like
    /// a timeout after the server committed: a retry then gets 409 `AlreadyExists`. Secret
    /// creates neither consume nor obey it.
    pub fn fail_next_creates_after_storing(&self, count: usize) {
        self.shared.fail_next_creates_after_storing(count);
    }

    /// Ends every open watch abruptly (no final chunk), as a dropped connection does.
    pub fn drop_watches(&self) {
        self.shared.drop_watches();
    }

    /// Forgets the change history: a watch from any version before now then gets the 410
    /// `Expired` error event.
    pub fn compact_history(&self) {
        self.shared.write(|store| store.compact());
    }

    /// How many watches are open now.
    pub fn open_watches(&self) -> usize {
        self.shared.open_watches()
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        // The stop command is sent when the future is made; nothing needs to await it.
        drop(self.server.stop(false));
    }
}

/// A `.status` as Argo's controller writes it for `phase`: `startedAt` once the workflow runs
/// (a `Pending` workflow has none), `finishedAt` once it is done.
pub fn argo_status(phase: &str) -> Value {
    let now = store::now();
    match phase {
        "Pending" => json!({"phase": phase, "progress": "0/0"}),
        "Running" => json!({"phase": phase, "startedAt": now, "progress": "0/1"}),
        _ => json!({"phase": phase, "startedAt": now, "finishedAt": now, "progress": "1/1"}),
    }
}

fn key(namespace: &str, name: &str) -> store::Key {
    (namespace.to_owned(), name.to_owned())
}

fn no_such_workflow(namespace: &str, name: &str) -> NoSuchWorkflow {
    NoSuchWorkflow { namespace: namespace.to_owned(), name: name.to_owned() }
}
