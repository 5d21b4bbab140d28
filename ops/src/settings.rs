//! Configuration: one typed struct, from defaults and environment variables, using Thoth's
//! variable names wherever Thoth has one. This is the only module that reads the environment.
//!
//! Every problem is collected and reported at once, naming the variable.

use investigator_events::excerpt::excerpt;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use investigator_actors::kafka::{ConsumerAssignment, KafkaSettings, Secret, TopicSettings};
use investigator_core::network::NetworkAllowance;
use investigator_events::thoth::{ConsumerMode, TopicNaming};
use investigator_projections::Database;

mod http_access;
mod learning;
mod numbers;
mod replica;
mod service;
mod telemetry;

pub use http_access::HttpAccess;
pub use numbers::{NUMERIC_SETTINGS, NumberForm, NumericSetting};
pub use service::{Launcher, ServiceSettings};
pub use telemetry::{DEFAULT_SERVICE_NAME, TelemetrySettings};

/// Everything the investigator is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Topic naming from `THOTH_DEPLOYMENT_NAME`.
    pub naming: TopicNaming,
    /// `THOTH_CONSUMER_MODE`: a JSON list or a single word; `["middletier", "backend"]` by default.
    pub consumer_modes: Vec<ConsumerMode>,
    /// Kafka clients, when `KAFKA_BOOTSTRAP_SERVERS` is set.
    pub kafka: Option<KafkaSettings>,
    /// Settings for topics the investigator creates (`KAFKA_TOPIC_*`).
    pub topics: TopicSettings,
    /// `DATABASE_URL`, when set; otherwise a private server under `data_directory`.
    pub database_url: Option<Secret>,
    /// `INVESTIGATOR_DATA_DIR`: where the private PostgreSQL server lives when there is no
    /// `DATABASE_URL` (`/var/lib/investigator` for root, else `$XDG_DATA_HOME/investigator` or
    /// `~/.local/share/investigator`).
    pub data_directory: std::path::PathBuf,
    /// `INVESTIGATOR_POSTGRES_BIN`: the PostgreSQL server's programs, when not in Debian's
    /// place or on `pg_config --bindir`.
    pub postgres_bin: Option<std::path::PathBuf>,
    /// `INVESTIGATOR_POSTGRES_LISTEN`: the addresses the private server also listens on over
    /// TCP (`listen_addresses`: IP addresses, `localhost` or `*`, comma-separated); unset, it
    /// listens on its Unix socket only. Connections need its password either way.
    pub postgres_listen: Option<String>,
    /// The `tracing` filter (`RUST_LOG`), `info` by default.
    pub log_filter: String,
    /// `INVESTIGATOR_LOG_FORMAT`: `text` (the default) or `json` (one object per line).
    pub log_format: LogFormat,
    /// What `serve` needs besides the above.
    pub service: ServiceSettings,
    /// Trace export (`OTEL_*`): off unless an OTLP endpoint is set.
    pub telemetry: TelemetrySettings,
    /// `INVESTIGATOR_ALLOW_PRIVATE_NETWORKS`: the special address ranges (loopback, private,
    /// link-local...) that requests to indexes and advisory sources may reach after all, and
    /// that the admin API accepts in an index URL; none by default.
    pub allowed_networks: NetworkAllowance,
    /// `INVESTIGATOR_ARCHIVE_KEY`: when set, `events export` signs archives with an
    /// HMAC-SHA256 under this key, and `events import` refuses an archive without a valid
    /// signature. Never printed.
    pub archive_key: Option<Secret>,
}

/// One setting that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong with its value.
    pub problem: String,
}

/// Every setting that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SettingsError(pub Vec<SettingProblem>);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration:")?;
        for SettingProblem { variable, problem } in &self.0 {
            write!(f, "\n  {variable}: {problem}")?;
        }
        Ok(())
    }
}

