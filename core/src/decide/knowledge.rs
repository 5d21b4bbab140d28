//! What the decisions know about the graph: loaded by the caller for the keys a batch names,
//! then updated with each decision's own effects.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use investigator_events::domain::{DomainEvent, StreamId, UnresolvedPackage, WorkflowKind, WorkflowTarget};
use investigator_events::thoth::{JsonObject, ThothMessage};
use serde::{Deserialize, Serialize};

use super::version_request::VersionRequest;
use crate::{IndexUrl, PackageVersion, SolverEnvironment, normalize_package_name};

/// Where the versions of a `package_version: null` or `"*"` message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionSource {
    /// The message named the version.
    Message,
    /// The index's simple API listed them.
    Index,
    /// The index could not be asked; these are the versions the graph already knows.
    Graph,
}

/// The versions of a package on an index, newest first, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionListing {
    /// Normalised versions, newest first.
    pub versions: Vec<String>,
    /// Where they came from ([`VersionSource::Index`] or [`VersionSource::Graph`]).
    pub source: VersionSource,
}

/// A workflow requested and not finished: another request for the same target would do the
/// same work twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PendingWorkflow {
    /// What runs.
    pub kind: WorkflowKind,
    /// PEP 503 name, where it applies.
    pub package_name: Option<String>,
    /// Normalised version, where it applies.
    pub package_version: Option<String>,
    /// Normalised index URL, where it applies.
    pub index_url: Option<String>,
    /// The solver, for solver workflows.
    pub solver_name: Option<String>,
}

impl PendingWorkflow {
    /// The pending key of a request.
    pub fn of(kind: WorkflowKind, target: &WorkflowTarget) -> Self {
        PendingWorkflow {
            kind,
            package_name: target.package_name.clone(),
            package_version: target.package_version.clone(),
            index_url: target.index_url.clone(),
            solver_name: target.solver_name.clone(),
        }
    }
}

/// An adviser run that failed for lack of knowledge and waits for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParkedAdviser {
    /// The failed run's document id.
    pub adviser_document_id: String,
    /// The packages it waits for.
    pub unresolved: Vec<UnresolvedPackage>,
    /// The solver of its runtime environment, when one follows from it.
    pub solver_name: Option<String>,
    /// The original request, as the adviser document recorded it (`result.parameters`).
    pub parameters: JsonObject,
    /// `KEBECHET`, `CLI`...
    pub source_type: Option<String>,
    /// The repository or client that asked.
    pub origin: Option<String>,
    /// `stable`, `latest`...
    pub recommendation_type: Option<String>,
}

/// The keys a batch of messages needs knowledge about. Names are PEP 503, versions and index
/// URLs normalised, so they match the graph's rows.
///
/// A message that names one version asks about that version only: reading every version of
/// its package instead would make each batch slower as the package's history grows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnowledgeKeys {
    /// Every package a message names: its workflows that name no version (kebechet's for a
    /// missing package).
    pub names: BTreeSet<String>,
    /// (name, version) pairs a message names: what is known of the version on every index,
    /// and the workflows pending for it.
    pub versions: BTreeSet<(String, String)>,
    /// (name, index URL) pairs whose versions must be listed (`package_version` null, `*` or
    /// a specifier such as `>=1.0,<2`): every version of each, with its environments, SI
    /// status and pending workflows.
    pub listings: BTreeSet<(String, String)>,
    /// Names a solver reported solved: advisers parked on them, and which environments solved
    /// each of the packages those advisers wait for.
    pub solved_names: BTreeSet<String>,
    /// Workflow ids taken from messages (`job_id`): already requested or not.
    pub workflow_ids: BTreeSet<String>,
}

impl KnowledgeKeys {
    /// Adds what deciding `message` needs.
    pub fn add(&mut self, message: &ThothMessage) {
        use ThothMessage as M;
        match message {
            M::UnresolvedPackage(m) => {
                let name = self.name(&m.package_name);
                match VersionRequest::parse(m.package_version.as_deref()) {
                    Ok(VersionRequest::Exact(version)) => {
                        self.versions.insert((name, version));
                    }
                    // Every version, or the versions a specifier matches, come from a listing.
                    Ok(_) => {
                        self.listings.insert((name, normalize_index(&m.index_url)));
                    }
                    Err(_) => {}
                }
            }
            M::PackageReleased(m) => self.version(&m.package_name, &m.package_version),
            M::HashMismatch(m) => self.version(&m.package_name, &m.package_version),
            M::MissingPackage(m) => {
                self.name(&m.package_name);
            }
            M::MissingVersion(m) => self.version(&m.package_name, &m.package_version),
            M::SiUnanalyzedPackage(m) => self.version(&m.package_name, &m.package_version),
            M::CveProvided(m) => self.version(&m.package_name, &m.package_version),
            M::UpdateProvidesSourceDistro(m) => self.version(&m.package_name, &m.package_version),
            M::UnrevsolvedPackage(m) => self.version(&m.package_name, &m.package_version),
            M::SolvedPackage(m) => {
                self.version(&m.package_name, &m.package_version);
                self.solved_names.insert(normalize_package_name(m.package_name.trim()));
            }
            M::AdviserTrigger(m) => self.workflow_ids.extend(m.job_id.clone()),
            M::ProvenanceCheckerTrigger(m) => self.workflow_ids.extend(m.job_id.clone()),
            M::PackageExtractTrigger(m) => self.workflow_ids.extend(m.job_id.clone()),
            M::KebechetTrigger(m) => self.workflow_ids.extend(m.job_id.clone()),
            M::KebechetRunUrlTrigger(m) => self.workflow_ids.extend(m.job_id.clone()),
            M::BuildAnalysisTrigger(m) => self.workflow_ids.extend(m.job_id.clone()),
            M::ThothRepoInit(m) => self.workflow_ids.extend(m.job_id.clone()),
            M::InspectionCompleted(_) | M::AdviseJustification(_) => {}
        }
    }

