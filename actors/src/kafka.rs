//! Kafka clients, configured the way thoth-messaging configures them.

mod admin;
mod context;
mod error;
mod metadata;
mod publisher;
mod settings;

pub use admin::{TopicAdmin, TopicDescription, TopicOptions, TopicOutcome};
pub use context::{ClientLogging, LastFailure};
pub use error::KafkaError;
pub use publisher::{Delivered, ThothPublisher};
pub use settings::{ConsumerAssignment, DEFAULT_CONSUMER_GROUP, KafkaSettings, Secret, TopicSettings};
