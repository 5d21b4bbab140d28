//! Credentials inside records, and a record kept without them.
//!
//! The fields Thoth's messages declare as credentials are listed per kind by
//! [`MessageKind::credential_fields`](crate::thoth::MessageKind::credential_fields). A record
//! that is *kept* (a dead letter: the event log is append-only, so what goes in stays) may be
//! anything, though: a trigger whose key is JSON-escaped (`"registry\u005fpassword"`), a
//! credential nested in a free-form object (`webhook_payload`, `kebechet_metadata`), a key
//! given twice, a record cut off so that it is not JSON any more. So [`without_credentials`]
//! reads the record as JSON (which undoes escapes) and replaces the value of every key that
//! names a credential, at any depth; a string that itself carries a `key: value` or
//! `key=value` credential is replaced whole. Bytes that cannot be read as JSON and name a
//! credential key are withheld whole: when in doubt, nothing is kept.

use std::borrow::Cow;

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// What a withheld record is kept as.
pub const WITHHELD: &str = "<withheld: the record names a credential field and is not JSON the investigator can read>";

/// Parts of a key that make it name a credential (compared with the key lower-cased and
/// stripped of everything but letters and digits, so `registry-Password`, `registryPassword`
/// and `REGISTRY_PASSWORD` are all one). Every declared credential field matches one; a test
/// checks that no other field of Thoth's messages does.
const MARKERS: [&str; 9] =
    ["password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey", "credential", "authorization"];

/// Whether a JSON key (or a `key=value` name) names a credential.
pub fn is_credential_key(key: &str) -> bool {
    let folded: String = key.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    MARKERS.iter().any(|marker| folded.contains(marker))
}

/// A record as it may be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptRecord {
    /// The bytes as received: they name no credential.
    AsReceived,
    /// The record re-encoded as compact JSON with every credential replaced by [`REDACTED`]
    /// (also when a credential key was present with a null value: re-encoding drops a key
    /// given twice, whose first value the parsed record no longer shows).
    Redacted(Vec<u8>),
    /// Not JSON, and it names a credential key: nothing of it is kept but [`WITHHELD`].
    Withheld,
}

impl KeptRecord {
    /// The bytes to keep for `original`.
    pub fn bytes<'a>(&'a self, original: &'a [u8]) -> Cow<'a, [u8]> {
        match self {
            KeptRecord::AsReceived => Cow::Borrowed(original),
            KeptRecord::Redacted(bytes) => Cow::Borrowed(bytes),
            KeptRecord::Withheld => Cow::Borrowed(WITHHELD.as_bytes()),
        }
    }
}

/// `bytes` as they may be kept: see the module documentation.
pub fn without_credentials(bytes: &[u8]) -> KeptRecord {
    let text = unescaped(bytes);
    // Fast path, and the common one: nothing in the record, escapes undone and folded as keys
    // are, looks like a credential.
    // Then: a value merely mentioning a marker (the package `tokenizers`) is no credential;
    // only a name followed by `:` or `=` is.
    if !is_credential_key(&text) || !names_a_credential(&text) {
        return KeptRecord::AsReceived;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut value) => {
            redact(&mut value);
            match serde_json::to_vec(&value) {
                Ok(encoded) => KeptRecord::Redacted(encoded),
                Err(_) => KeptRecord::Withheld,
            }
        }
        Err(_) => KeptRecord::Withheld,
    }
}

