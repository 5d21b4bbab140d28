//! Kafka failures, with the topic or cluster they concern.

/// What went wrong talking to Kafka.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// librdkafka refused the configuration (an unknown value, SSL without a certificate...).
    #[error("cannot create a Kafka {role}")]
    Client {
        /// `producer`, `consumer` or `admin client`.
        role: &'static str,
        /// librdkafka's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The cluster did not answer a metadata request.
    #[error("cannot read the topic list from the Kafka cluster at {bootstrap_servers}{}", broker_said.as_deref().map(|said| format!(" (the last error: {said})")).unwrap_or_default())]
    Metadata {
        /// Where it was asked.
        bootstrap_servers: String,
        /// The last error librdkafka reported meanwhile, naming the broker and why (a TLS
        /// certificate it could not verify, a refused authentication...).
        broker_said: Option<Box<str>>,
        /// librdkafka's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// Topics that were to be written do not exist.
    #[error("{} topic{} missing on the cluster: {} (create them with `investigator topics create`)", .0.len(), if .0.len() == 1 { " is" } else { "s are" }, .0.join(", "))]
    MissingTopics(Vec<String>),
    /// A record could not be delivered.
    #[error("delivery to topic '{topic}' failed")]
    Delivery {
        topic: String,
        /// librdkafka's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The request creating topics failed as a whole.
    #[error("the Kafka admin request creating topics on the cluster at {bootstrap_servers} failed")]
    Admin {
        /// The cluster asked.
        bootstrap_servers: Box<str>,
        /// librdkafka's error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The cluster never answered while `serve` started.
    #[error(
        "the Kafka cluster at {bootstrap_servers} did not answer within {waited_s} s (INVESTIGATOR_KAFKA_STARTUP_TIMEOUT_S)"
    )]
    Unreachable {
        /// The cluster waited for.
        bootstrap_servers: Box<str>,
        /// Seconds from the first attempt to the last failure.
        waited_s: u64,
        /// The last attempt's error.
        #[source]
        last: Box<KafkaError>,
    },
    /// The broker refused to create a topic.
    #[error("creating topic '{topic}' failed: {reason}")]
    CreateTopic {
        topic: String,
        /// The broker's error code.
        reason: String,
    },
}
