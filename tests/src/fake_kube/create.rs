//! `POST /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows`: decoding and validation,
//! `generateName`, `dryRun=All`, storing, and the "stored but answered 500" fault; the decoding,
//! naming and dry-run helpers every create shares.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Map, Value};

use super::query::Params;
use super::state::Shared;
use super::status::{Cause, Failure};
use super::store::{Key, stamp};
use super::{NAMESPACES, Resource, WORKFLOWS, status};

/// The characters the API server draws `generateName` suffixes from (no vowels, no look-alikes).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// How long a `generateName` suffix is.
const SUFFIX_LENGTH: usize = 5;
/// Names are at most 63 characters once the suffix is added.
const MAX_GENERATE_NAME_PREFIX: usize = 63 - SUFFIX_LENGTH;
/// How many generated names are tried before answering 409.
const GENERATE_ATTEMPTS: usize = 8;

/// Answers a workflow create request.
pub(crate) fn create(shared: &Shared, namespace: &str, params: &Params, body: &[u8]) -> Result<HttpResponse, Failure> {
    let dry_run = dry_run(params)?;
    let object = decode(&WORKFLOWS, namespace, body)?;
    existing_namespace(shared, namespace)?;
    let candidates = candidate_names(&WORKFLOWS, &object)?;
    if let Some(first) = candidates.first()
        && let Some(cause) = name_cause(first)
    {
        return Err(status::invalid(&WORKFLOWS, first, &[cause]));
    }
    let outcome = shared.write(|store| {
        let mut taken = String::new();
        for name in candidates {
            let key: Key = (namespace.to_owned(), name);
            if dry_run && !store.contains(&key) {
                return Ok(stamp(&WORKFLOWS, Value::Object(object), &key, None));
            }
            if !dry_run && let Some(stored) = store.insert(key.clone(), Value::Object(object.clone())) {
                store.record_created(key);
                return Ok(stored);
            }
            taken = key.1;
        }
        Err(status::already_exists(&WORKFLOWS, &taken))
    })?;
    if !dry_run && shared.take_create_failing_after_storing() {
        return Err(status::injected(StatusCode::INTERNAL_SERVER_ERROR));
    }
    Ok(HttpResponse::Created().content_type("application/json").body(outcome.to_string()))
}

/// Nothing, or the API server's 404 when `namespace` does not exist: its namespace lifecycle
/// admission refuses creates there after the body is decoded and before it is validated.
pub(crate) fn existing_namespace(shared: &Shared, namespace: &str) -> Result<(), Failure> {
    if shared.read(|store| store.namespace_exists(namespace)) {
        Ok(())
    } else {
        Err(status::not_found(&NAMESPACES, namespace))
    }
}

/// Whether `dryRun` asks for a dry run, or the API server's 400.
pub(crate) fn dry_run(params: &Params) -> Result<bool, Failure> {
    match params.text("dryRun") {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(status::bad_request(&format!("Invalid dry run value: {other:?}, supported: All"))),
    }
}

/// The body as an object of `resource` for `namespace`, or the API server's 400.
pub(crate) fn decode(resource: &Resource, namespace: &str, body: &[u8]) -> Result<Map<String, Value>, Failure> {
    let kind = resource.kind;
    let unrecognized = |detail: &str| {
        status::bad_request(&format!("the object provided is unrecognized (must be of type {kind}): {detail}"))
    };
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(unrecognized("couldn't get version/kind; json parse error: not an object")),
        Err(error) => return Err(unrecognized(&format!("couldn't get version/kind; json parse error: {error}"))),
    };
    let expected_version = resource.api_version;
    if let Some(api_version) = text(object.get("apiVersion"))
        && api_version != expected_version
    {
        let message = format!(
            "the API version in the data ({api_version}) does not match the expected API version ({expected_version})"
        );
        return Err(status::bad_request(&message));
    }
    if let Some(given) = text(object.get("kind"))
        && given != kind
    {
        return Err(status::bad_request(&format!(
            "the kind in the data ({given}) does not match the expected kind ({kind})"
        )));
    }
    let metadata = match object.get("metadata") {
        None | Some(Value::Null) => return Ok(object),
        Some(Value::Object(metadata)) => metadata,
        Some(_) => return Err(unrecognized("metadata must be an object")),
    };
    if text(metadata.get("namespace")).is_some_and(|given| given != namespace) {
        let message = "the namespace of the provided object does not match the namespace sent on the request";
        return Err(status::bad_request(message));
    }
    let labels_are_strings = match metadata.get("labels") {
        None | Some(Value::Null) => true,
        Some(Value::Object(labels)) => labels.values().all(Value::is_string),
        Some(_) => false,
    };
    if !labels_are_strings {
        return Err(unrecognized("metadata.labels must map strings to strings"));
    }
    let annotations_are_strings = match metadata.get("annotations") {
        None | Some(Value::Null) => true,
        Some(Value::Object(annotations)) => annotations.values().all(Value::is_string),
        Some(_) => false,
    };
    if !annotations_are_strings {
        return Err(unrecognized("metadata.annotations must map strings to strings"));
    }
    Ok(object)
}

