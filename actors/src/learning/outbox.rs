//! The outbox: each finding becomes a `LearningMessageQueued` event (with any knowledge it
//! carries, such as an advisory) in one append keyed by finding and attempt, so queueing the
//! same finding twice, from two rounds, two processes or a restart, appends it once.

use investigator_core::learning::Driver;
use investigator_events::domain::{DomainEvent, EventMetadata, LearningMessageQueued, StreamId};
use investigator_events::thoth::{MessageKind, ThothMessage};
use investigator_projections::Database;
use investigator_projections::store::{AppendOutcome, AppendRequest, NewEvent};

use super::LearningError;

/// Findings recorded per transaction.
const CHUNK: usize = 200;

/// Something a driver found, and the Thoth message that asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The finding's stable key.
    pub key: String,
    /// 1 the first time.
    pub attempt: u32,
    /// Why, in words.
    pub reason: String,
    /// The message to publish.
    pub message: ThothMessage,
    /// Knowledge recorded with it (an advisory's text...), on its stream.
    pub knowledge: Vec<(StreamId, DomainEvent)>,
}

/// Who the drivers' messages say sent them (thoth-messaging's `component_name`).
pub fn component_name(driver: Driver) -> String {
    format!("thoth-investigator-{driver}")
}

/// A Thoth message of `kind` from `fields` (its own fields, without the sender's), validated
/// as the pipeline would validate it.
pub fn message(driver: Driver, kind: MessageKind, fields: serde_json::Value) -> Result<ThothMessage, LearningError> {
    let mut object = match fields {
        serde_json::Value::Object(object) => object,
        _ => serde_json::Map::new(),
    };
    object.insert("component_name".to_owned(), component_name(driver).into());
    object.insert("service_version".to_owned(), env!("CARGO_PKG_VERSION").into());
    let bytes = serde_json::to_vec(&object).unwrap_or_default();
    ThothMessage::decode(kind, &bytes)
        .map_err(|error| LearningError::Message { kind: kind.base_name(), reason: error.to_string() })
}

/// Records `findings`; returns how many were not queued before.
pub async fn queue(database: &Database, driver: Driver, findings: Vec<Finding>) -> Result<usize, LearningError> {
    let mut queued = 0;
    for chunk in findings.chunks(CHUNK) {
        let mut client = database.connection().await?;
        let transaction = client.transaction().await?;
        for finding in chunk {
            let outcome = investigator_projections::record_in(&transaction, request(driver, finding)).await?;
            if matches!(outcome, AppendOutcome::Appended(_)) {
                queued += 1;
            }
        }
        transaction.commit().await?;
    }
    Ok(queued)
}

fn request(driver: Driver, finding: &Finding) -> AppendRequest {
    let metadata = EventMetadata {
        origin: Some(format!("learning:{driver}")),
        traceparent: Some(crate::pipeline::trace::start()),
        ..EventMetadata::default()
    };
    let encoded = finding.message.encode();
    let queued = LearningMessageQueued {
        driver: driver.name().to_owned(),
        finding: finding.key.clone(),
        attempt: finding.attempt,
        reason: finding.reason.clone(),
        topic: finding.message.kind().base_name().to_owned(),
        message: serde_json::from_str(&encoded).unwrap_or_default(),
    };
    let mut events: Vec<NewEvent> = finding
        .knowledge
        .iter()
        .map(|(stream, event)| NewEvent { stream: stream.clone(), event: event.clone(), metadata: metadata.clone() })
        .collect();
    events.push(NewEvent { stream: StreamId::learning(driver.name()), event: queued.into(), metadata });
    AppendRequest {
        idempotency_key: Some(format!("learning:{}#{}", finding.key, finding.attempt)),
        expected: Vec::new(),
        events,
    }
}
