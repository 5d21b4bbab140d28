//! The write endpoints (behind the write token): publishing Thoth messages, and registering,
//! enabling and disabling package indexes. Every change to the knowledge goes through the
//! event log.

use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use investigator_actors::message_sink::MessageSink;
use investigator_events::domain::{
    DeadLetterDiscarded, DeadLetterPayload, DeadLetterRedriven, DomainEvent, EventMetadata, IndexDisabled,
    IndexEnabled, IndexRegistered, StreamId,
};
use investigator_events::excerpt::excerpt;
use investigator_events::thoth::{MessageKind, ThothMessage, with_sender_defaults};
use investigator_projections::store::{AppendOutcome, AppendRequest, ExpectedVersion, NewEvent, StoreError};
use investigator_projections::{queries, record, record_in};
use serde_json::{Value, json};

use super::AppState;
use super::api_error::ApiError;
use super::cache::POSITION_HEADER;
use super::index_urls::{checked_index_url, checked_warehouse_url, index_url};
use super::trace::RequestTrace;

/// Request bodies are refused beyond this.
pub const MAX_BODY: usize = 1024 * 1024;

/// Documents may be larger than messages.
pub const MAX_DOCUMENT: usize = 32 * 1024 * 1024;
/// Document uploads read and parsed at once, at most: each holds its body (up to
/// [`MAX_DOCUMENT`]) and what is read from it. More at once answer 429 `too_many_uploads`.
pub const MAX_CONCURRENT_UPLOADS: usize = 2;

/// Reads a body, refusing one larger than [`MAX_BODY`] with a JSON 413.
async fn body(payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    body_up_to(payload, MAX_BODY).await
}

