//! Traces through REST requests: a span per request, the child of the caller's W3C
//! `traceparent` when it sent a valid one, else the root of a new trace.
//!
//! The request's own trace context (its span's id) goes back in the `traceparent` response
//! header and to the handlers as [`RequestTrace`], which the write endpoints put into the
//! metadata of the events they append. When spans are exported (see `telemetry`), the
//! header names the exported span; otherwise the span id is a fresh one, still unique.
//! `/_health`, `/_ready` and `/metrics` (probes and scrapes, every few seconds) get no span.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::str::FromStr;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use investigator_actors::pipeline::trace;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing::Instrument;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
/// Paths without a span.
const UNTRACED: [&str; 3] = ["/_health", "/_ready", "/metrics"];

/// The W3C `traceparent` of the request's span, for handlers (as an extractor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTrace(String);

impl RequestTrace {
    /// The `traceparent` value: `00-<trace id>-<span id>-<flags>`.
    pub fn traceparent(&self) -> &str {
        &self.0
    }
}

impl FromRequest for RequestTrace {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    /// The middleware's, or (on a route it does not wrap) a new trace.
    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let known = request.extensions().get::<RequestTrace>().cloned();
        ready(Ok(known.unwrap_or_else(|| RequestTrace(trace::start()))))
    }
}

/// The middleware: opens the request's span (method, route, path, then status), makes its
/// trace context available to handlers and returns it in the `traceparent` header.
pub async fn trace_requests<B: MessageBody>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    if UNTRACED.contains(&request.path()) {
        return next.call(request).await;
    }
    let parent = request.headers().get(TRACEPARENT).and_then(|value| trace::valid(value.as_bytes()));
    let method = request.method().to_string();
    // The route table knows the pattern before the request is routed.
    let route = request.match_pattern();
    let name = route.as_ref().map_or_else(|| method.clone(), |route| format!("{method} {route}"));
    let span = tracing::info_span!(
        "http request",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        http.route = route.as_deref(),
        url.path = %request.path(),
        http.response.status_code = Empty,
        traceparent = Empty,
    );
    if let Some(context) =
        parent.as_deref().and_then(|parent| remote_context(parent, request.headers().get(TRACESTATE)))
    {
        // Fails only when no span is exported (no layer to take it): nothing to parent then.
        let _ = span.set_parent(context);
    }
    let own = RequestTrace(span_traceparent(&span, parent.as_deref()));
    span.record("traceparent", own.traceparent());
    let header = HeaderValue::from_str(own.traceparent()).ok();
    request.extensions_mut().insert(own);

    let outcome = next.call(request).instrument(span.clone()).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    // An `i64`: the exporter keeps it a number (a `u64` would arrive as text).
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "error");
    }
    let Some(header) = header else {
        return outcome;
    };
    match outcome {
        Ok(mut response) => {
            response.headers_mut().insert(TRACEPARENT, header);
            Ok(response)
        }
        // An error (a refused token) becomes its response further out; carry the header in it.
        Err(error) => {
            let mut response = error.error_response();
            response.headers_mut().insert(TRACEPARENT, header);
            Err(actix_web::error::InternalError::from_response(error, response).into())
        }
    }
}

/// The caller's span as a remote parent.
fn remote_context(traceparent: &str, tracestate: Option<&HeaderValue>) -> Option<opentelemetry::Context> {
    let [_, trace_id, span_id, flags] = traceparent.split('-').collect::<Vec<_>>()[..] else {
        return None;
    };
    let state = tracestate
        .and_then(|value| value.to_str().ok())
        .and_then(|value| TraceState::from_str(value).ok())
        .unwrap_or_default();
    let span_context = SpanContext::new(
        TraceId::from_hex(trace_id).ok()?,
        SpanId::from_hex(span_id).ok()?,
        TraceFlags::new(u8::from_str_radix(flags, 16).ok()?),
        true,
        state,
    );
    Some(opentelemetry::Context::new().with_remote_span_context(span_context))
}

/// The `traceparent` of `span`: the exported span's ids when spans are exported, else the
/// parent's trace with a new span id, or a new trace.
fn span_traceparent(span: &tracing::Span, parent: Option<&str>) -> String {
    let context = span.context();
    let exported = context.span().span_context().clone();
    if exported.is_valid() {
        return format!("00-{}-{}-{:02x}", exported.trace_id(), exported.span_id(), exported.trace_flags().to_u8());
    }
    match parent {
        Some(parent) => child_of(parent),
        None => trace::start(),
    }
}

/// `parent`'s version, trace id and flags with a new span id.
fn child_of(parent: &str) -> String {
    let fresh = trace::start();
    let parts: Vec<&str> = parent.split('-').collect();
    let (Some(new_span), [version, trace_id, _, flags]) = (fresh.split('-').nth(2), parts.as_slice()) else {
        return fresh;
    };
    format!("{version}-{trace_id}-{new_span}-{flags}")
}

#[cfg(test)]
mod tests {
    use actix_web::test as actix_test;
    use actix_web::{App, HttpResponse, web};

    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    async fn echo(trace: RequestTrace) -> HttpResponse {
        HttpResponse::Ok().body(trace.traceparent().to_owned())
    }

    #[actix_web::test]
    async fn the_callers_trace_is_continued_in_a_span_of_its_own() {
        let app = actix_test::init_service(
            App::new().wrap(actix_web::middleware::from_fn(trace_requests)).route("/echo", web::get().to(echo)),
        )
        .await;
        let request = actix_test::TestRequest::get().uri("/echo").insert_header(("traceparent", PARENT)).to_request();
        let response = actix_test::call_service(&app, request).await;
        let header = response.headers().get("traceparent").and_then(|value| value.to_str().ok()).map(str::to_owned);
        let body = String::from_utf8(actix_test::read_body(response).await.to_vec()).expect("text");
        assert_eq!(header.as_deref(), Some(body.as_str()), "the handler sees the header's trace context");
        assert!(trace::valid(body.as_bytes()).is_some(), "{body}");
        assert!(body.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{body}");
        assert!(body.ends_with("-01") && !body.contains("00f067aa0ba902b7"), "a span of its own: {body}");

        for sent in [None, Some("00-00000000000000000000000000000000-00f067aa0ba902b7-01")] {
            let mut request = actix_test::TestRequest::get().uri("/echo");
            if let Some(sent) = sent {
                request = request.insert_header(("traceparent", sent));
            }
            let response = actix_test::call_service(&app, request.to_request()).await;
            let header = response.headers().get("traceparent").and_then(|value| value.to_str().ok());
            assert!(header.and_then(|value| trace::valid(value.as_bytes())).is_some(), "a new trace for {sent:?}");
        }
    }

    #[test]
    fn a_child_keeps_the_trace_and_flags() {
        let child = child_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
        assert!(child.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && child.ends_with("-00"), "{child}");
        assert!(trace::valid(child.as_bytes()).is_some(), "{child}");
        let context = remote_context(PARENT, None).expect("a context");
        assert_eq!(context.span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(context.span().span_context().is_remote() && context.span().span_context().is_sampled());
    }
}
