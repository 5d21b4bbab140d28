//! Where workflows go: the Kubernetes API, or the service's log.

use std::collections::BTreeMap;
use std::time::Duration;

use investigator_core::workflow_manifest::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, WORKFLOW_LABEL};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

/// What became of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// The API server created the workflow.
    Created,
    /// A workflow of that name exists already (an earlier submission whose answer was lost,
    /// or a duplicate request): the submission is done.
    AlreadyExisted,
    /// Written to the service's log only (`INVESTIGATOR_LAUNCHER=log`).
    Logged,
}

impl Submitted {
    /// `created`, `already_existed`, `logged`.
    pub fn label(self) -> &'static str {
        match self {
            Submitted::Created => "created",
            Submitted::AlreadyExisted => "already_existed",
            Submitted::Logged => "logged",
        }
    }
}

/// Why a submission did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Worth trying again: the API server failed (5xx), asked us to slow down (429), did not
    /// answer in time, could not be reached, or refused our credentials (which an operator
    /// may fix without restarting us).
    #[error("the Kubernetes API could not take the workflow now: {0}")]
    Transient(String),
    /// The API server answered the workflow's create with 404: `missing` is not there, as
    /// during a redeploy. Worth trying again for a while (the launcher's grace), not forever.
    #[error("the Kubernetes API has no {missing} for the workflow (404): {message}")]
    NotFound {
        /// The namespace, or Argo's Workflow resource.
        missing: Missing,
        /// The API server's message.
        message: String,
    },
    /// The API server refused this workflow for good (400, 422...): trying again would give
    /// the same answer.
    #[error("the Kubernetes API refused the workflow ({code} {reason}): {message}")]
    Refused {
        /// HTTP status.
        code: u16,
        /// Kubernetes' reason (`Invalid`, `NotFound`...).
        reason: String,
        /// The API server's message.
        message: String,
    },
    /// The manifest is not a Kubernetes object (a programming error, reported rather than
    /// retried).
    #[error("the workflow manifest is not a Kubernetes object: {0}")]
    Manifest(String),
}

/// What a 404 to a workflow create says is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The namespace (`namespaces "<ns>" not found`).
    Namespace,
    /// Argo's Workflow resource: its CRD is not installed (`the server could not find the
    /// requested resource`).
    WorkflowResource,
}

impl Missing {
    /// What a 404 `Status` names: a namespace when its details say so, else the resource.
    fn of(status: &kube::core::Status) -> Self {
        match status.details.as_ref() {
            Some(details) if details.kind == "namespaces" => Missing::Namespace,
            _ => Missing::WorkflowResource,
        }
    }

    /// `namespace`, `workflows-resource`: the metric label.
    pub fn label(self) -> &'static str {
        match self {
            Missing::Namespace => "namespace",
            Missing::WorkflowResource => "workflows-resource",
        }
    }
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Missing::Namespace => "namespace",
            Missing::WorkflowResource => "Workflow resource (Argo's CRD)",
        })
    }
}

/// The cluster's Argo workflows, through the Kubernetes API.
#[derive(Clone)]
pub struct KubeWorkflows {
    /// For requests: each gives up after the configured timeout.
    client: kube::Client,
    /// For watches, which stay quiet for minutes: no read timeout (the server ends each watch
    /// after `timeoutSeconds`, and the watcher starts the next).
    watch_client: kube::Client,
    resource: ApiResource,
}

impl std::fmt::Debug for KubeWorkflows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KubeWorkflows")
    }
}

