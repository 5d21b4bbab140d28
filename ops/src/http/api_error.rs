//! The API's errors: stable JSON bodies `{"error", "code", "parameters"}` (Thoth's `error`
//! field kept, so thamos shows the message) with the right status.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

/// Why a request was not answered.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter is missing or invalid (400).
    #[error("{message}")]
    BadRequest {
        /// For people.
        message: String,
        /// Stable: `missing_parameter`, `invalid_parameter`...
        code: &'static str,
        /// The request's parameters, echoed.
        parameters: Value,
    },
    /// Nothing matches (404).
    #[error("{message}")]
    NotFound {
        /// For people.
        message: String,
        /// The request's parameters, echoed.
        parameters: Value,
    },
    /// No token, a wrong one, or writes disabled (401).
    #[error("{message}")]
    Unauthorized {
        /// For people.
        message: String,
        /// `missing_token`, `invalid_token`, `writes_disabled`.
        code: &'static str,
    },
    /// The body is too large (413).
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The request lost a race with another one (409): asking again sees what won.
    #[error("{message}")]
    Conflict {
        /// For people.
        message: String,
        /// `dead_letter_changed`...
        code: &'static str,
    },
    /// The body is well-formed but not acceptable (422).
    #[error("{message}")]
    Unprocessable {
        /// For people.
        message: String,
        /// `invalid_message`, `index_already_registered`...
        code: &'static str,
    },
    /// Too many requests of this kind at once; try again shortly (429, `Retry-After: 1`).
    #[error("{message}")]
    TooManyRequests {
        /// For people.
        message: String,
        /// `too_many_uploads`.
        code: &'static str,
    },
    /// The graph cannot be read right now (503).
    #[error("the knowledge graph cannot be read right now")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::NotFound { .. } => "not_found",
            ApiError::Unauthorized { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::TooManyRequests { code, .. } => code,
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::Unavailable(_) => "graph_unavailable",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let parameters = match self {
            ApiError::BadRequest { parameters, .. } | ApiError::NotFound { parameters, .. } => parameters.clone(),
            ApiError::Unavailable(error) => {
                tracing::warn!(error = %investigator_projections::fault::describe(error.as_ref()),
                               "an API request could not reach the graph or the bus");
                json!({})
            }
            ApiError::Unauthorized { .. }
            | ApiError::PayloadTooLarge { .. }
            | ApiError::Unprocessable { .. }
            | ApiError::Conflict { .. }
            | ApiError::TooManyRequests { .. } => json!({}),
        };
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::TooManyRequests { .. }) {
            response.insert_header((actix_web::http::header::RETRY_AFTER, "1"));
        }
        response.json(json!({"error": self.to_string(), "code": self.code(), "parameters": parameters}))
    }
}

impl From<tokio_postgres::Error> for ApiError {
    /// A value the database refuses to store or compare is the request's fault (400, and the
    /// database's message is not repeated); anything else is an outage (503).
    fn from(error: tokio_postgres::Error) -> Self {
        if investigator_projections::fault::Fault::of(&error) == investigator_projections::fault::Fault::Data {
            tracing::debug!(%error, "the database refused a value of a request");
            return ApiError::BadRequest {
                message: "a value of the request cannot be used (the knowledge graph cannot store or compare it)"
                    .to_owned(),
                code: "invalid_value",
                parameters: json!({}),
            };
        }
        ApiError::Unavailable(Box::new(error))
    }
}

impl From<investigator_projections::DatabaseError> for ApiError {
    fn from(error: investigator_projections::DatabaseError) -> Self {
        ApiError::Unavailable(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every error code the HTTP modules answer with: `code: "..."` and `"code": "..."`.
    fn codes_in_the_sources() -> BTreeSet<String> {
        let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
        let mut codes = BTreeSet::new();
        for entry in std::fs::read_dir(directory).expect("src/http") {
            let path = entry.expect("an entry").path();
            let source = std::fs::read_to_string(&path).expect("a source file");
            for marker in ["code: \"", "\"code\": \""] {
                for (start, _) in source.match_indices(marker) {
                    let rest = &source[start + marker.len()..];
                    let code: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    if rest[code.len()..].starts_with('"') && !code.is_empty() {
                        codes.insert(code);
                    }
                }
            }
            for (start, _) in source.match_indices("=> \"") {
                let rest = &source[start + 4..];
                let code: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                if path.ends_with("api_error.rs") && code.contains('_') && rest[code.len()..].starts_with('"') {
                    codes.insert(code);
                }
            }
        }
        codes
    }

    #[test]
    fn the_readme_lists_every_error_code_the_api_answers_with() {
        let readme = include_str!("../../../README.md");
        let codes = codes_in_the_sources();
        assert!(codes.contains("invalid_header") && codes.contains("graph_unavailable"), "{codes:?}");
        let missing: Vec<&String> = codes.iter().filter(|code| !readme.contains(&format!("`{code}`"))).collect();
        assert!(missing.is_empty(), "README's list of error codes lacks {missing:?}");
    }
}
