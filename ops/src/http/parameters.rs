//! Query parameters, read by hand so every problem gets a clear 400 naming the parameter.

use std::collections::BTreeMap;

use investigator_projections::queries::EnvironmentFilter;
use serde_json::{Map, Value};

use investigator_events::excerpt::excerpt;

use super::api_error::ApiError;

/// Pages hold at most this many entries (Thoth's cap).
pub const MAX_PER_PAGE: i64 = 100;
/// The furthest page from either end.
pub const MAX_PAGE: i64 = 10_000_000;
const DEFAULT_PER_PAGE: i64 = 25;
/// A parameter name or value longer than this many characters is refused (the OpenAPI
/// document's `maxLength`, so the description and the server agree).
pub const MAX_VALUE_LENGTH: usize = 512;

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
            if key.chars().count() > MAX_VALUE_LENGTH || value.chars().count() > MAX_VALUE_LENGTH {
                return Err(ApiError::BadRequest {
                    message: format!("parameter '{}' is longer than {MAX_VALUE_LENGTH} characters", excerpt(&key)),
                    code: "invalid_parameter",
                    parameters: Value::Object(Map::new()),
                });
            }
            if key.contains('\0') || value.contains('\0') {
                return Err(ApiError::BadRequest {
                    message: format!("parameter '{}' contains a NUL character (%00)", excerpt(&key)),
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

    /// An optional filter that must be one of `choices` (a value outside is 400: a typo must
    /// not read as "nothing matches").
    pub fn one_of(&self, name: &str, choices: &[&str]) -> Result<Option<&str>, ApiError> {
        match self.optional(name) {
            Some(value) if !choices.contains(&value) => {
                Err(self.invalid(name, &format!("must be one of {}", choices.join(", "))))
            }
            value => Ok(value),
        }
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
        if page.unsigned_abs() > MAX_PAGE.unsigned_abs() {
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
        assert!(Parameters::parse(&format!("{}=a", "n".repeat(600))).is_err(), "a name too long");
        assert!(Parameters::parse("name=fl%00ask").is_err(), "a NUL character");
        assert!(Parameters::parse("na%00me=flask").is_err(), "a NUL character in a name");
    }

    #[test]
    fn pages_are_checked() {
        assert_eq!(Parameters::parse("").and_then(|p| p.page()).ok(), Some((0, 25)));
        assert_eq!(Parameters::parse("page=-1&per_page=100").and_then(|p| p.page()).ok(), Some((-1, 100)));
        assert!(Parameters::parse("per_page=101").and_then(|p| p.page()).is_err());
        assert!(Parameters::parse("page=one").and_then(|p| p.page()).is_err());
    }

    /// The REST part of the fuzzing (`scripts/fuzz.sh` covers the other parsers): the query
    /// string is outside input, so no query string may panic, and every refusal is a 400.
    mod properties {
        use actix_web::ResponseError;
        use proptest::prelude::*;

        use super::*;

        /// Names the handlers ask for, so that generated queries hit the typed getters.
        const NAMES: &[&str] =
            &["name", "version", "index", "os_name", "os_version", "python_version", "page", "per_page", ""];

        fn assert_client_error(error: &ApiError) {
            assert!(matches!(error, ApiError::BadRequest { .. }), "not a bad request: {error:?}");
            assert!(error.status_code().is_client_error(), "status {} for {error:?}", error.status_code());
        }

        /// Every getter a handler may call, on whatever parsed.
        fn use_every_getter(parameters: &Parameters) {
            let _ = parameters.echo();
            let _ = parameters.environment();
            assert_eq!(parameters.pairs().count(), parameters.0.len());
            for name in NAMES {
                match parameters.required(name) {
                    Ok(value) => assert!(!value.is_empty()),
                    Err(error) => assert_client_error(&error),
                }
            }
            match parameters.page() {
                Ok((page, per_page)) => {
                    assert!((1..=MAX_PER_PAGE).contains(&per_page), "per_page {per_page}");
                    assert!(page.unsigned_abs() <= 10_000_000, "page {page}");
                }
                Err(error) => assert_client_error(&error),
            }
        }

        /// Text dense in what the parser treats specially, with multi-byte characters next to
        /// `%` so that escapes end inside a character.
        fn query_text() -> impl Strategy<Value = String> {
            prop_oneof![".{0,200}", "[%&=+0-9a-fA-FgG é😀]{0,64}", "((page|per_page|name)=[-+0-9%]{0,24}&?){0,4}"]
        }

        /// `%XX` for every byte, in either case.
        fn percent_encoded(bytes: &[u8], upper: bool) -> String {
            bytes.iter().map(|byte| if upper { format!("%{byte:02X}") } else { format!("%{byte:02x}") }).collect()
        }

        fn encoded_bytes() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..16),
                ".{0,16}".prop_map(String::into_bytes),
                prop::collection::vec(any::<u8>(), 500..520),
                (0..NAMES.len()).prop_map(|index| NAMES[index].as_bytes().to_vec()),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn no_query_string_panics_and_every_refusal_is_a_400(query in query_text()) {
                match Parameters::parse(&query) {
                    Ok(parameters) => use_every_getter(&parameters),
                    Err(error) => assert_client_error(&error),
                }
            }

            #[test]
            fn percent_encoded_bytes_decode_to_themselves_or_are_refused_with_a_400(
                pairs in prop::collection::vec((encoded_bytes(), encoded_bytes()), 0..6),
                upper in any::<bool>(),
            ) {
                let query: Vec<String> = pairs
                    .iter()
                    .map(|(key, value)| format!("{}={}", percent_encoded(key, upper), percent_encoded(value, upper)))
                    .collect();
                // UTF-8 without a NUL (which PostgreSQL cannot store or compare), names and values
                // within the length limit.
                let readable = pairs.iter().all(|(key, value)| {
                    let utf8 = std::str::from_utf8(key).is_ok() && std::str::from_utf8(value).is_ok();
                    let storable = !key.contains(&0) && !value.contains(&0);
                    let within = |text: &[u8]| {
                        std::str::from_utf8(text).is_ok_and(|text| text.chars().count() <= MAX_VALUE_LENGTH)
                    };
                    utf8 && storable && within(key) && within(value)
                });
                match Parameters::parse(&query.join("&")) {
                    Ok(parameters) => {
                        prop_assert!(readable, "accepted unreadable pairs {:?}", pairs);
                        // Later pairs replace earlier ones with the same name.
                        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
                        let expected: BTreeMap<String, String> =
                            pairs.iter().map(|(key, value)| (text(key), text(value))).collect();
                        prop_assert_eq!(&parameters.0, &expected);
                        use_every_getter(&parameters);
                    }
                    Err(error) => {
                        prop_assert!(!readable, "refused readable pairs {:?}: {:?}", pairs, error);
                        assert_client_error(&error);
                    }
                }
            }
        }
    }
}