/// Why the Kubernetes client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum KubeConfigError {
    /// Neither `KUBECONFIG`/`~/.kube/config` nor the in-cluster service account gave a config.
    #[error("no Kubernetes configuration found (KUBECONFIG, ~/.kube/config, or the in-cluster service account)")]
    Infer(#[source] kube::config::InferConfigError),
    /// The configuration could not make a client.
    #[error("the Kubernetes client could not be built")]
    Client(#[source] kube::Error),
}

impl KubeWorkflows {
    /// A client from the environment (`KUBECONFIG`, `~/.kube/config`, or the in-cluster
    /// service account), whose requests give up after `timeout`.
    pub async fn from_environment(timeout: Duration) -> Result<Self, KubeConfigError> {
        let mut config = kube::Config::infer().await.map_err(KubeConfigError::Infer)?;
        config.connect_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        let mut watch_config = config.clone();
        watch_config.read_timeout = None;
        config.read_timeout = Some(timeout);
        let client = kube::Client::try_from(config).map_err(KubeConfigError::Client)?;
        let watch_client = kube::Client::try_from(watch_config).map_err(KubeConfigError::Client)?;
        let kind = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Workflow");
        Ok(KubeWorkflows { client, watch_client, resource: ApiResource::from_gvk_with_plural(&kind, "workflows") })
    }

    /// The workflows of one namespace, for requests.
    pub fn api(&self, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, &self.resource)
    }

    /// The workflows of one namespace, for watching.
    pub fn watch_api(&self, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.watch_client.clone(), namespace, &self.resource)
    }

    /// Creates `manifest` (a Workflow with its name and namespace set).
    pub async fn create(&self, manifest: &Value) -> Result<Submitted, SubmitError> {
        let object: DynamicObject =
            serde_json::from_value(manifest.clone()).map_err(|error| SubmitError::Manifest(error.to_string()))?;
        let namespace = object.metadata.namespace.clone().unwrap_or_default();
        match self.api(&namespace).create(&PostParams::default(), &object).await {
            // A 404 to a create in a namespace names no object: the namespace or the resource
            // itself is missing, which a redeploy puts right.
            Err(kube::Error::Api(status)) if status.code == 404 => {
                Err(SubmitError::NotFound { missing: Missing::of(&status), message: status.message })
            }
            answer => outcome(answer.map(drop)),
        }
    }

    /// Creates the Secret `name` in `namespace` holding `data` (registry credentials the
    /// workflow `workflow_id` reads), labelled as ours and as that workflow's. One that exists
    /// already counts as created only when it is that: our label, the workflow's label and the
    /// same data (a retried launch whose first answer was lost). Anything else of that name is
    /// refused, never used: a workflow reading someone else's credentials would log in to a
    /// registry as whoever planted them.
    pub async fn create_secret(
        &self,
        namespace: &str,
        name: &str,
        workflow_id: &str,
        data: &BTreeMap<String, String>,
    ) -> Result<Submitted, SubmitError> {
        let labels = BTreeMap::from([
            (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
            (WORKFLOW_LABEL.to_owned(), workflow_id.to_owned()),
        ]);
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                labels: Some(labels),
                ..ObjectMeta::default()
            },
            string_data: Some(data.clone()),
            type_: Some("Opaque".to_owned()),
            ..Secret::default()
        };
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        match outcome(secrets.create(&PostParams::default(), &secret).await.map(drop))? {
            Submitted::AlreadyExisted => {
                let existing = match secrets.get(name).await {
                    Ok(existing) => existing,
                    // Deleted since the 409: the next attempt creates it.
                    Err(kube::Error::Api(status)) if status.code == 404 => {
                        return Err(SubmitError::Transient(format!("the Secret {name} went away; trying again")));
                    }
                    Err(error) => return Err(failure(error)),
                };
                match foreign_secret(&existing, workflow_id, data) {
                    None => Ok(Submitted::AlreadyExisted),
                    Some(why) => Err(SubmitError::Refused {
                        code: 409,
                        reason: "AlreadyExists".to_owned(),
                        message: format!("a Secret named {name} exists in {namespace} and {why}: it is not used"),
                    }),
                }
            }
            submitted => Ok(submitted),
        }
    }
}

impl KubeWorkflows {
    /// Makes the Workflow `workflow` the owner of the Secret `secret` (both in `namespace`), so
    /// that Kubernetes' garbage collector deletes the Secret, and the credentials in it, with
    /// the Workflow (Argo removes finished ones). The Secret is made before the Workflow, so
    /// that a workflow never starts on a Secret that turns out not to be ours; the owner can
    /// only be named once the Workflow has its uid, hence a patch after both exist.
    pub async fn own_secret(&self, namespace: &str, secret: &str, workflow: &str) -> Result<(), SubmitError> {
        let owner = self.api(namespace).get(workflow).await.map_err(failure)?;
        let Some(uid) = owner.metadata.uid else {
            return Err(SubmitError::Transient(format!("the Workflow {workflow} has no uid yet")));
        };
        let patch = json!({"metadata": {"ownerReferences": [owner_reference(workflow, &uid)]}});
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        secrets.patch(secret, &PatchParams::default(), &Patch::Merge(&patch)).await.map(drop).map_err(failure)
    }
}

/// The reference that makes a Workflow the owner of a Secret. Not a controller reference and
/// no `blockOwnerDeletion`: Argo owns the Workflow's lifecycle, and blocking its deletion would
/// need `update` on `workflows/finalizers`.
fn owner_reference(workflow: &str, uid: &str) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": workflow, "uid": uid})
}

/// Why an existing Secret is not the one we would have made for `workflow_id` with `data`, or
/// `None` when it is.
fn foreign_secret(existing: &Secret, workflow_id: &str, data: &BTreeMap<String, String>) -> Option<String> {
    let labels = existing.metadata.labels.clone().unwrap_or_default();
    if labels.get(MANAGED_BY_LABEL).map(String::as_str) != Some(MANAGED_BY_VALUE) {
        return Some(format!("was not made by the investigator (no {MANAGED_BY_LABEL}={MANAGED_BY_VALUE} label)"));
    }
    if labels.get(WORKFLOW_LABEL).map(String::as_str) != Some(workflow_id) {
        return Some(format!("was not made for workflow {workflow_id} (its {WORKFLOW_LABEL} label differs)"));
    }
    let stored: BTreeMap<&str, &[u8]> =
        existing.data.iter().flatten().map(|(key, value)| (key.as_str(), value.0.as_slice())).collect();
    let ours: BTreeMap<&str, &[u8]> = data.iter().map(|(key, value)| (key.as_str(), value.as_bytes())).collect();
    (stored != ours).then(|| "holds other data than the workflow's credentials".to_owned())
}

