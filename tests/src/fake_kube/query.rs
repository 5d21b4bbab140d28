//! Query parameters, decoded and converted the way the API server converts them.

use actix_web::web;

/// The decoded `name=value` pairs of a query string.
#[derive(Debug)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes a query string (percent-encoding and `+`).
    pub(crate) fn parse(query: &str) -> Result<Self, String> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
            .map_err(|error| format!("invalid query string: {error}"))?
            .into_inner();
        Ok(Params { pairs })
    }

    /// The first value of `name`, as the API server reads it.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// A boolean parameter: absent is false; present is true unless it is `0` or `false`.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.text(name).is_some_and(|value| value != "0" && !value.eq_ignore_ascii_case("false"))
    }

    /// A non-negative integer parameter; an empty value counts as absent.
    pub(crate) fn number(&self, name: &str) -> Result<Option<u64>, String> {
        match self.text(name) {
            None | Some("") => Ok(None),
            Some(value) => {
                value.parse().map(Some).map_err(|error| format!("{name}: Invalid value: {value:?}: {error}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_kube_query_is_percent_decoded_and_flags_read_like_the_api_server() {
        let params =
            Params::parse("labelSelector=app%3Dthoth%2Ccomponent%21%3Dsolver&watch=1&allowWatchBookmarks=false")
                .expect("valid query");
        assert_eq!(params.text("labelSelector"), Some("app=thoth,component!=solver"));
        assert!(params.flag("watch"));
        assert!(!params.flag("allowWatchBookmarks"));
        assert!(!params.flag("sendInitialEvents"));
        assert_eq!(Params::parse("limit=5").and_then(|p| p.number("limit")), Ok(Some(5)));
        assert!(Params::parse("limit=five").and_then(|p| p.number("limit")).is_err());
    }
}
