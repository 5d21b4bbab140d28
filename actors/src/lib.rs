//! The investigator's runtime side: everything that talks to Kafka or Kubernetes.
//!
//! [`kafka`]: the clients built from Thoth's `KAFKA_*` settings, the publisher that writes
//! Thoth's wire format, and topic administration. [`pipeline`]: the supervised actors of the
//! ingest (recorder, handlers). [`workflows`]: the launcher and the watcher of Argo workflows.
//! [`log_relay`]: the event log copied to Kafka after each commit (the knowledge-event mirror,
//! the dead-letter topic, re-drives). [`outbound`]: the one
//! HTTP client for package indexes and advisory sources, bounded in time, size, redirects
//! and the addresses it reaches; [`package_index`]: what an index holds, read through it. [`health`]: the parts degraded by an outage, for `/_health`.
//! [`duty`]: the duties one replica runs at a time, under a lease in PostgreSQL.
//! [`backoff`]: the one schedule of every retry loop.
//! [`message_sink`]: where the Thoth messages the investigator writes go (Kafka or the bus).
//!
//! Boundary: message content is decided elsewhere (`investigator-events` encodes, the
//! decision rules will come from `investigator-core`); this crate moves bytes and reports
//! what happened to them.

pub mod backoff;
pub mod duty;
pub mod health;
pub mod kafka;
pub mod learning;
pub mod log_relay;
pub mod message_sink;
pub mod outbound;
pub mod package_index;
pub mod pipeline;
pub mod workflows;