/// A create's answer: created, already there (409), worth retrying, or refused.
fn outcome(answer: Result<(), kube::Error>) -> Result<Submitted, SubmitError> {
    match answer {
        Ok(()) => Ok(Submitted::Created),
        Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(Submitted::AlreadyExisted),
        Err(kube::Error::Api(status)) if is_transient(status.code) => {
            Err(SubmitError::Transient(format!("{} {}: {}", status.code, status.reason, status.message)))
        }
        Err(kube::Error::Api(status)) => {
            Err(SubmitError::Refused { code: status.code, reason: status.reason, message: status.message })
        }
        Err(other) => Err(SubmitError::Transient(other.to_string())),
    }
}

/// A failed request as a submission error (never `AlreadyExists`: only a create says that).
fn failure(error: kube::Error) -> SubmitError {
    match outcome(Err(error)) {
        Err(error) => error,
        Ok(_) => SubmitError::Transient("the Kubernetes API answered a read with AlreadyExists".to_owned()),
    }
}

/// Statuses worth retrying: server errors, throttling, credentials an operator can fix, and
/// none at all (a body that was not a Status).
fn is_transient(code: u16) -> bool {
    code == 0 || code >= 500 || matches!(code, 401 | 403 | 408 | 429)
}

/// Where the launcher sends workflows.
#[derive(Debug, Clone)]
pub enum Submitter {
    /// Writes the exact Workflow it would create to the service's log.
    Log,
    /// Creates it through the Kubernetes API.
    Kube(Box<KubeWorkflows>),
}

impl Submitter {
    /// Creates the Secret a workflow reads its registry credentials from (the log launcher
    /// only says it would, without the values).
    pub async fn provide_secret(
        &self,
        namespace: &str,
        name: &str,
        workflow_id: &str,
        data: &BTreeMap<String, String>,
    ) -> Result<Submitted, SubmitError> {
        match self {
            Submitter::Log => {
                let keys: Vec<&String> = data.keys().collect();
                tracing::info!(namespace, secret = name, ?keys, "secret (log launcher: not created on a cluster)");
                Ok(Submitted::Logged)
            }
            Submitter::Kube(workflows) => workflows.create_secret(namespace, name, workflow_id, data).await,
        }
    }

    /// Hands the Secret `secret` to the workflow `workflow`, which is garbage-collected with it
    /// (the log launcher made neither).
    pub async fn own_secret(&self, namespace: &str, secret: &str, workflow: &str) -> Result<(), SubmitError> {
        match self {
            Submitter::Log => Ok(()),
            Submitter::Kube(workflows) => workflows.own_secret(namespace, secret, workflow).await,
        }
    }

    /// Sends one workflow.
    pub async fn submit(&self, manifest: &Value) -> Result<Submitted, SubmitError> {
        match self {
            Submitter::Log => {
                tracing::info!(workflow = %manifest, "workflow (log launcher: not submitted to a cluster)");
                Ok(Submitted::Logged)
            }
            Submitter::Kube(workflows) => workflows.create(manifest).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Missing, is_transient, owner_reference};

    #[test]
    fn the_secrets_owner_is_the_workflow_by_name_and_uid() {
        assert_eq!(
            owner_reference("package-extract-1", "5f0c"),
            serde_json::json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                               "name": "package-extract-1", "uid": "5f0c"})
        );
    }

    #[test]
    fn server_errors_and_throttling_are_retried_and_bad_requests_are_not() {
        for code in [0, 401, 403, 429, 500, 503, 504] {
            assert!(is_transient(code), "{code}");
        }
        for code in [400, 404, 409, 422] {
            assert!(!is_transient(code), "{code}");
        }
    }

    #[test]
    fn a_404_names_the_namespace_or_the_workflow_resource() {
        let status = |body: &str| serde_json::from_str::<kube::core::Status>(body).expect("a Status");
        let namespace = status(
            r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"namespaces \"ns\" not found","reason":"NotFound","details":{"name":"ns","kind":"namespaces"},"code":404}"#,
        );
        assert_eq!(Missing::of(&namespace), Missing::Namespace);
        let resource = status(
            r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#,
        );
        assert_eq!(Missing::of(&resource), Missing::WorkflowResource);
        assert_eq!(
            (Missing::Namespace.label(), Missing::WorkflowResource.label()),
            ("namespace", "workflows-resource")
        );
    }
}
