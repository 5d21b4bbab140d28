//! Where workflows go: the Kubernetes API, or the service's log.

use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use serde_json::Value;

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
    /// The API server refused this workflow for good (400, 404, 422...): trying again would
    /// give the same answer.
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

/// The cluster's Argo workflows, through the Kubernetes API.
#[derive(Clone)]
pub struct KubeWorkflows {
    client: kube::Client,
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
        config.read_timeout = Some(timeout);
        config.write_timeout = Some(timeout);
        let client = kube::Client::try_from(config).map_err(KubeConfigError::Client)?;
        Ok(KubeWorkflows::new(client))
    }

    /// Workflows through `client`.
    pub fn new(client: kube::Client) -> Self {
        let kind = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Workflow");
        KubeWorkflows { client, resource: ApiResource::from_gvk_with_plural(&kind, "workflows") }
    }

    /// The workflows of one namespace.
    pub fn api(&self, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, &self.resource)
    }

    /// Creates `manifest` (a Workflow with its name and namespace set).
    pub async fn create(&self, manifest: &Value) -> Result<Submitted, SubmitError> {
        let object: DynamicObject =
            serde_json::from_value(manifest.clone()).map_err(|error| SubmitError::Manifest(error.to_string()))?;
        let namespace = object.metadata.namespace.clone().unwrap_or_default();
        match self.api(&namespace).create(&PostParams::default(), &object).await {
            Ok(_) => Ok(Submitted::Created),
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
    use super::is_transient;

    #[test]
    fn server_errors_and_throttling_are_retried_and_bad_requests_are_not() {
        for code in [0, 401, 403, 429, 500, 503, 504] {
            assert!(is_transient(code), "{code}");
        }
        for code in [400, 404, 409, 422] {
            assert!(!is_transient(code), "{code}");
        }
    }
}