/// Replaces, in place, the value of every credential key and every string carrying one;
/// recursion is bounded by serde_json's nesting limit (128) on what it parsed.
fn redact(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if is_credential_key(key) {
                    if !field.is_null() {
                        *field = Value::String(REDACTED.to_owned());
                    }
                } else {
                    redact(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(text) if names_a_credential(text) => *value = Value::String(REDACTED.to_owned()),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

/// Whether `text` holds a `name: value` or `name=value` whose name is a credential key (JSON
/// inside a string, a query string, a header line).
fn names_a_credential(text: &str) -> bool {
    // A name runs up to a character that ends a JSON key, a query parameter or a header name,
    // so a key with a control character or a slash inside is still one name.
    let is_name_char = |c: char| {
        !c.is_whitespace() && !matches!(c, '"' | '\'' | ':' | '=' | ',' | '{' | '}' | '[' | ']' | '&' | '?' | ';')
    };
    let characters: Vec<char> = text.chars().collect();
    let mut start = 0;
    while start < characters.len() {
        if !is_name_char(characters[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < characters.len() && is_name_char(characters[end]) {
            end += 1;
        }
        let name: String = characters[start..end].iter().collect();
        let mut next = end;
        while next < characters.len() && (matches!(characters[next], '"' | '\'') || characters[next].is_whitespace()) {
            next += 1;
        }
        if next < characters.len() && matches!(characters[next], ':' | '=') && is_credential_key(&name) {
            return true;
        }
        start = end;
    }
    false
}

/// The bytes as text with JSON string escapes undone (`\u005f` is `_`, `\"` is `"`), leniently:
/// bytes that are not UTF-8 become U+FFFD and an escape that is not one is dropped, so a key
/// cannot hide behind an escape, valid or not.
fn unescaped(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut characters = text.chars();
    while let Some(character) = characters.next() {
        if character != '\\' {
            out.push(character);
            continue;
        }
        match characters.next() {
            Some('u') => {
                let digits: String = characters.clone().take(4).collect();
                match u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32) {
                    Some(decoded) if digits.len() == 4 => {
                        out.push(decoded);
                        characters.nth(3);
                    }
                    _ => {}
                }
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thoth::MessageKind;

    fn kept(record: &str) -> String {
        String::from_utf8(without_credentials(record.as_bytes()).bytes(record.as_bytes()).into_owned()).expect("UTF-8")
    }

    #[test]
    fn every_declared_credential_field_is_a_credential_key() {
        for kind in MessageKind::ALL {
            for field in kind.credential_fields() {
                assert!(is_credential_key(field), "{kind}: {field}");
            }
        }
    }

    #[test]
    fn keys_are_compared_without_case_or_separators() {
        for key in ["registry_password", "Registry-Password", "registryPassword", "GITHUB_TOKEN", "api_key", "apiKey"] {
            assert!(is_credential_key(key), "{key}");
        }
        for key in ["registry_user", "authenticated", "package_name", "job_id", "base_registry_verify_tls"] {
            assert!(!is_credential_key(key), "{key}");
        }
    }

    #[test]
    fn a_record_without_credentials_is_kept_byte_for_byte() {
        let record = br#"{"package_name": "tokenizers",  "index_url": "https://pypi.org/simple"}"#;
        assert_eq!(without_credentials(record), KeptRecord::AsReceived);
        assert_eq!(without_credentials(b"\xff\xfe not json"), KeptRecord::AsReceived);
        let mentions = br#"{"package_name": "password-generator", "note": "no secret here"}"#;
        assert_eq!(without_credentials(mentions), KeptRecord::AsReceived);
    }

    #[test]
    fn a_package_named_like_a_marker_is_not_withheld_when_the_record_is_broken() {
        assert_eq!(without_credentials(br#"{"package_name": "tokenizers", "#), KeptRecord::AsReceived);
    }

    #[test]
    fn a_null_credential_is_kept_null_and_the_record_re_encoded() {
        assert_eq!(kept(r#"{"image": "a", "registry_password": null}"#), r#"{"image":"a","registry_password":null}"#);
    }

    #[test]
    fn a_key_given_twice_keeps_neither_value() {
        let text = kept(r#"{"registry_password": "s3cr3t", "registry_password": null}"#);
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn strings_carrying_a_credential_are_replaced_whole() {
        let text = kept(r#"{"origin": "https://example.com/?token=abc123", "note": "{\"password\": \"hunter2\"}"}"#);
        assert!(!text.contains("abc123") && !text.contains("hunter2"), "{text}");
        assert_eq!(text, r#"{"origin":"<redacted>","note":"<redacted>"}"#);
    }

    #[test]
    fn broken_bytes_naming_a_credential_after_unescaping_are_withheld() {
        for record in [
            r#"{"registry_password": "s3cr3t""#,
            r#"{"registry\u005fpassword": "s3cr3t""#,
            r#"{"registry\u005Fpass\u0077ord" : "s3cr3t", "#,
            "registry_password=s3cr3t",
            "{\"registry\\u0000_pass\\u0000word\": \"s3cr3t\"",
        ] {
            assert_eq!(without_credentials(record.as_bytes()), KeptRecord::Withheld, "{record}");
        }
    }
}
