//! Encoded events and reading them back.

use serde::de::DeserializeOwned;

use super::catalogue::EventType;
use super::upcast::upcast;

/// An event as the log stores it: its type, the schema version (always the type's current
/// one when encoding) and the JSON payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    /// The type; its name goes into `event_type`.
    pub event_type: EventType,
    /// The JSON payload.
    pub payload: Vec<u8>,
}

impl EncodedEvent {
    /// The schema version of the payload.
    pub fn schema_version(&self) -> i32 {
        self.event_type.current_version()
    }
}

/// Why a stored event cannot be read by this build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    /// A type this build does not know (written by a newer build, or not an event at all).
    #[error("unknown event type '{event_type}'")]
    UnknownType {
        /// The stored type name.
        event_type: String,
    },
    /// A schema version this build cannot read: newer than its own, or below 1.
    #[error("{event_type} schema version {found} is not readable by this build (it reads versions 1 to {current})")]
    UnsupportedVersion {
        /// The type.
        event_type: EventType,
        /// The stored version.
        found: i32,
        /// The newest version this build knows.
        current: i32,
    },
    /// The payload does not match the schema of its type and version.
    #[error("{event_type} v{schema_version} payload is invalid: {detail}")]
    InvalidPayload {
        /// The type.
        event_type: EventType,
        /// The stored version.
        schema_version: i32,
        /// Which field and what is wrong.
        detail: String,
    },
}

/// Decodes a payload of `kind` written at `schema_version`.
pub(super) fn decode_payload<T: DeserializeOwned>(
    kind: EventType,
    schema_version: i32,
    payload: &[u8],
) -> Result<T, EventDecodeError> {
    let current = kind.current_version();
    let invalid = |detail: String| EventDecodeError::InvalidPayload { event_type: kind, schema_version, detail };
    if schema_version == current {
        let deserializer = &mut serde_json::Deserializer::from_slice(payload);
        return serde_path_to_error::deserialize(deserializer).map_err(|error| invalid(describe(&error)));
    }
    if !(1..current).contains(&schema_version) {
        return Err(EventDecodeError::UnsupportedVersion { event_type: kind, found: schema_version, current });
    }
    let value: serde_json::Value = serde_json::from_slice(payload).map_err(|error| invalid(error.to_string()))?;
    let upcast = upcast(kind, schema_version, value).map_err(invalid)?;
    serde_path_to_error::deserialize(upcast).map_err(|error| invalid(describe(&error)))
}

fn describe<E: std::fmt::Display>(error: &serde_path_to_error::Error<E>) -> String {
    let path = error.path().to_string();
    if path == "." { error.inner().to_string() } else { format!("field '{path}': {}", error.inner()) }
}
