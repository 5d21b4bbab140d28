//! `POST /api/v1/namespaces/{ns}/secrets` and `GET /api/v1/namespaces/{ns}/secrets/{name}`, as
//! the API server answers them: `data` decoded from base64 and `stringData` merged into it (then
//! dropped), `type` defaulted to `Opaque`, the validation of `ValidateSecret` (name, data keys,
//! total size, the keys each built-in type requires), fields a Secret does not have dropped.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use base64::Engine;
use base64::alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value, json};

use super::SECRETS;
use super::create::{candidate_names, decode, dry_run, existing_namespace, name_cause};
use super::query::Params;
use super::state::Shared;
use super::status::{self, Cause, Failure};
use super::store::{Key, stamp};

/// Go's `base64.StdEncoding`, which `[]byte` JSON fields use: padded, trailing bits tolerated.
const BASE64: GeneralPurpose =
    GeneralPurpose::new(&alphabet::STANDARD, GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true));
/// The most bytes a Secret's values may hold together.
const MAX_SECRET_SIZE: usize = 1024 * 1024;
/// The default `type`.
const OPAQUE: &str = "Opaque";

/// Answers a Secret create request.
pub(crate) fn create(shared: &Shared, namespace: &str, params: &Params, body: &[u8]) -> Result<HttpResponse, Failure> {
    let dry_run = dry_run(params)?;
    let object = decode(&SECRETS, namespace, body)?;
    existing_namespace(shared, namespace)?;
    let fields = Fields::decode(&object)?;
    let candidates = candidate_names(&SECRETS, &object)?;
    let first = candidates.first().map(String::as_str).unwrap_or_default();
    let causes = validate(first, &object, &fields);
    if !causes.is_empty() {
        return Err(status::invalid(&SECRETS, first, &causes));
    }
    let object = fields.stored_form(object);
    let outcome = shared.write(|store| {
        let mut taken = String::new();
        for name in candidates {
            let key: Key = (namespace.to_owned(), name);
            if dry_run && !store.contains_secret(&key) {
                return Ok(stamp(&SECRETS, object, &key, None));
            }
            if !dry_run && let Some(stored) = store.insert_secret(key.clone(), object.clone()) {
                return Ok(stored);
            }
            taken = key.1;
        }
        Err(status::already_exists(&SECRETS, &taken))
    })?;
    Ok(HttpResponse::Created().content_type("application/json").body(outcome.to_string()))
}

/// Answers a Secret get request.
pub(crate) fn get(shared: &Shared, namespace: &str, name: &str) -> Result<HttpResponse, Failure> {
    let key: Key = (namespace.to_owned(), name.to_owned());
    let object = shared.read(|store| store.secret(&key).cloned()).ok_or_else(|| status::not_found(&SECRETS, name))?;
    Ok(HttpResponse::Ok().content_type("application/json").body(object.to_string()))
}

/// Answers a Secret patch request: a JSON merge patch (RFC 7386, what `kubectl patch --type
/// merge` and kube's `Patch::Merge` send) applied to the stored Secret, whose identity (name,
/// namespace, uid, creation time) stays; other patch types are answered 415, as the fake
/// does not implement them.
pub(crate) fn patch(
    shared: &Shared,
    namespace: &str,
    name: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<HttpResponse, Failure> {
    if content_type.is_none_or(|content_type| !content_type.starts_with("application/merge-patch+json")) {
        return Err(status::unsupported_media_type(content_type.unwrap_or_default()));
    }
    let patch: Value = serde_json::from_slice(body).map_err(|error| status::bad_request(&error.to_string()))?;
    let key: Key = (namespace.to_owned(), name.to_owned());
    let patched = shared
        .write(|store| store.patch_secret(&key, |secret| merge_patch(secret, &patch)))
        .ok_or_else(|| status::not_found(&SECRETS, name))?;
    Ok(HttpResponse::Ok().content_type("application/json").body(patched.to_string()))
}

/// RFC 7386: objects merge key by key, `null` removes a key, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(fields) = target {
        for (key, change) in changes {
            if change.is_null() {
                fields.remove(key);
            } else {
                merge_patch(fields.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

/// The Secret's own fields, decoded as the API server decodes them.
#[derive(Debug, PartialEq)]
struct Fields {
    /// `data` with `stringData` merged in (`stringData` wins), decoded.
    data: BTreeMap<String, Vec<u8>>,
    /// `type`, defaulted.
    kind: String,
    immutable: Option<bool>,
}

impl Fields {
    /// The fields of `object`, or the API server's 400 when it cannot decode them.
    fn decode(object: &Map<String, Value>) -> Result<Self, Failure> {
        let mut data = BTreeMap::new();
        for (key, value) in entries(object, "data", "map[string][]uint8")? {
            let bytes = match value {
                Value::Null => Vec::new(),
                Value::String(text) => decode_base64(text)?,
                other => return Err(unmarshal(other, "data", "[]uint8")),
            };
            data.insert(key.clone(), bytes);
        }
        for (key, value) in entries(object, "stringData", "map[string]string")? {
            let text = match value {
                Value::Null => "",
                Value::String(text) => text.as_str(),
                other => return Err(unmarshal(other, "stringData", "string")),
            };
            data.insert(key.clone(), text.as_bytes().to_vec());
        }
        let kind = match object.get("type") {
            None | Some(Value::Null) => OPAQUE,
            Some(Value::String(kind)) if kind.is_empty() => OPAQUE,
            Some(Value::String(kind)) => kind.as_str(),
            Some(other) => return Err(unmarshal(other, "type", "v1.SecretType")),
        };
        let immutable = match object.get("immutable") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(immutable)) => Some(*immutable),
            Some(other) => return Err(unmarshal(other, "immutable", "bool")),
        };
        Ok(Fields { data, kind: kind.to_owned(), immutable })
    }

    /// `object` as the API server keeps it, in its field order: only the fields a Secret has,
    /// `data` re-encoded (left out when empty), no `stringData`.
    fn stored_form(self, mut object: Map<String, Value>) -> Value {
        let mut stored = Map::new();
        stored.insert("kind".to_owned(), json!(SECRETS.kind));
        stored.insert("apiVersion".to_owned(), json!(SECRETS.api_version));
        stored.insert("metadata".to_owned(), object.remove("metadata").unwrap_or_else(|| json!({})));
        if let Some(immutable) = self.immutable {
            stored.insert("immutable".to_owned(), json!(immutable));
        }
        if !self.data.is_empty() {
            let data: Map<String, Value> =
                self.data.iter().map(|(key, bytes)| (key.clone(), json!(BASE64.encode(bytes)))).collect();
            stored.insert("data".to_owned(), Value::Object(data));
        }
        stored.insert("type".to_owned(), json!(self.kind));
        Value::Object(stored)
    }
}

/// The entries of the map `field`; none when it is absent or null.
fn entries<'a>(
    object: &'a Map<String, Value>,
    field: &str,
    go_type: &str,
) -> Result<impl Iterator<Item = (&'a String, &'a Value)>, Failure> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None.into_iter().flatten()),
        Some(Value::Object(map)) => Ok(Some(map.iter()).into_iter().flatten()),
        Some(other) => Err(unmarshal(other, field, go_type)),
    }
}

