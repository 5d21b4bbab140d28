//! Thoth's investigator endpoints, with the same paths, statuses and bodies.

use actix_web::{HttpResponse, web};
use investigator_actors::pipeline::control::HaltReason;
use investigator_events::thoth::MessageKind;
use serde_json::json;

use super::AppState;

const NO_SUCH_TYPE: &str = "No corresponding message type found in `thoth-messaging`. No action taken.";

pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ready", "version": state.service_version}))
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
