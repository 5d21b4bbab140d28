//! Workflows on the cluster.
//!
//! - [`submitter`]: where a workflow goes: the Kubernetes API (`kube`), or the service's log
//!   (`log`, the default without a cluster). A workflow's name is its request's id, so a
//!   second create is answered 409 and counts as done.
//! - [`launcher`]: the actor that drains the outbox of requested workflows (`graph.workflow_run`
//!   rows in `requested`), within the pending limit of each namespace and a client-side rate,
//!   retrying what the API server could not take, and records `WorkflowSubmitted`.
//! - [`watcher`]: follows our workflows on the cluster (a kube watch, resumed from its
//!   resourceVersion, relisted on 410 Gone) and records their transitions once each, a
//!   workflow deleted before it finished included (phase `Deleted`).
//! - `unrecorded`: what a watcher saw and could not record yet, tried again until it is.
//! - `not_found`: the grace a namespace gets when workflow creates there are answered 404.
//! - [`rate`]: the token bucket that keeps the API server's load bounded.
//! - [`backpressure`]: halts the topics that lead to a namespace's workflows while too many of
//!   them wait in its outbox.

pub mod backpressure;
pub mod launcher;
mod not_found;
pub mod rate;
pub mod submitter;
mod unrecorded;
pub mod watcher;

pub use launcher::{LauncherSettings, WorkflowLauncher};
pub use submitter::{KubeWorkflows, Missing, SubmitError, Submitted, Submitter};
