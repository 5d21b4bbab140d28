//! An OSV document read as JSON keeping only the fields [`super::parse_advisory`] reads.
//!
//! A `serde_json::Value` of the whole document costs tens of bytes per value: a 4 MiB
//! entry of `[0,0,…]` under an unknown key would take hundreds of megabytes before a single
//! field is looked at. Here every other field is skipped as it is read (nothing allocated
//! for it), and the values kept are counted and bounded by [`MAX_KEPT_VALUES`]. A field of
//! the wrong kind of container is kept empty, so the parser still names it in its error.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The most values (scalars and containers) of the fields read one advisory may hold.
/// Real advisories hold a few hundred, the largest (every version of a long-lived package
/// listed) a few thousand.
pub const MAX_KEPT_VALUES: usize = 100_000;

/// What to keep of a value.
pub(super) enum Keep {
    /// The value itself when it is a scalar; an empty container otherwise.
    Scalar,
    /// The listed keys of an object, each kept as said.
    Object(&'static [(&'static str, Keep)]),
    /// Every element of an array, kept as said.
    Array(&'static Keep),
}

const EVENT: Keep =
    Keep::Object(&[("introduced", Keep::Scalar), ("fixed", Keep::Scalar), ("last_affected", Keep::Scalar)]);
const RANGE: Keep = Keep::Object(&[("type", Keep::Scalar), ("events", Keep::Array(&EVENT))]);
const PACKAGE: Keep = Keep::Object(&[("ecosystem", Keep::Scalar), ("name", Keep::Scalar)]);
const AFFECTED: Keep =
    Keep::Object(&[("package", PACKAGE), ("versions", Keep::Array(&Keep::Scalar)), ("ranges", Keep::Array(&RANGE))]);
const REFERENCE: Keep = Keep::Object(&[("type", Keep::Scalar), ("url", Keep::Scalar)]);
/// The fields of an advisory the parser reads.
pub(super) const ADVISORY: Keep = Keep::Object(&[
    ("id", Keep::Scalar),
    ("summary", Keep::Scalar),
    ("details", Keep::Scalar),
    ("withdrawn", Keep::Scalar),
    ("references", Keep::Array(&REFERENCE)),
    ("affected", Keep::Array(&AFFECTED)),
]);

/// Why a document could not be read.
pub(super) enum PruneError {
    /// Not JSON (or trailing characters after it).
    NotJson(serde_json::Error),
    /// More than [`MAX_KEPT_VALUES`] in the fields read.
    TooManyValues,
}

/// Reads `json`, keeping what `keep` says.
pub(super) fn read_pruned(json: &[u8], keep: &'static Keep) -> Result<Value, PruneError> {
    let kept = Cell::new(0);
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let value = Pruned { keep, kept: &kept }.deserialize(&mut deserializer).map_err(|error| {
        if kept.get() > MAX_KEPT_VALUES { PruneError::TooManyValues } else { PruneError::NotJson(error) }
    })?;
    deserializer.end().map_err(PruneError::NotJson)?;
    Ok(value)
}

struct Pruned<'a> {
    keep: &'static Keep,
    kept: &'a Cell<usize>,
}

impl Pruned<'_> {
    fn count<E: serde::de::Error>(&self) -> Result<(), E> {
        let kept = self.kept.get() + 1;
        self.kept.set(kept);
        if kept > MAX_KEPT_VALUES {
            return Err(E::custom(format_args!("more than {MAX_KEPT_VALUES} values in the fields read")));
        }
        Ok(())
    }

    fn scalar<E: serde::de::Error>(&self, value: Value) -> Result<Value, E> {
        self.count()?;
        Ok(value)
    }
}

impl<'de> DeserializeSeed<'de> for Pruned<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pruned<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Value, E> {
        self.scalar(Value::Bool(value))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Value, E> {
        self.scalar(Value::Number(value.into()))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Value, E> {
        self.scalar(Value::Number(value.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Value, E> {
        self.scalar(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Value, E> {
        self.scalar(Value::String(value.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Value, E> {
        self.scalar(Value::String(value))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        self.scalar(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        self.scalar(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Value, A::Error> {
        self.count()?;
        let mut elements = Vec::new();
        match self.keep {
            Keep::Array(element) => {
                while let Some(value) = sequence.next_element_seed(Pruned { keep: element, kept: self.kept })? {
                    elements.push(value);
                }
            }
            Keep::Scalar | Keep::Object(_) => while sequence.next_element::<IgnoredAny>()?.is_some() {},
        }
        Ok(Value::Array(elements))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        self.count()?;
        let mut object = Map::new();
        let fields = match self.keep {
            Keep::Object(fields) => *fields,
            Keep::Scalar | Keep::Array(_) => &[],
        };
        while let Some(key) = entries.next_key::<String>()? {
            match fields.iter().find(|(name, _)| *name == key) {
                Some((_, keep)) => {
                    let value = entries.next_value_seed(Pruned { keep, kept: self.kept })?;
                    object.insert(key, value);
                }
                None => {
                    entries.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pruned(document: &str) -> Value {
        read_pruned(document.as_bytes(), &ADVISORY).unwrap_or_else(|_| panic!("readable: {document}"))
    }

    #[test]
    fn only_the_fields_read_are_kept() {
        let document = json!({
            "id": "GHSA-1", "aliases": ["CVE-1"], "database_specific": {"x": [1, 2, 3]},
            "affected": [{"package": {"ecosystem": "PyPI", "name": "flask", "purl": "pkg:pypi/flask"},
                          "versions": ["1.0"], "ecosystem_specific": {"a": 1}}],
            "references": [{"type": "WEB", "url": "https://example.org", "extra": true}],
        });
        assert_eq!(
            pruned(&document.to_string()),
            json!({
                "id": "GHSA-1",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"}, "versions": ["1.0"]}],
                "references": [{"type": "WEB", "url": "https://example.org"}],
            })
        );
    }

    #[test]
    fn a_container_where_a_scalar_or_another_container_is_expected_is_kept_empty() {
        let document = r#"{"id": {"deep": [1, 2]}, "affected": {"package": {}}, "references": [[1], 2]}"#;
        assert_eq!(pruned(document), json!({"id": {}, "affected": {}, "references": [[], 2]}));
    }

    #[test]
    fn values_outside_the_fields_read_cost_nothing_and_those_inside_are_counted() {
        let zeros = vec!["0"; MAX_KEPT_VALUES * 2].join(",");
        let ignored = format!(r#"{{"id": "A", "database_specific": [{zeros}]}}"#);
        assert_eq!(pruned(&ignored), json!({"id": "A"}));
        let kept = format!(r#"{{"id": "A", "affected": [{{"versions": [{zeros}]}}]}}"#);
        assert!(matches!(read_pruned(kept.as_bytes(), &ADVISORY), Err(PruneError::TooManyValues)));
    }

    #[test]
    fn trailing_characters_and_truncated_documents_are_not_json() {
        assert!(matches!(read_pruned(br#"{"id": "A"} x"#, &ADVISORY), Err(PruneError::NotJson(_))));
        assert!(matches!(read_pruned(br#"{"id": "#, &ADVISORY), Err(PruneError::NotJson(_))));
    }
}