const SECURITY_PROTOCOLS: &[&str] = &["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"];
/// GSSAPI (Kerberos) needs a build with Cyrus SASL, which this one is not.
const SASL_MECHANISMS: &[&str] = &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"];
const OFFSET_RESETS: &[&str] = &["smallest", "earliest", "beginning", "largest", "latest", "end", "error"];
const COMPRESSION_TYPES: &[&str] = &["uncompressed", "producer", "gzip", "snappy", "lz4", "zstd"];

impl Settings {
    /// Reads the process environment. A variable whose value is not UTF-8 is a problem only if
    /// it is one we read.
    pub fn from_env() -> Result<Self, SettingsError> {
        let mut vars = HashMap::new();
        for (name, value) in std::env::vars_os() {
            if let Ok(name) = name.into_string() {
                vars.insert(name, value.into_string().ok());
            }
        }
        Settings::read(&vars)
    }

    /// Reads the given variables, as if they were the environment.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, SettingsError> {
        let vars: HashMap<String, Option<String>> = vars.into_iter().map(|(name, value)| (name, Some(value))).collect();
        Settings::read(&vars)
    }

    /// `None` values stand for values that are not UTF-8.
    fn read(vars: &HashMap<String, Option<String>>) -> Result<Self, SettingsError> {
        let mut reader = Reader { vars, problems: Vec::new(), numbers_read: Vec::new() };
        let settings = reader.settings();
        if reader.problems.is_empty() { Ok(settings) } else { Err(SettingsError(reader.problems)) }
    }

    /// The numeric variables reading `vars` looks at, set or not.
    #[cfg(test)]
    fn numbers_read(vars: &HashMap<String, Option<String>>) -> Vec<&'static str> {
        let mut reader = Reader { vars, problems: Vec::new(), numbers_read: Vec::new() };
        reader.settings();
        reader.numbers_read
    }

    /// `DATABASE_URL`, or an error saying how to give it.
    pub fn require_database_url(&self) -> Result<&Secret, SettingsError> {
        self.database_url.as_ref().ok_or_else(|| {
            SettingsError(vec![SettingProblem {
                variable: "DATABASE_URL",
                problem: "not set; this command needs a PostgreSQL database (for example \
                          postgresql://postgres@127.0.0.1:5432/thoth)"
                    .to_owned(),
            }])
        })
    }

    /// The Kafka settings, or an error saying how to give them.
    pub fn require_kafka(&self) -> Result<&KafkaSettings, SettingsError> {
        self.kafka.as_ref().ok_or_else(|| {
            SettingsError(vec![SettingProblem {
                variable: "KAFKA_BOOTSTRAP_SERVERS",
                problem: "not set; this command needs a Kafka cluster (for example 127.0.0.1:9092)".to_owned(),
            }])
        })
    }
}

struct Reader<'a> {
    vars: &'a HashMap<String, Option<String>>,
    problems: Vec<SettingProblem>,
    /// Every numeric variable looked at, for the test that each has its range.
    numbers_read: Vec<&'static str>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for log collectors).
    Json,
}