/// The value when it is a non-empty string.
fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|text| !text.is_empty())
}

/// The name to store under, or the generated names to try in turn, or the API server's error.
pub(crate) fn candidate_names(resource: &Resource, object: &Map<String, Value>) -> Result<Vec<String>, Failure> {
    let metadata = object.get("metadata");
    let field = |name: &str| metadata.and_then(|metadata| metadata.get(name)).filter(|value| !value.is_null());
    match field("name") {
        Some(Value::String(name)) if !name.is_empty() => return Ok(vec![name.clone()]),
        Some(Value::String(_)) | None => {}
        Some(_) => return Err(status::bad_request("metadata.name must be a string")),
    }
    match field("generateName") {
        Some(Value::String(prefix)) if !prefix.is_empty() => {
            let prefix: String = prefix.chars().take(MAX_GENERATE_NAME_PREFIX).collect();
            Ok((0..GENERATE_ATTEMPTS).map(|_| format!("{prefix}{}", random_suffix())).collect())
        }
        Some(Value::String(_)) | None => {
            Err(status::invalid(resource, "", &[Cause::required("metadata.name", "name or generateName is required")]))
        }
        Some(_) => Err(status::bad_request("metadata.generateName must be a string")),
    }
}

/// Five characters drawn from the API server's alphabet.
fn random_suffix() -> String {
    let random = uuid::Uuid::new_v4();
    random.as_bytes()[..SUFFIX_LENGTH]
        .iter()
        .map(|byte| char::from(SUFFIX_ALPHABET[usize::from(*byte) % SUFFIX_ALPHABET.len()]))
        .collect()
}

/// Whether `name` is a lowercase RFC 1123 subdomain, as custom resource and Secret names must be.
fn is_dns_subdomain(name: &str) -> bool {
    let label_ok = |label: &str| {
        let bytes = label.as_bytes();
        !bytes.is_empty()
            && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes.first() != Some(&b'-')
            && bytes.last() != Some(&b'-')
    };
    name.len() <= 253 && name.split('.').all(label_ok)
}

/// What is wrong with `name` as an object name, if anything.
pub(crate) fn name_cause(name: &str) -> Option<Cause> {
    let detail = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', \
                  and must start and end with an alphanumeric character (e.g. 'example.com', regex used for \
                  validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    (!is_dns_subdomain(name)).then(|| Cause::invalid("metadata.name", name, detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_kube_names_must_be_lowercase_dns_subdomains() {
        for good in ["solver-rhel-8-py38-260101120000-0123456789abcdef", "a", "a.b-c", "0abc"] {
            assert!(is_dns_subdomain(good), "{good}");
        }
        for bad in ["", "Solver", "-a", "a-", "a..b", "a_b", &"a".repeat(254)] {
            assert!(!is_dns_subdomain(bad), "{bad}");
        }
    }

    #[test]
    fn fake_kube_generated_suffixes_use_the_api_servers_alphabet() {
        let suffix = random_suffix();
        assert_eq!(suffix.len(), SUFFIX_LENGTH);
        assert!(suffix.bytes().all(|b| SUFFIX_ALPHABET.contains(&b)), "{suffix}");
    }
}
