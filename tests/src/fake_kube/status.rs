//! The failures the API server answers with a `Status` body, and the bodies themselves.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::Resource;

/// An answer with a `Status` body.
#[derive(Debug)]
pub(crate) struct Failure {
    code: StatusCode,
    status: Value,
    retry_after: Option<u32>,
}

impl Failure {
    fn new(code: StatusCode, reason: &str, message: &str, details: Option<Value>) -> Self {
        Failure { code, status: body(code, reason, message, details), retry_after: None }
    }

    /// The response carrying it.
    pub(crate) fn respond(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.code);
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.content_type("application/json").body(self.status.to_string())
    }
}

/// A `Status` body as the API server writes it, fields in its order.
pub(crate) fn body(code: StatusCode, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut fields = serde_json::Map::new();
    fields.insert("kind".to_owned(), json!("Status"));
    fields.insert("apiVersion".to_owned(), json!("v1"));
    fields.insert("metadata".to_owned(), json!({}));
    fields.insert("status".to_owned(), json!("Failure"));
    fields.insert("message".to_owned(), json!(message));
    fields.insert("reason".to_owned(), json!(reason));
    if let Some(details) = details {
        fields.insert("details".to_owned(), details);
    }
    fields.insert("code".to_owned(), json!(code.as_u16()));
    Value::Object(fields)
}

/// 409: an object of `resource` with this name exists in the namespace.
pub(crate) fn already_exists(resource: &Resource, name: &str) -> Failure {
    let message = format!("{} \"{name}\" already exists", resource.group_resource());
    Failure::new(StatusCode::CONFLICT, "AlreadyExists", &message, Some(object_details(resource, name)))
}

/// 404: no object of `resource` with this name in the namespace.
pub(crate) fn not_found(resource: &Resource, name: &str) -> Failure {
    let message = format!("{} \"{name}\" not found", resource.group_resource());
    Failure::new(StatusCode::NOT_FOUND, "NotFound", &message, Some(object_details(resource, name)))
}

/// 404 for a path the server does not serve.
pub(crate) fn no_such_path() -> Failure {
    let message = "the server could not find the requested resource";
    Failure::new(StatusCode::NOT_FOUND, "NotFound", message, Some(json!({})))
}

/// 405 for a verb the fake does not serve on a path it knows.
pub(crate) fn method_not_allowed() -> Failure {
    let message = "the server does not allow this method on the requested resource";
    Failure::new(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", message, Some(json!({})))
}

/// 415 for a patch type the fake does not implement.
pub(crate) fn unsupported_media_type(content_type: &str) -> Failure {
    let message = format!(
        "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (got {content_type:?})"
    );
    Failure::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", &message, None)
}

/// 400 with `message`.
pub(crate) fn bad_request(message: &str) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, "BadRequest", message, None)
}

/// One field error of a 422, as the API server words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    reason: &'static str,
    field: String,
    message: String,
}

impl Cause {
    /// `Required value`, with `detail` when not empty.
    pub(crate) fn required(field: &str, detail: &str) -> Self {
        let message = if detail.is_empty() { "Required value".to_owned() } else { format!("Required value: {detail}") };
        Cause { reason: "FieldValueRequired", field: field.to_owned(), message }
    }

    /// `Invalid value: "<value>": <detail>`.
    pub(crate) fn invalid(field: &str, value: &str, detail: &str) -> Self {
        Cause {
            reason: "FieldValueInvalid",
            field: field.to_owned(),
            message: format!("Invalid value: {value:?}: {detail}"),
        }
    }

    /// `Too long: must have at most <max> bytes`.
    pub(crate) fn too_long(field: &str, max: usize) -> Self {
        let message = format!("Too long: must have at most {max} bytes");
        Cause { reason: "FieldValueTooLong", field: field.to_owned(), message }
    }

    fn to_json(&self) -> Value {
        json!({"reason": self.reason, "message": self.message, "field": self.field})
    }
}

/// 422: the object of `resource` named `name` fails validation with `causes` (one at least).
pub(crate) fn invalid(resource: &Resource, name: &str, causes: &[Cause]) -> Failure {
    let mut errors: Vec<String> = causes.iter().map(|cause| format!("{}: {}", cause.field, cause.message)).collect();
    errors.dedup();
    let aggregate = match errors.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let message = format!("{} \"{name}\" is invalid: {aggregate}", resource.group_kind());
    let mut details = detail_fields(resource, name, resource.kind);
    details.insert("causes".to_owned(), causes.iter().map(Cause::to_json).collect());
    Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &message, Some(Value::Object(details)))
}

