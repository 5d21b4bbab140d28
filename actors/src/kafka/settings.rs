//! Client settings, one field per `KAFKA_*` variable thoth-messaging reads.

use std::fmt;

use rdkafka::ClientConfig;

/// A value that must not be printed: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for handing to the client that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Thoth's investigator group (`KAFKA_CONSUMER_GROUP_ID` unset); the embedded bus's offsets
/// are kept under it too.
pub const DEFAULT_CONSUMER_GROUP: &str = "thoth.investigator";

/// librdkafka settings shared by producers, consumers and admin clients. Only what is set
/// is passed on, as thoth-messaging does; librdkafka's defaults apply to the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSettings {
    /// `bootstrap.servers` (`KAFKA_BOOTSTRAP_SERVERS`).
    pub bootstrap_servers: String,
    /// `client.id` (`KAFKA_CLIENT_ID`).
    pub client_id: Option<String>,
    /// `message.max.bytes` (`KAFKA_MESSAGE_MAX_BYTES`).
    pub message_max_bytes: Option<u64>,
    /// `receive.message.max.bytes` (`KAFKA_RECEIVE_MESSAGE_MAX_BYTES`).
    pub receive_message_max_bytes: Option<u64>,
    /// `security.protocol` (`KAFKA_SECURITY_PROTOCOL`): `plaintext`, `ssl`, `sasl_plaintext`, `sasl_ssl`.
    pub security_protocol: Option<String>,
    /// `ssl.certificate.location` (`KAFKA_SSL_CERTIFICATE_LOCATION`).
    pub ssl_certificate_location: Option<String>,
    /// `ssl.ca.location` (`KAFKA_SSL_CA_LOCATION`).
    pub ssl_ca_location: Option<String>,
    /// `ssl.endpoint.identification.algorithm` (`KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM`).
    pub ssl_endpoint_identification_algorithm: Option<String>,
    /// `ssl.key.location` (`KAFKA_SSL_KEY_LOCATION`).
    pub ssl_key_location: Option<String>,
    /// `ssl.key.password` (`KAFKA_SSL_KEY_PASSWORD`).
    pub ssl_key_password: Option<Secret>,
    /// `sasl.mechanism` (`KAFKA_SASL_MECHANISM`): `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`.
    pub sasl_mechanism: Option<String>,
    /// `sasl.username` (`KAFKA_SASL_USERNAME`).
    pub sasl_username: Option<String>,
    /// `sasl.password` (`KAFKA_SASL_PASSWORD`).
    pub sasl_password: Option<Secret>,
    /// `group.id` (`KAFKA_CONSUMER_GROUP_ID`), `thoth.investigator` by default.
    pub consumer_group_id: String,
    /// `group.instance.id` (`KAFKA_CONSUMER_GROUP_INSTANCE_ID`).
    pub consumer_group_instance_id: Option<String>,
    /// `max.poll.interval.ms` (`KAFKA_CONSUMER_MAX_POLL_INTERVAL_MS`).
    pub consumer_max_poll_interval_ms: Option<u64>,
    /// `auto.offset.reset` (`KAFKA_CONSUMER_AUTO_OFFSET_RESET`); `earliest` when unset, so a
    /// new group misses nothing already published.
    pub consumer_auto_offset_reset: Option<String>,
    /// `session.timeout.ms` (`KAFKA_CONSUMER_SESSION_TIMEOUT_MS`).
    pub consumer_session_timeout_ms: Option<u64>,
    /// `heartbeat.interval.ms` (`KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS`).
    pub consumer_heartbeat_interval_ms: Option<u64>,
    /// How long `serve` waits at start for the cluster to answer before it gives up with an
    /// error naming the cluster (`INVESTIGATOR_KAFKA_STARTUP_TIMEOUT_S`, 60 s).
    pub startup_timeout: std::time::Duration,
    /// How the group shares partitions (`INVESTIGATOR_KAFKA_ASSIGNMENT`).
    pub consumer_assignment: ConsumerAssignment,
}

/// How the consumer group shares partitions when a member joins or leaves. Every member of a
/// group must use one kind: a cooperative member cannot join a group of eager ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsumerAssignment {
    /// librdkafka's default `range,roundrobin`: every member gives up every partition at each
    /// rebalance and is assigned afresh. The default: Thoth's investigator (and any other
    /// consumer sharing the group while it is swapped in) is eager.
    #[default]
    Eager,
    /// librdkafka's `cooperative-sticky`: only the partitions that move change hands; every
    /// other member keeps reading through a rebalance.
    Cooperative,
}

impl ConsumerAssignment {
    /// The settings' values.
    pub const NAMES: [&'static str; 2] = ["eager", "cooperative"];

    /// Its settings' value.
    pub fn name(self) -> &'static str {
        match self {
            ConsumerAssignment::Cooperative => "cooperative",
            ConsumerAssignment::Eager => "eager",
        }
    }

    /// The value named `name` (one of [`ConsumerAssignment::NAMES`]).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "cooperative" => Some(ConsumerAssignment::Cooperative),
            "eager" => Some(ConsumerAssignment::Eager),
            _ => None,
        }
    }

    /// librdkafka's `partition.assignment.strategy`.
    fn strategy(self) -> &'static str {
        match self {
            ConsumerAssignment::Cooperative => "cooperative-sticky",
            ConsumerAssignment::Eager => "range,roundrobin",
        }
    }
}

