//! Traces over real HTTP: a REST request continues the caller's W3C `traceparent`, its span is
//! exported over OTLP/HTTP (protobuf) to a collector on loopback, and a write records the
//! request's trace context in the event it appends. Without an endpoint nothing is exported;
//! with a collector that is down the service answers as fast as ever and stops promptly.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use investigator_tests::{Service, TestDatabase, environment, eventually, investigator};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const TOKEN: &str = "s3cret";
/// A caller's span, as a producer or a browser would send it.
const READ_PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const WRITE_PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// An OTLP/HTTP receiver on loopback: answers `POST /v1/traces` with 200 and keeps the bodies;
/// counts every connection made to it.
struct Collector {
    address: SocketAddr,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    connections: Arc<AtomicUsize>,
}

impl Collector {
    async fn start() -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        Collector::serve(listener)
    }

    fn serve(listener: tokio::net::TcpListener) -> Collector {
        let address = listener.local_addr().expect("address");
        let (bodies, connections) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicUsize::new(0)));
        let (kept, counted) = (Arc::clone(&bodies), Arc::clone(&connections));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(answer(stream, Arc::clone(&kept)));
            }
        });
        Collector { address, bodies, connections }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every span received so far, with its resource's service name.
    fn spans(&self) -> Vec<(Option<String>, Span)> {
        let bodies = self.bodies.lock().expect("bodies").clone();
        let mut spans = Vec::new();
        for body in bodies {
            let request = ExportTraceServiceRequest::decode(body.as_slice()).expect("an OTLP protobuf body");
            for resource_spans in request.resource_spans {
                let service = resource_spans.resource.and_then(|resource| text(&resource.attributes, "service.name"));
                for span in resource_spans.scope_spans.into_iter().flat_map(|scope| scope.spans) {
                    spans.push((service.clone(), span));
                }
            }
        }
        spans
    }

    fn raw_bodies(&self) -> Vec<u8> {
        self.bodies.lock().expect("bodies").concat()
    }
}

/// Answers every request of one connection (the exporter keeps it alive), reading each body
/// by its `Content-Length`.
async fn answer(stream: tokio::net::TcpStream, bodies: Arc<Mutex<Vec<Vec<u8>>>>) {
    let mut stream = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if stream.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.trim().eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let status = if request_line.starts_with("POST /v1/traces ") {
            bodies.lock().expect("bodies").push(body);
            "200 OK"
        } else {
            "404 Not Found"
        };
        let response =
            format!("HTTP/1.1 {status}\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n");
        if stream.get_mut().write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes.iter().find(|attribute| attribute.key == key).and_then(|attribute| {
        match attribute.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(value) => Some(value.clone()),
            _ => None,
        }
    })
}

fn number(attributes: &[KeyValue], key: &str) -> Option<i64> {
    attributes.iter().find(|attribute| attribute.key == key).and_then(|attribute| {
        match attribute.value.as_ref()?.value.as_ref()? {
            any_value::Value::IntValue(value) => Some(*value),
            _ => None,
        }
    })
}

/// `00-<trace>-<span>-<flags>` as raw trace and span id bytes.
fn ids(traceparent: &str) -> (Vec<u8>, Vec<u8>) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "a traceparent: {traceparent}");
    (hex(parts[1]), hex(parts[2]))
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex")).collect()
}

/// Blanks the `OTEL_*` variables the test process may have (an empty value counts as unset).
fn no_inherited_otel() -> Vec<(String, String)> {
    [
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
    ]
    .into_iter()
    .map(|name| (name.to_owned(), String::new()))
    .collect()
}

/// A service on the embedded bus, writes enabled, logging at `info`, with `extra`.
async fn service(database: &TestDatabase, extra: &[(&str, String)]) -> Service {
    let mut env = database.vars();
    env.push(("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()));
    env.push(("INVESTIGATOR_API_TOKEN".to_owned(), TOKEN.to_owned()));
    env.push(("RUST_LOG".to_owned(), "info".to_owned()));
    env.extend(no_inherited_otel());
    env.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), value.clone())));
    Service::start(&env).await
}

/// A request with `headers`: status and the response's `traceparent`.
async fn request(
    service: &Service,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Option<String>) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, format!("http://{}{path}", service.address)).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap_or_else(|error| panic!("{path}: {error}"));
    let traceparent = response.headers().get("traceparent").and_then(|value| value.to_str().ok()).map(str::to_owned);
    (response.status().as_u16(), traceparent)
}

