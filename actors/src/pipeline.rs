//! The investigator pipeline: Kafka records in, decisions recorded, exactly once.
//!
//! ```text
//! ingest (rdkafka consumer task) ── batches of records, per-partition order ──► BatchRecorder
//!    ▲  pause / resume / seek                                                    │ decode, validate,
//!    │  commit to Kafka (for lag tools only)                                     │ route by kind and mode
//!    └──────────────────────── BatchOutcome ◄───────────────────────────────────┤
//!                                                                                ▼
//!                    rule actors (supervised): SolverScheduler, SecurityIndicatorScheduler,
//!                    AdviserRetry, MissingVersionFlagger, UserWorkflowScheduler, Metrics
//!                    each calls the pure rules of `investigator_core::decide`
//!                                                                                │
//!   ONE PostgreSQL transaction per batch: lock the partitions' offset rows, drop records
//!   already applied, read the knowledge, decide, append + project the events (workflow
//!   requests and dead letters included), advance the offsets.
//! ```
//!
//! - [`PipelineSettings`]: modes, retries, halting, batching.
//! - [`ingest`]: the consumer loop; [`bus_ingest`]: the same over the embedded bus when there
//!   is no Kafka.
//! - [`recorder`]: the `BatchRecorder` actor; [`batch`]: what it does with one batch.
//! - [`rule_actor`]: the supervised actors that run the decision rules.
//! - [`control`]: halted topics (`/halt`, `/resume`, failures), shared with the HTTP side.
//! - [`metrics`]: Thoth's Prometheus metrics and ours.
//! - [`listing`]: package versions from an index's simple API.

pub mod batch;
pub mod bus_ingest;
pub mod control;
pub mod dead_letter;
pub mod ingest;
pub mod listing;
pub mod metrics;
pub mod positioning;
mod record;
pub mod recorder;
pub mod rule_actor;
mod settings;
pub mod trace;

pub use record::InboundRecord;
pub use settings::{PanicInjection, PipelineSettings};
