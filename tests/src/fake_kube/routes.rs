//! The one HTTP entry point: injected faults first, then routing to the endpoint, then the
//! request log and any injected delay.

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use super::query::Params;
use super::state::Shared;
use super::status::Failure;
use super::{RecordedRequest, WORKFLOWS, create, list, secrets, status, watch};

/// Where the workflow endpoints live.
const PREFIX: &str = "/apis/argoproj.io/v1alpha1/";
/// Where the core (Secret) endpoints live.
const CORE_PREFIX: &str = "/api/v1/";

/// Answers every request the server receives.
pub(crate) async fn dispatch(request: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let shared = shared.into_inner();
    let plan = shared.plan_next_request();
    let response = match plan.failure {
        Some(code) => status::injected(code).respond(),
        None => route(&request, &body, &shared).unwrap_or_else(Failure::respond),
    };
    let path =
        request.uri().path_and_query().map_or_else(|| request.path().to_owned(), |path| path.as_str().to_owned());
    shared.log(RecordedRequest {
        method: request.method().as_str().to_owned(),
        path,
        status: response.status().as_u16(),
    });
    if let Some(delay) = plan.delay {
        tokio::time::sleep(delay).await;
    }
    response
}

/// What a path names.
#[derive(Debug, PartialEq)]
enum Target<'a> {
    /// `…/namespaces/{ns}/workflows`, or `…/workflows` across namespaces.
    Collection { namespace: Option<&'a str> },
    /// `…/namespaces/{ns}/workflows/{name}`.
    Object { namespace: &'a str, name: &'a str },
    /// `/api/v1/namespaces/{ns}/secrets`.
    Secrets { namespace: &'a str },
    /// `/api/v1/namespaces/{ns}/secrets/{name}`.
    Secret { namespace: &'a str, name: &'a str },
}

impl<'a> Target<'a> {
    fn parse(path: &'a str) -> Option<Self> {
        if let Some(segments) = segments(path, PREFIX) {
            return match segments.as_slice() {
                ["workflows"] => Some(Target::Collection { namespace: None }),
                ["namespaces", namespace, "workflows"] => Some(Target::Collection { namespace: Some(namespace) }),
                ["namespaces", namespace, "workflows", name] => Some(Target::Object { namespace, name }),
                _ => None,
            };
        }
        match segments(path, CORE_PREFIX)?.as_slice() {
            ["namespaces", namespace, "secrets"] => Some(Target::Secrets { namespace }),
            ["namespaces", namespace, "secrets", name] => Some(Target::Secret { namespace, name }),
            _ => None,
        }
    }
}

/// The segments of `path` after `prefix`, without a trailing slash; `None` when `path` is not
/// under `prefix` or has an empty segment.
fn segments<'a>(path: &'a str, prefix: &str) -> Option<Vec<&'a str>> {
    let rest = path.strip_prefix(prefix)?;
    let segments: Vec<&str> = rest.strip_suffix('/').unwrap_or(rest).split('/').collect();
    (!segments.iter().any(|segment| segment.is_empty())).then_some(segments)
}

fn route(request: &HttpRequest, body: &[u8], shared: &Arc<Shared>) -> Result<HttpResponse, Failure> {
    let target = Target::parse(request.path()).ok_or_else(status::no_such_path)?;
    let workflow_path = matches!(target, Target::Collection { .. } | Target::Object { .. });
    if workflow_path && !shared.read(|store| store.workflows_served()) {
        // Without Argo's CRD the API server serves nothing under its group and version.
        return Err(status::no_such_path());
    }
    let params = Params::parse(request.query_string()).map_err(|message| status::bad_request(&message))?;
    let method = request.method();
    match target {
        Target::Collection { namespace } if method == Method::GET && params.flag("watch") => {
            watch::watch(shared, namespace, &params)
        }
        Target::Collection { namespace } if method == Method::GET => list::list(shared, namespace, &params),
        Target::Collection { namespace: Some(namespace) } if method == Method::POST => {
            create::create(shared, namespace, &params, body)
        }
        Target::Object { namespace, name } if method == Method::GET => {
            let key = (namespace.to_owned(), name.to_owned());
            let object =
                shared.read(|store| store.get(&key).cloned()).ok_or_else(|| status::not_found(&WORKFLOWS, name))?;
            Ok(HttpResponse::Ok().content_type("application/json").body(object.to_string()))
        }
        Target::Secrets { namespace } if method == Method::POST => secrets::create(shared, namespace, &params, body),
        Target::Secret { namespace, name } if method == Method::GET => secrets::get(shared, namespace, name),
        Target::Secret { namespace, name } if method == Method::PATCH => {
            let content_type = request.headers().get("content-type").and_then(|value| value.to_str().ok());
            secrets::patch(shared, namespace, name, content_type, body)
        }
        _ => Err(status::method_not_allowed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_kube_paths_name_collections_and_objects() {
        let parse = |path: &'static str| Target::parse(path);
        assert_eq!(parse("/apis/argoproj.io/v1alpha1/workflows"), Some(Target::Collection { namespace: None }));
        assert_eq!(
            parse("/apis/argoproj.io/v1alpha1/namespaces/ns/workflows/"),
            Some(Target::Collection { namespace: Some("ns") })
        );
        assert_eq!(
            parse("/apis/argoproj.io/v1alpha1/namespaces/ns/workflows/wf"),
            Some(Target::Object { namespace: "ns", name: "wf" })
        );
        assert_eq!(parse("/api/v1/namespaces/ns/secrets"), Some(Target::Secrets { namespace: "ns" }));
        assert_eq!(parse("/api/v1/namespaces/ns/secrets/s/"), Some(Target::Secret { namespace: "ns", name: "s" }));
        for unknown in [
            "/apis/argoproj.io/v1alpha1/namespaces//workflows",
            "/apis/argoproj.io/v1alpha1/namespaces/ns/workflowtemplates",
            "/apis/argoproj.io/v1alpha1/namespaces/ns/workflows/wf/status",
            "/apis/argoproj.io/v1alpha1/namespaces/ns/secrets",
            "/api/v1/pods",
            "/api/v1/secrets",
            "/api/v1/namespaces/ns/workflows",
            "/api/v1/namespaces/ns/secrets/s/data",
        ] {
            assert_eq!(parse(unknown), None, "{unknown}");
        }
    }
}
