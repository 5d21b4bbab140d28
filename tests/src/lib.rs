//! The shared harness of the end-to-end tests.
//!
//! Each test gets real infrastructure of its own:
//! - [`TestDatabase`]: a fresh PostgreSQL database, dropped when the test ends;
//! - [`TestKafka`]: a deployment prefix of its own on the tansu broker, so 19 fresh Thoth
//!   topics, deleted when the test ends;
//! - [`ThothPeer`]: Thoth's own Python library (thoth-messaging 0.16.2) as the other party;
//! - [`investigator`]: the real `investigator` binary, for what a user would type;
//! - [`Service`]: `investigator serve` as a child process (killed, restarted, stopped);
//! - [`TestPooler`]: pgbouncer in transaction pooling of one test's own (restarted mid-stream);
//! - [`workload`]: a realistic, reproducible stream of domain events.
//!
//! `scripts/test.sh` starts the infrastructure and exports where it is (see
//! [`environment`]). Logs are printed only when `TEST_LOG=1`.

pub mod durable_broker;
pub mod environment;
pub mod fake_index;
pub mod fake_kube;
pub mod fixtures;
mod investigator_binary;
mod kafka;
pub mod partition;
pub mod peak_memory;
mod pooler;
mod postgres;
mod private_postgres;
pub mod secure_broker;
mod service;
mod teardown;
mod thoth_peer;
pub mod tls_proxy;
pub mod workload;

pub use investigator_binary::{InvestigatorRun, investigator, investigator_binary};
pub use kafka::{Record, TestKafka};
pub use pooler::TestPooler;
pub use postgres::TestDatabase;
pub use private_postgres::{PrivateCluster, PrivatePostgres};
pub use service::{Service, eventually, free_address};
pub use thoth_peer::{PeerRecord, ThothPeer};

/// What the harness sets for every `investigator` it runs: loopback is where the tests'
/// package indexes and advisory sources listen, and the investigator refuses it by default.
pub const ALLOW_PRIVATE_NETWORKS: (&str, &str) = ("INVESTIGATOR_ALLOW_PRIVATE_NETWORKS", "loopback");

/// Installs log output for the test process once, when `TEST_LOG` is set.
pub fn init_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if environment::test_log() {
            investigator_ops::telemetry::init(&environment::test_log_filter());
        }
    });
}