    /// Normalised as the rules read names (trimmed first), so the keys find what they ask.
    fn name(&mut self, raw: &str) -> String {
        let name = normalize_package_name(raw.trim());
        self.names.insert(name.clone());
        name
    }

    fn version(&mut self, raw_name: &str, raw_version: &str) {
        let name = self.name(raw_name);
        self.versions.insert((name, normalize_version(raw_version.trim())));
    }
}

/// A normalised index URL, or the text as sent when it is not a URL (it then matches no
/// registered index, and the decision says so).
pub fn normalize_index(raw: &str) -> String {
    IndexUrl::parse(raw).map(|url| url.as_str().to_owned()).unwrap_or_else(|_| raw.to_owned())
}

/// A normalised version, or the text as sent when it is not PEP 440.
pub fn normalize_version(raw: &str) -> String {
    PackageVersion::parse(raw).map(|version| version.normalized()).unwrap_or_else(|_| raw.to_owned())
}

/// What is known about one version on one index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct VersionKnowledge {
    /// The environments that solved it (a row of `python_package_version` each).
    environments: BTreeSet<SolverEnvironment>,
    /// It has a security-indicator result (a failed analysis counts).
    security_analyzed: bool,
}

/// The knowledge a batch's decisions read. Built with the `insert_*` methods from the
/// projections, queried by the rules, and updated with [`Knowledge::observe`].
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    /// Registered index URL -> enabled.
    indexes: BTreeMap<String, bool>,
    /// (name, index) -> version -> what is known.
    versions: HashMap<(String, String), BTreeMap<String, VersionKnowledge>>,
    /// (name, index) -> listing.
    listings: HashMap<(String, String), VersionListing>,
    /// Package names (any version, any index) solved in an environment.
    solved_names: HashSet<(String, SolverEnvironment)>,
    /// Workflows requested and not finished.
    pending: HashSet<PendingWorkflow>,
    /// Every workflow id already requested.
    workflow_ids: HashSet<String>,
    /// Parked advisers, by document id.
    parked: BTreeMap<String, ParkedAdviser>,
}

impl Knowledge {
    /// A registered index and whether it is enabled.
    pub fn insert_index(&mut self, url: &str, enabled: bool) {
        self.indexes.insert(url.to_owned(), enabled);
    }

    /// A version on an index, known to the graph (with no environment yet).
    pub fn insert_version(&mut self, name: &str, version: &str, index_url: &str) {
        self.versions
            .entry((name.to_owned(), index_url.to_owned()))
            .or_default()
            .entry(version.to_owned())
            .or_default();
    }

    /// A version solved in an environment.
    pub fn insert_solved(&mut self, name: &str, version: &str, index_url: &str, environment: SolverEnvironment) {
        self.solved_names.insert((name.to_owned(), environment.clone()));
        self.versions
            .entry((name.to_owned(), index_url.to_owned()))
            .or_default()
            .entry(version.to_owned())
            .or_default()
            .environments
            .insert(environment);
    }

    /// A package name solved (some version, some index) in an environment.
    pub fn insert_solved_name(&mut self, name: &str, environment: SolverEnvironment) {
        self.solved_names.insert((name.to_owned(), environment));
    }

    /// A version with a security-indicator result.
    pub fn insert_security_analyzed(&mut self, name: &str, version: &str, index_url: &str) {
        self.versions
            .entry((name.to_owned(), index_url.to_owned()))
            .or_default()
            .entry(version.to_owned())
            .or_default()
            .security_analyzed = true;
    }

    /// The versions of a package on an index, listed for a `null`/`*` message.
    pub fn insert_listing(&mut self, name: &str, index_url: &str, listing: VersionListing) {
        self.listings.insert((name.to_owned(), index_url.to_owned()), listing);
    }

