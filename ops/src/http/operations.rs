//! The investigator's own read endpoints for operators: the log, the workflows, the dead
//! letters and the pipeline's status.

use actix_web::{HttpRequest, HttpResponse, web};
use investigator_projections::queries::operations;
use investigator_projections::queries::replication::{self, DatabaseRole};
use serde_json::json;

use super::AppState;
use super::api_error::ApiError;
use super::pagination::paginate;
use super::parameters::Parameters;

/// Events read per request at most.
pub(super) const MAX_EVENTS: i64 = 1_000;

/// `GET /api/v1/events?after=<position>&limit=<n>&stream=<id>&type=<EventType>`: the log from a
/// position on; `next` is the cursor for the following request.
pub async fn events(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let parameters = Parameters::parse(request.query_string())?;
    let after = match parameters.optional("after") {
        None => 0,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|after| *after >= 0)
            .ok_or_else(|| parameters.invalid("after", "must be a position (a whole number, 0 or more)"))?,
    };
    let limit = match parameters.optional("limit") {
        None => 100,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|limit| (1..=MAX_EVENTS).contains(limit))
            .ok_or_else(|| parameters.invalid("limit", &format!("must be a whole number from 1 to {MAX_EVENTS}")))?,
    };
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
    let events =
        operations::events(&client, after, limit, parameters.optional("stream"), parameters.optional("type")).await?;
    let next = events.last().and_then(|event| event["position"].as_i64()).unwrap_or(after);
    Ok(HttpResponse::Ok().json(json!({"events": events, "next": next, "parameters": parameters.echo()})))
}

/// `GET /api/v1/workflows?kind=&status=&package_name=&page=&per_page=`.
pub async fn workflows(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let parameters = Parameters::parse(request.query_string())?;
    let kind = parameters.one_of("kind", super::api_routes::WORKFLOW_KINDS)?;
    let status = parameters.one_of("status", super::api_routes::WORKFLOW_STATUSES)?;
    let package = parameters.optional("package_name");
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
    let page =
        paginate(&parameters, |offset, limit| operations::workflows(&client, kind, status, package, offset, limit))
            .await?;
    let mut response = HttpResponse::Ok();
    page.headers(&mut response, &request, &parameters);
    Ok(response.json(json!({"workflows": page.rows, "parameters": parameters.echo()})))
}

/// `GET /api/v1/dead-letters?status=&reason_code=&page=&per_page=`.
pub async fn dead_letters(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let parameters = Parameters::parse(request.query_string())?;
    let status = parameters.one_of("status", super::api_routes::DEAD_LETTER_STATUSES)?;
    let reason = parameters.optional("reason_code");
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
    let page =
        paginate(&parameters, |offset, limit| operations::dead_letters(&client, status, reason, offset, limit)).await?;
    let mut response = HttpResponse::Ok();
    page.headers(&mut response, &request, &parameters);
    Ok(response.json(json!({"dead_letters": page.rows, "parameters": parameters.echo()})))
}

/// `GET /api/v1/status`: stored offsets with the lag behind the broker's high watermarks,
/// the log's head and the projections' positions, workflows per namespace and status, parked
/// dead letters, halted topics, this replica's name and which replica holds which duty.
pub async fn status(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
    let mut status = operations::status(&client).await?;
    let role = replication::database_role(&client).await?;
    let leases = investigator_projections::lease::leases(&client).await?;
    drop(client);
    state.metrics.database_standby.set(i64::from(matches!(role, DatabaseRole::Standby { .. })));
    state.metrics.standby_replay_lag.set(role.lag_seconds());
    status["database"] = json!(role);
    drop(connection);
    crate::lag::add_lag(&mut status, state.broker.as_deref()).await;
    status["source"] = json!(if state.broker.is_some() { "kafka" } else { "embedded bus" });
    status["api_only"] = json!(state.api_only);
    status["replica"] = json!(state.replica_id);
    status["duties"] = leases
        .iter()
        .map(|lease| {
            let covers: &[&str] = if lease.duty == investigator_actors::duty::SINGLETON {
                investigator_actors::duty::SINGLETON_TASKS
            } else {
                &[]
            };
            json!({
                "duty": lease.duty,
                "covers": covers,
                "holder": lease.holder,
                "generation": lease.generation,
                "held": lease.held,
                "renewed_at": lease.renewed_at.to_rfc3339(),
                "expires_at": lease.expires_at.to_rfc3339(),
            })
        })
        .collect();
    let halted: Vec<String> = state.control.halted().into_keys().collect();
    status["halted_topics"] = json!(halted);
    status["health"] = super::investigator::health_report(&state);
    Ok(HttpResponse::Ok().json(status))
}
