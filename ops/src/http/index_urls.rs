//! The URLs of an index registration, checked before they are recorded: the investigator will
//! ask them, and `/api/v1/python-package-index` serves them back. Each problem is a 400 with
//! a code of its own, naming the field:
//! - `invalid_index_url`, `invalid_warehouse_api_url`: not http(s), no host, whitespace or a
//!   control character, longer than 2,048 characters (`core::remote_url`);
//! - `index_address_denied`: the host is an IP literal in a range outgoing requests refuse
//!   (link-local with the metadata service, loopback, private...) and
//!   `INVESTIGATOR_ALLOW_PRIVATE_NETWORKS` does not allow it. A name is only resolved when it
//!   is asked, where the outbound client checks every address it resolves to.

use investigator_core::IndexUrl;
use investigator_core::network::NetworkAllowance;
use investigator_core::remote_url::{literal_address, parse_remote_url};
use serde_json::{Value, json};

use super::api_error::ApiError;

/// The index URL (`url`), normalised as the graph stores it.
pub fn checked_index_url(value: Option<&Value>, allowance: &NetworkAllowance) -> Result<String, ApiError> {
    let url = index_url(value)?;
    check_address("url", &url, allowance)?;
    Ok(url)
}

/// The index URL (`url`) of a request that names a registered index: well-formed, whatever
/// its address.
pub fn index_url(value: Option<&Value>) -> Result<String, ApiError> {
    let invalid = |message: String| ApiError::BadRequest {
        message,
        code: "invalid_index_url",
        parameters: json!({"field": "url"}),
    };
    let raw = match value {
        Some(Value::String(raw)) => raw,
        _ => return Err(invalid("'url' (the index URL) is required, as a string".to_owned())),
    };
    let url = IndexUrl::parse(raw).map_err(|error| invalid(error.to_string()))?;
    parse_remote_url(url.as_str()).map_err(|error| invalid(format!("'url': {error}")))?;
    Ok(url.as_str().to_owned())
}

/// The warehouse JSON API's URL (`warehouse_api_url`), when given.
pub fn checked_warehouse_url(value: Option<&Value>, allowance: &NetworkAllowance) -> Result<Option<String>, ApiError> {
    let invalid = |message: String| ApiError::BadRequest {
        message,
        code: "invalid_warehouse_api_url",
        parameters: json!({"field": "warehouse_api_url"}),
    };
    let raw = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(raw)) => raw.trim(),
        Some(_) => return Err(invalid("'warehouse_api_url' must be a string".to_owned())),
    };
    parse_remote_url(raw).map_err(|error| invalid(format!("'warehouse_api_url': {error}")))?;
    check_address("warehouse_api_url", raw, allowance)?;
    Ok(Some(raw.to_owned()))
}

/// Refuses a URL (already checked to be one) whose host is a denied IP literal.
fn check_address(field: &'static str, url: &str, allowance: &NetworkAllowance) -> Result<(), ApiError> {
    let Some(address) = parse_remote_url(url).ok().as_ref().and_then(literal_address) else {
        return Ok(());
    };
    allowance.check(address).map_err(|denied| ApiError::BadRequest {
        message: format!("'{field}': {denied}"),
        code: "index_address_denied",
        parameters: json!({"field": field, "range": denied.range.name()}),
    })
}

#[cfg(test)]
mod tests {
    use investigator_core::network::SpecialRange;

    use super::*;

    fn code(result: Result<impl std::fmt::Debug, ApiError>) -> &'static str {
        match result {
            Err(ApiError::BadRequest { code, .. }) => code,
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn an_index_at_a_special_address_is_refused_unless_allowed() {
        let none = NetworkAllowance::none();
        let metadata = json!("http://169.254.169.254/latest/meta-data");
        assert_eq!(code(checked_index_url(Some(&metadata), &none)), "index_address_denied");
        assert_eq!(code(checked_index_url(Some(&json!("http://[fe80::1]/simple")), &none)), "index_address_denied");
        assert_eq!(code(checked_index_url(Some(&json!("http://0x7f.1/simple")), &none)), "index_address_denied");
        let loopback = NetworkAllowance::ranges(&[SpecialRange::Loopback]);
        assert_eq!(
            checked_index_url(Some(&json!("http://127.0.0.1:8080/simple/")), &loopback).ok().as_deref(),
            Some("http://127.0.0.1:8080/simple")
        );
        assert_eq!(code(checked_index_url(Some(&metadata), &loopback)), "index_address_denied");
        assert!(
            checked_index_url(Some(&json!("https://pypi.org/simple")), &none).is_ok(),
            "names are checked when asked"
        );
    }

    #[test]
    fn a_warehouse_url_is_checked_like_the_index_url() {
        let none = NetworkAllowance::none();
        assert_eq!(checked_warehouse_url(None, &none).ok(), Some(None));
        assert_eq!(
            checked_warehouse_url(Some(&json!("https://pypi.org/pypi")), &none).ok(),
            Some(Some("https://pypi.org/pypi".to_owned()))
        );
        for bad in [
            json!("gopher://x\r\nINJECT"),
            json!("gopher://x/"),
            json!("https://"),
            json!(7),
            json!(format!("https://x/{}", "a".repeat(3000))),
        ] {
            assert_eq!(code(checked_warehouse_url(Some(&bad), &none)), "invalid_warehouse_api_url", "{bad}");
        }
        assert_eq!(code(checked_warehouse_url(Some(&json!("http://10.0.0.1/pypi")), &none)), "index_address_denied");
    }

    #[test]
    fn an_index_url_that_is_not_one_is_a_400_without_the_whole_value() {
        let none = NetworkAllowance::none();
        for bad in [json!(null), json!(3), json!("ftp://x/simple"), json!("https://pypi.org/sim ple")] {
            assert_eq!(code(checked_index_url(Some(&bad), &none)), "invalid_index_url", "{bad}");
        }
        let long = json!(format!("https://pypi.org/{}", "a".repeat(100_000)));
        let Err(error) = checked_index_url(Some(&long), &none) else { panic!("accepted") };
        assert!(error.to_string().len() < 500, "{error}");
    }
}