/// Settings applied to topics the investigator creates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicSettings {
    /// `compression.type` (`KAFKA_TOPIC_PRODUCER_COMPRESSION_TYPE`).
    pub compression_type: Option<String>,
    /// `compression.level` (`KAFKA_TOPIC_PRODUCER_COMPRESSION_LEVEL`).
    pub compression_level: Option<i32>,
}

impl KafkaSettings {
    /// Settings for a cluster at `bootstrap_servers`, everything else unset.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        KafkaSettings {
            bootstrap_servers: bootstrap_servers.into(),
            client_id: None,
            message_max_bytes: None,
            receive_message_max_bytes: None,
            security_protocol: None,
            ssl_certificate_location: None,
            ssl_ca_location: None,
            ssl_endpoint_identification_algorithm: None,
            ssl_key_location: None,
            ssl_key_password: None,
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            consumer_group_id: DEFAULT_CONSUMER_GROUP.to_owned(),
            consumer_group_instance_id: None,
            consumer_max_poll_interval_ms: None,
            consumer_auto_offset_reset: None,
            consumer_session_timeout_ms: None,
            consumer_heartbeat_interval_ms: None,
            startup_timeout: std::time::Duration::from_secs(60),
            consumer_assignment: ConsumerAssignment::default(),
        }
    }

    /// The configuration shared by every client: connection, size limits and security.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        let optional: [(&str, Option<String>); 12] = [
            ("client.id", self.client_id.clone()),
            ("message.max.bytes", self.message_max_bytes.map(|n| n.to_string())),
            ("receive.message.max.bytes", self.receive_message_max_bytes.map(|n| n.to_string())),
            ("security.protocol", self.security_protocol.clone()),
            ("ssl.certificate.location", self.ssl_certificate_location.clone()),
            ("ssl.ca.location", self.ssl_ca_location.clone()),
            ("ssl.endpoint.identification.algorithm", self.ssl_endpoint_identification_algorithm.clone()),
            ("ssl.key.location", self.ssl_key_location.clone()),
            ("ssl.key.password", self.ssl_key_password.as_ref().map(|s| s.expose().to_owned())),
            ("sasl.mechanism", self.sasl_mechanism.clone()),
            ("sasl.username", self.sasl_username.clone()),
            ("sasl.password", self.sasl_password.as_ref().map(|s| s.expose().to_owned())),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                config.set(key, value);
            }
        }
        config
    }

    /// The configuration of a consumer in the investigator's group. Offsets are never
    /// committed automatically: the investigator decides when a record is done.
    pub fn consumer_config(&self) -> ClientConfig {
        let mut config = self.client_config();
        config.set("group.id", &self.consumer_group_id);
        config.set("enable.auto.commit", "false");
        config.set("enable.partition.eof", "false");
        if let Some(instance) = &self.consumer_group_instance_id {
            config.set("group.instance.id", instance);
        }
        if let Some(interval) = self.consumer_max_poll_interval_ms {
            config.set("max.poll.interval.ms", interval.to_string());
        }
        config.set("auto.offset.reset", self.consumer_auto_offset_reset.as_deref().unwrap_or("earliest"));
        if let Some(timeout) = self.consumer_session_timeout_ms {
            config.set("session.timeout.ms", timeout.to_string());
        }
        if let Some(interval) = self.consumer_heartbeat_interval_ms {
            config.set("heartbeat.interval.ms", interval.to_string());
        }
        config.set("partition.assignment.strategy", self.consumer_assignment.strategy());
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_set_keys_reach_librdkafka() {
        let mut settings = KafkaSettings::new("broker:9093");
        settings.security_protocol = Some("SSL".to_owned());
        settings.ssl_ca_location = Some("/etc/kafka/ca.crt".to_owned());
        settings.sasl_password = Some(Secret::new("hunter2"));
        let config = settings.client_config();
        assert_eq!(config.get("bootstrap.servers"), Some("broker:9093"));
        assert_eq!(config.get("security.protocol"), Some("SSL"));
        assert_eq!(config.get("ssl.ca.location"), Some("/etc/kafka/ca.crt"));
        assert_eq!(config.get("sasl.password"), Some("hunter2"));
        assert_eq!(config.get("client.id"), None);
        assert_eq!(config.get("group.id"), None);
    }

    #[test]
    fn consumers_join_the_configured_group_and_never_auto_commit() {
        let mut settings = KafkaSettings::new("broker:9092");
        settings.consumer_max_poll_interval_ms = Some(900_000);
        let config = settings.consumer_config();
        assert_eq!(config.get("group.id"), Some("thoth.investigator"));
        assert_eq!(config.get("enable.auto.commit"), Some("false"));
        assert_eq!(config.get("max.poll.interval.ms"), Some("900000"));
        assert_eq!(config.get("partition.assignment.strategy"), Some("range,roundrobin"));
        settings.consumer_assignment = ConsumerAssignment::Cooperative;
        assert_eq!(settings.consumer_config().get("partition.assignment.strategy"), Some("cooperative-sticky"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let mut settings = KafkaSettings::new("broker:9092");
        settings.ssl_key_password = Some(Secret::new("key-pass"));
        settings.sasl_password = Some(Secret::new("sasl-pass"));
        let printed = format!("{settings:?}");
        assert!(!printed.contains("key-pass") && !printed.contains("sasl-pass"), "{printed}");
    }
}
