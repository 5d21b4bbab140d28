//! Strict decoding of record values into message structs.
//!
//! The rules are pydantic v1's for thoth-messaging's models: a `StrictStr` field takes only
//! a string, `StrictBool` only `true`/`false`, `StrictInt` only an integer (not a bool, not
//! `1.0`); `null` is refused where the field is not optional; a missing optional field is
//! `None`, a missing defaulted field takes its default; unknown keys are ignored.
//!
//! Where this differs from Python's `json` + pydantic, on purpose or by the JSON parser:
//! - a known field given twice is refused (Python keeps the last one);
//! - integer fields must fit in 64 bits;
//! - `NaN`, `Infinity` and lone UTF-16 surrogate escapes (`"\ud800"`), which Python's
//!   parser accepts, are refused as malformed JSON;
//! - inside free-form objects (`webhook_payload`, `kebechet_metadata`...), an integer beyond
//!   64 bits is read as a float, so it re-encodes in float notation.
//!
//! Decoding never panics: any bytes give a value or a [`DecodeError`].

use serde::de::{DeserializeOwned, Visitor};

use crate::excerpt::excerpt;
use serde::{Deserialize, Deserializer};

/// Why a record could not be decoded, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode a record of topic '{topic}': {}{reason}", field_prefix(.field))]
pub struct DecodeError {
    /// The topic the record came from, or the base name when decoding by type.
    pub topic: String,
    /// The field at fault as a path (`metadata.package_name`, `justification[0]`), or `None`
    /// when the record as a whole is at fault.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: DecodeReason,
}

fn field_prefix(field: &Option<String>) -> String {
    match field {
        Some(path) => format!("field '{path}': "),
        None => String::new(),
    }
}

impl DecodeError {
    /// The error for a topic (or base name) that is not one of Thoth's message types.
    pub fn unknown_topic(topic: &str) -> Self {
        DecodeError { topic: topic.to_owned(), field: None, reason: DecodeReason::UnknownTopic }
    }
}

/// What is wrong with a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeReason {
    /// The bytes are not one JSON document in UTF-8.
    #[error("not valid JSON: {detail} at line {line}, column {column}")]
    MalformedJson {
        /// The parser's description.
        detail: String,
        /// 1-based line of the fault.
        line: usize,
        /// 1-based column of the fault.
        column: usize,
    },
    /// The JSON document is not an object.
    #[error("the message must be a JSON object, not {found}")]
    NotAnObject {
        /// What was found instead (`an array`, `a string`...).
        found: String,
    },
    /// A required field is absent.
    #[error("required field is missing")]
    MissingField,
    /// A field appears twice in the same object.
    #[error("field is given more than once")]
    DuplicateField,
    /// A field has the wrong JSON type or an out-of-range value.
    #[error("{detail}")]
    InvalidValue {
        /// What was expected and what was found.
        detail: String,
    },
    /// The topic is not one of Thoth's message topics.
    #[error("not a Thoth message topic")]
    UnknownTopic,
}

/// Decodes one JSON document into `T`, refusing trailing data.
pub(crate) fn decode_as<T: DeserializeOwned>(topic: &str, payload: &[u8]) -> Result<T, DecodeError> {
    let mut deserializer = serde_json::Deserializer::from_slice(payload);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&mut deserializer, &mut track);
    let value = T::deserialize(ObjectOnly(tracked)).map_err(|error| {
        let path = track.path().to_string();
        from_serde(topic, &path, error)
    })?;
    deserializer.end().map_err(|error| from_serde(topic, ".", error))?;
    // Valid JSON that PostgreSQL still cannot store: refused here, as the client's fault,
    // rather than failing the batch that would record it.
    if let Some(path) = crate::storable::nul_path(payload) {
        let field = (path != ".").then(|| excerpt(&path).to_string());
        let detail = crate::storable::NUL_REASON.to_owned();
        return Err(DecodeError { topic: topic.to_owned(), field, reason: DecodeReason::InvalidValue { detail } });
    }
    Ok(value)
}

