//! Logging: `tracing` to standard error, filtered by `RUST_LOG`.
//!
//! Whatever `RUST_LOG` says, the PostgreSQL driver's statement logging stays at `info`: at
//! `debug` it prints every query's parameters, registry credentials included.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// Keeps `tokio_postgres::query` (which logs parameters at `debug`) at `info`.
const NO_QUERY_PARAMETERS: &str = "tokio_postgres::query=info";

/// Installs the subscriber once, writing text lines; later calls (tests) leave the first one
/// in place.
pub fn init(filter: &str) {
    init_as(filter, LogFormat::Text);
}

/// Installs the subscriber once, writing `format`.
pub fn init_as(filter: &str, format: LogFormat) {
    let (filter, invalid) = match EnvFilter::try_new(filter) {
        Ok(filter) => (filter, None),
        Err(error) => (EnvFilter::new("info"), Some(error)),
    };
    let filter = filter.add_directive(NO_QUERY_PARAMETERS.parse().unwrap_or_default());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init().is_ok(),
        LogFormat::Json => builder.json().with_current_span(true).try_init().is_ok(),
    };
    if let (true, Some(error)) = (installed, invalid) {
        tracing::warn!(%error, "RUST_LOG is not a valid filter; logging at info");
    }
}
