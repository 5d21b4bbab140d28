//! [`ThothMessage`]: any one of the 19 message types, decoded from and encoded to the wire.
//! The enum itself is generated in `catalogue`.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::thoth::catalogue::decode_kind;
use crate::thoth::{DecodeError, MessageKind, ThothMessage, TopicNaming, python_json};

/// A message struct that is one of Thoth's 19 types.
pub trait WireMessage: Serialize + DeserializeOwned + Into<ThothMessage> {
    /// The type's kind.
    const KIND: MessageKind;

    /// The three fields every Thoth message has.
    fn header(&self) -> Header<'_>;
}

/// The fields every Thoth message has, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The sender, e.g. `graph-refresh-job`.
    pub component_name: &'a str,
    /// The sender's own version.
    pub service_version: &'a str,
    /// The schema version as sent, `None` when the producer sent none.
    pub version: Option<&'a str>,
}

/// What [`ThothMessage`] needs of the struct inside, usable without knowing its type.
pub(crate) trait AnyWireMessage {
    fn kind(&self) -> MessageKind;
    fn header(&self) -> Header<'_>;
    fn encode(&self) -> String;
}

impl<M: WireMessage> AnyWireMessage for M {
    fn kind(&self) -> MessageKind {
        M::KIND
    }

    fn header(&self) -> Header<'_> {
        WireMessage::header(self)
    }

    fn encode(&self) -> String {
        python_json::to_string(self)
    }
}

impl ThothMessage {
    /// Decodes a record value as a message of `kind`. Errors name the kind's base name.
    pub fn decode(kind: MessageKind, payload: &[u8]) -> Result<Self, DecodeError> {
        decode_kind(kind, kind.base_name(), payload)
    }

    /// Decodes a record read from `topic`, finding the message type from the topic name.
    /// A topic that is not one of the deployment's Thoth topics is an error.
    pub fn decode_record(naming: &TopicNaming, topic: &str, payload: &[u8]) -> Result<Self, DecodeError> {
        let Some(kind) = naming.kind_of_topic(topic) else {
            return Err(DecodeError::unknown_topic(topic));
        };
        decode_kind(kind, topic, payload)
    }

    /// The message's type.
    pub fn kind(&self) -> MessageKind {
        self.inner().kind()
    }

    /// The record value thoth-messaging would write for this message: pydantic v1's
    /// `.json()`, every field present, unset ones as `null`.
    pub fn encode(&self) -> String {
        self.inner().encode()
    }

    /// The three fields every message has.
    pub fn header(&self) -> Header<'_> {
        self.inner().header()
    }

    /// The sender's component name.
    pub fn component_name(&self) -> &str {
        self.inner().header().component_name
    }

    /// The sender's version.
    pub fn service_version(&self) -> &str {
        self.inner().header().service_version
    }

    /// The schema version as sent, `None` when the producer sent none.
    pub fn version(&self) -> Option<&str> {
        self.inner().header().version
    }

    /// The version the investigator handles the message as: the one sent, or `v1` when none
    /// was sent, as Thoth's investigator reads it (pydantic would say the current version).
    pub fn handled_version(&self) -> &str {
        self.version().unwrap_or("v1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_version_is_kept_absent_handled_as_v1_and_encoded_as_pydantics_default() {
        let payload = br#"{"component_name": "c", "service_version": "1", "recommendation_type": "latest"}"#;
        let message = ThothMessage::decode(MessageKind::AdviserTrigger, payload).expect("valid");
        assert_eq!(message.version(), None);
        assert_eq!(message.handled_version(), "v1", "Thoth's investigator routes a version-less message as v1");
        assert!(message.encode().contains(r#""version": "v5""#), "pydantic writes the current version");
    }

    #[test]
    fn a_sent_version_is_kept_as_sent() {
        let payload = br#"{"component_name": "c", "service_version": "1", "version": "v9", "project_url": "u"}"#;
        let message = ThothMessage::decode(MessageKind::ThothRepoInit, payload).expect("valid");
        assert_eq!((message.version(), message.handled_version()), (Some("v9"), "v9"));
        assert_eq!(message.header().component_name, "c");
    }
}