/// For `#[serde(deserialize_with)]` on nested structs: take them from JSON objects only.
pub(crate) fn object_only<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(ObjectOnly(deserializer))
}

/// serde's derived structs also accept a JSON array of the field values in order; pydantic
/// models do not. This adapter asks the JSON parser for a map wherever a struct is wanted.
struct ObjectOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Classifies a serde_json error. serde reports missing and duplicate fields in its message
/// text only, so those two are recognised by their fixed wording.
fn from_serde(topic: &str, path: &str, error: serde_json::Error) -> DecodeError {
    let at_root = path == ".";
    let parent = if at_root { None } else { Some(path) };
    let (line, column) = (error.line(), error.column());
    let message = message_without_position(&error);
    let make = |field: Option<String>, reason| DecodeError { topic: topic.to_owned(), field, reason };

    if error.is_syntax() || error.is_eof() || error.is_io() {
        return make(None, DecodeReason::MalformedJson { detail: excerpt(&message).to_string(), line, column });
    }
    if let Some(name) = quoted_name(&message, "missing field `") {
        return make(Some(join_path(parent, name)), DecodeReason::MissingField);
    }
    if let Some(name) = quoted_name(&message, "duplicate field `") {
        return make(Some(join_path(parent, name)), DecodeReason::DuplicateField);
    }
    if at_root && let Some(found) = root_type(&message) {
        return make(None, DecodeReason::NotAnObject { found });
    }
    let detail = if parent.is_some_and(is_credential) {
        "wrong type or value (the value is not shown: the field holds a credential)".to_owned()
    } else {
        // serde quotes the value it refused, which may be megabytes long.
        excerpt(&readable(&message)).to_string()
    };
    make(parent.map(|path| excerpt(path).to_string()), DecodeReason::InvalidValue { detail })
}

/// Registry passwords travel in trigger messages; serde quotes a wrong value in its message,
/// which must not carry a credential into logs or dead letters.
fn is_credential(path: &str) -> bool {
    path.rsplit('.').next().is_some_and(|field| field.ends_with("password"))
}

/// serde_json appends " at line L column C" to its messages; the position is kept apart.
fn message_without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

fn quoted_name<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    message.strip_prefix(prefix)?.strip_suffix('`')
}

fn join_path(parent: Option<&str>, name: &str) -> String {
    match parent {
        Some(parent) => format!("{parent}.{name}"),
        None => name.to_owned(),
    }
}

/// For "invalid type: sequence, expected struct X" at the root, the found type, in words.
fn root_type(message: &str) -> Option<String> {
    let rest = message.strip_prefix("invalid type: ")?;
    let (found, expected) = rest.split_once(", expected ")?;
    if !expected.starts_with("struct ") {
        return None;
    }
    let found = match found.split_whitespace().next().unwrap_or(found) {
        "sequence" => "an array".to_owned(),
        "string" => "a string".to_owned(),
        "integer" | "floating" => "a number".to_owned(),
        "boolean" => "a boolean".to_owned(),
        "null" => "null".to_owned(),
        other => other.to_owned(),
    };
    Some(found)
}

