//! Bearer tokens: every write needs `INVESTIGATOR_API_TOKEN` (without one configured, writes
//! are disabled, not open); reads need `INVESTIGATOR_API_READ_TOKEN` when one is configured.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use investigator_actors::kafka::Secret;

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

/// Middleware: checks the request's `Authorization: Bearer <token>` against what its method
/// needs.
pub async fn authorize(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let tokens = request.app_data::<web::Data<AppState>>().map(|state| state.tokens.clone()).unwrap_or_default();
    let reading = request.method() == Method::GET || request.method() == Method::HEAD;
    let needed = if reading {
        tokens.read
    } else {
        match tokens.write {
            Some(token) => Some(token),
            None => {
                return Err(ApiError::Unauthorized {
                    message: "write endpoints are disabled: set INVESTIGATOR_API_TOKEN to enable them".to_owned(),
                    code: "writes_disabled",
                }
                .into());
            }
        }
    };
    if let Some(token) = needed {
        let given = request
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        match given {
            None => {
                return Err(ApiError::Unauthorized {
                    message: "this endpoint needs 'Authorization: Bearer <token>'".to_owned(),
                    code: "missing_token",
                }
                .into());
            }
            Some(given) if !same(given.as_bytes(), token.expose().as_bytes()) => {
                return Err(ApiError::Unauthorized {
                    message: "the token is not valid".to_owned(),
                    code: "invalid_token",
                }
                .into());
            }
            Some(_) => {}
        }
    }
    next.call(request).await
}

/// Compares without stopping at the first difference, so timing does not tell how much of a
/// guess was right.
fn same(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"s3cret", b"s3cret"));
        assert!(!same(b"s3cret", b"s3creT"));
        assert!(!same(b"s3cret", b"s3cre"));
    }
}