    /// A workflow requested and not finished.
    pub fn insert_pending(&mut self, pending: PendingWorkflow) {
        self.pending.insert(pending);
    }

    /// A workflow id already requested (finished or not).
    pub fn insert_workflow_id(&mut self, workflow_id: &str) {
        self.workflow_ids.insert(workflow_id.to_owned());
    }

    /// A parked adviser.
    pub fn insert_parked(&mut self, adviser: ParkedAdviser) {
        self.parked.insert(adviser.adviser_document_id.clone(), adviser);
    }

    /// Whether `url` is registered (enabled or not), and if so whether it is enabled.
    pub fn index_enabled(&self, url: &str) -> Option<bool> {
        self.indexes.get(url).copied()
    }

    /// The URLs of the enabled registered indexes, sorted.
    pub fn enabled_indexes(&self) -> Vec<String> {
        self.indexes.iter().filter(|(_, enabled)| **enabled).map(|(url, _)| url.clone()).collect()
    }

    /// Whether any environment solved the version (Thoth's "present").
    pub fn is_present(&self, name: &str, version: &str, index_url: &str) -> bool {
        self.version(name, version, index_url).is_some_and(|known| !known.environments.is_empty())
    }

    /// Whether `environment` solved the version.
    pub fn is_solved_in(&self, name: &str, version: &str, index_url: &str, environment: &SolverEnvironment) -> bool {
        self.version(name, version, index_url).is_some_and(|known| known.environments.contains(environment))
    }

    /// Whether some version of `name` is solved in `environment` (on any index).
    pub fn is_name_solved_in(&self, name: &str, environment: &SolverEnvironment) -> bool {
        self.solved_names.contains(&(name.to_owned(), environment.clone()))
    }

    /// Whether the version has a security-indicator result, on any index (Thoth's check does
    /// not look at the index).
    pub fn is_security_analyzed(&self, name: &str, version: &str) -> bool {
        self.versions
            .iter()
            .filter(|((known_name, _), _)| known_name == name)
            .any(|(_, versions)| versions.get(version).is_some_and(|known| known.security_analyzed))
    }

    /// The versions of a package the graph knows on an index, newest first.
    pub fn known_versions(&self, name: &str, index_url: &str) -> Vec<String> {
        let mut versions: Vec<String> = self
            .versions
            .get(&(name.to_owned(), index_url.to_owned()))
            .map(|versions| versions.keys().cloned().collect())
            .unwrap_or_default();
        sort_versions_newest_first(&mut versions);
        versions
    }

    /// The listing loaded for a `null`/`*` message, or the graph's versions when none was.
    pub fn listing(&self, name: &str, index_url: &str) -> VersionListing {
        self.listings.get(&(name.to_owned(), index_url.to_owned())).cloned().unwrap_or_else(|| VersionListing {
            versions: self.known_versions(name, index_url),
            source: VersionSource::Graph,
        })
    }

    /// Whether a workflow for the same target is requested and not finished.
    pub fn is_pending(&self, pending: &PendingWorkflow) -> bool {
        self.pending.contains(pending)
    }

    /// Whether a workflow of that id was already requested.
    pub fn has_workflow(&self, workflow_id: &str) -> bool {
        self.workflow_ids.contains(workflow_id)
    }

    /// The parked advisers that wait for `name`, by document id.
    pub fn parked_waiting_for(&self, name: &str) -> Vec<&ParkedAdviser> {
        self.parked
            .values()
            .filter(|adviser| adviser.unresolved.iter().any(|package| package.package_name == name))
            .collect()
    }

    fn version(&self, name: &str, version: &str, index_url: &str) -> Option<&VersionKnowledge> {
        self.versions.get(&(name.to_owned(), index_url.to_owned()))?.get(version)
    }

    /// Folds a decision's events in, so later decisions of the same batch see them.
    pub fn observe(&mut self, events: &[(StreamId, DomainEvent)]) {
        for (_, event) in events {
            match event {
                DomainEvent::WorkflowRequested(request) => {
                    self.workflow_ids.insert(request.workflow_id.clone());
                    self.pending.insert(PendingWorkflow::of(request.kind, &request.target));
                }
                DomainEvent::AdviserReRunRequested(re_run) => {
                    self.parked.remove(&re_run.adviser_document_id);
                }
                DomainEvent::PackageVersionSeen(seen) => {
                    self.insert_version(&seen.package_name, &seen.package_version, &seen.index_url);
                }
                _ => {}
            }
        }
    }
}

/// Sorts PEP 440 versions newest first; text that is not PEP 440 goes last, in text order.
fn sort_versions_newest_first(versions: &mut [String]) {
    versions.sort_by(|left, right| match (PackageVersion::parse(left), PackageVersion::parse(right)) {
        (Ok(left), Ok(right)) => right.cmp(&left),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => left.cmp(right),
    });
}
