//! Trace export settings: OpenTelemetry's standard `OTEL_*` variables.
//!
//! Read here: whether to export (`OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER`, the endpoint
//! variables), the protocol (HTTP/protobuf is the only one built in), the service name and the
//! resource attributes; `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` are checked here
//! and applied by the SDK, as is `OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION` (only `none` is
//! built in). The SDK itself reads the exporter's headers and timeout
//! (`OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`, `_TIMEOUT`) and the batch processor's `OTEL_BSP_*`,
//! and only when an endpoint is set.

use super::Reader;

/// The service name when neither `OTEL_SERVICE_NAME` nor a `service.name` resource attribute
/// gives one.
pub const DEFAULT_SERVICE_NAME: &str = "thoth-investigator";

const SAMPLERS: &[&str] = &[
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
];

/// Where and as what spans are exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetrySettings {
    /// The OTLP/HTTP traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, or
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` followed by `/v1/traces`. `None` (nothing is exported,
    /// no exporter is built) when neither is set, or `OTEL_SDK_DISABLED` is `true`, or
    /// `OTEL_TRACES_EXPORTER` is `none`.
    pub traces_endpoint: Option<String>,
    /// `OTEL_SERVICE_NAME`, else the `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else
    /// [`DEFAULT_SERVICE_NAME`].
    pub service_name: String,
    /// `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs, comma-separated, values percent-decoded.
    pub resource_attributes: Vec<(String, String)>,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            traces_endpoint: None,
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
            resource_attributes: Vec::new(),
        }
    }
}

impl Reader<'_> {
    pub(super) fn telemetry(&mut self) -> TelemetrySettings {
        let disabled = self.boolean("OTEL_SDK_DISABLED").unwrap_or(false);
        let exporter_none = self.traces_exporter_is_none();
        self.protocol("OTEL_EXPORTER_OTLP_PROTOCOL");
        self.protocol("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
        self.uncompressed("OTEL_EXPORTER_OTLP_COMPRESSION");
        self.uncompressed("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION");
        self.sampler();
        let endpoint = match self.url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            Some(endpoint) => Some(endpoint),
            None => {
                self.url("OTEL_EXPORTER_OTLP_ENDPOINT").map(|base| format!("{}/v1/traces", base.trim_end_matches('/')))
            }
        };
        let resource_attributes = self.resource_attributes();
        let service_name = self
            .text("OTEL_SERVICE_NAME")
            .or_else(|| {
                resource_attributes.iter().find(|(key, _)| key == "service.name").map(|(_, value)| value.clone())
            })
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        TelemetrySettings {
            traces_endpoint: endpoint.filter(|_| !disabled && !exporter_none),
            service_name,
            resource_attributes,
        }
    }

    /// `true` or `false`, in any case.
    fn boolean(&mut self, variable: &'static str) -> Option<bool> {
        let value = self.text(variable)?;
        match value.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.problem(variable, format!("'{value}' is neither true nor false"));
                None
            }
        }
    }

    /// Whether `OTEL_TRACES_EXPORTER` says `none`; `otlp` (the default) is the only exporter.
    fn traces_exporter_is_none(&mut self) -> bool {
        const VARIABLE: &str = "OTEL_TRACES_EXPORTER";
        let Some(value) = self.text(VARIABLE) else {
            return false;
        };
        let mut none = false;
        for name in value.split(',').map(str::trim) {
            match name {
                "otlp" => {}
                "none" => none = true,
                other => self.problem(VARIABLE, format!("'{other}' is not a traces exporter: 'otlp' or 'none'")),
            }
        }
        none
    }

    fn protocol(&mut self, variable: &'static str) {
        if let Some(protocol) = self.text(variable)
            && protocol.trim() != "http/protobuf"
        {
            self.problem(variable, format!("'{protocol}' is not supported: this build exports http/protobuf only"));
        }
    }

    /// No compression codec is built in (the SDK reads the variable, and would refuse one).
    fn uncompressed(&mut self, variable: &'static str) {
        if let Some(compression) = self.text(variable)
            && compression.trim() != "none"
        {
            self.problem(variable, format!("'{compression}' is not supported: this build sends uncompressed"));
        }
    }

    /// Checked here so that a mistake stops the start; the SDK applies the sampler.
    fn sampler(&mut self) {
        let sampler = self.one_of("OTEL_TRACES_SAMPLER", SAMPLERS, true);
        let Some(argument) = self.text("OTEL_TRACES_SAMPLER_ARG") else {
            return;
        };
        let ratio = argument.trim().parse::<f64>().ok().filter(|ratio| (0.0..=1.0).contains(ratio));
        if sampler.is_some_and(|sampler| sampler.ends_with("traceidratio")) && ratio.is_none() {
            self.problem("OTEL_TRACES_SAMPLER_ARG", format!("'{argument}' is not a ratio between 0 and 1"));
        }
    }

    /// An `http://` or `https://` URL with a host.
    fn url(&mut self, variable: &'static str) -> Option<String> {
        let value = self.text(variable)?;
        let value = value.trim().to_owned();
        let usable = value.parse::<actix_web::http::Uri>().is_ok_and(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some_and(|host| !host.is_empty())
        });
        if usable {
            Some(value)
        } else {
            self.problem(variable, format!("'{value}' is not an http:// or https:// URL"));
            None
        }
    }

    fn resource_attributes(&mut self) -> Vec<(String, String)> {
        const VARIABLE: &str = "OTEL_RESOURCE_ATTRIBUTES";
        let Some(value) = self.text(VARIABLE) else {
            return Vec::new();
        };
        let mut attributes = Vec::new();
        for entry in value.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            let pair = entry
                .split_once('=')
                .map(|(key, value)| (key.trim(), value.trim()))
                .filter(|(key, _)| !key.is_empty())
                .and_then(|(key, value)| Some((key.to_owned(), percent_decoded(value)?)));
            match pair {
                Some(pair) => attributes.push(pair),
                None => self.problem(VARIABLE, format!("'{entry}' is not key=value (values percent-encoded)")),
            }
        }
        attributes
    }
}

