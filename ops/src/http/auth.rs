//! Bearer tokens: every write needs `INVESTIGATOR_API_TOKEN` (without one configured, writes
//! are disabled, not open); reads need `INVESTIGATOR_API_READ_TOKEN` when one is configured.
//! The control endpoints (`/halt`, `/resume`) are writes: `POST` with the write token, and
//! `GET` only under `INVESTIGATOR_THOTH_COMPATIBLE_CONTROL` (Thoth's unauthenticated GET).
//! `/metrics` needs the read token under `INVESTIGATOR_METRICS_NEED_READ_TOKEN`.
//!
//! An answer to a request that needed a token is marked `Cache-Control: no-store`, so no
//! proxy or browser keeps it.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use investigator_actors::kafka::Secret;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::AppState;
use super::api_error::ApiError;

/// The configured tokens.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// For writes and admin calls.
    pub write: Option<Secret>,
    /// For reads, when they are not open.
    pub read: Option<Secret>,
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Nothing: an open read.
    Nothing,
    /// The read token.
    Read,
    /// The write token (writes are disabled without one).
    Write,
}

/// Middleware of the API under `/api/v1`: reads (`GET`, `HEAD`) need the read token when one
/// is configured, everything else the write token.
pub async fn authorize(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let tokens = tokens(&request);
    let reading = request.method() == Method::GET || request.method() == Method::HEAD;
    let need = match (reading, &tokens.read) {
        (false, _) => Need::Write,
        (true, Some(_)) => Need::Read,
        (true, None) => Need::Nothing,
    };
    pass(request, &tokens, need, next).await
}

/// Middleware of `/halt/{base}` and `/resume/{base}`: `POST` with the write token; `GET`
/// answered without a token only under `INVESTIGATOR_THOTH_COMPATIBLE_CONTROL`, refused with
/// 405 otherwise (a GET can be made by any page a browser on the network opens).
pub async fn authorize_control(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let compatible = request.app_data::<web::Data<AppState>>().is_some_and(|state| state.thoth_compatible_control);
    let reading = request.method() == Method::GET || request.method() == Method::HEAD;
    if reading && !compatible {
        let answer =
            HttpResponse::build(StatusCode::METHOD_NOT_ALLOWED).insert_header((header::ALLOW, "POST")).json(json!({
                "message": "Halting and resuming need POST with 'Authorization: Bearer <INVESTIGATOR_API_TOKEN>'; \
                            INVESTIGATOR_THOTH_COMPATIBLE_CONTROL=1 restores Thoth's GET.",
                "code": "control_needs_post",
            }));
        return Ok(request.into_response(answer).map_into_right_body());
    }
    let need = if reading { Need::Nothing } else { Need::Write };
    let tokens = tokens(&request);
    pass(request, &tokens, need, next).await
}

/// Middleware of `/metrics`: the read token under `INVESTIGATOR_METRICS_NEED_READ_TOKEN`.
pub async fn authorize_metrics(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let protected = request.app_data::<web::Data<AppState>>().is_some_and(|state| state.metrics_need_read_token);
    let need = if protected { Need::Read } else { Need::Nothing };
    let tokens = tokens(&request);
    pass(request, &tokens, need, next).await
}

/// The request answered by `next` when it carries what `need` asks for (the answer marked
/// `Cache-Control: no-store` when a token was needed); refused with a 401 answer otherwise (an
/// answer, not an error, so the outer middlewares still see it).
async fn pass<B: MessageBody>(
    request: ServiceRequest,
    tokens: &Tokens,
    need: Need,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if let Err(refusal) = check(&request, tokens, need) {
        return Ok(request.error_response(refusal).map_into_right_body());
    }
    Ok(no_store_when(need, next.call(request).await?).map_into_left_body())
}

fn tokens(request: &ServiceRequest) -> Tokens {
    request.app_data::<web::Data<AppState>>().map(|state| state.tokens.clone()).unwrap_or_default()
}

/// Whether the request carries what `need` asks for.
fn check(request: &ServiceRequest, tokens: &Tokens, need: Need) -> Result<(), ApiError> {
    let expected = match need {
        Need::Nothing => return Ok(()),
        Need::Read => tokens.read.as_ref(),
        Need::Write => match &tokens.write {
            Some(token) => Some(token),
            None => {
                return Err(ApiError::Unauthorized {
                    message: "write endpoints are disabled: set INVESTIGATOR_API_TOKEN to enable them".to_owned(),
                    code: "writes_disabled",
                });
            }
        },
    };
    let Some(expected) = expected else {
        return Ok(());
    };
    let given = request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(bearer);
    match given {
        None => Err(ApiError::Unauthorized {
            message: "this endpoint needs 'Authorization: Bearer <token>'".to_owned(),
            code: "missing_token",
        }),
        Some(given) if !same_token(given, expected.expose()) => {
            Err(ApiError::Unauthorized { message: "the token is not valid".to_owned(), code: "invalid_token" })
        }
        Some(_) => Ok(()),
    }
}

/// The token of an `Authorization` header value: the `Bearer` scheme, in any case (RFC 9110
/// makes the scheme case-insensitive), then one or more spaces.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim_start_matches(' ')).filter(|token| !token.is_empty())
}

/// Compares the SHA-256 digests of both, in constant time: neither the length nor any prefix
/// of the expected token shows in how long a refusal takes.
fn same_token(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    let difference = given.iter().zip(expected.iter()).fold(0u8, |difference, (a, b)| difference | (a ^ b));
    std::hint::black_box(difference) == 0
}

/// The answer, marked `Cache-Control: no-store` when the request needed a token.
fn no_store_when<B>(need: Need, mut response: ServiceResponse<B>) -> ServiceResponse<B> {
    if need != Need::Nothing {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::{bearer, same_token};

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("s3cret", "s3cret"));
        assert!(!same_token("s3cret", "s3creT"));
        assert!(!same_token("s3cret", "s3cre"));
        assert!(!same_token("", "s3cret"));
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        assert_eq!(bearer("Bearer t0k"), Some("t0k"));
        assert_eq!(bearer("bearer t0k"), Some("t0k"));
        assert_eq!(bearer("BEARER  t0k"), Some("t0k"));
        assert_eq!(bearer("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
