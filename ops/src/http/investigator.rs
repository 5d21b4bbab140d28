//! Thoth's investigator endpoints, with the same paths, statuses and bodies.

use actix_web::{HttpResponse, web};
use investigator_actors::pipeline::control::HaltReason;
use investigator_events::thoth::MessageKind;
use serde_json::json;

use super::AppState;

const NO_SUCH_TYPE: &str = "No corresponding message type found in `thoth-messaging`. No action taken.";

/// Thoth's `{"status": "ready", "version"}`; `degraded`, with what and why, while a part of the
/// service retries an outage (the answer stays 200: the process is alive, and restarting it
/// would not bring PostgreSQL back).
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let mut report = health_report(&state);
    report["version"] = json!(state.service_version);
    HttpResponse::Ok().json(report)
}

/// `{"status": "ready"}`, or `{"status": "degraded", "degraded": {part: {reason, since,
/// failures}}}`.
pub fn health_report(state: &AppState) -> serde_json::Value {
    let degraded = state.health.degraded();
    if degraded.is_empty() {
        return json!({"status": "ready"});
    }
    let parts: serde_json::Map<String, serde_json::Value> = degraded
        .into_iter()
        .map(|(part, degradation)| {
            let detail = json!({"reason": degradation.reason, "since": degradation.since.to_rfc3339(), "failures": degradation.failures});
            (part.to_owned(), detail)
        })
        .collect();
    json!({"status": "degraded", "degraded": parts})
}

/// Kubernetes' readiness probe: 200 `{"status": "ready"}` once every part has started (the
/// consumer in its group with its partitions positioned, the lease asked for) and none is
/// degraded; 503 `{"status": "not_ready", "starting": {part: what it waits for}, "degraded":
/// {...}}` otherwise. `/_health` stays Thoth's liveness answer, 200 while the process lives.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let starting = state.health.not_started();
    let report = health_report(&state);
    if starting.is_empty() && report["status"] == "ready" {
        return HttpResponse::Ok().json(report);
    }
    let degraded = report.get("degraded").cloned().unwrap_or_else(|| json!({}));
    HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "starting": starting, "degraded": degraded}))
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render())
}

/// A read replica consumes nothing, so there is nothing to halt or resume.
fn no_pipeline() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .json(json!({"message": "This investigator serves the API only (serve --api-only): it consumes no topic."}))
}

/// Thoth answered `/halt` with no body; this one says what it did.
pub async fn halt(state: web::Data<AppState>, base_name: web::Path<String>) -> HttpResponse {
    if state.api_only {
        return no_pipeline();
    }
    let Some(kind) = MessageKind::from_base_name(&base_name) else {
        return HttpResponse::UnprocessableEntity().json(json!({"message": NO_SUCH_TYPE}));
    };
    let topic = state.naming.topic(kind);
    state.control.halt(&topic, HaltReason::Operator);
    state.metrics.halted_topics.with_label_values(&[kind.base_name()]).set(1);
    tracing::warn!(topic, "consumption halted by an operator");
    HttpResponse::Ok().json(json!({"message": format!("Successfully halted consumption of {topic}.")}))
}

pub async fn resume(state: web::Data<AppState>, base_name: web::Path<String>) -> HttpResponse {
    if state.api_only {
        return no_pipeline();
    }
    let Some(kind) = MessageKind::from_base_name(&base_name) else {
        return HttpResponse::UnprocessableEntity().json(json!({"message": NO_SUCH_TYPE}));
    };
    let topic = state.naming.topic(kind);
    state.control.resume(&topic);
    state.metrics.halted_topics.with_label_values(&[kind.base_name()]).set(0);
    tracing::info!(topic, "consumption resumed");
    HttpResponse::Ok().json(json!({"message": format!("Successfully resumed consumption of {topic}.")}))
}
