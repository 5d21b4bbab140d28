//! The HTTP side of `serve`: Thoth's investigator endpoints on port 6066.
//!
//! - `GET /_health`: `{"status": "ready", "version": ...}` (liveness: 200 while the process lives)
//! - `GET /_ready`: 200 once every part has started and none is degraded, 503 with what it
//!   waits for otherwise (readiness)
//! - `GET /metrics`: Prometheus text
//! - `POST /halt/{base_topic_name}`, `POST /resume/{base_topic_name}`: pause and resume a
//!   topic, with the write token (`GET` as in Thoth only under
//!   `INVESTIGATOR_THOTH_COMPATIBLE_CONTROL`)
//! - `/api/v1/...`: one route table (`api_routes`, also served as `/api/v1/openapi.json`):
//!   Thoth's user-api graph endpoints (`graph`) and ours for operators
//!   (`operations`: events, workflows, dead letters, status; `writes`: publishing messages,
//!   index admin, behind the tokens of `auth`); errors as `api_error::ApiError`
//! - every request but the health probe and the scrape: a span, continuing the caller's W3C
//!   `traceparent` (`trace`)
//! - before authentication, an unknown path is 404 `unknown_path` and an undeclared method
//!   405 with `Allow` (`methods`)
//! - every answer, errors included: the security headers of `security_headers` (no sniffing,
//!   no framing, no active content)

mod api_error;
mod api_routes;
mod auth;
mod cache;
mod graph;
mod index_urls;
mod investigator;
mod methods;
mod operations;
mod pagination;
mod parameters;
mod security_headers;
mod trace;
mod writes;

pub use auth::Tokens;
pub use cache::{CacheSettings, ResponseCache};
pub use methods::unknown_path;
pub use security_headers::security_headers;
pub use trace::trace_requests;
pub use writes::MAX_CONCURRENT_UPLOADS;

use actix_web::web;
use std::sync::Arc;

use investigator_actors::kafka::TopicAdmin;
use investigator_actors::pipeline::control::Control;
use investigator_actors::pipeline::metrics::Metrics;
use investigator_core::SolverName;
use investigator_core::network::NetworkAllowance;
use investigator_events::thoth::TopicNaming;
use investigator_projections::Database;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// `0.1.0+investigator`, as `/_health` reports it.
    pub service_version: String,
    /// Topic naming, to turn base names into topics.
    pub naming: TopicNaming,
    /// Halted topics.
    pub control: Control,
    /// The parts degraded by an outage (`/_health`, `/api/v1/status`).
    pub health: investigator_actors::health::Health,
    pub metrics: Metrics,
    /// A pool of its own for the API's reads (kept apart from the pipeline's).
    pub graph: Database,
    /// The configured solvers (`/python/environment`, `/solvers`).
    pub solvers: Vec<SolverName>,
    /// The API's tokens.
    pub tokens: Tokens,
    /// Where `POST /api/v1/messages/{base}` publishes.
    pub sink: investigator_actors::message_sink::MessageSink,
    /// The graph reads' cache.
    pub cache: ResponseCache,
    /// The broker's watermarks, for the lag in `/api/v1/status` (the embedded bus's are in
    /// the database).
    pub broker: Option<Arc<TopicAdmin>>,
    /// A read replica (`serve --api-only`): no pipeline to halt or resume.
    pub api_only: bool,
    /// This replica's name in the lease table (`INVESTIGATOR_REPLICA_ID`).
    pub replica_id: String,
    /// `INVESTIGATOR_THOTH_COMPATIBLE_CONTROL`: `GET /halt` and `GET /resume` without a token.
    pub thoth_compatible_control: bool,
    /// `INVESTIGATOR_METRICS_NEED_READ_TOKEN`: `/metrics` needs the read token.
    pub metrics_need_read_token: bool,
    /// The special address ranges an index URL may name (`INVESTIGATOR_ALLOW_PRIVATE_NETWORKS`).
    pub allowed_networks: NetworkAllowance,
    /// Document uploads in progress, at most [`writes::MAX_CONCURRENT_UPLOADS`] (shared by
    /// every HTTP worker).
    pub uploads: Arc<tokio::sync::Semaphore>,
}

/// Registers every route.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(web::PathConfig::default().error_handler(methods::unparsable_path))
        .route("/_health", web::get().to(investigator::health))
        .route("/_ready", web::get().to(investigator::ready))
        .service(
            web::resource("/metrics")
                .wrap(actix_web::middleware::from_fn(auth::authorize_metrics))
                .route(web::get().to(investigator::metrics)),
        )
        .service(
            web::resource("/halt/{base_topic_name}")
                .wrap(actix_web::middleware::from_fn(auth::authorize_control))
                .route(web::post().to(investigator::halt))
                .route(web::get().to(investigator::halt)),
        )
        .service(
            web::resource("/resume/{base_topic_name}")
                .wrap(actix_web::middleware::from_fn(auth::authorize_control))
                .route(web::post().to(investigator::resume))
                .route(web::get().to(investigator::resume)),
        )
        .service(
            api_routes::register(web::scope("/api/v1"))
                .wrap(actix_web::middleware::from_fn(cache::respond))
                .wrap(actix_web::middleware::from_fn(auth::authorize))
                .wrap(actix_web::middleware::from_fn(methods::check))
                .wrap(
                    actix_web::middleware::DefaultHeaders::new()
                        .add(("x-thoth-version", env!("CARGO_PKG_VERSION")))
                        .add(("x-user-api-service-version", concat!(env!("CARGO_PKG_VERSION"), "+investigator"))),
                ),
        );
}
