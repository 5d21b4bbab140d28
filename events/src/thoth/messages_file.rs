//! The messaging-CLI file: what Thoth's workflows write to `messages_to_be_sent.json` and the
//! `send-messages` step publishes. A JSON array of
//! `{"topic_name": "<base name>", "message_contents": {...}}`.
//!
//! The whole file is checked before anything is returned, so a caller can refuse to send a
//! file with any bad entry: every bad entry is reported, not only the first.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::thoth::{DecodeError, MessageKind, ThothMessage};

/// Who sent a message, for entries that leave `component_name` or `service_version` out (the
/// messaging CLI fills them in the same way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderDefaults {
    /// Used when `component_name` is absent.
    pub component_name: String,
    /// Used when `service_version` is absent.
    pub service_version: String,
}

/// A problem with one entry of a messages file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {index}: {error}")]
pub struct MessagesFileEntryError {
    /// 0-based position of the entry in the file.
    pub index: usize,
    /// What is wrong with it.
    pub error: DecodeError,
}

/// Why a messages file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessagesFileError {
    /// The file is not a JSON array of `{topic_name, message_contents}` objects.
    #[error("not a messages file (a JSON array of {{\"topic_name\": ..., \"message_contents\": {{...}}}}): {detail}")]
    Shape {
        /// The parser's description, with the position.
        detail: String,
    },
    /// Some entries are invalid; all of them are listed.
    #[error("{} invalid entr{}:{}", .0.len(), if .0.len() == 1 { "y" } else { "ies" }, one_per_line(.0))]
    Entries(Vec<MessagesFileEntryError>),
}

fn one_per_line(errors: &[MessagesFileEntryError]) -> String {
    errors.iter().map(|error| format!("\n    {error}")).collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry<'a> {
    topic_name: String,
    #[serde(borrow)]
    message_contents: &'a RawValue,
}

/// Parses and validates a whole messages file. Unknown base names are refused (the messaging
/// CLI would send them unvalidated; we only send what we can check).
pub fn parse_messages_file(bytes: &[u8], sender: &SenderDefaults) -> Result<Vec<ThothMessage>, MessagesFileError> {
    let entries: Vec<Entry<'_>> =
        serde_json::from_slice(bytes).map_err(|error| MessagesFileError::Shape { detail: error.to_string() })?;

    let mut messages = Vec::with_capacity(entries.len());
    let mut errors = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        match decode_entry(entry, sender) {
            Ok(message) => messages.push(message),
            Err(error) => errors.push(MessagesFileEntryError { index, error }),
        }
    }
    if errors.is_empty() { Ok(messages) } else { Err(MessagesFileError::Entries(errors)) }
}

fn decode_entry(entry: &Entry<'_>, sender: &SenderDefaults) -> Result<ThothMessage, DecodeError> {
    let Some(kind) = MessageKind::from_base_name(&entry.topic_name) else {
        return Err(DecodeError::unknown_topic(&entry.topic_name));
    };
    let contents = with_sender_defaults(entry.message_contents.get(), sender);
    ThothMessage::decode(kind, contents.as_bytes())
}

/// Adds `component_name` and `service_version` when the object lacks them. They are inserted
/// into the text as given, so the decoder still sees everything else exactly as it was (a key
/// given twice is still refused). Anything that is not an object is left for the decoder to
/// refuse with its usual error.
pub fn with_sender_defaults(contents: &str, sender: &SenderDefaults) -> String {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(contents) else {
        return contents.to_owned();
    };
    let missing: Vec<String> =
        [("component_name", &sender.component_name), ("service_version", &sender.service_version)]
            .into_iter()
            .filter(|(key, _)| !object.contains_key(*key))
            .map(|(key, value)| {
                format!("{}: {}", serde_json::Value::from(key), serde_json::Value::from(value.as_str()))
            })
            .collect();
    if missing.is_empty() {
        return contents.to_owned();
    }
    // It parsed as an object, so after any leading whitespace the text starts with '{'.
    let after_brace = contents.trim_start().strip_prefix('{').unwrap_or_default();
    let separator = if object.is_empty() { "" } else { ", " };
    format!("{{{}{separator}{after_brace}", missing.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thoth::DecodeReason;

    fn sender() -> SenderDefaults {
        SenderDefaults { component_name: "investigator-cli".to_owned(), service_version: "0.1.0".to_owned() }
    }

    #[test]
    fn a_valid_file_gives_every_message_with_sender_defaults_filled_in() {
        let file = br#"[
            {"topic_name": "thoth.repo-init", "message_contents": {"project_url": "https://github.com/a/b"}},
            {"topic_name": "thoth.investigator.unrevsolved-package",
             "message_contents": {"component_name": "x", "service_version": "1", "package_name": "flask", "package_version": "2.0.1"}}
        ]"#;
        let messages = parse_messages_file(file, &sender()).expect("valid file");
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].kind(), MessageKind::ThothRepoInit);
        assert_eq!(messages[0].component_name(), "investigator-cli");
        assert_eq!(messages[0].service_version(), "0.1.0");
        assert_eq!(messages[1].component_name(), "x");
    }

    #[test]
    fn filling_in_the_sender_keeps_the_rest_of_the_text_as_given() {
        let filled = with_sender_defaults(r#" {"project_url": "u"}"#, &sender());
        assert_eq!(filled, r#"{"component_name": "investigator-cli", "service_version": "0.1.0", "project_url": "u"}"#);
        assert_eq!(
            with_sender_defaults("{ }", &sender()),
            r#"{"component_name": "investigator-cli", "service_version": "0.1.0" }"#
        );
        let complete = r#"{"component_name": "a", "service_version": "b"}"#;
        assert_eq!(with_sender_defaults(complete, &sender()), complete);
    }

    #[test]
    fn a_key_given_twice_is_refused_even_when_the_sender_is_filled_in() {
        let file =
            br#"[{"topic_name": "thoth.repo-init", "message_contents": {"project_url": "a", "project_url": "b"}}]"#;
        let Err(MessagesFileError::Entries(errors)) = parse_messages_file(file, &sender()) else {
            panic!("expected entry errors");
        };
        assert_eq!(errors[0].error.reason, DecodeReason::DuplicateField);
    }

    #[test]
    fn every_bad_entry_is_reported() {
        let file = br#"[
            {"topic_name": "thoth.repo-init", "message_contents": {"project_url": 7}},
            {"topic_name": "thoth.repo-init", "message_contents": {"project_url": "https://github.com/a/b"}},
            {"topic_name": "thoth.no-such-topic", "message_contents": {}}
        ]"#;
        let Err(MessagesFileError::Entries(errors)) = parse_messages_file(file, &sender()) else {
            panic!("expected entry errors");
        };
        assert_eq!(errors.len(), 2);
        assert_eq!((errors[0].index, errors[0].error.field.as_deref()), (0, Some("project_url")));
        assert_eq!((errors[1].index, &errors[1].error.reason), (2, &DecodeReason::UnknownTopic));
    }

    #[test]
    fn a_file_of_the_wrong_shape_is_refused() {
        for file in [&b"{}"[..], b"[{\"topic\": \"thoth.repo-init\"}]", b"not json"] {
            assert!(matches!(parse_messages_file(file, &sender()), Err(MessagesFileError::Shape { .. })));
        }
    }
}
