//! The investigator's domain events: every change to Thoth's knowledge, and every decision
//! about work, as it is recorded in the event log.
//!
//! - [`DomainEvent`] is any one of them; [`EventType`] names each type with its current
//!   schema version. Both come from one list in `catalogue.rs`.
//! - [`DomainEvent::encode`] gives the `(event_type, schema_version, payload)` triple stored
//!   in the log; [`DomainEvent::decode`] reads one back, upcasting payloads written by older
//!   schema versions (see `upcast.rs` for the history of each type).
//! - [`EventMetadata`] travels beside each event: where it came from (topic, partition,
//!   offset), correlation and causation ids, the W3C `traceparent`.
//! - [`StreamId`] names the stream (the aggregate) an event belongs to.
//!
//! Identities inside events (package names, versions, index URLs) are stored normalised:
//! the code that creates events (`investigator-core`) normalises them first.

mod adviser;
mod catalogue;
mod consumer;
mod dead_letter;
mod decode;
mod index;
mod learning;
mod metadata;
mod package;
mod security;
mod solver;
mod stream;
mod upcast;
mod workflow;

pub use adviser::{AdviserParked, AdviserReRunRequested, AdviserRunRecorded, UnresolvedPackage};
pub use catalogue::{DomainEvent, EventType};
pub use consumer::ConsumerOffsetReset;
pub use dead_letter::{DeadLetterDiscarded, DeadLetterPayload, DeadLetterRedriven, MessageDeadLettered};
pub use decode::{EncodedEvent, EventDecodeError};
pub use index::{IndexDisabled, IndexEnabled, IndexRegistered};
pub use learning::{LearningMessageQueued, LearningThrottleChanged};
pub use metadata::{EventMetadata, SourceRecord};
pub use package::{
    CveAdvisory, CveProvided, HashMismatchRecorded, PackageMarkedMissing, PackageVersionSeen,
    SourceDistributionFlagSet, VersionMarkedMissing,
};
pub use security::{SecurityIndicatorCounters, SecurityIndicatorRecorded};
pub use solver::{
    ResolvedVersions, SolvedDependency, SolvedPackage, SolverError, SolverLicense, SolverResultRecorded,
    SolverUnparsed, SolverUnresolved,
};
pub use stream::StreamId;
pub use workflow::{
    WorkflowFailed, WorkflowKind, WorkflowRequested, WorkflowStarted, WorkflowSubmitted, WorkflowSucceeded,
    WorkflowTarget,
};
