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
    /// No route has this path (404 `unknown_path`).
    #[error("no endpoint at this path: GET /api/v1 lists them, /api/v1/openapi.json describes them")]
    UnknownPath,
    /// The path's route does not take this method (405 `method_not_allowed`, with `Allow`).
    #[error("this endpoint takes {allow} only")]
    MethodNotAllowed {
        /// The methods it takes, as the `Allow` header lists them.
        allow: String,
    },
    /// The body is too large (413).
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
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
    /// The graph has not reached the log position the client asked for
    /// (`x-investigator-min-position`) within `INVESTIGATOR_MIN_POSITION_WAIT_MS` (412: the
    /// request's precondition does not hold yet; `Retry-After: 1`): a standby that has not replayed the client's write yet, or a write
    /// still being recorded. Never answered with older data instead.
    #[error("the knowledge graph has reached log position {reached}, not yet {wanted}: ask again shortly")]
    PositionNotReached {
        /// The client's `x-investigator-min-position`.
        wanted: i64,
        /// Where the graph stood at the last reading.
        reached: i64,
    },
    /// A write reached a database that takes none: a hot standby (503). Writes go to an
    /// investigator over the primary.
    #[error("this investigator reads a read-only database (a standby): send writes to one over the primary")]
    ReadOnlyDatabase,
    /// The graph cannot be read right now (503).
    #[error("the knowledge graph cannot be read right now")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// An error that kept a request from the graph or the bus: 503 `graph_unavailable`, or
    /// `read_only_database` when the server refused a write because it is a standby.
    pub fn outage(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let error = error.into();
        let read_only = investigator_events::error_chain::find_cause::<tokio_postgres::Error>(error.as_ref())
            .is_some_and(|cause| cause.code() == Some(&tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION));
        if read_only { ApiError::ReadOnlyDatabase } else { ApiError::Unavailable(error) }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::NotFound { .. } => "not_found",
            ApiError::UnknownPath => "unknown_path",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Unauthorized { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::TooManyRequests { code, .. } => code,
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::PositionNotReached { .. } => "position_not_reached",
            ApiError::ReadOnlyDatabase => "read_only_database",
            ApiError::Unavailable(_) => "graph_unavailable",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } | ApiError::UnknownPath => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PositionNotReached { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::ReadOnlyDatabase | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
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
            ApiError::PositionNotReached { wanted, reached } => json!({"min_position": wanted, "position": reached}),
            ApiError::Unauthorized { .. }
            | ApiError::UnknownPath
            | ApiError::MethodNotAllowed { .. }
            | ApiError::ReadOnlyDatabase
            | ApiError::PayloadTooLarge { .. }
            | ApiError::Unprocessable { .. }
            | ApiError::Conflict { .. }
            | ApiError::TooManyRequests { .. } => json!({}),
        };
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::TooManyRequests { .. } | ApiError::PositionNotReached { .. }) {
            response.insert_header((actix_web::http::header::RETRY_AFTER, "1"));
        }
        if let ApiError::MethodNotAllowed { allow } = self {
            response.insert_header((actix_web::http::header::ALLOW, allow.as_str()));
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
        ApiError::outage(error)
    }
}

impl From<investigator_projections::DatabaseError> for ApiError {
    fn from(error: investigator_projections::DatabaseError) -> Self {
        ApiError::outage(error)
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
