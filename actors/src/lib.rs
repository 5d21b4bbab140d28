//! The investigator's runtime side: everything that talks to Kafka.
//!
//! Today: [`kafka`], the clients built from Thoth's `KAFKA_*` settings, the publisher that
//! writes Thoth's wire format, and topic administration. The supervised actors of the
//! pipeline (ingest, router, handlers, launcher, watcher) will live here.
//!
//! Boundary: message content is decided elsewhere (`investigator-events` encodes, the
//! decision rules will come from `investigator-core`); this crate moves bytes and reports
//! what happened to them.

pub mod kafka;
pub mod pipeline;
