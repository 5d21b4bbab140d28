//! The learning drivers: what the investigator decides to learn next without being asked.
//! They replace Thoth's cron jobs (graph-refresh, package-releases, package-update,
//! cve-update), read the projections, and are aware of the system's own load.
//!
//! ```text
//! refresh ─┐  (gaps in the graph)
//! releases ┤  (index listings)          one transaction per finding:
//! updates ─┼─ findings ─► outbox::queue ─► LearningMessageQueued (idempotency key =
//! cves ────┘  (OSV advisories)             finding + attempt) ─► graph.learning_message
//!                  ▲                                   │ after commit
//!                  │ budget (load::LoadProbe)          ▼
//!                  └──────────────────────── relay::OutboxRelay ─► Thoth topics (Kafka or the
//!                                                                   embedded bus)
//! ```
//!
//! Every decision is an event: a finding queued (with why), a driver held back by the load
//! or let go again (`LearningThrottleChanged`). A finding is queued once; the graph refresh
//! asks again about a gap still open after `retry_after`, as a new attempt.

pub mod cves;
mod indexes;
pub mod load;
pub mod osv_source;
pub mod outbox;
pub mod refresh;
pub mod relay;
pub mod releases;
pub mod round;
pub mod schedule;
pub mod settings;
pub mod updates;

pub use round::{LearningContext, LearningError, RoundReport, run_round};
pub use settings::LearningSettings;
