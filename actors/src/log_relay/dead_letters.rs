//! The dead-letter topic: every `MessageDeadLettered` event of the log, as the record's kept
//! bytes (a credential redacted, see `pipeline::dead_letter`), keyed by the dead letter's
//! stream id (one letter per record, so copies of it land together), with what happened in
//! headers: `reason_code`, `reason`, `topic`, `partition`, `offset`, `event_type`,
//! `content-type`, the record's own key as `original_key`, and `traceparent`.

use investigator_events::domain::{DomainEvent, EventType};
use investigator_projections::store::StoredEvent;

use super::{LogCopy, RelayRecord};

/// The base name of the dead-letter topic.
pub const DEAD_LETTER_BASE_NAME: &str = "thoth.investigator.dead-letter";

/// Dead letters, as their records.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeadLetterCopy;

impl LogCopy for DeadLetterCopy {
    const NAME: &'static str = "kafka_dead_letters";
    const EVENT_TYPE: Option<EventType> = Some(EventType::MessageDeadLettered);
    const BASE_NAME: &'static str = DEAD_LETTER_BASE_NAME;
    const RESUMES_FROM_TOPIC: bool = true;

    fn record(&self, event: &StoredEvent) -> Option<RelayRecord> {
        let decoded = event.decode().ok().map(|recorded| recorded.event);
        let Some(DomainEvent::MessageDeadLettered(letter)) = decoded else {
            // The log's own event that this build cannot read: the mirror's form, so the copy
            // still says where it is.
            return Some(RelayRecord {
                topic: None,
                key: Some(event.stream_id.clone()),
                value: Some(event.as_json().to_string().into_bytes()),
                headers: vec![("event_type", event.event_type.clone().into_bytes())],
            });
        };
        let value = letter.payload.to_bytes();
        let content_type = match value.as_deref().map(serde_json::from_slice::<serde_json::Value>) {
            Some(Ok(_)) => "application/json",
            _ => "application/octet-stream",
        };
        let mut headers = vec![
            ("reason_code", letter.reason_code.clone().into_bytes()),
            ("reason", letter.reason.clone().into_bytes()),
            ("topic", letter.topic.clone().into_bytes()),
            ("partition", letter.partition.to_string().into_bytes()),
            ("offset", letter.offset.to_string().into_bytes()),
            ("event_type", b"MessageDeadLettered".to_vec()),
            ("content-type", content_type.as_bytes().to_vec()),
        ];
        let traceparent = serde_json::from_slice::<serde_json::Value>(&event.metadata)
            .ok()
            .and_then(|metadata| metadata.get("traceparent").and_then(|value| value.as_str()).map(str::to_owned));
        if let Some(traceparent) = traceparent {
            headers.push(("traceparent", traceparent.into_bytes()));
        }
        if let Some(original) = letter.key.as_ref().and_then(|key| key.to_bytes()) {
            headers.push(("original_key", original));
        }
        // A tombstone's letter keeps no bytes: its copy has no value either.
        let value = value.filter(|bytes| !bytes.is_empty());
        Some(RelayRecord { topic: None, key: Some(event.stream_id.clone()), value, headers })
    }
}
