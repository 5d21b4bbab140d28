//! What a document may look like before it is read: a JSON object of at most
//! [`MAX_DOCUMENT_VALUES`] values. The check walks the bytes once and keeps nothing (no
//! value is built), so a body of `[0,0,…]` or an array of millions of numbers inside a
//! free-form field costs no memory before it is refused.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::DocumentError;

/// The most JSON values (scalars, arrays and objects) a document may hold. Real solver and
/// adviser documents hold one per 25 to 40 bytes, so this is a document of 12 to 20 MiB. A
/// value costs up to some 80 bytes once read, and as much again in the events it becomes:
/// a document of 500,000 values in a free-form field takes `serve` to about 150 MiB while it
/// is recorded (`security::uploads` measures it).
pub const MAX_DOCUMENT_VALUES: usize = 500_000;

/// Refuses bytes that are not a JSON object, or that hold too many values.
pub(super) fn check_shape(bytes: &[u8]) -> Result<(), DocumentError> {
    if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return match serde_json::from_slice::<IgnoredAny>(bytes) {
            Err(error) => Err(not_json(&error)),
            Ok(_) => Err(DocumentError::whole("the document is not a JSON object")),
        };
    }
    let counted = Cell::new(0);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let walked = Counting { counted: &counted }.deserialize(&mut deserializer).and_then(|()| deserializer.end());
    match walked {
        Ok(()) => Ok(()),
        Err(_) if counted.get() > MAX_DOCUMENT_VALUES => Err(DocumentError::whole(format!(
            "the document holds more than {MAX_DOCUMENT_VALUES} JSON values, more than a document may"
        ))),
        Err(error) => Err(not_json(&error)),
    }
}

/// A JSON syntax error, as the document's fault.
pub(super) fn not_json(error: &serde_json::Error) -> DocumentError {
    DocumentError::whole(format!(
        "not valid JSON: {error}{}",
        if error.is_eof() { " (the file looks truncated)" } else { "" }
    ))
}

/// Counts every value it walks over, and stops past the limit.
#[derive(Clone, Copy)]
struct Counting<'a> {
    counted: &'a Cell<usize>,
}

impl Counting<'_> {
    fn count<E: serde::de::Error>(self) -> Result<(), E> {
        let counted = self.counted.get() + 1;
        self.counted.set(counted);
        if counted > MAX_DOCUMENT_VALUES {
            return Err(E::custom("too many values"));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Counting<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counting<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.count()
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.count()
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.count()
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.count()
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        self.count()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.count()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<(), A::Error> {
        self.count()?;
        while sequence.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        self.count()?;
        while entries.next_key::<IgnoredAny>()?.is_some() {
            entries.next_value_seed(self)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_object_of_bounded_size_passes() {
        assert!(check_shape(br#" {"metadata": {"document_id": "solver-x"}, "result": [1, [2], {"a": null}]}"#).is_ok());
        let array = check_shape(b"[0,0,0]").expect_err("an array");
        assert_eq!(array.to_string(), "the document is not a JSON object");
        let truncated = check_shape(br#"{"metadata": "#).expect_err("truncated");
        assert!(truncated.to_string().contains("truncated"), "{truncated}");
        let garbage = check_shape(b"[0,").expect_err("not JSON");
        assert!(garbage.to_string().starts_with("not valid JSON"), "{garbage}");
    }

    #[test]
    fn a_document_of_too_many_values_is_refused() {
        let zeros = vec!["0"; MAX_DOCUMENT_VALUES].join(",");
        let error = check_shape(format!(r#"{{"result": {{"errors": [{zeros}]}}}}"#).as_bytes()).expect_err("too many");
        assert!(error.to_string().contains("more than 500000 JSON values"), "{error}");
        let fits = vec!["0"; MAX_DOCUMENT_VALUES - 3].join(",");
        assert!(check_shape(format!(r#"{{"a": [{fits}]}}"#).as_bytes()).is_ok());
    }
}