/// 422 for request options that do not go together.
pub(crate) fn invalid_options(field: &str, message: &str) -> Failure {
    let full = format!("ListOptions.meta.k8s.io \"\" is invalid: {field}: Forbidden: {message}");
    let details = json!({"group": "meta.k8s.io", "kind": "ListOptions", "causes": [
        {"reason": "FieldValueForbidden", "message": format!("Forbidden: {message}"), "field": field}
    ]});
    Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &full, Some(details))
}

/// What the API server answers with `code` when it is in trouble, for fault injection: the
/// reason and message it uses for that code, and `Retry-After` where it sends one.
pub(crate) fn injected(code: StatusCode) -> Failure {
    let retry_after = matches!(code.as_u16(), 429 | 503 | 504).then_some(1);
    let (reason, message) = match code.as_u16() {
        400 => ("BadRequest", "the server rejected our request for an unknown reason".to_owned()),
        401 => ("Unauthorized", "Unauthorized".to_owned()),
        403 => ("Forbidden", "forbidden: injected fault".to_owned()),
        404 => ("NotFound", "the server could not find the requested resource".to_owned()),
        409 => ("Conflict", "Operation cannot be fulfilled: injected fault".to_owned()),
        410 => ("Expired", "injected fault".to_owned()),
        422 => ("Invalid", "injected fault".to_owned()),
        429 => ("TooManyRequests", "Too many requests, please try again later.".to_owned()),
        500 => ("InternalError", "Internal error occurred: injected fault".to_owned()),
        503 => ("ServiceUnavailable", "the server is currently unable to handle the request".to_owned()),
        504 => ("Timeout", "Timeout: request did not complete within requested timeout".to_owned()),
        _ => ("", format!("injected fault ({code})")),
    };
    let details = match (code, retry_after) {
        (StatusCode::INTERNAL_SERVER_ERROR, _) => Some(json!({"causes": [{"message": "injected fault"}]})),
        (_, Some(seconds)) => Some(json!({"retryAfterSeconds": seconds})),
        (_, None) => None,
    };
    Failure { retry_after, ..Failure::new(code, reason, &message, details) }
}

fn object_details(resource: &Resource, name: &str) -> Value {
    Value::Object(detail_fields(resource, name, resource.plural))
}

/// `name`, `group` and `kind` of `StatusDetails`, each left out when empty as the API server does.
fn detail_fields(resource: &Resource, name: &str, kind: &str) -> serde_json::Map<String, Value> {
    let mut details = serde_json::Map::new();
    for (field, value) in [("name", name), ("group", resource.group), ("kind", kind)] {
        if !value.is_empty() {
            details.insert(field.to_owned(), json!(value));
        }
    }
    details
}

#[cfg(test)]
mod tests {
    use super::super::{SECRETS, WORKFLOWS};
    use super::*;

    #[test]
    fn fake_kube_status_body_has_the_api_servers_field_order() {
        let status = body(StatusCode::CONFLICT, "AlreadyExists", "m", Some(json!({"name": "x"})));
        assert_eq!(
            status.to_string(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"m","reason":"AlreadyExists","details":{"name":"x"},"code":409}"#
        );
    }

    #[test]
    fn fake_kube_core_statuses_name_the_resource_without_a_group() {
        let conflict = already_exists(&SECRETS, "s").status;
        assert_eq!(conflict["message"], r#"secrets "s" already exists"#);
        assert_eq!(conflict["details"], json!({"name": "s", "kind": "secrets"}));
        let missing = not_found(&WORKFLOWS, "w").status;
        assert_eq!(missing["message"], r#"workflows.argoproj.io "w" not found"#);
        assert_eq!(missing["details"], json!({"name": "w", "group": "argoproj.io", "kind": "workflows"}));
    }

    #[test]
    fn fake_kube_invalid_aggregates_several_causes_in_brackets() {
        let one = invalid(&SECRETS, "", &[Cause::required("metadata.name", "name or generateName is required")]);
        assert_eq!(
            one.status["message"],
            r#"Secret "" is invalid: metadata.name: Required value: name or generateName is required"#
        );
        assert_eq!(one.status["details"]["kind"], "Secret");
        assert!(one.status["details"].get("name").is_none(), "an empty name is left out");
        let two = invalid(&SECRETS, "s", &[Cause::required("data[tls.crt]", ""), Cause::required("data[tls.key]", "")]);
        assert_eq!(
            two.status["message"],
            r#"Secret "s" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]"#
        );
        assert_eq!(two.status["details"]["causes"][1]["field"], "data[tls.key]");
    }
}
