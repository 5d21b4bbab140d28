//! `GET .../workflows` without `watch`: a `WorkflowList` of the selected objects, in pages when
//! `limit` is given, continued with the opaque `continue` token.

use actix_web::HttpResponse;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::filter::Filter;
use super::query::Params;
use super::state::Shared;
use super::status::{self, Failure};
use super::store::Key;
use super::{API_VERSION, KIND};

/// Answers a list request on `namespace` (`None`: all namespaces).
pub(crate) fn list(shared: &Shared, namespace: Option<&str>, params: &Params) -> Result<HttpResponse, Failure> {
    let filter = Filter::from_params(namespace, params)?;
    let limit = params.number("limit").map_err(|message| status::bad_request(&message))?;
    let limit = limit.filter(|limit| *limit > 0).and_then(|limit| usize::try_from(limit).ok());
    let start = params
        .text("continue")
        .filter(|token| !token.is_empty())
        .map(Continue::decode)
        .transpose()
        .map_err(|message| status::bad_request(&format!("continue key is not valid: {message}")))?;
    let body = shared.read(|store| {
        let revision = start.as_ref().map_or(store.revision(), |start| start.revision);
        let mut selected =
            store.objects_after(start.as_ref().map(|start| &start.after)).filter(|(_, o)| filter.matches(o));
        let page: Vec<(&Key, &Value)> = selected.by_ref().take(limit.unwrap_or(usize::MAX)).collect();
        let remaining = selected.count();
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if remaining > 0
            && let Some((last, _)) = page.last()
        {
            metadata["continue"] = json!(Continue { revision, after: (*last).clone() }.encode());
            if !filter.has_selectors() {
                metadata["remainingItemCount"] = json!(remaining);
            }
        }
        let items: Vec<&Value> = page.into_iter().map(|(_, object)| object).collect();
        json!({"apiVersion": API_VERSION, "kind": format!("{KIND}List"), "metadata": metadata, "items": items})
    });
    Ok(HttpResponse::Ok().content_type("application/json").body(body.to_string()))
}

/// Where the next page starts: after `after`, in the list first served at `revision`.
#[derive(Debug, PartialEq)]
struct Continue {
    revision: u64,
    after: Key,
}

impl Continue {
    /// The token as the API server shapes it: base64 of `{"v","rv","start"}`.
    fn encode(&self) -> String {
        let (namespace, name) = &self.after;
        let token = json!({"v": "meta.k8s.io/v1", "rv": self.revision, "start": format!("{namespace}/{name}\u{0}")});
        URL_SAFE_NO_PAD.encode(token.to_string())
    }

    fn decode(token: &str) -> Result<Self, String> {
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|error| error.to_string())?;
        let token: Value = serde_json::from_slice(&bytes).map_err(|error| error.to_string())?;
        if token["v"] != "meta.k8s.io/v1" {
            return Err("unsupported version".to_owned());
        }
        let revision = token["rv"].as_u64().ok_or("no resource version")?;
        let start = token["start"].as_str().and_then(|start| start.strip_suffix('\u{0}')).ok_or("no start key")?;
        let (namespace, name) = start.split_once('/').ok_or("malformed start key")?;
        Ok(Continue { revision, after: (namespace.to_owned(), name.to_owned()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_kube_continue_tokens_round_trip_and_garbage_is_refused() {
        let start = Continue { revision: 42, after: ("ns".to_owned(), "wf-1".to_owned()) };
        assert_eq!(Continue::decode(&start.encode()), Ok(start));
        assert!(Continue::decode("not base64!").is_err());
        assert!(Continue::decode(&URL_SAFE_NO_PAD.encode("{}")).is_err());
    }
}