/// `text` decoded as Go decodes a `[]byte` field (line breaks ignored).
fn decode_base64(text: &str) -> Result<Vec<u8>, Failure> {
    let text: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    BASE64.decode(&text).map_err(|error| {
        let offset = match error {
            base64::DecodeError::InvalidByte(offset, _) | base64::DecodeError::InvalidLastSymbol(offset, _) => offset,
            base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => text.len(),
        };
        cannot_handle(&format!("illegal base64 data at input byte {offset}"))
    })
}

/// The 400 for a body that decodes as JSON but not as a Secret.
fn cannot_handle(detail: &str) -> Failure {
    status::bad_request(&format!("Secret in version \"v1\" cannot be handled as a Secret: {detail}"))
}

/// The 400 for a `field` value of the wrong JSON type.
fn unmarshal(value: &Value, field: &str, go_type: &str) -> Failure {
    let found = match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    cannot_handle(&format!("json: cannot unmarshal {found} into Go struct field Secret.{field} of type {go_type}"))
}

/// What `ValidateSecret` finds wrong with the Secret named `name`, in its order.
fn validate(name: &str, object: &Map<String, Value>, fields: &Fields) -> Vec<Cause> {
    let mut causes: Vec<Cause> = name_cause(name).into_iter().collect();
    for key in fields.data.keys() {
        for problem in config_key_problems(key) {
            causes.push(Cause::invalid(&format!("data[{key}]"), key, &problem));
        }
    }
    if fields.data.values().map(Vec::len).sum::<usize>() > MAX_SECRET_SIZE {
        causes.push(Cause::too_long("data", MAX_SECRET_SIZE));
    }
    let present = |key: &str| fields.data.contains_key(key);
    let required = |key: &str| Cause::required(&format!("data[{key}]"), "");
    match fields.kind.as_str() {
        "kubernetes.io/service-account-token" => {
            let annotation = "kubernetes.io/service-account.name";
            let annotations = object.get("metadata").and_then(|metadata| metadata.get("annotations"));
            let value = annotations.and_then(|annotations| annotations.get(annotation)).and_then(Value::as_str);
            if value.unwrap_or_default().is_empty() {
                causes.push(Cause::required(&format!("metadata.annotations[{annotation}]"), ""));
            }
        }
        kind @ ("kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson") => {
            let key = if kind == "kubernetes.io/dockercfg" { ".dockercfg" } else { ".dockerconfigjson" };
            match fields.data.get(key) {
                None => causes.push(required(key)),
                Some(bytes) => {
                    if let Err(error) = serde_json::from_slice::<Map<String, Value>>(bytes) {
                        let field = format!("data[{key}]");
                        causes.push(Cause::invalid(&field, "<secret contents redacted>", &error.to_string()));
                    }
                }
            }
        }
        "kubernetes.io/basic-auth" if !present("username") && !present("password") => {
            causes.extend([required("username"), required("password")]);
        }
        "kubernetes.io/ssh-auth" if fields.data.get("ssh-privatekey").is_none_or(Vec::is_empty) => {
            causes.push(required("ssh-privatekey"));
        }
        "kubernetes.io/tls" => {
            causes.extend(["tls.crt", "tls.key"].into_iter().filter(|key| !present(key)).map(required));
        }
        _ => {}
    }
    causes
}