/// serde names Rust types ("expected i64"); the reader knows JSON types.
fn readable(message: &str) -> String {
    message
        .replace("expected i64", "expected an integer")
        .replace("expected a borrowed string", "expected a string")
        .replace("expected a map", "expected an object")
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Sample {
        name: String,
        #[serde(default)]
        flag: bool,
        count: Option<i64>,
        nested: Option<Nested>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Nested {
        inner: String,
    }

    fn decode(payload: &str) -> Result<Sample, DecodeError> {
        decode_as("t.sample", payload.as_bytes())
    }

    #[test]
    fn wrong_types_name_the_field() {
        let error = decode(r#"{"name": 1}"#).expect_err("number for a string");
        assert_eq!(error.field.as_deref(), Some("name"));
        assert!(matches!(&error.reason, DecodeReason::InvalidValue { detail } if detail.contains("expected a string")));

        let error = decode(r#"{"name": "x", "flag": "true"}"#).expect_err("string for a bool");
        assert_eq!(error.field.as_deref(), Some("flag"));

        let error = decode(r#"{"name": "x", "count": true}"#).expect_err("bool for an int");
        assert_eq!(error.field.as_deref(), Some("count"));

        let error = decode(r#"{"name": "x", "count": 1.0}"#).expect_err("float for an int");
        assert!(matches!(&error.reason, DecodeReason::InvalidValue { detail } if detail.contains("integer")));
    }

    #[test]
    fn missing_and_duplicate_fields_are_named_with_their_path() {
        let error = decode(r#"{"flag": true}"#).expect_err("name missing");
        assert_eq!((error.field.as_deref(), &error.reason), (Some("name"), &DecodeReason::MissingField));

        let error = decode(r#"{"name": "x", "nested": {}}"#).expect_err("inner missing");
        assert_eq!(error.field.as_deref(), Some("nested.inner"));

        let error = decode(r#"{"name": "x", "name": "y"}"#).expect_err("name twice");
        assert_eq!((error.field.as_deref(), &error.reason), (Some("name"), &DecodeReason::DuplicateField));
    }

    #[test]
    fn malformed_and_non_object_documents_are_told_apart() {
        let error = decode(r#"{"name": "#).expect_err("truncated");
        assert!(matches!(error.reason, DecodeReason::MalformedJson { line: 1, .. }));

        let error = decode(r#"{"name": "x"} {}"#).expect_err("trailing data");
        assert!(matches!(error.reason, DecodeReason::MalformedJson { .. }));

        let error = decode("[1, 2]").expect_err("array");
        assert_eq!(error.reason, DecodeReason::NotAnObject { found: "an array".to_owned() });
        assert_eq!(error.field, None);

        let error = decode_as::<Sample>("t.sample", b"{\"name\": \"\xff\"}").expect_err("invalid utf-8");
        assert!(matches!(error.reason, DecodeReason::MalformedJson { .. }));
    }

    #[test]
    fn a_nul_character_postgresql_cannot_store_is_refused_with_its_field() {
        let error = decode(r#"{"name": "flask\u0000", "count": 1}"#).expect_err("a NUL");
        assert_eq!(error.field.as_deref(), Some("name"));
        assert!(matches!(&error.reason, DecodeReason::InvalidValue { detail } if detail.contains("NUL")), "{error}");
        // Also in a field the message does not read: the whole record is refused.
        let error = decode(r#"{"name": "flask", "other": ["\u0000"]}"#).expect_err("a NUL");
        assert_eq!(error.field.as_deref(), Some("other[0]"));
        // An escaped backslash followed by the text `u0000` is no NUL.
        assert!(decode(r#"{"name": "\\u0000"}"#).is_ok());
    }

    #[test]
    fn a_huge_wrong_value_is_quoted_as_an_excerpt() {
        let huge = "x".repeat(2_000_000);
        let payload = format!(r#"{{"name": "flask", "count": "{huge}"}}"#);
        let error = decode(&payload).expect_err("a string for an integer");
        let text = error.to_string();
        assert!(text.len() < 600, "{} bytes", text.len());
        assert!(text.contains("characters in all"), "{text}");
    }

    #[test]
    fn a_wrong_credential_value_is_not_repeated_in_the_error() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct WithPassword {
            registry_password: Option<String>,
        }
        let error = decode_as::<WithPassword>("t", br#"{"registry_password": 31337}"#).expect_err("number");
        assert_eq!(error.field.as_deref(), Some("registry_password"));
        assert!(!error.to_string().contains("31337"), "{error}");
    }

    #[test]
    fn the_message_names_topic_field_and_reason() {
        let error = decode(r#"{"name": null}"#).expect_err("null for a required string");
        assert_eq!(
            error.to_string(),
            "cannot decode a record of topic 't.sample': field 'name': invalid type: null, expected a string"
        );
    }
}
