//! Records the investigator could not use.

use serde::{Deserialize, Serialize};

/// A Kafka record was set aside with the reason, so it can be inspected and re-driven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDeadLettered {
    /// The full topic name.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// The record's key, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<DeadLetterPayload>,
    /// The record's value.
    pub payload: DeadLetterPayload,
    /// A stable code for the reason: `malformed_json`, `unknown_schema_version`...
    pub reason_code: String,
    /// The reason, for people.
    pub reason: String,
    /// How many times processing was attempted.
    pub attempts: u32,
}

/// An operator re-drove a dead letter (after its cause was fixed): its bytes are published
/// again to its topic, where the pipeline reads them like any other record. Recorded first,
/// against the dead letter's stream version, so a letter is re-driven once however many ask at
/// once; on the embedded bus the copy is published in the same transaction
/// (`republished_offset`), on Kafka afterwards from the log (`republish`, by the re-drive
/// relay, at least once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterRedriven {
    /// The dead letter's topic.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// The offset of the copy published again (partition 0 on the embedded bus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub republished_offset: Option<i64>,
    /// The bytes still to publish to the topic (Kafka): the dead letter's kept bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub republish: Option<DeadLetterPayload>,
}

/// An operator set a dead letter aside for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterDiscarded {
    /// The dead letter's topic.
    pub topic: String,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Why, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Record bytes, kept exactly: as text when they are UTF-8 without a NUL character, else
/// base64. PostgreSQL stores no NUL in text or JSONB (`\u0000` is refused), so a payload with
/// one is base64 too: a dead letter can always be recorded, whatever bytes it keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "encoding", content = "data", rename_all = "lowercase")]
pub enum DeadLetterPayload {
    /// The bytes are this UTF-8 text.
    Text(String),
    /// The bytes, base64 (standard alphabet, padded).
    Base64(String),
}

impl DeadLetterPayload {
    /// Keeps `bytes` exactly.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) if !text.contains('\0') => DeadLetterPayload::Text(text.to_owned()),
            _ => {
                use base64::Engine as _;
                DeadLetterPayload::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
        }
    }

    /// The bytes back, or `None` when the base64 is damaged.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        match self {
            DeadLetterPayload::Text(text) => Some(text.as_bytes().to_vec()),
            DeadLetterPayload::Base64(data) => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.decode(data).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_keep_their_bytes_exactly() {
        for bytes in [&b"{\"a\": 1}"[..], &[0xff, 0xfe, 0x00, b'x'][..], &[][..]] {
            let payload = DeadLetterPayload::from_bytes(bytes);
            assert_eq!(payload.to_bytes().as_deref(), Some(bytes));
        }
        assert!(matches!(DeadLetterPayload::from_bytes(&[0xff]), DeadLetterPayload::Base64(_)));
    }

    #[test]
    fn text_with_a_nul_character_is_kept_as_base64_which_postgresql_stores() {
        let bytes = b"{\"component_name\":\"t\0\"}";
        let payload = DeadLetterPayload::from_bytes(bytes);
        assert!(matches!(payload, DeadLetterPayload::Base64(_)), "{payload:?}");
        assert_eq!(payload.to_bytes().as_deref(), Some(&bytes[..]));
        assert!(!serde_json::to_string(&payload).expect("JSON").contains("\\u0000"));
    }
}
