//! Label and field selectors, with the API server's semantics: `k=v`, `k==v`, `k!=v`,
//! `k in (a,b)`, `k notin (a,b)`, `k` (exists) and `!k` (absent) for labels; `metadata.name` and
//! `metadata.namespace` with `=`, `==`, `!=` for fields. Comma-separated requirements all hold.

use serde_json::Value;

/// A parsed `labelSelector`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct LabelSelector {
    requirements: Vec<LabelRequirement>,
}

#[derive(Debug, PartialEq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    Absent(String),
}

impl LabelSelector {
    /// Parses a selector; the error says which requirement is wrong.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(LabelSelector::default());
        }
        let requirements = split_top_level(text).into_iter().map(parse_label_requirement).collect::<Result<_, _>>()?;
        Ok(LabelSelector { requirements })
    }

    /// Whether the selector selects everything.
    pub(crate) fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object with these `metadata.labels` is selected.
    pub(crate) fn matches(&self, object: &Value) -> bool {
        let label = |key: &str| object.pointer("/metadata/labels").and_then(|labels| labels.get(key)?.as_str());
        self.requirements.iter().all(|requirement| match requirement {
            LabelRequirement::Equals(key, value) => label(key) == Some(value.as_str()),
            LabelRequirement::NotEquals(key, value) => label(key) != Some(value.as_str()),
            LabelRequirement::In(key, values) => label(key).is_some_and(|found| values.iter().any(|v| v == found)),
            LabelRequirement::NotIn(key, values) => !label(key).is_some_and(|found| values.iter().any(|v| v == found)),
            LabelRequirement::Exists(key) => label(key).is_some(),
            LabelRequirement::Absent(key) => label(key).is_none(),
        })
    }
}

/// Splits at the commas that are not inside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut depth, mut start) = (0_i32, 0);
    for (index, character) in text.char_indices() {
        match character {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                pieces.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    pieces.push(&text[start..]);
    pieces
}

fn parse_label_requirement(piece: &str) -> Result<LabelRequirement, String> {
    let piece = piece.trim();
    let invalid = || format!("unable to parse requirement: {piece:?}");
    if let Some(key) = piece.strip_prefix('!') {
        return Ok(LabelRequirement::Absent(label_key(key.trim()).ok_or_else(invalid)?));
    }
    for (operator, make) in [
        ("!=", LabelRequirement::NotEquals as fn(String, String) -> LabelRequirement),
        ("==", LabelRequirement::Equals),
        ("=", LabelRequirement::Equals),
    ] {
        if let Some((key, value)) = piece.split_once(operator) {
            let key = label_key(key.trim()).ok_or_else(invalid)?;
            let value = label_value(value.trim()).ok_or_else(invalid)?;
            return Ok(make(key, value));
        }
    }
    if let Some((head, values)) = piece.split_once('(') {
        let values = values.strip_suffix(')').ok_or_else(invalid)?;
        let values = values
            .split(',')
            .map(|value| label_value(value.trim()).filter(|value| !value.is_empty()))
            .collect::<Option<Vec<_>>>();
        let values = values.filter(|values| !values.is_empty()).ok_or_else(invalid)?;
        let words: Vec<&str> = head.split_whitespace().collect();
        return match words.as_slice() {
            [key, "in"] => Ok(LabelRequirement::In(label_key(key).ok_or_else(invalid)?, values)),
            [key, "notin"] => Ok(LabelRequirement::NotIn(label_key(key).ok_or_else(invalid)?, values)),
            _ => Err(invalid()),
        };
    }
    Ok(LabelRequirement::Exists(label_key(piece).ok_or_else(invalid)?))
}

/// A label key: an optional DNS prefix and `/`, then a name of letters, digits, `-`, `_`, `.`.
fn label_key(key: &str) -> Option<String> {
    let name = key.rsplit_once('/').map_or(key, |(prefix, name)| if prefix.is_empty() { "" } else { name });
    let valid = !name.is_empty()
        && name.len() <= 63
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    valid.then(|| key.to_owned())
}

/// A label value: empty, or up to 63 letters, digits, `-`, `_`, `.`.
fn label_value(value: &str) -> Option<String> {
    let valid = value.len() <= 63 && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    valid.then(|| value.to_owned())
}

/// A parsed `fieldSelector`; custom resources only support `metadata.name` and
/// `metadata.namespace`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

#[derive(Debug, PartialEq)]
struct FieldRequirement {
    pointer: &'static str,
    value: String,
    equal: bool,
}

impl FieldSelector {
    /// Parses a selector; the error is the API server's message.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(FieldSelector::default());
        }
        let requirements = text.split(',').map(parse_field_requirement).collect::<Result<_, _>>()?;
        Ok(FieldSelector { requirements })
    }

    /// Whether the selector selects everything.
    pub(crate) fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether `object` is selected.
    pub(crate) fn matches(&self, object: &Value) -> bool {
        self.requirements.iter().all(|requirement| {
            let found = object.pointer(requirement.pointer).and_then(Value::as_str).unwrap_or_default();
            (found == requirement.value) == requirement.equal
        })
    }
}

