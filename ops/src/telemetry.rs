//! Logging and traces: `tracing` to standard error, filtered by `RUST_LOG`; and, only when an
//! OTLP endpoint is configured ([`TelemetrySettings`]), spans exported over OTLP/HTTP
//! (protobuf). Without an endpoint no exporter is built and nothing leaves the process.
//!
//! Whatever `RUST_LOG` says, the PostgreSQL driver's statement logging stays at `info`: at
//! `debug` it prints every query's parameters, registry credentials included.
//!
//! Export never holds the service up: finished spans wait in the SDK's batch processor (a
//! bounded queue, `OTEL_BSP_MAX_QUEUE_SIZE`, 2048 by default; spans beyond it are dropped)
//! and go out from the processor's own thread. When the collector does not answer, one
//! warning says so, and one line says when exports succeed again.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::settings::{LogFormat, Settings, TelemetrySettings};

/// Keeps `tokio_postgres::query` (which logs parameters at `debug`) at `info`.
const NO_QUERY_PARAMETERS: &str = "tokio_postgres::query=info";
/// The instrumentation scope of the investigator's spans.
const TRACER: &str = "investigator";
/// How long the exit waits for the last spans to be exported.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The installed telemetry. [`Telemetry::shutdown`] before the process exits exports the
/// spans still queued.
#[must_use = "shut telemetry down before exiting, or the last spans are lost"]
#[derive(Debug)]
pub struct Telemetry {
    /// Present only while spans are exported.
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports what is queued (waiting at most 5 s) and stops exporting.
    pub fn shutdown(self) {
        let Some(provider) = self.provider else {
            return;
        };
        if let Err(error) = provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT) {
            tracing::warn!(%error, "the last spans could not be exported");
        }
    }
}

/// Installs the subscriber once, writing text lines and exporting nothing; later calls
/// (tests) leave the first one in place.
pub fn init(filter: &str) {
    init_as(filter, LogFormat::Text);
}

/// Installs the subscriber once, writing `format` and exporting nothing.
pub fn init_as(filter: &str, format: LogFormat) {
    install_with(filter, format, &TelemetrySettings::default()).shutdown();
}

/// Installs the subscriber once, as `settings` say: logs, and spans exported when an OTLP
/// endpoint is set.
pub fn install(settings: &Settings) -> Telemetry {
    install_with(&settings.log_filter, settings.log_format, &settings.telemetry)
}

fn install_with(filter: &str, format: LogFormat, telemetry: &TelemetrySettings) -> Telemetry {
    let (filter, invalid) = match EnvFilter::try_new(filter) {
        Ok(filter) => (filter, None),
        Err(error) => (EnvFilter::new("info"), Some(error)),
    };
    let filter = filter.add_directive(NO_QUERY_PARAMETERS.parse().unwrap_or_default());
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .boxed(),
        LogFormat::Json => {
            tracing_subscriber::fmt::layer().json().with_current_span(true).with_writer(std::io::stderr).boxed()
        }
    }
    .with_filter(filter);

    let (provider, unbuilt) = match telemetry.traces_endpoint.as_deref() {
        Some(endpoint) => match tracer_provider(endpoint, telemetry) {
            Ok(provider) => (Some(provider), None),
            Err(error) => (None, Some((endpoint, error))),
        },
        None => (None, None),
    };
    // Spans are exported at `info` and above whatever `RUST_LOG` keeps in the logs.
    let spans = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(TRACER)).with_filter(LevelFilter::INFO)
    });
    let installed = tracing_subscriber::registry().with(spans).with(logs).try_init().is_ok();
    if !installed {
        if let Some(provider) = provider {
            let _ = provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT);
        }
        return Telemetry { provider: None };
    }

    if let Some(error) = invalid {
        tracing::warn!(%error, "RUST_LOG is not a valid filter; logging at info");
    }
    if let Some((endpoint, error)) = unbuilt {
        tracing::warn!(endpoint, %error, "the trace exporter cannot be built; no spans are exported");
    }
    if provider.is_some() {
        tracing::info!(
            endpoint = telemetry.traces_endpoint.as_deref(),
            service_name = %telemetry.service_name,
            "exporting spans over OTLP/HTTP"
        );
    }
    Telemetry { provider }
}

/// A provider exporting to `endpoint` through the SDK's batch processor (configured by
/// `OTEL_BSP_*`), sampling as `OTEL_TRACES_SAMPLER` says (parent-based, always on, by default).
fn tracer_provider(
    endpoint: &str,
    telemetry: &TelemetrySettings,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    // The builder adds `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`, `_TIMEOUT` and `_COMPRESSION`.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .build()?;
    let resource = Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(
            telemetry.resource_attributes.iter().map(|(key, value)| KeyValue::new(key.clone(), value.clone())),
        )
        .with_service_name(telemetry.service_name.clone())
        .build();
    let exporter = Reported { exporter, endpoint: endpoint.to_owned(), failing: AtomicBool::new(false) };
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}

/// An exporter that logs when exports start failing (at `warn`, once) and when they succeed
/// again, instead of an error line per batch.
#[derive(Debug)]
struct Reported<E> {
    exporter: E,
    endpoint: String,
    failing: AtomicBool,
}

impl<E: SpanExporter> SpanExporter for Reported<E> {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        let spans = batch.len();
        let export = self.exporter.export(batch);
        async move {
            let result = export.await;
            match &result {
                Ok(()) => {
                    if self.failing.swap(false, Ordering::Relaxed) {
                        tracing::info!(endpoint = %self.endpoint, "spans are exported again");
                    }
                }
                Err(error) => {
                    if !self.failing.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            endpoint = %self.endpoint,
                            spans,
                            %error,
                            "spans cannot be exported; they are dropped until the collector answers"
                        );
                    }
                }
            }
            result
        }
    }

    fn shutdown_with_timeout(&mut self, timeout: Duration) -> OTelSdkResult {
        self.exporter.shutdown_with_timeout(timeout)
    }

    fn force_flush(&mut self) -> OTelSdkResult {
        self.exporter.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.exporter.set_resource(resource);
    }
}
