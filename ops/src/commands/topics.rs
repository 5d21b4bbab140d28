//! `investigator topics create | list`.

use std::io::Write;
use std::time::Duration;

use investigator_actors::kafka::{TopicAdmin, TopicOptions, TopicOutcome};
use investigator_actors::log_relay::dead_letters::DEAD_LETTER_BASE_NAME;
use investigator_actors::log_relay::mirror::MIRROR_BASE_NAME;
use investigator_events::thoth::TopicNaming;

use crate::cli::{TopicsCreateArgs, TopicsListArgs};
use crate::error::CliError;
use crate::settings::Settings;

/// An admin client for the configured cluster, and every topic of the deployment.
fn deployment_topics(settings: &Settings, timeout_seconds: u64) -> Result<(TopicAdmin, Vec<String>), CliError> {
    let admin = TopicAdmin::new(settings.require_kafka()?, Duration::from_secs(timeout_seconds))?;
    Ok((admin, every_topic(&settings.naming)))
}

/// Every topic the investigator reads or writes: Thoth's 19, the dead letters and the mirror
/// of the event log.
pub(crate) fn every_topic(naming: &TopicNaming) -> Vec<String> {
    let mut topics = naming.topic_names();
    topics.push(naming.topic_for_base_name(DEAD_LETTER_BASE_NAME));
    topics.push(naming.topic_for_base_name(MIRROR_BASE_NAME));
    topics
}

/// Creates every Thoth topic of the deployment that does not exist yet.
pub async fn create(settings: &Settings, args: &TopicsCreateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (admin, topics) = deployment_topics(settings, args.timeout)?;
    let options = TopicOptions {
        partitions: args.partitions,
        replication_factor: args.replication_factor,
        retention_ms: args.retention_ms,
        topic_settings: settings.topics.clone(),
    };
    let outcomes = admin.create(&topics, &options).await?;

    let (mut created, mut existed, mut failed) = (0, 0, 0);
    for (topic, outcome) in &outcomes {
        match outcome {
            TopicOutcome::Created => {
                created += 1;
                writeln!(out, "created  {topic}")?;
            }
            TopicOutcome::AlreadyExisted => {
                existed += 1;
                writeln!(out, "exists   {topic}")?;
            }
            TopicOutcome::Failed(reason) => {
                failed += 1;
                writeln!(out, "failed   {topic}: {reason}")?;
            }
        }
    }
    writeln!(out, "{} topics: {created} created, {existed} already existed, {failed} failed", outcomes.len())?;
    tracing::info!(created, existed, failed, "topics created");
    if failed > 0 {
        return Err(CliError::TopicsFailed { failed, total: outcomes.len() });
    }
    Ok(())
}

/// Shows which Thoth topics of the deployment exist, with their partitions and records.
pub async fn list(settings: &Settings, args: &TopicsListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (admin, topics) = deployment_topics(settings, args.timeout)?;
    let described = admin.describe(&topics).await?;
    for topic in described {
        match topic.partitions {
            Some(partitions) => writeln!(
                out,
                "present  {:>3} partition(s)  {:>9} record(s)  {}",
                partitions, topic.records, topic.name
            )?,
            None => writeln!(out, "missing  {:>3}               {:>9}            {}", "-", "-", topic.name)?,
        }
    }
    Ok(())
}