impl Reader<'_> {
    /// Every setting; the problems met on the way are in `self.problems`.
    fn settings(&mut self) -> Settings {
        Settings {
            naming: self.naming(),
            consumer_modes: self.consumer_modes(),
            kafka: self.kafka(),
            topics: TopicSettings {
                compression_type: self.one_of("KAFKA_TOPIC_PRODUCER_COMPRESSION_TYPE", COMPRESSION_TYPES, false),
                compression_level: self.bounded(&numbers::KAFKA_TOPIC_PRODUCER_COMPRESSION_LEVEL),
            },
            database_url: self.database_url(),
            data_directory: self.data_directory(),
            postgres_bin: self.text("INVESTIGATOR_POSTGRES_BIN").map(std::path::PathBuf::from),
            postgres_listen: self.postgres_listen(),
            log_filter: self.text("RUST_LOG").unwrap_or_else(|| "info".to_owned()),
            log_format: self.log_format(),
            service: self.service(),
            telemetry: self.telemetry(),
            allowed_networks: self.allowed_networks(),
            archive_key: self.text("INVESTIGATOR_ARCHIVE_KEY").map(Secret::new),
        }
    }

    fn allowed_networks(&mut self) -> NetworkAllowance {
        const VARIABLE: &str = "INVESTIGATOR_ALLOW_PRIVATE_NETWORKS";
        let Some(value) = self.text(VARIABLE) else {
            return NetworkAllowance::none();
        };
        match NetworkAllowance::parse(&value) {
            Ok(allowance) => allowance,
            Err(error) => {
                self.problem(VARIABLE, error.to_string());
                NetworkAllowance::none()
            }
        }
    }

    fn log_format(&mut self) -> LogFormat {
        match self.text("INVESTIGATOR_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                self.problem("INVESTIGATOR_LOG_FORMAT", format!("'{other}' is not a log format: 'text' or 'json'"));
                LogFormat::Text
            }
        }
    }

    fn postgres_listen(&mut self) -> Option<String> {
        const VARIABLE: &str = "INVESTIGATOR_POSTGRES_LISTEN";
        let value = self.text(VARIABLE)?;
        let addresses: Vec<&str> = value.split(',').map(str::trim).filter(|address| !address.is_empty()).collect();
        let valid =
            |address: &&str| matches!(*address, "*" | "localhost") || address.parse::<std::net::IpAddr>().is_ok();
        if let Some(bad) = addresses.iter().find(|address| !valid(address)) {
            self.problem(VARIABLE, format!("'{bad}' is not an IP address, localhost or *"));
            return None;
        }
        Some(addresses.join(","))
    }

    fn problem(&mut self, variable: &'static str, problem: impl Into<String>) {
        self.problems.push(SettingProblem { variable, problem: problem.into() });
    }

    /// The value as set, empty or not; a value that is not UTF-8 is a problem.
    fn raw(&mut self, variable: &'static str) -> Option<String> {
        match self.vars.get(variable) {
            Some(Some(value)) => Some(value.clone()),
            Some(None) => {
                self.problem(variable, "the value is not valid UTF-8");
                None
            }
            None => None,
        }
    }

    /// A set, non-empty value (thoth-messaging treats an empty value as unset).
    fn text(&mut self, variable: &'static str) -> Option<String> {
        self.raw(variable).filter(|value| !value.is_empty())
    }

    fn one_of(&mut self, variable: &'static str, allowed: &[&str], case_sensitive: bool) -> Option<String> {
        let value = self.text(variable)?;
        let matches = |candidate: &&str| {
            if case_sensitive { **candidate == value } else { candidate.eq_ignore_ascii_case(&value) }
        };
        if allowed.iter().any(matches) {
            Some(value)
        } else {
            self.problem(variable, format!("'{}' is not one of {}", excerpt(&value), allowed.join(", ")));
            None
        }
    }

    fn existing_file(&mut self, variable: &'static str) -> Option<String> {
        let path = self.text(variable)?;
        let readable = Path::new(&path).is_file() && std::fs::File::open(&path).is_ok();
        if !readable {
            self.problem(variable, format!("'{path}' is not a readable file"));
        }
        Some(path)
    }

    fn data_directory(&mut self) -> std::path::PathBuf {
        if let Some(directory) = self.text("INVESTIGATOR_DATA_DIR") {
            return directory.into();
        }
        // Root's home is closed to the `postgres` user the private server runs as.
        if crate::embedded_postgres::is_root() {
            return "/var/lib/investigator".into();
        }
        match (self.text("XDG_DATA_HOME"), self.text("HOME")) {
            (Some(data), _) => std::path::Path::new(&data).join("investigator"),
            (None, Some(home)) => std::path::Path::new(&home).join(".local/share/investigator"),
            (None, None) => "/var/tmp/investigator".into(),
        }
    }

    fn database_url(&mut self) -> Option<Secret> {
        let url = self.text("DATABASE_URL")?;
        if let Err(error) = Database::check_url(&url) {
            self.problem("DATABASE_URL", error.to_string());
        }
        Some(Secret::new(url))
    }

    fn naming(&mut self) -> TopicNaming {
        // Thoth prefixes whenever the variable is set, even to the empty string.
        let deployment_name = self.raw("THOTH_DEPLOYMENT_NAME");
        match TopicNaming::new(deployment_name) {
            Ok(naming) => naming,
            Err(error) => {
                self.problem("THOTH_DEPLOYMENT_NAME", error.to_string());
                TopicNaming::default()
            }
        }
    }

    fn consumer_modes(&mut self) -> Vec<ConsumerMode> {
        const VARIABLE: &str = "THOTH_CONSUMER_MODE";
        let default = vec![ConsumerMode::Middletier, ConsumerMode::Backend];
        let Some(value) = self.text(VARIABLE) else {
            return default;
        };
        let names: Vec<String> = if value.trim_start().starts_with('[') {
            match serde_json::from_str(&value) {
                Ok(names) => names,
                Err(error) => {
                    self.problem(
                        VARIABLE,
                        format!("'{value}' is neither a mode name nor a JSON list of mode names: {error}"),
                    );
                    return default;
                }
            }
        } else {
            vec![value.trim().to_owned()]
        };
        if names.is_empty() {
            self.problem(VARIABLE, "the list of modes is empty");
            return default;
        }
        let mut modes = Vec::new();
        for name in names {
            match name.parse::<ConsumerMode>() {
                Ok(mode) if !modes.contains(&mode) => modes.push(mode),
                Ok(_) => {}
                Err(error) => self.problem(VARIABLE, error.to_string()),
            }
        }
        modes
    }

    fn kafka(&mut self) -> Option<KafkaSettings> {
        let bootstrap_servers = self.text("KAFKA_BOOTSTRAP_SERVERS")?;
        let mut kafka = KafkaSettings::new(bootstrap_servers);
        kafka.client_id = self.text("KAFKA_CLIENT_ID");
        kafka.message_max_bytes = self.bounded(&numbers::KAFKA_MESSAGE_MAX_BYTES);
        kafka.receive_message_max_bytes = self.bounded(&numbers::KAFKA_RECEIVE_MESSAGE_MAX_BYTES);
        kafka.security_protocol = self.one_of("KAFKA_SECURITY_PROTOCOL", SECURITY_PROTOCOLS, false);
        kafka.ssl_certificate_location = self.existing_file("KAFKA_SSL_CERTIFICATE_LOCATION");
        kafka.ssl_ca_location = self.existing_file("KAFKA_SSL_CA_LOCATION");
        kafka.ssl_endpoint_identification_algorithm =
            self.one_of("KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM", &["none", "https"], false);
        kafka.ssl_key_location = self.existing_file("KAFKA_SSL_KEY_LOCATION");
        kafka.ssl_key_password = self.text("KAFKA_SSL_KEY_PASSWORD").map(Secret::new);
        kafka.sasl_mechanism = self.one_of("KAFKA_SASL_MECHANISM", SASL_MECHANISMS, true);
        kafka.sasl_username = self.text("KAFKA_SASL_USERNAME");
        kafka.sasl_password = self.text("KAFKA_SASL_PASSWORD").map(Secret::new);
        if let Some(group) = self.text("KAFKA_CONSUMER_GROUP_ID") {
            kafka.consumer_group_id = group;
        }
        kafka.consumer_group_instance_id = self.text("KAFKA_CONSUMER_GROUP_INSTANCE_ID");
        kafka.consumer_max_poll_interval_ms = self.bounded(&numbers::KAFKA_CONSUMER_MAX_POLL_INTERVAL_MS);
        kafka.consumer_auto_offset_reset = self.one_of("KAFKA_CONSUMER_AUTO_OFFSET_RESET", OFFSET_RESETS, true);
        kafka.consumer_session_timeout_ms = self.bounded(&numbers::KAFKA_CONSUMER_SESSION_TIMEOUT_MS);
        kafka.consumer_heartbeat_interval_ms = self.bounded(&numbers::KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS);
        if let Some(name) = self.one_of("INVESTIGATOR_KAFKA_ASSIGNMENT", &ConsumerAssignment::NAMES, false)
            && let Some(assignment) = ConsumerAssignment::from_name(&name.to_ascii_lowercase())
        {
            kafka.consumer_assignment = assignment;
        }
        if let Some(seconds) = self.bounded::<u64>(&numbers::INVESTIGATOR_KAFKA_STARTUP_TIMEOUT_S) {
            kafka.startup_timeout = std::time::Duration::from_secs(seconds);
        }
        Some(kafka)
    }
}