/// `%XX` sequences decoded (the W3C baggage encoding the specification asks for); `None` when a
/// sequence is broken or the result is not UTF-8.
fn percent_decoded(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(byte);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use crate::settings::{Settings, SettingsError};

    use super::*;

    fn telemetry(vars: &[(&str, &str)]) -> Result<TelemetrySettings, SettingsError> {
        Settings::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
            .map(|settings| settings.telemetry)
    }

    #[test]
    fn nothing_is_exported_without_an_endpoint() {
        let settings = telemetry(&[("OTEL_SERVICE_NAME", "x"), ("OTEL_TRACES_SAMPLER", "always_on")]).expect("valid");
        assert_eq!(settings.traces_endpoint, None);
        assert_eq!(telemetry(&[]).expect("valid"), TelemetrySettings::default());
        assert_eq!(TelemetrySettings::default().service_name, "thoth-investigator");
    }

    #[test]
    fn the_endpoint_gets_the_traces_path_and_the_signal_endpoint_is_taken_as_it_is() {
        let base = telemetry(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")]).expect("valid");
        assert_eq!(base.traces_endpoint.as_deref(), Some("http://collector:4318/v1/traces"));
        let signal = telemetry(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://traces.example.org/otlp"),
        ])
        .expect("valid");
        assert_eq!(signal.traces_endpoint.as_deref(), Some("https://traces.example.org/otlp"));
    }

    #[test]
    fn disabling_wins_over_an_endpoint() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        for off in [("OTEL_SDK_DISABLED", "TRUE"), ("OTEL_TRACES_EXPORTER", "none")] {
            assert_eq!(telemetry(&[endpoint, off]).expect("valid").traces_endpoint, None, "{off:?}");
        }
        let on = telemetry(&[endpoint, ("OTEL_SDK_DISABLED", "false"), ("OTEL_TRACES_EXPORTER", "otlp")]);
        assert!(on.expect("valid").traces_endpoint.is_some());
    }

    #[test]
    fn the_service_name_comes_from_its_variable_then_from_the_resource_attributes() {
        let attributes =
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes, deployment.environment=ocp4%2Dstage");
        let settings = telemetry(&[attributes]).expect("valid");
        assert_eq!(settings.service_name, "from-attributes");
        assert_eq!(
            settings.resource_attributes,
            [
                ("service.name".to_owned(), "from-attributes".to_owned()),
                ("deployment.environment".to_owned(), "ocp4-stage".to_owned())
            ]
        );
        let named = telemetry(&[attributes, ("OTEL_SERVICE_NAME", "from-name")]).expect("valid");
        assert_eq!(named.service_name, "from-name");
    }

    #[test]
    fn every_otel_problem_is_reported_with_its_variable() {
        let error = telemetry(&[
            ("OTEL_SDK_DISABLED", "maybe"),
            ("OTEL_TRACES_EXPORTER", "jaeger"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "2"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=thoth,broken,bad=%zz"),
        ])
        .expect_err("invalid");
        let variables: Vec<_> = error.0.iter().map(|problem| problem.variable).collect();
        assert_eq!(
            variables,
            [
                "OTEL_SDK_DISABLED",
                "OTEL_TRACES_EXPORTER",
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
                "OTEL_TRACES_SAMPLER_ARG",
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "OTEL_RESOURCE_ATTRIBUTES",
                "OTEL_RESOURCE_ATTRIBUTES"
            ]
        );
    }

    #[test]
    fn percent_decoding_refuses_broken_sequences() {
        assert_eq!(percent_decoded("a%20b%C3%A9").as_deref(), Some("a bé"));
        assert_eq!(percent_decoded("50%"), None);
        assert_eq!(percent_decoded("%ff"), None, "not UTF-8");
    }
}
