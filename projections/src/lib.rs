//! The investigator's PostgreSQL side.
//!
//! Today: [`Database`], the connection pool built from a validated `DATABASE_URL`. The event
//! log, the knowledge-graph projections and replay will live here.
//!
//! Boundary: this crate talks to PostgreSQL only, never to Kafka or Kubernetes.

mod database;

pub use database::{Database, DatabaseError, ServerInfo};