#[cfg(test)]
mod tests {
    use investigator_events::thoth::MessageKind;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
    }

    #[test]
    fn defaults_follow_thoth() {
        let settings = settings(&[]).expect("no variables is valid");
        assert_eq!(settings.consumer_modes, [ConsumerMode::Middletier, ConsumerMode::Backend]);
        assert_eq!(settings.naming.topic(MessageKind::ThothRepoInit), "thoth.repo-init");
        assert!(settings.kafka.is_none() && settings.database_url.is_none());
        assert_eq!(settings.log_filter, "info");
    }

    #[test]
    fn thoth_variables_are_read_with_thoth_semantics() {
        let settings = settings(&[
            ("THOTH_DEPLOYMENT_NAME", "ocp4-stage"),
            ("THOTH_CONSUMER_MODE", r#"["backend"]"#),
            ("KAFKA_BOOTSTRAP_SERVERS", "kafka:9093"),
            ("KAFKA_CONSUMER_GROUP_ID", "thoth.message-metrics"),
            ("KAFKA_CONSUMER_MAX_POLL_INTERVAL_MS", "900000.0"),
            ("KAFKA_SECURITY_PROTOCOL", "SSL"),
            ("KAFKA_SASL_PASSWORD", "s3cret"),
            ("KAFKA_CLIENT_ID", ""),
            ("DATABASE_URL", "postgresql://thoth:pw@db/thoth"),
        ])
        .expect("valid");
        assert_eq!(settings.naming.topic(MessageKind::ThothRepoInit), "ocp4-stage.thoth.repo-init");
        assert_eq!(settings.consumer_modes, [ConsumerMode::Backend]);
        let kafka = settings.kafka.expect("kafka set");
        assert_eq!(kafka.bootstrap_servers, "kafka:9093");
        assert_eq!(kafka.consumer_group_id, "thoth.message-metrics");
        assert_eq!(kafka.consumer_max_poll_interval_ms, Some(900_000));
        assert_eq!(kafka.security_protocol.as_deref(), Some("SSL"));
        assert_eq!(kafka.client_id, None, "empty means unset, as in thoth-messaging");
        assert!(!format!("{kafka:?}").contains("s3cret"));
        assert!(!format!("{:?}", settings.database_url).contains("pw@"));
    }

    #[test]
    fn the_private_server_listens_on_tcp_only_when_asked_for_valid_addresses() {
        assert_eq!(settings(&[]).expect("valid").postgres_listen, None, "the socket only");
        let asked = settings(&[("INVESTIGATOR_POSTGRES_LISTEN", "127.0.0.1, ::1")]).expect("valid");
        assert_eq!(asked.postgres_listen.as_deref(), Some("127.0.0.1,::1"));
        let error = settings(&[("INVESTIGATOR_POSTGRES_LISTEN", "127.0.0.1' -c ssl=off")]).expect_err("invalid");
        assert_eq!(error.0[0].variable, "INVESTIGATOR_POSTGRES_LISTEN");
    }

    #[test]
    fn a_bare_mode_word_is_a_one_element_list() {
        assert_eq!(
            settings(&[("THOTH_CONSUMER_MODE", "metrics")]).expect("valid").consumer_modes,
            [ConsumerMode::Metrics]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_variable() {
        let error = settings(&[
            ("THOTH_CONSUMER_MODE", r#"["backend", "frontend"]"#),
            ("THOTH_DEPLOYMENT_NAME", "smaug prod"),
            ("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"),
            ("KAFKA_MESSAGE_MAX_BYTES", "lots"),
            ("KAFKA_SASL_MECHANISM", "GSSAPI"),
            ("KAFKA_SSL_CA_LOCATION", "/nonexistent/ca.crt"),
            ("KAFKA_TOPIC_PRODUCER_COMPRESSION_TYPE", "brotli"),
        ])
        .expect_err("invalid");
        let variables: Vec<_> = error.0.iter().map(|problem| problem.variable).collect();
        assert_eq!(
            variables,
            [
                "THOTH_DEPLOYMENT_NAME",
                "THOTH_CONSUMER_MODE",
                "KAFKA_MESSAGE_MAX_BYTES",
                "KAFKA_SSL_CA_LOCATION",
                "KAFKA_SASL_MECHANISM",
                "KAFKA_TOPIC_PRODUCER_COMPRESSION_TYPE"
            ]
        );
        let text = error.to_string();
        assert!(
            text.contains("unknown consumer mode 'frontend'")
                && text.contains("'lots' is not a whole number from 1000 to 1000000000"),
            "{text}"
        );
    }

    #[test]
    fn a_database_url_that_is_not_one_is_reported_without_its_password() {
        let error = settings(&[("DATABASE_URL", "postgresql://thoth:s3cret@db:port/x")]).expect_err("invalid");
        assert_eq!(error.0[0].variable, "DATABASE_URL");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn a_value_that_is_not_utf8_is_a_problem_only_for_our_variables() {
        let vars: HashMap<String, Option<String>> = [
            ("SOMEONE_ELSES".to_owned(), None),
            ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), Some("kafka:9092".to_owned())),
            ("KAFKA_CLIENT_ID".to_owned(), None),
        ]
        .into_iter()
        .collect();
        let error = Settings::read(&vars).expect_err("KAFKA_CLIENT_ID is ours");
        assert_eq!(
            error.0,
            [SettingProblem { variable: "KAFKA_CLIENT_ID", problem: "the value is not valid UTF-8".to_owned() }]
        );
    }

    #[test]
    fn private_networks_are_denied_unless_allowed_and_the_archive_key_is_never_printed() {
        let defaults = settings(&[]).expect("valid");
        assert!(defaults.allowed_networks.is_none() && defaults.archive_key.is_none());
        let keyed = settings(&[("INVESTIGATOR_ARCHIVE_KEY", "k3y")]).expect("valid");
        assert_eq!(keyed.archive_key.as_ref().map(Secret::expose), Some("k3y"));
        assert!(!format!("{keyed:?}").contains("k3y"));
        let set = settings(&[("INVESTIGATOR_ALLOW_PRIVATE_NETWORKS", "loopback,10.1.0.0/16")]).expect("valid");
        assert!(set.allowed_networks.check("127.0.0.1".parse().expect("ip")).is_ok());
        assert!(set.allowed_networks.check("169.254.169.254".parse().expect("ip")).is_err());
        let error = settings(&[("INVESTIGATOR_ALLOW_PRIVATE_NETWORKS", "everything")]).expect_err("invalid");
        assert_eq!(error.0[0].variable, "INVESTIGATOR_ALLOW_PRIVATE_NETWORKS");
    }

    #[test]
    fn the_assignment_is_eager_unless_cooperative_is_asked_for_and_nothing_else_is_taken() {
        let kafka = |value: &str| {
            settings(&[("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"), ("INVESTIGATOR_KAFKA_ASSIGNMENT", value)])
        };
        let assignment = |value: &str| kafka(value).expect("valid").kafka.expect("kafka").consumer_assignment;
        assert_eq!(assignment(""), ConsumerAssignment::Eager);
        assert_eq!(assignment("Cooperative"), ConsumerAssignment::Cooperative);
        assert_eq!(assignment("eager"), ConsumerAssignment::Eager);
        let error = kafka("cooperative-sticky").expect_err("not a value");
        assert_eq!(error.0[0].variable, "INVESTIGATOR_KAFKA_ASSIGNMENT");
        assert!(error.to_string().contains("is not one of eager, cooperative"), "{error}");
    }

    #[test]
    fn an_empty_deployment_name_still_prefixes_as_in_thoth() {
        let settings = settings(&[("THOTH_DEPLOYMENT_NAME", "")]).expect("valid");
        assert_eq!(settings.naming.topic(MessageKind::ThothRepoInit), ".thoth.repo-init");
    }
}
