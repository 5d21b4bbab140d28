//! Query parameters, read by hand so every problem gets a clear 400 naming the parameter.

use std::collections::BTreeMap;

use investigator_projections::queries::EnvironmentFilter;
use serde_json::{Map, Value};

use super::api_error::ApiError;

/// Pages hold at most this many entries (Thoth's cap).
pub const MAX_PER_PAGE: i64 = 100;
const DEFAULT_PER_PAGE: i64 = 25;
/// A parameter value longer than this is refused.
const MAX_VALUE_LENGTH: usize = 512;

/// The query string's parameters.
#[derive(Debug, Clone, Default)]
pub struct Parameters(BTreeMap<String, String>);

impl Parameters {
    /// Reads a query string (URL-decoded; invalid UTF-8 is refused).
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut parameters = BTreeMap::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |text: &str| {
                percent_decode(&text.replace('+', " ")).ok_or_else(|| ApiError::BadRequest {
                    message: "the query string is not valid UTF-8 after URL decoding".to_owned(),
                    code: "invalid_query",
                    parameters: Value::Object(Map::new()),
                })
            };
            let (key, value) = (decode(key)?, decode(value)?);
            if value.len() > MAX_VALUE_LENGTH {
                return Err(ApiError::BadRequest {
                    message: format!("parameter '{key}' is longer than {MAX_VALUE_LENGTH} bytes"),
                    code: "invalid_parameter",
                    parameters: Value::Object(Map::new()),
                });
            }
            parameters.insert(key, value);
        }
        Ok(Parameters(parameters))
    }

    /// The parameters as a JSON object, echoed in responses.
    pub fn echo(&self) -> Value {
        Value::Object(self.0.iter().map(|(key, value)| (key.clone(), Value::String(value.clone()))).collect())
    }

    /// Every parameter, by name.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// An optional parameter.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A required parameter.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.optional(name).filter(|value| !value.is_empty()).ok_or_else(|| ApiError::BadRequest {
            message: format!("parameter '{name}' is required"),
            code: "missing_parameter",
            parameters: self.echo(),
        })
    }

    /// A 400 for `name`.
    pub fn invalid(&self, name: &str, reason: &str) -> ApiError {
        ApiError::BadRequest {
            message: format!("parameter '{name}': {reason}"),
            code: "invalid_parameter",
            parameters: self.echo(),
        }
    }

    /// `os_name`, `os_version`, `python_version`.
    pub fn environment(&self) -> EnvironmentFilter {
        EnvironmentFilter {
            os_name: self.optional("os_name").map(str::to_owned),
            os_version: self.optional("os_version").map(str::to_owned),
            python_version: self.optional("python_version").map(str::to_owned),
        }
    }

    /// `page` (0 first; negative counts from the end) and `per_page` (25, at most 100).
    pub fn page(&self) -> Result<(i64, i64), ApiError> {
        let per_page = match self.optional("per_page") {
            None => DEFAULT_PER_PAGE,
            Some(text) => match text.parse::<i64>() {
                Ok(value) if (1..=MAX_PER_PAGE).contains(&value) => value,
                _ => return Err(self.invalid("per_page", &format!("must be a whole number from 1 to {MAX_PER_PAGE}"))),
            },
        };
        let page = match self.optional("page") {
            None => 0,
            Some(text) => text.parse::<i64>().map_err(|_| self.invalid("page", "must be a whole number"))?,
        };
        if page.unsigned_abs() > 10_000_000 {
            return Err(self.invalid("page", "is out of range"));
        }
        Ok((page, per_page))
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_url_decoded_and_bad_ones_refused() {
        let parameters = Parameters::parse("name=Flask%5FSQL&like=fl%25&x=a+b").expect("valid");
        assert_eq!(parameters.optional("name"), Some("Flask_SQL"));
        assert_eq!(parameters.optional("like"), Some("fl%"));
        assert_eq!(parameters.optional("x"), Some("a b"));
        assert!(Parameters::parse("name=%FF%FE").is_err(), "not UTF-8");
        assert!(Parameters::parse("name=%G1").is_err(), "not hex");
        assert!(Parameters::parse(&format!("name={}", "a".repeat(600))).is_err(), "too long");
    }

    #[test]
    fn pages_are_checked() {
        assert_eq!(Parameters::parse("").and_then(|p| p.page()).ok(), Some((0, 25)));
        assert_eq!(Parameters::parse("page=-1&per_page=100").and_then(|p| p.page()).ok(), Some((-1, 100)));
        assert!(Parameters::parse("per_page=101").and_then(|p| p.page()).is_err());
        assert!(Parameters::parse("page=one").and_then(|p| p.page()).is_err());
    }
}
