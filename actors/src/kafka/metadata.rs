//! Reading the cluster's topic list.

use std::collections::BTreeSet;

use rdkafka::error::KafkaResult;
use rdkafka::metadata::Metadata;

use crate::kafka::KafkaError;
use crate::kafka::LastFailure;

/// Runs a (blocking) metadata request off the async threads and returns the names of every
/// topic on the cluster; a failure carries the last error the client reported.
pub(crate) async fn topic_names<F>(
    fetch: F,
    bootstrap_servers: &str,
    last_failure: &LastFailure,
) -> Result<BTreeSet<String>, KafkaError>
where
    F: FnOnce() -> KafkaResult<Metadata> + Send + 'static,
{
    let metadata = tokio::task::spawn_blocking(fetch)
        .await
        .unwrap_or_else(|join_error| std::panic::resume_unwind(join_error.into_panic()))
        .map_err(|source| KafkaError::Metadata {
            bootstrap_servers: bootstrap_servers.to_owned(),
            broker_said: last_failure.get().map(String::into_boxed_str),
            source,
        })?;
    Ok(metadata.topics().iter().map(|topic| topic.name().to_owned()).collect())
}
