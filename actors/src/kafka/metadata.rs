//! Reading the cluster's topic list.

use rdkafka::error::KafkaResult;
use rdkafka::metadata::Metadata;

use crate::kafka::KafkaError;

/// Runs a (blocking) metadata request off the async threads and returns every topic with its
/// partition count, sorted by name.
pub(crate) async fn topic_list<F>(fetch: F, bootstrap_servers: &str) -> Result<Vec<(String, usize)>, KafkaError>
where
    F: FnOnce() -> KafkaResult<Metadata> + Send + 'static,
{
    let metadata = tokio::task::spawn_blocking(fetch)
        .await
        .unwrap_or_else(|join_error| std::panic::resume_unwind(join_error.into_panic()))
        .map_err(|source| KafkaError::Metadata { bootstrap_servers: bootstrap_servers.to_owned(), source })?;
    let mut topics: Vec<(String, usize)> =
        metadata.topics().iter().map(|topic| (topic.name().to_owned(), topic.partitions().len())).collect();
    topics.sort();
    Ok(topics)
}
