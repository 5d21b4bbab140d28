//! The first look at a request under `/api/v1`, before authentication: a path no route has is
//! 404 `unknown_path`, and a method its route does not take is 405 `method_not_allowed` with
//! `Allow`, so an undeclared method (TRACE, PUT...) never reads as a refused write.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};

use super::api_error::ApiError;
use super::api_routes;

/// Middleware of the `/api/v1` scope.
pub async fn check(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = request.path().strip_prefix("/api/v1").unwrap_or_default();
    let methods = api_routes::methods_of(path);
    let refusal = if methods.is_empty() {
        Some(ApiError::UnknownPath)
    } else if !methods.contains(&request.method().as_str()) {
        Some(ApiError::MethodNotAllowed { allow: methods.join(", ") })
    } else {
        None
    };
    match refusal {
        Some(error) => Ok(request.into_response(error.error_response())),
        None => Ok(next.call(request).await?.map_into_boxed_body()),
    }
}

/// The answer to a path outside `/api/v1` that nothing serves.
pub async fn unknown_path() -> HttpResponse {
    ApiError::UnknownPath.error_response()
}

/// The answer to a path segment that does not parse (a partition that is not a number...):
/// 400 `invalid_parameter` in the API's JSON, not actix's plain text.
pub fn unparsable_path(error: actix_web::error::PathError, _request: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::BadRequest {
        message: format!("a path segment is not valid: {}", investigator_events::excerpt::excerpt(&error.to_string())),
        code: "invalid_parameter",
        parameters: serde_json::json!({}),
    }
    .into()
}
