//! The client context shared by our Kafka clients: it routes librdkafka's logs and errors to
//! `tracing` without flooding them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;

/// librdkafka reports a global error (such as "all brokers down") every few milliseconds
/// while it lasts; this context warns once per kind of error per minute and keeps the
/// repeats at debug level. Operations still fail with their own errors, which say little
/// ("Broker transport failure"); the last error librdkafka reported (which names the broker
/// and says why: "SSL handshake failed: ... certificate verify failed", "SASL authentication
/// error") is kept for them ([`ClientLogging::last_failure`]).
#[derive(Debug, Default)]
pub struct ClientLogging {
    last_warned: Mutex<HashMap<String, Instant>>,
    last_failure: LastFailure,
}

/// The last error librdkafka reported to a client; a handle that outlives moving the context
/// into the client (rdkafka wraps a producer's context where it cannot be reached).
#[derive(Debug, Clone, Default)]
pub struct LastFailure(Arc<Mutex<Option<String>>>);

impl LastFailure {
    /// The last error, if any.
    pub fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn set(&self, failure: &str) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(failure.to_owned());
    }
}

impl ClientLogging {
    /// The last error librdkafka reported to this client, if any.
    pub fn last_failure(&self) -> Option<String> {
        self.last_failure.get()
    }

    /// A handle on [`ClientLogging::last_failure`] that stays readable once the context is
    /// moved into its client.
    pub fn last_failure_handle(&self) -> LastFailure {
        self.last_failure.clone()
    }

    fn remember(&self, failure: &str) {
        self.last_failure.set(failure);
    }
}

const QUIET_PERIOD: Duration = Duration::from_secs(60);

impl ClientContext for ClientLogging {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
                self.remember(message);
                tracing::error!(target: "librdkafka", facility, message)
            }
            RDKafkaLogLevel::Warning => {
                // A broker connection that failed (closed by the peer, refused...) is logged
                // as a warning with the facility FAIL, naming the broker.
                if facility == "FAIL" {
                    self.remember(message);
                }
                tracing::warn!(target: "librdkafka", facility, message)
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => tracing::info!(target: "librdkafka", facility, message),
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, message),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // "0/1 brokers are down" follows every connection failure: the failure is what says why.
        if error.rdkafka_error_code() != Some(RDKafkaErrorCode::AllBrokersDown) {
            self.remember(reason);
        }
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

/// For clients that produce nothing (the admin's metadata client): deliveries are not awaited.
impl ProducerContext for ClientLogging {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}