fn trace_id(traceparent: &str) -> &str {
    traceparent.split('-').nth(1).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_requests_continue_the_callers_trace_and_are_exported_over_otlp() {
    let collector = Collector::start().await;
    let database = TestDatabase::create().await;
    let service = service(
        &database,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()), ("OTEL_BSP_SCHEDULE_DELAY", "200".to_owned())],
    )
    .await;

    let (status, read) =
        request(&service, reqwest::Method::GET, "/api/v1/python-package-index", &[("traceparent", READ_PARENT)], "")
            .await;
    assert_eq!(status, 200);
    let read = read.expect("a traceparent response header");
    assert_eq!(trace_id(&read), trace_id(READ_PARENT), "the caller's trace goes on: {read}");
    assert_ne!(ids(&read).1, ids(READ_PARENT).1, "in a span of the request's own");

    let authorization = format!("Bearer {TOKEN}");
    let (status, write) = request(
        &service,
        reqwest::Method::POST,
        "/api/v1/python/package-index",
        &[("traceparent", WRITE_PARENT), ("authorization", &authorization), ("content-type", "application/json")],
        r#"{"url": "https://example.org/simple"}"#,
    )
    .await;
    assert_eq!(status, 201);
    let write = write.expect("a traceparent response header");
    assert_eq!(trace_id(&write), trace_id(WRITE_PARENT));

    let stored: Vec<Option<String>> = database
        .sql()
        .await
        .query(
            "SELECT metadata ->> 'traceparent' FROM investigator.event_log
             WHERE event_type = 'IndexRegistered' AND payload ->> 'url' = 'https://example.org/simple'",
            &[],
        )
        .await
        .expect("the event log")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(stored, [Some(write.clone())], "the appended event is in the request's trace");

    let (status, unauthorized) = request(
        &service,
        reqwest::Method::POST,
        "/api/v1/python/package-index",
        &[("traceparent", WRITE_PARENT)],
        r#"{"url": "https://example.net/simple"}"#,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(unauthorized.as_deref().map(trace_id), Some(trace_id(WRITE_PARENT)), "refusals are traced too");

    eventually("both request spans exported", Duration::from_secs(30), || async {
        let spans = collector.spans();
        [&read, &write].iter().all(|traceparent| spans.iter().any(|(_, span)| span.span_id == ids(traceparent).1))
    })
    .await;
    let spans = collector.spans();
    let (service_name, span) =
        spans.iter().find(|(_, span)| span.span_id == ids(&read).1).expect("the read request's span");
    assert_eq!(service_name.as_deref(), Some("thoth-investigator"));
    assert_eq!(span.trace_id, ids(READ_PARENT).0, "the exported trace id is the header's");
    assert_eq!(span.parent_span_id, ids(READ_PARENT).1, "the caller's span is the parent");
    assert_eq!(span.name, "GET /api/v1/python-package-index");
    assert_eq!(span.kind, SpanKind::Server as i32);
    assert_eq!(text(&span.attributes, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(text(&span.attributes, "http.route").as_deref(), Some("/api/v1/python-package-index"));
    assert_eq!(number(&span.attributes, "http.response.status_code"), Some(200));
    let (_, span) = spans.iter().find(|(_, span)| span.span_id == ids(&write).1).expect("the write request's span");
    assert_eq!((span.trace_id.clone(), span.parent_span_id.clone()), ids(WRITE_PARENT));
    assert_eq!(number(&span.attributes, "http.response.status_code"), Some(201));

    let raw = collector.raw_bodies();
    assert!(raw.windows(16).any(|window| window == ids(READ_PARENT).0.as_slice()), "the trace id's raw bytes");
    assert!(raw.windows(18).any(|window| window == b"thoth-investigator"), "the service name");
    assert!(
        !spans.iter().any(|(_, span)| span.name.contains("_health")),
        "the readiness probe is not traced: {:?}",
        spans.iter().map(|(_, span)| &span.name).collect::<Vec<_>>()
    );
    if !environment::test_log() {
        assert!(service.log_text().contains("exporting spans over OTLP/HTTP"), "{}", service.log_text());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn spans_still_queued_are_exported_when_the_service_stops() {
    let collector = Collector::start().await;
    let database = TestDatabase::create().await;
    let service = service(
        &database,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()),
            ("OTEL_BSP_SCHEDULE_DELAY", "600000".to_owned()),
            ("OTEL_SERVICE_NAME", "investigator-under-test".to_owned()),
            // Spans are exported whatever the logs keep.
            ("RUST_LOG", "warn".to_owned()),
        ],
    )
    .await;
    let (status, traceparent) =
        request(&service, reqwest::Method::GET, "/api/v1/python-package-index", &[("traceparent", READ_PARENT)], "")
            .await;
    assert_eq!(status, 200);
    let traceparent = traceparent.expect("a traceparent response header");
    assert!(collector.spans().is_empty(), "nothing is sent before the (long) schedule delay");

    assert_eq!(service.stop().await, Some(0), "a clean stop");
    let spans = collector.spans();
    let exported = spans.iter().find(|(_, span)| span.span_id == ids(&traceparent).1);
    let (service_name, span) = exported.expect("the queued span is exported on SIGTERM");
    assert_eq!(service_name.as_deref(), Some("investigator-under-test"), "OTEL_SERVICE_NAME is honoured");
    assert_eq!(span.trace_id, ids(READ_PARENT).0);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_endpoint_nothing_is_exported_yet_traces_are_continued() {
    let collector = Collector::start().await;
    // The SDK's default endpoint, when nobody else holds it: no connection may arrive there either.
    let default_port = tokio::net::TcpListener::bind("127.0.0.1:4318").await.ok().map(Collector::serve);
    let database = TestDatabase::create().await;
    // What tunes the exporter, but no endpoint.
    let service = service(
        &database,
        &[("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()), ("OTEL_EXPORTER_OTLP_TIMEOUT", "500".to_owned())],
    )
    .await;

    let authorization = format!("Bearer {TOKEN}");
    for attempt in 0..5 {
        let (status, traceparent) =
            request(&service, reqwest::Method::GET, "/api/v1/status", &[("traceparent", READ_PARENT)], "").await;
        assert_eq!(status, 200);
        let traceparent = traceparent.expect("a traceparent response header without export too");
        assert_eq!(trace_id(&traceparent), trace_id(READ_PARENT));
        let body = format!(r#"{{"url": "https://example.org/simple-{attempt}"}}"#);
        let (status, write) = request(
            &service,
            reqwest::Method::POST,
            "/api/v1/python/package-index",
            &[("authorization", &authorization), ("content-type", "application/json")],
            &body,
        )
        .await;
        assert_eq!(status, 201);
        assert!(write.is_some(), "a new trace for a caller without one");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    assert_eq!(collector.connections.load(Ordering::SeqCst), 0, "no connection to a collector");
    if let Some(default_port) = default_port {
        assert_eq!(default_port.connections.load(Ordering::SeqCst), 0, "nor to the default OTLP port");
    }
    assert!(!service.log_text().contains("exporting spans"), "{}", service.log_text());
    let traced: i64 = database
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM investigator.event_log
             WHERE event_type = 'IndexRegistered' AND metadata ->> 'traceparent' IS NOT NULL",
            &[],
        )
        .await
        .expect("the event log")
        .get(0);
    assert_eq!(traced, 5, "every appended event carries its request's trace context");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collector_that_is_down_slows_nothing_and_the_service_still_stops_promptly() {
    // A port that was free a moment ago: connections to it are refused.
    let down = investigator_tests::free_address();
    let database = TestDatabase::create().await;
    let endpoint = format!("http://{down}");
    let service = service(
        &database,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()), ("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned())],
    )
    .await;

    for _ in 0..20 {
        let started = Instant::now();
        let (status, traceparent) = request(
            &service,
            reqwest::Method::GET,
            "/api/v1/python-package-index",
            &[("traceparent", READ_PARENT)],
            "",
        )
        .await;
        assert_eq!(status, 200);
        assert!(traceparent.is_some());
        assert!(started.elapsed() < Duration::from_secs(2), "a request took {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !environment::test_log() {
        eventually("the failed export reported", Duration::from_secs(10), || async {
            service.log_text().contains("spans cannot be exported")
        })
        .await;
        let log = service.log_text();
        let warnings = log.lines().filter(|line| line.contains("spans cannot be exported")).count();
        assert_eq!(warnings, 1, "one warning, not one per batch: {log}");
        assert!(!log.contains("ERROR"), "{log}");
    }
    let stopping = Instant::now();
    assert_eq!(service.stop().await, Some(0), "a clean stop");
    assert!(stopping.elapsed() < Duration::from_secs(15), "the stop took {:?}", stopping.elapsed());

    let mut env = database.vars();
    env.extend(no_inherited_otel());
    env.push(("OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(), endpoint));
    let started = Instant::now();
    let migrated = investigator(&["migrate"], &env).await;
    assert_eq!(migrated.code, Some(0), "{}", migrated.stderr);
    assert!(started.elapsed() < Duration::from_secs(15), "a one-off command took {:?}", started.elapsed());
}
