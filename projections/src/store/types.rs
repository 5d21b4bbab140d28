//! What goes into the log and what comes out.

use chrono::{DateTime, Utc};
use investigator_core::documents::DocumentEvents;
use investigator_events::domain::{DomainEvent, EventDecodeError, EventMetadata, StreamId};

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The stream it belongs to.
    pub stream: StreamId,
    pub event: DomainEvent,
    /// Where it came from.
    pub metadata: EventMetadata,
}

/// What a stream must look like for an append to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Whatever its version.
    Any,
    /// The stream has no event yet.
    NoStream,
    /// The stream's last event has exactly this version.
    Exactly(i64),
}

/// A batch of events appended together.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AppendRequest {
    /// Appending a batch with the same key again appends nothing (the effects of one source
    /// message, one document...).
    pub idempotency_key: Option<String>,
    /// Conditions on streams; streams not listed may be at any version.
    pub expected: Vec<(StreamId, ExpectedVersion)>,
    /// The events, in order.
    pub events: Vec<NewEvent>,
}

impl AppendRequest {
    /// The events of one document, all with `metadata`, keyed so that the same content is
    /// appended once.
    pub fn for_document(document: DocumentEvents, metadata: EventMetadata) -> Self {
        let stream = document.stream;
        AppendRequest {
            idempotency_key: Some(document.idempotency_key),
            expected: Vec::new(),
            events: document
                .events
                .into_iter()
                .map(|event| NewEvent { stream: stream.clone(), event, metadata: metadata.clone() })
                .collect(),
        }
    }
}

/// What an append did.
#[derive(Debug, Clone, PartialEq)]
pub enum AppendOutcome {
    /// The events are in the log, as recorded.
    Appended(Vec<RecordedEvent>),
    /// A batch with the same idempotency key was appended before: nothing was appended now.
    AlreadyAppended {
        /// Where that batch starts.
        first_position: i64,
        /// How many events it holds.
        event_count: i32,
    },
}

/// An event as the log holds it, decoded to the current schema version.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Its position in the log (1, 2, 3...; gapless, in commit order).
    pub position: i64,
    pub stream: StreamId,
    /// Its version within the stream (1, 2, 3...).
    pub stream_version: i64,
    pub event: DomainEvent,
    /// Where it came from.
    pub metadata: EventMetadata,
    /// When it was appended (the appending transaction's start).
    pub recorded_at: DateTime<Utc>,
}

/// An event as stored, not decoded: what `events tail` prints and archives carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub position: i64,
    pub stream_id: String,
    /// Version within the stream.
    pub stream_version: i64,
    pub event_type: String,
    /// Schema version of the payload.
    pub schema_version: i32,
    /// JSON payload as stored.
    pub payload: Vec<u8>,
    /// JSON metadata as stored.
    pub metadata: Vec<u8>,
    /// When it was appended.
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    /// The event as readable JSON (`position`, `stream`, `stream_version`, `type`,
    /// `schema_version`, `recorded_at`, `payload`, `metadata`): what `events tail` prints and
    /// the mirror topic carries. A payload that is not JSON (it always is) shows as `null`.
    pub fn as_json(&self) -> serde_json::Value {
        let parse = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).unwrap_or_default();
        serde_json::json!({
            "position": self.position,
            "stream": self.stream_id,
            "stream_version": self.stream_version,
            "type": self.event_type,
            "schema_version": self.schema_version,
            "recorded_at": self.recorded_at.to_rfc3339(),
            "payload": parse(&self.payload),
            "metadata": parse(&self.metadata),
        })
    }

    /// Decodes the payload (upcasting older versions) and the metadata.
    pub fn decode(&self) -> Result<RecordedEvent, EventDecodeError> {
        let event = DomainEvent::decode(&self.event_type, self.schema_version, &self.payload)?;
        let metadata: EventMetadata =
            serde_json::from_slice(&self.metadata).map_err(|error| EventDecodeError::InvalidPayload {
                event_type: event.event_type(),
                schema_version: self.schema_version,
                detail: format!("metadata: {error}"),
            })?;
        Ok(RecordedEvent {
            position: self.position,
            stream: StreamId::from_stored(self.stream_id.clone()),
            stream_version: self.stream_version,
            event,
            metadata,
            recorded_at: self.recorded_at,
        })
    }
}
