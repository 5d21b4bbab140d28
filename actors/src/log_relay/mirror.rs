//! The knowledge-event mirror: every event of the log, in log order, for kafdrop, kcat and any
//! consumer that would rather follow Kafka than the database. Each record's key is the event's
//! stream id (one stream's events stay in one partition, in order), its value readable JSON
//! (position, stream, version, type, schema version, payload, metadata, time), and its headers
//! say what it is (`event_type`, `schema_version`, `position`, `content-type`, and
//! `traceparent` when the event has one).

use investigator_events::domain::EventType;
use investigator_projections::store::StoredEvent;

use super::{LogCopy, RelayRecord};

/// The base name of the mirror topic.
pub const MIRROR_BASE_NAME: &str = "thoth.investigator.knowledge-events";

/// Every event, as readable JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct KnowledgeMirror;

impl LogCopy for KnowledgeMirror {
    const NAME: &'static str = "kafka_mirror";
    const EVENT_TYPE: Option<EventType> = None;
    const BASE_NAME: &'static str = MIRROR_BASE_NAME;
    const RESUMES_FROM_TOPIC: bool = true;

    fn record(&self, event: &StoredEvent) -> Option<RelayRecord> {
        let value = event.as_json().to_string().into_bytes();
        let mut headers = vec![
            ("event_type", event.event_type.clone().into_bytes()),
            ("schema_version", event.schema_version.to_string().into_bytes()),
            ("content-type", b"application/json".to_vec()),
        ];
        let traceparent = serde_json::from_slice::<serde_json::Value>(&event.metadata)
            .ok()
            .and_then(|metadata| metadata.get("traceparent").and_then(|value| value.as_str()).map(str::to_owned));
        if let Some(traceparent) = traceparent {
            headers.push(("traceparent", traceparent.into_bytes()));
        }
        Some(RelayRecord { topic: None, key: Some(event.stream_id.clone()), value: Some(value), headers })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    #[test]
    fn a_mirror_record_is_the_event_as_readable_json() {
        let event = StoredEvent {
            position: 7,
            stream_id: "package:flask".to_owned(),
            stream_version: 2,
            event_type: "PackageVersionSeen".to_owned(),
            schema_version: 1,
            payload: br#"{"package_name":"flask"}"#.to_vec(),
            metadata: br#"{"origin":"kafka","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}"#
                .to_vec(),
            recorded_at: Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).single().expect("a time"),
        };
        let record = KnowledgeMirror.record(&event).expect("a record for every event");
        assert_eq!(record.key.as_deref(), Some("package:flask"));
        let value: serde_json::Value = serde_json::from_slice(&record.value.expect("a value")).expect("JSON");
        assert_eq!(value["position"], 7);
        assert_eq!(value["stream"], "package:flask");
        assert_eq!(value["type"], "PackageVersionSeen");
        assert_eq!(value["payload"]["package_name"], "flask");
        assert_eq!(value["metadata"]["origin"], "kafka");
        assert_eq!(value["recorded_at"], "2026-11-24T10:00:00+00:00");
        assert!(record.headers.iter().any(|(key, value)| *key == "traceparent" && value.starts_with(b"00-0af7")));
    }
}
