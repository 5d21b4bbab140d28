//! The cache of hot graph reads, with read-your-writes.
//!
//! Each cached answer carries the log position the graph had reached when it was read
//! (`x-investigator-position`). A client that sends `x-investigator-min-position: <p>` (the
//! position a write of its own returned) never gets an answer older than `p`: a cached one
//! that is older is read again. Answers are kept for `INVESTIGATOR_API_CACHE_TTL_MS`; a write
//! through this API empties the cache, so this node's own writes are seen at once.
//!
//! On every graph read, cached or not, a position the graph has not reached yet (a standby
//! that has not replayed the client's write, a write another node is still recording) is
//! waited for, up to `INVESTIGATOR_MIN_POSITION_WAIT_MS`; then the answer is 412
//! `position_not_reached`, never an answer older than the client asked for.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use investigator_projections::queries;
use moka::future::Cache;

use super::AppState;
use super::api_error::ApiError;
use super::api_routes;

/// The position an answer reflects.
pub const POSITION_HEADER: &str = "x-investigator-position";
/// The position a client must see at least.
pub const MIN_POSITION_HEADER: &str = "x-investigator-min-position";
/// `hit` or `miss`.
pub const CACHE_HEADER: &str = "x-investigator-cache";

/// How the cache is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// How long an answer is served; zero turns the cache off.
    pub time_to_live: Duration,
    /// Bytes of answers kept at most.
    pub max_bytes: u64,
    /// How long a read waits for the graph to reach the position a client asks for.
    pub min_position_wait: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            time_to_live: Duration::from_secs(2),
            max_bytes: 64 * 1024 * 1024,
            min_position_wait: Duration::from_secs(2),
        }
    }
}

/// One answer as it was sent.
#[derive(Debug)]
struct CachedAnswer {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    position: i64,
}

impl CachedAnswer {
    fn weight(&self) -> u32 {
        let headers: usize = self.headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
        u32::try_from(self.body.len() + headers + 64).unwrap_or(u32::MAX)
    }

    fn response(&self, outcome: &'static str) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.insert_header((POSITION_HEADER, self.position)).insert_header((CACHE_HEADER, outcome));
        response.body(self.body.clone())
    }
}

/// How long a reading of the graph's position is reused as a stamp.
const POSITION_REUSE: Duration = Duration::from_millis(100);
/// How often the graph's position is read again while a client's position is waited for.
const POSITION_POLL: Duration = Duration::from_millis(50);

/// The cache; cloning shares it.
#[derive(Clone)]
pub struct ResponseCache {
    answers: Option<Cache<String, Arc<CachedAnswer>>>,
    /// The graph's position as last read, and when. Positions only grow, so a reading taken
    /// before an answer is a true stamp for it however long ago it was taken; reusing one for
    /// a moment saves a query per miss at high rates, at the price of a stamp that may be a
    /// little older than it could be.
    position: Arc<std::sync::Mutex<Option<(i64, std::time::Instant)>>>,
    min_position_wait: Duration,
}

impl ResponseCache {
    /// A cache sized by `settings` (none at all when the time to live is zero).
    pub fn new(settings: CacheSettings) -> Self {
        let answers = (!settings.time_to_live.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(settings.max_bytes)
                .weigher(|_key: &String, answer: &Arc<CachedAnswer>| answer.weight())
                .time_to_live(settings.time_to_live)
                .build()
        });
        ResponseCache { answers, position: Arc::default(), min_position_wait: settings.min_position_wait }
    }

    /// A position read less than [`POSITION_REUSE`] ago, if it is at least `wanted`.
    fn recent_position(&self, wanted: i64) -> Option<i64> {
        let known = *self.position.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        known.filter(|(position, read_at)| *position >= wanted && read_at.elapsed() < POSITION_REUSE).map(|(p, _)| p)
    }

    fn remember_position(&self, position: i64) {
        let mut known = self.position.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.is_none_or(|(before, _)| position >= before) {
            *known = Some((position, std::time::Instant::now()));
        }
    }

    /// The graph's position once it is at least `wanted`, read again every [`POSITION_POLL`]
    /// for up to the configured wait.
    async fn reached(&self, graph: &investigator_projections::Database, wanted: i64) -> Result<i64, ApiError> {
        let started = tokio::time::Instant::now();
        loop {
            let position = {
                let mut connection = graph.connection().await.map_err(ApiError::from)?;
                let client = connection.read().await.map_err(ApiError::from)?;
                queries::graph_position(&client).await.map_err(ApiError::from)?
            };
            self.remember_position(position);
            if position >= wanted {
                return Ok(position);
            }
            if started.elapsed() + POSITION_POLL > self.min_position_wait {
                return Err(ApiError::PositionNotReached { wanted, reached: position });
            }
            tokio::time::sleep(POSITION_POLL).await;
        }
    }

    /// Forgets every answer (after a write through this API).
    pub fn clear(&self) {
        if let Some(answers) = &self.answers {
            answers.invalidate_all();
        }
    }
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache").field("enabled", &self.answers.is_some()).finish()
    }
}

