//! Secure by default, end to end: control over HTTP needs the token (`http_control`); hostile
//! input from the network: index URLs that point inward, and memory bombs (an index streaming
//! an endless page, advisory archives, log archives, document uploads).
//! Each bomb's peak memory is measured on the real process (`VmHWM` of `serve`, or GNU time's
//! report for a command) and must stay under [`MEMORY_CEILING_MIB`]; the figures are printed
//! (`--no-capture` shows them) and kept in RELIABILITY.md.

mod advisories;
mod archives;
mod http_control;

mod index_urls;
mod listing;
mod uploads;

/// The most memory a bomb may take the process to. The Deployment allows 1 GiB; the
/// service idles at some 30–60 MiB.
pub const MEMORY_CEILING_MIB: f64 = 300.0;

/// The `code` of an API error body.
pub fn code(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|json| json["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}
