//! The client context shared by our Kafka clients: it routes librdkafka's logs and errors to
//! `tracing` without flooding them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

/// librdkafka reports a global error (such as "all brokers down") every few milliseconds
/// while it lasts; this context warns once per kind of error per minute and keeps the
/// repeats at debug level. Operations still fail with their own errors.
#[derive(Debug, Default)]
pub struct ClientLogging {
    last_warned: Mutex<HashMap<String, Instant>>,
}

const QUIET_PERIOD: Duration = Duration::from_secs(60);

impl ClientContext for ClientLogging {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility, message)
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, message),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => tracing::info!(target: "librdkafka", facility, message),
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, message),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let kind = format!("{:?}", error.rdkafka_error_code());
        let now = Instant::now();
        let mut last_warned = self.last_warned.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let recently = last_warned.get(&kind).is_some_and(|at| now.duration_since(*at) < QUIET_PERIOD);
        if recently {
            tracing::debug!(target: "librdkafka", %error, reason, "kafka client error (repeated)");
        } else {
            tracing::warn!(target: "librdkafka", %error, reason, "kafka client error");
            last_warned.insert(kind, now);
        }
    }
}

impl ConsumerContext for ClientLogging {}