/// Middleware on `/api/v1`: serves the cacheable graph reads from the cache, and empties it
/// after a successful write.
pub async fn respond(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = request.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    if request.method() != Method::GET {
        let response = next.call(request).await?;
        if response.status().is_success() {
            state.cache.clear();
        }
        return Ok(response.map_into_boxed_body());
    }
    let route = request.path().strip_prefix("/api/v1").unwrap_or_default();
    let wanted = min_position(request.headers())?;
    if !api_routes::is_cached(route) {
        if wanted > 0 && state.cache.recent_position(wanted).is_none() {
            state.cache.reached(&state.graph, wanted).await?;
        }
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let key = format!("{route}?{}", request.query_string());
    let answers = state.cache.answers.clone();
    if let Some(answers) = &answers {
        if let Some(answer) = answers.get(&key).await {
            if answer.position >= wanted {
                state.metrics.api_cache.with_label_values(&["hit"]).inc();
                let response = answer.response("hit");
                return Ok(request.into_response(response));
            }
            state.metrics.api_cache.with_label_values(&["bypass"]).inc();
        } else {
            state.metrics.api_cache.with_label_values(&["miss"]).inc();
        }
    }
    // Read before the answer, so the answer reflects at least this position.
    let position = match state.cache.recent_position(wanted) {
        Some(position) => position,
        None => state.cache.reached(&state.graph, wanted).await?,
    };
    let response = next.call(request).await?;
    let (request, response) = response.into_parts();
    let status = response.status();
    let headers = kept_headers(response.headers());
    let body = actix_web::body::to_bytes(response.into_body())
        .await
        .map_err(|_| ApiError::Unavailable("the answer could not be read".into()))?;
    let answer = CachedAnswer { status, headers, body, position };
    let response = answer.response("miss");
    if let Some(answers) = answers
        && (status == StatusCode::OK || status == StatusCode::NOT_FOUND)
    {
        answers.insert(key, Arc::new(answer)).await;
    }
    Ok(ServiceResponse::new(request, response))
}

/// `x-investigator-min-position`, 0 when absent.
fn min_position(headers: &HeaderMap) -> Result<i64, ApiError> {
    let Some(value) = headers.get(MIN_POSITION_HEADER) else {
        return Ok(0);
    };
    value.to_str().ok().and_then(|text| text.trim().parse::<i64>().ok()).filter(|position| *position >= 0).ok_or_else(
        || ApiError::BadRequest {
            message: format!("the {MIN_POSITION_HEADER} header must be a log position (a whole number, 0 or more)"),
            code: "invalid_header",
            parameters: serde_json::json!({}),
        },
    )
}

/// The handler's headers, without the ones that describe one particular transfer.
fn kept_headers(headers: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    headers
        .iter()
        .filter(|(name, _)| {
            !matches!(name.as_str(), "content-length" | "transfer-encoding" | "date" | "connection")
                && !name.as_str().starts_with("x-investigator-")
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_min_position_must_be_a_whole_number() {
        let mut headers = HeaderMap::new();
        assert_eq!(min_position(&headers).ok(), Some(0));
        headers.insert(HeaderName::from_static(MIN_POSITION_HEADER), HeaderValue::from_static("42"));
        assert_eq!(min_position(&headers).ok(), Some(42));
        for bad in ["-1", "4x", "", "99999999999999999999"] {
            headers.insert(HeaderName::from_static(MIN_POSITION_HEADER), HeaderValue::from_static(bad));
            assert!(min_position(&headers).is_err(), "{bad}");
        }
    }

    #[test]
    fn transfer_headers_are_not_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_static("content-length"), HeaderValue::from_static("3"));
        headers.insert(HeaderName::from_static("page_count"), HeaderValue::from_static("2"));
        headers.insert(HeaderName::from_static(CACHE_HEADER), HeaderValue::from_static("miss"));
        let kept: Vec<String> = kept_headers(&headers).into_iter().map(|(name, _)| name.to_string()).collect();
        assert_eq!(kept, ["page_count"]);
    }

    #[test]
    fn a_recent_position_is_reused_only_when_new_enough_and_recent() {
        let cache = ResponseCache::new(CacheSettings::default());
        assert_eq!(cache.recent_position(0), None, "nothing read yet");
        cache.remember_position(7);
        assert_eq!(cache.recent_position(5), Some(7));
        assert_eq!(cache.recent_position(8), None, "a client that wrote past it reads again");
        cache.remember_position(3);
        assert_eq!(cache.recent_position(0), Some(7), "a reading never goes back");
        *cache.position.lock().expect("lock") = Some((7, std::time::Instant::now() - POSITION_REUSE));
        assert_eq!(cache.recent_position(0), None, "too old");
    }

    #[test]
    fn a_zero_time_to_live_turns_the_cache_off() {
        let cache = ResponseCache::new(CacheSettings {
            time_to_live: Duration::ZERO,
            max_bytes: 1,
            ..CacheSettings::default()
        });
        assert!(cache.answers.is_none());
        assert!(ResponseCache::new(CacheSettings::default()).answers.is_some());
    }
}
