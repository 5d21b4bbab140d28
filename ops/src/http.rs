//! The HTTP side of `serve`: Thoth's investigator endpoints on port 6066.
//!
//! - `GET /_health`: `{"status": "ready", "version": ...}`
//! - `GET /metrics`: Prometheus text
//! - `GET /halt/{base_topic_name}`, `GET /resume/{base_topic_name}`: pause and resume a topic

mod investigator;

use actix_web::web;
use investigator_actors::pipeline::control::Control;
use investigator_actors::pipeline::metrics::Metrics;
use investigator_events::thoth::TopicNaming;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// `0.1.0+investigator`, as `/_health` reports it.
    pub service_version: String,
    /// Topic naming, to turn base names into topics.
    pub naming: TopicNaming,
    /// Halted topics.
    pub control: Control,
    /// Metrics.
    pub metrics: Metrics,
}

/// Registers every route.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/_health", web::get().to(investigator::health))
        .route("/metrics", web::get().to(investigator::metrics))
        .route("/halt/{base_topic_name}", web::get().to(investigator::halt))
        .route("/resume/{base_topic_name}", web::get().to(investigator::resume));
}
