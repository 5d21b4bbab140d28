//! Thoth's wire catalogue: the 19 message types of thoth-messaging 0.16.2, byte-compatible
//! with what Thoth's producers write and its consumers read.
//!
//! - [`MessageKind`] lists the types with their base topic names, schema versions and the
//!   consumer modes that handle them; [`TopicNaming`] adds the deployment prefix.
//! - One struct per type in [`messages`]; [`ThothMessage`] holds any of them.
//! - [`ThothMessage::decode`] is strict in the way pydantic's `Strict*` types are and never
//!   panics; [`ThothMessage::encode`] writes what pydantic v1's `.json()` writes.
//! - [`parse_messages_file`] reads the messaging-CLI file format.
//! - [`MessageKind::credential_fields`] names the fields that hold credentials, and
//!   [`without_credentials`] gives a record as it may be kept (a dead letter).

mod catalogue;
pub mod credentials;
pub(crate) mod decode;
mod kind;
mod message;
pub mod messages;
mod messages_file;
pub mod python_json;
mod schema_version;
mod topic;

pub use catalogue::{MessageKind, ThothMessage};
pub use credentials::{KeptRecord, is_credential_key, without_credentials};
pub use decode::{DecodeError, DecodeReason};
pub use kind::{ConsumerMode, KindSpec, UnknownConsumerMode, UnknownMessageType};
pub use message::{Header, WireMessage};
pub use messages::*;
pub use messages_file::{
    MessagesFileEntryError, MessagesFileError, SenderDefaults, parse_messages_file, with_sender_defaults,
};
pub use topic::{InvalidDeploymentName, TopicNaming};

/// A free-form JSON object (`Dict[str, Any]` in thoth-messaging), keys in document order.
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// Defaults of pydantic fields, for `#[serde(default = ...)]`.
mod defaults {
    pub fn yes() -> bool {
        true
    }
}
