//! The life of an Argo workflow the investigator asked for.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::thoth::JsonObject;

mod stored;

/// The kinds of workflow the investigator launches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)] // the names are Thoth's workflow names
pub enum WorkflowKind {
    Solver,
    Revsolver,
    SecurityIndicator,
    Adviser,
    ProvenanceChecker,
    PackageExtract,
    Kebechet,
    KebechetRunUrl,
    KebechetAdministrator,
    BuildAnalysis,
    GraphSync,
    RepoInit,
}

impl WorkflowKind {
    /// Every kind.
    pub const ALL: [WorkflowKind; 12] = [
        WorkflowKind::Solver,
        WorkflowKind::Revsolver,
        WorkflowKind::SecurityIndicator,
        WorkflowKind::Adviser,
        WorkflowKind::ProvenanceChecker,
        WorkflowKind::PackageExtract,
        WorkflowKind::Kebechet,
        WorkflowKind::KebechetRunUrl,
        WorkflowKind::KebechetAdministrator,
        WorkflowKind::BuildAnalysis,
        WorkflowKind::GraphSync,
        WorkflowKind::RepoInit,
    ];

    /// The name of each of [`WorkflowKind::ALL`], in its order.
    pub const NAMES: [&'static str; 12] = {
        let mut names = [""; 12];
        let mut at = 0;
        while at < names.len() {
            names[at] = WorkflowKind::ALL[at].name();
            at += 1;
        }
        names
    };

    /// The kebab-case name, `security-indicator`.
    pub const fn name(self) -> &'static str {
        match self {
            WorkflowKind::Solver => "solver",
            WorkflowKind::Revsolver => "revsolver",
            WorkflowKind::SecurityIndicator => "security-indicator",
            WorkflowKind::Adviser => "adviser",
            WorkflowKind::ProvenanceChecker => "provenance-checker",
            WorkflowKind::PackageExtract => "package-extract",
            WorkflowKind::Kebechet => "kebechet",
            WorkflowKind::KebechetRunUrl => "kebechet-run-url",
            WorkflowKind::KebechetAdministrator => "kebechet-administrator",
            WorkflowKind::BuildAnalysis => "build-analysis",
            WorkflowKind::GraphSync => "graph-sync",
            WorkflowKind::RepoInit => "repo-init",
        }
    }
}

impl fmt::Display for WorkflowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WorkflowKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        WorkflowKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| format!("unknown workflow kind '{name}'"))
    }
}

/// What a workflow is about, where that applies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowTarget {
    /// PEP 503 name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// PEP 440 normalised version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_version: Option<String>,
    /// Normalised index URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_url: Option<String>,
    /// The solver, for solver workflows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solver_name: Option<String>,
}

/// The investigator decided a workflow must run. Stored without the parameters its own fields
/// imply (see `stored`); in memory, `parameters` is always whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "stored::StoredRequest", into = "stored::StoredRequest")]
pub struct WorkflowRequested {
    /// The workflow's deterministic name (also its document id).
    pub workflow_id: String,
    /// What runs.
    pub kind: WorkflowKind,
    /// The namespace it goes to.
    pub namespace: String,
    /// What it is about.
    pub target: WorkflowTarget,
    /// Its parameters, by Thoth's names. Secrets are never here, only references to them.
    pub parameters: JsonObject,
    /// The base name of the message type that caused it.
    pub trigger: Option<String>,
    /// Where the version to solve came from, for solvers an unresolved-package message asked
    /// for: `message` (it named the version), `index` (the index listed it) or `graph` (the
    /// index could not be asked, the graph knew it). Absent elsewhere; added without a schema
    /// bump because older payloads simply lack it.
    pub version_source: Option<String>,
}

/// The workflow was created in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowSubmitted {
    /// The workflow's name.
    pub workflow_id: String,
    /// The namespace it was created in.
    pub namespace: String,
}

/// The workflow started running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowStarted {
    /// The workflow's name.
    pub workflow_id: String,
    /// When it started (RFC 3339), as the cluster reports it.
    pub started_at: String,
}

/// The workflow finished successfully.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowSucceeded {
    /// The workflow's name.
    pub workflow_id: String,
    /// When it finished (RFC 3339).
    pub finished_at: String,
}

/// The workflow failed: Argo's `Failed` or `Error` phase, or an end Argo has no phase for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowFailed {
    /// The workflow's name.
    pub workflow_id: String,
    /// `Failed` or `Error` (Argo's phases); `Refused` (the API server refused to create it);
    /// `Deleted` (it left the cluster before it finished). A free text, so a new value needs
    /// no schema version: every build reads every value.
    pub phase: String,
    /// When it finished (RFC 3339), when known; for `Deleted`, the deletion's time when the
    /// cluster reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Argo's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
