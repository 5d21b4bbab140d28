//! `investigator offsets reset`: an operator moves stored consumer offsets, recorded in the
//! event log as `ConsumerOffsetReset` (policy `operator`).

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use investigator_actors::kafka::{DEFAULT_CONSUMER_GROUP, TopicAdmin};
use investigator_events::domain::ConsumerOffsetReset;
use investigator_events::excerpt::excerpt;
use investigator_events::thoth::MessageKind;
use investigator_projections::offsets::{self, TopicPartition};

use crate::cli::ResetOffsetsArgs;
use crate::error::CliError;
use crate::settings::Settings;

/// Where an offset moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Earliest,
    Latest,
    Offset(i64),
}

impl Target {
    fn parse(text: &str) -> Result<Target, CliError> {
        match text {
            "earliest" => Ok(Target::Earliest),
            "latest" => Ok(Target::Latest),
            _ => match text.parse::<i64>() {
                Ok(offset) if offset >= 0 => Ok(Target::Offset(offset)),
                _ => Err(CliError::InvalidArgument {
                    argument: "--to",
                    reason: format!(
                        "'{}' is not earliest, latest or an offset (a whole number, 0 or more)",
                        excerpt(text)
                    ),
                }),
            },
        }
    }

    /// The offset it stands for in a log with these watermarks, when they are known.
    fn resolve(self, watermarks: Option<(i64, i64)>) -> Option<i64> {
        match (self, watermarks) {
            (Target::Offset(offset), _) => Some(offset),
            (Target::Earliest, Some((low, _))) => Some(low),
            (Target::Latest, Some((_, high))) => Some(high),
            (_, None) => None,
        }
    }
}

/// Moves the stored offsets of `args.topic`'s partitions for the configured consumer group.
pub async fn reset(settings: &Settings, args: &ResetOffsetsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let topic = full_topic(settings, &args.topic)?;
    let target = Target::parse(&args.to)?;
    let database = super::database_with_log(settings).await?;
    let group = settings.kafka.as_ref().map_or(DEFAULT_CONSUMER_GROUP, |kafka| kafka.consumer_group_id.as_str());
    let logs = watermarks(settings, &database, &topic, args.partition).await?;
    let stored: HashMap<TopicPartition, i64> = {
        let mut connection = database.connection().await?;
        let transaction = connection.read().await?;
        offsets::stored_offsets(&transaction, group).await?.into_iter().collect()
    };
    let mut failed = 0;
    for (partition, log) in &logs {
        let key = TopicPartition { topic: topic.clone(), partition: *partition };
        let Some(reset_to) = target.resolve(*log) else {
            writeln!(out, "{topic} [{partition}]: not moved: the broker did not say where its log starts and ends")?;
            failed += 1;
            continue;
        };
        let from = stored.get(&key).copied();
        let reset = ConsumerOffsetReset {
            consumer_group: group.to_owned(),
            topic: topic.clone(),
            partition: *partition,
            stored_offset: from,
            low_watermark: log.map(|(low, _)| low),
            high_watermark: log.map(|(_, high)| high),
            policy: "operator".to_owned(),
            reset_to,
        };
        let moved = offsets::reset(&database, reset).await.map_err(|error| CliError::Record(Box::new(error)))?;
        let was = from.map_or_else(|| "none".to_owned(), |offset| offset.to_string());
        if moved {
            writeln!(out, "{topic} [{partition}]: {was} -> {reset_to} (group {group})")?;
        } else {
            writeln!(out, "{topic} [{partition}]: not moved: a consumer moved it meanwhile (it was {was}); run again")?;
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(CliError::OffsetsNotMoved { failed, total: logs.len() });
    }
    Ok(())
}

/// The full name of a topic given by its base name or its full name.
fn full_topic(settings: &Settings, given: &str) -> Result<String, CliError> {
    if settings.naming.kind_of_topic(given).is_some() {
        return Ok(given.to_owned());
    }
    match MessageKind::from_base_name(given) {
        Some(kind) => Ok(settings.naming.topic(kind)),
        None => Err(CliError::InvalidArgument {
            argument: "--topic",
            reason: format!("'{}' is not one of Thoth's message topics of this deployment", excerpt(given)),
        }),
    }
}

/// The partitions to move, each with its log's watermarks when known: from the broker, or
/// the embedded bus's one partition.
async fn watermarks(
    settings: &Settings,
    database: &investigator_projections::Database,
    topic: &str,
    only: Option<i32>,
) -> Result<Vec<(i32, Option<(i64, i64)>)>, CliError> {
    let Some(kafka) = &settings.kafka else {
        if only.is_some_and(|partition| partition != 0) {
            return Err(CliError::InvalidArgument {
                argument: "--partition",
                reason: "the embedded bus has one partition per topic, 0".to_owned(),
            });
        }
        let mut connection = database.connection().await?;
        let transaction = connection.read().await?;
        let log = investigator_projections::bus::log_bounds(&transaction, topic).await?;
        return Ok(vec![(0, Some(log))]);
    };
    let admin = TopicAdmin::new(kafka, Duration::from_secs(10))?;
    let described = admin.describe(&[topic.to_owned()]).await?;
    let Some(count) = described.first().and_then(|topic| topic.partitions) else {
        return Err(CliError::InvalidArgument {
            argument: "--topic",
            reason: format!("the broker has no topic {topic}"),
        });
    };
    let count = i32::try_from(count).unwrap_or(i32::MAX);
    let partitions: Vec<i32> = match only {
        Some(partition) if partition < count => vec![partition],
        Some(partition) => {
            return Err(CliError::InvalidArgument {
                argument: "--partition",
                reason: format!("{topic} has {count} partition(s); {partition} is not one"),
            });
        }
        None => (0..count).collect(),
    };
    let asked: Vec<(String, i32)> = partitions.iter().map(|partition| (topic.to_owned(), *partition)).collect();
    let marks = admin.watermarks(&asked).await;
    Ok(partitions.into_iter().zip(marks).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_an_offset_moves_is_earliest_latest_or_a_whole_number() {
        assert_eq!(Target::parse("earliest").ok(), Some(Target::Earliest));
        assert_eq!(Target::parse("latest").ok(), Some(Target::Latest));
        assert_eq!(Target::parse("42").ok(), Some(Target::Offset(42)));
        for wrong in ["-1", "soon", "1.5", ""] {
            assert!(matches!(Target::parse(wrong), Err(CliError::InvalidArgument { argument: "--to", .. })), "{wrong}");
        }
        assert_eq!(Target::Earliest.resolve(Some((3, 9))), Some(3));
        assert_eq!(Target::Latest.resolve(Some((3, 9))), Some(9));
        assert_eq!(Target::Latest.resolve(None), None);
        assert_eq!(Target::Offset(5).resolve(None), Some(5));
    }
}
