//! Identities of the knowledge graph and their normalisation, as Thoth defines them.
//!
//! - [`PackageName`]: PEP 503 canonical names (`Flask_SQLAlchemy` -> `flask-sqlalchemy`).
//! - [`PackageVersion`]: PEP 440 versions, normalised and ordered (newest first where asked).
//! - [`IndexUrl`]: package index URLs, with Thoth's `pypi.python.org` -> `pypi.org` alias.
//! - [`SolverName`]: `solver-<os>-<os_version>-py<digits>` and the environment it stands for.
//! - [`network`]: the address ranges outgoing requests do not reach unless allowed;
//!   [`remote_url`]: the checks on URLs given from outside before they are asked.
//!
//! - [`documents`]: Thoth's solver and adviser documents turned into domain events.
//! - [`decide`]: what each Thoth message leads to.
//! - [`workflow_manifest`]: the Argo Workflow submitted for a workflow request.
//! - [`workflow_status`]: the lifecycle events a workflow's status on the cluster implies.
//!
//! Boundary: pure functions only. No I/O, no async, no clock; everything here is unit-tested
//! on values.

pub mod decide;
pub mod documents;
mod index_url;
pub mod learning;
pub mod network;
pub mod osv;
mod package_name;
pub mod remote_url;
mod solver;
mod version;
pub mod workflow_manifest;
pub mod workflow_status;

pub use index_url::{IndexUrl, IndexUrlError};
pub use package_name::{PackageName, PackageNameError, normalize_package_name};
pub use solver::{SolverEnvironment, SolverName, SolverNameError};
pub use version::{PackageVersion, VersionError, sort_newest_first};