async fn body_up_to(mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| ApiError::BadRequest {
            message: format!("the request body could not be read: {error}"),
            code: "invalid_body",
            parameters: json!({}),
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `POST /api/v1/messages/{base_name}`: validates a Thoth message (as thoth-messaging's
/// models do) and publishes it, to Kafka or to the embedded bus.
pub async fn publish(
    state: web::Data<AppState>,
    base_name: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(kind) = MessageKind::from_base_name(&base_name) else {
        return Err(ApiError::NotFound {
            message: format!("'{base_name}' is not the base name of a Thoth message type"),
            parameters: json!({"base_name": base_name.as_str()}),
        });
    };
    let bytes = body(payload).await?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::Unprocessable {
        message: "the body is not UTF-8 JSON".to_owned(),
        code: "invalid_message",
    })?;
    let text = with_sender_defaults(text, &crate::commands::emit::sender_defaults());
    let message = ThothMessage::decode(kind, text.as_bytes())
        .map_err(|error| ApiError::Unprocessable { message: error.to_string(), code: "invalid_message" })?;
    let topic = state.naming.topic(kind);
    let delivered = state.sink.publish(std::slice::from_ref(&message)).await.map_err(ApiError::outage)?;
    let Some(delivered) = delivered.first() else {
        return Err(ApiError::Unavailable("no delivery report".into()));
    };
    let (partition, offset) = (delivered.partition, delivered.offset);
    Ok(HttpResponse::Accepted().json(json!({"topic": topic, "partition": partition, "offset": offset})))
}

/// `POST /api/v1/python/package-index`: registers an index, body `{"url", "warehouse_api_url",
/// "verify_ssl", "only_if_package_seen", "enabled"}`.
pub async fn register_index(
    state: web::Data<AppState>,
    trace: RequestTrace,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let request: Value = json_body(payload).await?;
    let url = checked_index_url(request.get("url"), &state.allowed_networks)?;
    let warehouse_api_url = checked_warehouse_url(request.get("warehouse_api_url"), &state.allowed_networks)?;
    let flag = |name: &str, default: bool| match request.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => {
            Err(ApiError::Unprocessable { message: format!("'{name}' must be true or false"), code: "invalid_body" })
        }
    };
    let event = IndexRegistered {
        url: url.clone(),
        warehouse_api_url,
        verify_ssl: flag("verify_ssl", true)?,
        only_if_package_seen: flag("only_if_package_seen", true)?,
        enabled: flag("enabled", false)?,
    };
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
    if queries::indexes(&client).await?.iter().any(|index| index.url == url) {
        return Err(ApiError::Unprocessable {
            message: format!("index '{url}' is registered already"),
            code: "index_already_registered",
        });
    }
    drop(client);
    drop(connection);
    let position = record_one(&state, StreamId::index(&url), event.into(), &trace).await?;
    Ok(HttpResponse::Created()
        .insert_header((POSITION_HEADER, position))
        .json(json!({"url": url, "position": position})))
}

/// `POST /api/v1/python/package-index/state`: body `{"url", "enabled"}`.
pub async fn index_state(
    state: web::Data<AppState>,
    trace: RequestTrace,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let request: Value = json_body(payload).await?;
    let url = index_url(request.get("url"))?;
    let Some(enabled) = request.get("enabled").and_then(Value::as_bool) else {
        return Err(ApiError::Unprocessable {
            message: "'enabled' must be true or false".to_owned(),
            code: "invalid_body",
        });
    };
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
    if !queries::indexes(&client).await?.iter().any(|index| index.url == url) {
        return Err(ApiError::NotFound {
            message: format!("index '{url}' is not registered"),
            parameters: json!({"url": url}),
        });
    }
    drop(client);
    drop(connection);
    let event: DomainEvent =
        if enabled { IndexEnabled { url: url.clone() }.into() } else { IndexDisabled { url: url.clone() }.into() };
    let position = record_one(&state, StreamId::index(&url), event, &trace).await?;
    Ok(HttpResponse::Created()
        .insert_header((POSITION_HEADER, position))
        .json(json!({"url": url, "enabled": enabled, "position": position})))
}

/// `POST /api/v1/dead-letters/{topic}/{partition}/{offset}/redrive`: publishes the dead
/// letter's kept bytes to its topic again (once its cause is fixed), once. `DeadLetterRedriven`
/// is recorded first, against the letter's stream version, so of several re-drives at once one
/// is recorded and the others answer 409; on the embedded bus the copy is published in the
/// same transaction, on Kafka by the re-drive relay right after the commit.
pub async fn redrive(
    state: web::Data<AppState>,
    trace: RequestTrace,
    path: web::Path<(String, i32, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (topic, partition, offset) = path.into_inner();
    let stream = StreamId::dead_letter(&topic, partition, offset);
    let mut connection = state.graph.connection().await?;
    let transaction = connection.transaction().await?;
    // Under the log-head lock, the letter's status and version cannot change before this
    // transaction ends: a re-drive that waited for another one finds the letter re-driven.
    investigator_projections::store::lock_head(&transaction).await.map_err(ApiError::outage)?;
    let letter = parked_letter_in(&transaction, &topic, partition, offset).await?;
    let bytes = serde_json::from_value::<DeadLetterPayload>(letter)
        .ok()
        .and_then(|payload| payload.to_bytes())
        .ok_or_else(|| ApiError::Unprocessable {
            message: "the dead letter's bytes cannot be read".to_owned(),
            code: "invalid_dead_letter",
        })?;
    let version = investigator_projections::store::stream_version(&transaction, stream.as_str())
        .await
        .map_err(ApiError::outage)?;
    let (republished_offset, republish) = match &state.sink {
        MessageSink::Bus { .. } => {
            let offsets = investigator_projections::bus::publish_in(&transaction, &[(topic.clone(), bytes)])
                .await
                .map_err(ApiError::outage)?;
            (offsets.first().copied(), None)
        }
        MessageSink::Kafka(_) => (None, Some(DeadLetterPayload::from_bytes(&bytes))),
    };
    let event = DeadLetterRedriven { topic: topic.clone(), partition, offset, republished_offset, republish };
    let request = AppendRequest {
        idempotency_key: None,
        expected: vec![(stream.clone(), ExpectedVersion::Exactly(version))],
        events: vec![api_event(stream, event.into(), &trace)],
    };
    let recorded = match record_in(&transaction, request).await {
        Err(investigator_projections::RecordError::Store(StoreError::Conflict { .. })) => {
            return Err(ApiError::Conflict {
                message: format!(
                    "the dead letter at {topic}/{partition}/{offset} changed meanwhile (re-driven or discarded)"
                ),
                code: "dead_letter_changed",
            });
        }
        other => other.map_err(ApiError::outage)?,
    };
    transaction.commit().await?;
    state.metrics.events_appended.with_label_values(&["DeadLetterRedriven"]).inc();
    let position = match recorded {
        AppendOutcome::Appended(events) => events.last().map_or(0, |event| event.position),
        AppendOutcome::AlreadyAppended { first_position, .. } => first_position,
    };
    let republished = match republished_offset {
        Some(offset) => json!({"republished_offset": offset}),
        None => json!({"republish": "queued"}),
    };
    let mut answer = json!({"topic": topic, "partition": partition, "offset": offset, "position": position});
    if let (Some(answer), Some(republished)) = (answer.as_object_mut(), republished.as_object()) {
        answer.extend(republished.clone());
    }
    Ok(HttpResponse::Accepted().insert_header((POSITION_HEADER, position)).json(answer))
}

/// `POST /api/v1/dead-letters/{topic}/{partition}/{offset}/discard`, body `{"reason"}`
/// (optional): sets the dead letter aside for good.
pub async fn discard(
    state: web::Data<AppState>,
    trace: RequestTrace,
    path: web::Path<(String, i32, i64)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (topic, partition, offset) = path.into_inner();
    let bytes = body(payload).await?;
    let reason = if bytes.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let request: Value = serde_json::from_slice(&bytes).map_err(|error| ApiError::Unprocessable {
            message: format!("the body is not JSON: {error}"),
            code: "invalid_body",
        })?;
        request.get("reason").and_then(Value::as_str).map(str::to_owned)
    };
    parked_letter(&state, &topic, partition, offset).await?;
    let event = DeadLetterDiscarded { topic: topic.clone(), partition, offset, reason };
    let stream = StreamId::dead_letter(&topic, partition, offset);
    let position = record_one(&state, stream, event.into(), &trace).await?;
    Ok(HttpResponse::Ok().insert_header((POSITION_HEADER, position)).json(
        json!({"topic": topic, "partition": partition, "offset": offset, "status": "discarded", "position": position}),
    ))
}

/// The payload of a parked dead letter; 404 when there is none, 422 when it is not parked.
async fn parked_letter(state: &AppState, topic: &str, partition: i32, offset: i64) -> Result<Value, ApiError> {
    let mut connection = state.graph.connection().await?;
    let client = connection.read().await?;
    parked_letter_in(&client, topic, partition, offset).await
}

/// [`parked_letter`], inside the caller's transaction.
async fn parked_letter_in(
    client: &investigator_projections::Transaction<'_>,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<Value, ApiError> {
    let row = client
        .query_opt(
            "SELECT status, payload FROM graph.dead_letter WHERE topic = $1 AND partition = $2 AND \"offset\" = $3",
            &[&topic, &partition, &offset],
        )
        .await?;
    let Some(row) = row else {
        return Err(ApiError::NotFound {
            message: format!("no dead letter at {topic}/{partition}/{offset}"),
            parameters: json!({"topic": topic, "partition": partition, "offset": offset}),
        });
    };
    let status: String = row.get(0);
    if status != "parked" {
        return Err(ApiError::Unprocessable {
            message: format!("the dead letter is {status}, not parked"),
            code: "not_parked",
        });
    }
    Ok(row.get(1))
}

/// `POST /api/v1/documents`: a Thoth solver or adviser document into the graph, as `investigator
/// sync` does (the same content twice records nothing the second time).
pub async fn upload_document(
    state: web::Data<AppState>,
    trace: RequestTrace,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    use crate::commands::sync::{Outcome, sync_bytes};
    // Taken before the body is read: the body itself is what takes the memory.
    let _upload = state.uploads.clone().try_acquire_owned().map_err(|_| ApiError::TooManyRequests {
        message: format!("{MAX_CONCURRENT_UPLOADS} documents are being uploaded already; try again shortly"),
        code: "too_many_uploads",
    })?;
    let bytes = body_up_to(payload, MAX_DOCUMENT).await?;
    match sync_bytes(&state.graph, &bytes, "api", Some(trace.traceparent())).await {
        Ok(Outcome::Synced { document_id, events, position, event_types }) => {
            for event_type in event_types {
                state.metrics.events_appended.with_label_values(&[event_type.name()]).inc();
            }
            Ok(HttpResponse::Created()
                .insert_header((POSITION_HEADER, position))
                .json(json!({"document_id": document_id, "events": events, "position": position})))
        }
        Ok(Outcome::AlreadyPresent { document_id, position }) => Ok(HttpResponse::Ok()
            .insert_header((POSITION_HEADER, position))
            .json(json!({"document_id": document_id, "already_present": true, "position": position}))),
        Ok(Outcome::Failed(reason)) => Err(ApiError::Unprocessable { message: reason, code: "invalid_document" }),
        // The database's message stays in the log: it may quote values and name the schema.
        Ok(Outcome::Refused { document_id, cause }) => {
            tracing::warn!(document = %excerpt(&document_id), cause = %excerpt(&cause),
                           "an uploaded document was refused by the database");
            Err(ApiError::Unprocessable {
                message: format!(
                    "document {}: the database cannot store one of its values (text with a NUL character, \\u0000, \
                     is the usual one)",
                    excerpt(&document_id)
                ),
                code: "invalid_document",
            })
        }
        Err(error) => Err(ApiError::outage(error)),
    }
}

async fn json_body(payload: web::Payload) -> Result<Value, ApiError> {
    let bytes = body(payload).await?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => {
            Err(ApiError::Unprocessable { message: "the body must be a JSON object".to_owned(), code: "invalid_body" })
        }
        Err(error) => {
            Err(ApiError::Unprocessable { message: format!("the body is not JSON: {error}"), code: "invalid_body" })
        }
    }
}

/// Records one event, in the request's trace; returns its position.
/// An event an API request makes, with where it came from.
fn api_event(stream: StreamId, event: DomainEvent, trace: &RequestTrace) -> NewEvent {
    NewEvent {
        stream,
        event,
        metadata: EventMetadata {
            origin: Some("api".to_owned()),
            traceparent: Some(trace.traceparent().to_owned()),
            ..EventMetadata::default()
        },
    }
}

async fn record_one(
    state: &AppState,
    stream: StreamId,
    event: DomainEvent,
    trace: &RequestTrace,
) -> Result<i64, ApiError> {
    let event_type = event.event_type();
    let request =
        AppendRequest { idempotency_key: None, expected: Vec::new(), events: vec![api_event(stream, event, trace)] };
    match record(&state.graph, request).await.map_err(ApiError::outage)? {
        AppendOutcome::Appended(recorded) => {
            state.metrics.events_appended.with_label_values(&[event_type.name()]).inc();
            Ok(recorded.last().map_or(0, |event| event.position))
        }
        AppendOutcome::AlreadyAppended { first_position, .. } => Ok(first_position),
    }
}