fn parse_field_requirement(piece: &str) -> Result<FieldRequirement, String> {
    let piece = piece.trim();
    let (field, value, equal) = if let Some((field, value)) = piece.split_once("!=") {
        (field, value, false)
    } else if let Some((field, value)) = piece.split_once("==").or_else(|| piece.split_once('=')) {
        (field, value, true)
    } else {
        return Err(format!("invalid selector: '{piece}'; can't understand '{piece}'"));
    };
    let pointer = match field.trim() {
        "metadata.name" => "/metadata/name",
        "metadata.namespace" => "/metadata/namespace",
        other => return Err(format!("field label not supported: {other}")),
    };
    Ok(FieldRequirement { pointer, value: value.trim().to_owned(), equal })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labelled(labels: Value) -> Value {
        json!({"metadata": {"name": "wf", "namespace": "ns", "labels": labels}})
    }

    fn selects(selector: &str, labels: Value) -> bool {
        LabelSelector::parse(selector).expect("a valid selector").matches(&labelled(labels))
    }

    #[test]
    fn fake_kube_label_selector_equality_inequality_and_existence() {
        let labels = json!({"app": "thoth", "component": "solver", "workflows.argoproj.io/completed": "false"});
        assert!(selects("app=thoth", labels.clone()));
        assert!(selects("app==thoth,component=solver", labels.clone()));
        assert!(!selects("app=thoth,component=adviser", labels.clone()));
        assert!(selects("workflows.argoproj.io/completed!=true", labels.clone()));
        assert!(selects("other!=x", labels.clone()), "!= also selects objects without the label");
        assert!(selects("component", labels.clone()));
        assert!(!selects("!component", labels.clone()));
        assert!(selects("!missing", labels.clone()));
        assert!(!selects("missing", labels.clone()));
        assert!(selects("", labels));
        assert!(!selects("app=thoth", json!(null)));
    }

    #[test]
    fn fake_kube_label_selector_set_based_requirements() {
        let labels = json!({"component": "solver"});
        assert!(selects("component in (adviser, solver)", labels.clone()));
        assert!(!selects("component notin (adviser,solver)", labels.clone()));
        assert!(selects("component in (solver),app notin (x)", labels.clone()));
        assert!(!selects("component in (adviser)", labels));
    }

    #[test]
    fn fake_kube_label_selector_rejects_malformed_requirements() {
        for bad in ["app=thoth,", "=x", "a b", "k in ()", "k in (a", "k within (a)", "app=th oth", "!"] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn fake_kube_field_selector_supports_only_name_and_namespace() {
        let object = labelled(json!({}));
        let select = |text: &str| FieldSelector::parse(text).expect("valid").matches(&object);
        assert!(select("metadata.name=wf"));
        assert!(select("metadata.name==wf,metadata.namespace=ns"));
        assert!(!select("metadata.name!=wf"));
        assert!(!select("metadata.namespace=other"));
        let error = FieldSelector::parse("status.phase=Running").expect_err("unsupported field");
        assert_eq!(error, "field label not supported: status.phase");
    }
}