/// What `IsConfigMapKey` finds wrong with a data key.
fn config_key_problems(key: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if key.len() > 253 {
        problems.push("must be no more than 253 characters".to_owned());
    }
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    if key.is_empty() || !key.as_bytes().iter().all(allowed) {
        problems.push(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or \
             'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
                .to_owned(),
        );
    }
    match key {
        "." => problems.push("must not be '.'".to_owned()),
        ".." => problems.push("must not be '..'".to_owned()),
        _ if key.starts_with("..") => problems.push("must not start with '..'".to_owned()),
        _ => {}
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(object: Value) -> Result<Fields, Failure> {
        match object {
            Value::Object(object) => Fields::decode(&object),
            _ => unreachable!("the tests pass objects"),
        }
    }

    #[test]
    fn fake_kube_merge_patches_merge_objects_replace_lists_and_remove_nulls() {
        let mut secret = json!({"metadata": {"name": "s", "labels": {"a": "1", "b": "2"},
                                             "ownerReferences": [{"uid": "old"}]}, "data": {"k": "dg=="}});
        merge_patch(
            &mut secret,
            &json!({"metadata": {"labels": {"b": null, "c": "3"}, "ownerReferences": [{"uid": "new"}]}}),
        );
        assert_eq!(
            secret,
            json!({"metadata": {"name": "s", "labels": {"a": "1", "c": "3"}, "ownerReferences": [{"uid": "new"}]},
                   "data": {"k": "dg=="}})
        );
    }

    #[test]
    fn fake_kube_string_data_is_merged_into_data_and_wins() {
        let given = json!({
            "metadata": {"name": "s"},
            "data": {"a": "YWFh", "b": "YmJi"},
            "stringData": {"b": "plain", "c": ""},
            "unknown": true,
        });
        let decoded = fields(given.clone()).expect("a valid Secret");
        assert_eq!(decoded.kind, OPAQUE);
        let stored = decoded.stored_form(given.as_object().cloned().unwrap_or_default());
        assert_eq!(
            stored.to_string(),
            r#"{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s"},"data":{"a":"YWFh","b":"cGxhaW4=","c":""},"type":"Opaque"}"#
        );
    }

    #[test]
    fn fake_kube_secret_bodies_that_do_not_decode_are_400() {
        let reason = |object: Value| fields(object).err().map(|failure| failure.respond().status().as_u16());
        assert_eq!(reason(json!({"data": {"a": "not base64!"}})), Some(400));
        assert_eq!(reason(json!({"data": {"a": "YWF"}})), Some(400), "padding is required");
        assert_eq!(reason(json!({"data": {"a": 1}})), Some(400));
        assert_eq!(reason(json!({"data": ["a"]})), Some(400));
        assert_eq!(reason(json!({"stringData": {"a": false}})), Some(400));
        assert_eq!(reason(json!({"type": 3})), Some(400));
        assert_eq!(fields(json!({"data": {"a": "YW\nFh"}})).map(|f| f.data["a"].clone()).ok(), Some(b"aaa".to_vec()));
    }

    #[test]
    fn fake_kube_secret_validation_checks_keys_size_and_required_keys_of_the_type() {
        let causes = |object: Value| {
            let object = object.as_object().cloned().unwrap_or_default();
            let decoded = Fields::decode(&object).expect("decodes");
            validate("s", &object, &decoded).iter().map(|cause| format!("{cause:?}")).collect::<Vec<_>>()
        };
        assert!(causes(json!({"stringData": {"ok.key_-1": "v"}})).is_empty());
        let keys = causes(json!({"stringData": {"bad key": "v", "..x": "v", ".": "v"}}));
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert!(keys[0].contains(r#"field: "data[.]", message: "Invalid value: \".\": must not be '.'"#), "{keys:?}");
        assert!(keys[1].contains(r#"message: "Invalid value: \"..x\": must not start with '..'"#), "{keys:?}");
        assert!(keys[2].contains("a valid config key must consist of alphanumeric characters"), "{keys:?}");
        let big = "x".repeat(MAX_SECRET_SIZE + 1);
        assert_eq!(causes(json!({"stringData": {"big": big}})).len(), 1);
        assert_eq!(causes(json!({"type": "kubernetes.io/tls", "stringData": {"tls.crt": "c"}})).len(), 1);
        assert_eq!(causes(json!({"type": "kubernetes.io/basic-auth"})).len(), 2);
        let docker = json!({"type": "kubernetes.io/dockerconfigjson", "stringData": {".dockerconfigjson": "{}"}});
        assert!(causes(docker).is_empty());
        let broken = json!({"type": "kubernetes.io/dockerconfigjson", "stringData": {".dockerconfigjson": "{"}});
        assert_eq!(causes(broken).len(), 1);
        assert!(causes(json!({"type": "example.com/custom"})).is_empty());
    }
}
