//! Dead letters: records the investigator could not use, kept with the reason. The
//! `MessageDeadLettered` event (and so the `dead_letter` table) is written in the batch's
//! transaction; the Kafka topic `<prefix>.thoth.investigator.dead-letter` gets a copy of
//! the kept bytes from the log after the commit (`log_relay::dead_letters`), with the reason
//! and the coordinates in headers.
//!
//! One exception to "the original bytes": a record that carries a credential (a trigger's
//! registry passwords, or any key naming a credential, escaped or nested) is kept with those
//! values replaced by `<redacted>`, or withheld whole when it cannot be read
//! (`investigator_events::thoth::without_credentials`), so no password reaches the log, the
//! table or the topic. Re-driving such a letter needs the password sent again.

use investigator_events::domain::{DeadLetterPayload, DomainEvent, MessageDeadLettered, StreamId};

use super::InboundRecord;

/// A record set aside, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub record: InboundRecord,
    /// A stable code: `malformed_json`, `unknown_schema_version`, `unregistered_index`...
    pub reason_code: String,
    /// The reason, for people.
    pub reason: String,
    /// Attempts made.
    pub attempts: u32,
}

impl DeadLetter {
    /// The event that records it.
    pub fn event(&self) -> (StreamId, DomainEvent) {
        let record = &self.record;
        let event = MessageDeadLettered {
            topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
            key: record.key.as_deref().map(DeadLetterPayload::from_bytes),
            payload: DeadLetterPayload::from_bytes(&self.kept_payload()),
            reason_code: self.reason_code.clone(),
            reason: self.reason.clone(),
            attempts: self.attempts,
        };
        (StreamId::dead_letter(&record.topic, record.partition, record.offset), event.into())
    }

    /// The record's value as kept: the original bytes, or, when they carry a credential, the
    /// same JSON with the credential's value redacted.
    pub fn kept_payload(&self) -> std::borrow::Cow<'_, [u8]> {
        let bytes = self.record.payload.as_deref().unwrap_or_default();
        match redacted(bytes) {
            Some(redacted) => std::borrow::Cow::Owned(redacted),
            None => std::borrow::Cow::Borrowed(bytes),
        }
    }
}

/// `bytes` without credentials (see `investigator_events::thoth::credentials`), or `None`
/// when they carry none and are kept as received.
fn redacted(bytes: &[u8]) -> Option<Vec<u8>> {
    match investigator_events::thoth::without_credentials(bytes) {
        investigator_events::thoth::KeptRecord::AsReceived => None,
        kept => Some(kept.bytes(bytes).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_registry_password_is_redacted_and_everything_else_kept() {
        let record = br#"{"image": "quay.io/a/b", "registry_user": "robot", "registry_password": "s3cr3t"}"#;
        let kept = redacted(record).expect("redacted");
        let text = String::from_utf8(kept).expect("UTF-8");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains(r#""registry_password":"<redacted>""#) && text.contains("robot"), "{text}");
        assert_eq!(redacted(br#"{"package_name": "flask"}"#), None, "kept byte for byte");
        let escaped = redacted(br#"{"base_registry\u005fpassword": "s3cr3t", "output_registry_password": "s3cr3t"}"#);
        assert!(!String::from_utf8_lossy(&escaped.expect("redacted")).contains("s3cr3t"));
        let broken = redacted(br#"{"registry_password": "s3cr3t""#).expect("withheld");
        assert!(!String::from_utf8_lossy(&broken).contains("s3cr3t"));
    }
}
