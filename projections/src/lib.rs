//! The investigator's PostgreSQL side: the event log and everything built from it.
//!
//! - [`migrations`]: numbered SQL files for the log (`investigator` schema) and the knowledge
//!   graph (`graph` schema), applied by [`migrations::migrate`].
//! - [`store`]: the append-only event log: batches appended with optimistic concurrency and
//!   idempotency keys, positions gapless and in commit order, reading by position.
//! - [`projector`]: applies events to the knowledge-graph tables (Thoth's names), one code
//!   path for live recording and replay.
//! - [`record()`]: append and project in one transaction, the way every change enters.
//! - [`replay`]: rebuilds the graph from the log into a fresh schema and swaps it in, or
//!   compares it with the live one.
//! - [`archive`]: the log to and from a compact, checked file.
//! - [`bus`]: the embedded bus, Thoth messages kept here when there is no Kafka.
//! - [`queries`]: read-only queries for the REST API.
//! - [`fault`]: whether a failure to record is the data's fault or an outage, decided once.
//! - [`statements`]: the batch path's statements in one round trip each.
//! - [`offsets`]: Kafka consumer offsets, locked and advanced inside the batch transaction.
//! - [`load_knowledge()`]: what a batch's decisions need to know, read from the graph.
//! - [`workflow_outbox`]: the workflow launcher's and watcher's reads of `workflow_run`.
//! - [`workflow_secrets`]: registry credentials of requested workflows, outside the log.
//! - [`lease`]: leases of the duties one replica runs at a time, and the fence of their writes.
//!
//! Boundary: this crate talks to PostgreSQL (and reads and writes archive files) only, never
//! to Kafka or Kubernetes. Invariant: every row of the `graph` schema comes back from a
//! replay of the log, identical.

pub mod archive;
pub mod bus;
mod database;
pub mod fault;
mod in_flight;
mod jsonb;
mod knowledge;
pub mod learning;
pub mod lease;
pub mod migrations;
pub mod offsets;
pub mod projector;
pub mod queries;
mod record;
pub mod replay;
mod schema;
pub mod statements;
pub mod store;
pub mod workflow_outbox;
pub mod workflow_secrets;

pub use database::{Connection, Database, DatabaseError, ServerInfo};
pub use deadpool_postgres::Transaction;
pub use knowledge::load_knowledge;
pub use record::{RecordError, RecordTimings, record, record_in, record_in_timed};
pub use schema::SchemaName;
