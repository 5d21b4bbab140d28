//! [`ThothMessage`]: any one of the 19 message types, decoded from and encoded to the wire.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::thoth::decode::decode_as;
use crate::thoth::messages::*;
use crate::thoth::{DecodeError, DecodeReason, MessageKind, TopicNaming, python_json};

/// A message struct that is one of Thoth's 19 types.
pub trait WireMessage: Serialize + DeserializeOwned + Into<ThothMessage> {
    /// The type's kind.
    const KIND: MessageKind;
}

/// Lists every kind once, with its struct, and derives from that list the enum, the
/// conversions, [`WireMessage`] and the dispatch by kind.
macro_rules! catalogue {
    ($($kind:ident),* $(,)?) => {
        /// One message of any of Thoth's 19 types.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(missing_docs)] // each variant is documented on its struct
        pub enum ThothMessage {
            $($kind($kind),)*
        }

        $(
            impl WireMessage for $kind {
                const KIND: MessageKind = MessageKind::$kind;
            }

            impl From<$kind> for ThothMessage {
                fn from(message: $kind) -> Self {
                    ThothMessage::$kind(message)
                }
            }
        )*

        /// Runs `$body` with `$message` bound to the struct inside the enum.
        macro_rules! with_message {
            ($value:expr, $message:ident => $body:expr) => {
                match $value {
                    $(ThothMessage::$kind($message) => $body,)*
                }
            };
        }

        fn decode_kind(kind: MessageKind, topic: &str, payload: &[u8]) -> Result<ThothMessage, DecodeError> {
            match kind {
                $(MessageKind::$kind => decode_as::<$kind>(topic, payload).map(ThothMessage::$kind),)*
            }
        }
    };
}

catalogue!(
    AdviseJustification,
    AdviserTrigger,
    BuildAnalysisTrigger,
    CveProvided,
    HashMismatch,
    InspectionCompleted,
    KebechetRunUrlTrigger,
    KebechetTrigger,
    MissingPackage,
    MissingVersion,
    PackageExtractTrigger,
    PackageReleased,
    ProvenanceCheckerTrigger,
    SiUnanalyzedPackage,
    SolvedPackage,
    ThothRepoInit,
    UnresolvedPackage,
    UnrevsolvedPackage,
    UpdateProvidesSourceDistro,
);

impl ThothMessage {
    /// Decodes a record value as a message of `kind`. Errors name the kind's base name.
    pub fn decode(kind: MessageKind, payload: &[u8]) -> Result<Self, DecodeError> {
        decode_kind(kind, kind.base_name(), payload)
    }

    /// Decodes a record read from `topic`, finding the message type from the topic name.
    /// A topic that is not one of the deployment's Thoth topics is an error.
    pub fn decode_record(naming: &TopicNaming, topic: &str, payload: &[u8]) -> Result<Self, DecodeError> {
        let Some(kind) = naming.kind_of_topic(topic) else {
            return Err(DecodeError {
                topic: topic.to_owned(),
                field: None,
                reason: DecodeReason::UnknownTopic,
            });
        };
        decode_kind(kind, topic, payload)
    }

    /// The message's type.
    pub fn kind(&self) -> MessageKind {
        with_message!(self, message => kind_of(message))
    }

    /// The record value thoth-messaging would write for this message: pydantic v1's
    /// `.json()`, every field present, unset ones as `null`.
    pub fn encode(&self) -> String {
        with_message!(self, message => python_json::to_string(message))
    }

    /// The sender's component name.
    pub fn component_name(&self) -> &str {
        with_message!(self, message => &message.component_name)
    }

    /// The sender's version.
    pub fn service_version(&self) -> &str {
        with_message!(self, message => &message.service_version)
    }

    /// The message's schema version (`v1`...).
    pub fn version(&self) -> &str {
        with_message!(self, message => &message.version)
    }
}

fn kind_of<M: WireMessage>(_: &M) -> MessageKind {
    M::KIND
}
