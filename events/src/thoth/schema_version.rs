//! The `version` field. Producers before Sep 2020 sent none, and the two sides of Thoth read
//! its absence differently: pydantic fills in the type's current version, while the
//! investigator routes such a message as `v1`. So the field keeps what was sent
//! (`Option<String>`), encoding writes pydantic's default, and `ThothMessage::handled_version`
//! applies the investigator's rule.

use serde::{Deserialize, Deserializer, Serializer};

/// Present means a string: `"version": null` is refused, as pydantic refuses it.
pub(crate) fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    String::deserialize(deserializer).map(Some)
}

fn or<S: Serializer>(version: &Option<String>, default: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(version.as_deref().unwrap_or(default))
}

pub(crate) fn or_v1<S: Serializer>(version: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    or(version, "v1", serializer)
}

pub(crate) fn or_v2<S: Serializer>(version: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    or(version, "v2", serializer)
}

pub(crate) fn or_v4<S: Serializer>(version: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    or(version, "v4", serializer)
}

pub(crate) fn or_v5<S: Serializer>(version: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    or(version, "v5", serializer)
}
