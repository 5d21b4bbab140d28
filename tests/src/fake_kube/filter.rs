//! Which objects a list or watch request selects: its namespace, `labelSelector` and
//! `fieldSelector`.

use serde_json::Value;

use super::query::Params;
use super::selector::{FieldSelector, LabelSelector};
use super::status::{self, Failure};

/// The selection of one list or watch request.
#[derive(Debug)]
pub(crate) struct Filter {
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    /// The selection of a request on `namespace` (`None`: all namespaces), or its 400.
    pub(crate) fn from_params(namespace: Option<&str>, params: &Params) -> Result<Self, Failure> {
        let labels = LabelSelector::parse(params.text("labelSelector").unwrap_or_default())
            .map_err(|message| status::bad_request(&message))?;
        let fields = FieldSelector::parse(params.text("fieldSelector").unwrap_or_default())
            .map_err(|message| status::bad_request(&message))?;
        Ok(Filter { namespace: namespace.map(str::to_owned), labels, fields })
    }

    /// Whether the request selects `object`.
    pub(crate) fn matches(&self, object: &Value) -> bool {
        let in_namespace = self
            .namespace
            .as_deref()
            .is_none_or(|namespace| object.pointer("/metadata/namespace").and_then(Value::as_str) == Some(namespace));
        in_namespace && self.labels.matches(object) && self.fields.matches(object)
    }

    /// Whether no selector narrows the request (the API server then reports how many items
    /// remain after a page).
    pub(crate) fn has_selectors(&self) -> bool {
        !self.labels.is_empty() || !self.fields.is_empty()
    }
}
