//! `investigator emit`: validate Thoth messages, then publish them.

use std::io::{Read, Write};
use std::time::Duration;

use investigator_actors::kafka::{KafkaError, ThothPublisher, TopicAdmin, TopicOptions, TopicOutcome};
use investigator_events::thoth::{
    MessageKind, SenderDefaults, ThothMessage, parse_messages_file, with_sender_defaults,
};

use crate::cli::EmitArgs;
use crate::error::CliError;
use crate::settings::Settings;

/// Who we say we are in messages that do not name their sender.
pub fn sender_defaults() -> SenderDefaults {
    SenderDefaults {
        component_name: "investigator-cli".to_owned(),
        service_version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// Runs `emit`: every message is validated before anything is sent.
pub async fn run(settings: &Settings, args: &EmitArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let messages = read_messages(args)?;
    if args.dry_run {
        for message in &messages {
            writeln!(out, "{}\t{}", settings.naming.topic(message.kind()), message.encode())?;
        }
        writeln!(out, "dry run: {} valid message(s), nothing sent", messages.len())?;
        return Ok(());
    }

    let Some(kafka) = &settings.kafka else {
        return publish_to_bus(settings, &messages, out).await;
    };
    let timeout = Duration::from_secs(args.timeout);
    let publisher = ThothPublisher::new(kafka, settings.naming.clone(), timeout)?;
    let missing = publisher.missing_topics(&messages).await?;
    if !missing.is_empty() {
        if !args.create_topics {
            return Err(KafkaError::MissingTopics(missing).into());
        }
        create_like_thoth(settings, &missing, timeout, out).await?;
    }

    let outcomes = publisher.publish_all(&messages).await;
    let mut failed = 0;
    for (message, outcome) in messages.iter().zip(&outcomes) {
        match outcome {
            Ok(delivered) => writeln!(
                out,
                "sent {} to {} (partition {}, offset {})",
                message.kind(),
                delivered.topic,
                delivered.partition,
                delivered.offset
            )?,
            Err(error) => {
                failed += 1;
                let cause = std::error::Error::source(error).map(ToString::to_string).unwrap_or_default();
                writeln!(out, "failed {} to {}: {cause}", message.kind(), publisher.topic_of(message))?;
            }
        }
    }
    tracing::info!(sent = outcomes.len() - failed, failed, "messages published");
    if failed > 0 {
        return Err(CliError::NotDelivered { failed, total: outcomes.len() });
    }
    Ok(())
}

/// Without Kafka: the messages go to the embedded bus in the database, where `investigator
/// serve` reads them (all or none: one transaction).
async fn publish_to_bus(settings: &Settings, messages: &[ThothMessage], out: &mut dyn Write) -> Result<(), CliError> {
    let database = super::database(settings)?;
    investigator_projections::migrations::migrate(&database).await?;
    let records: Vec<(String, Vec<u8>)> =
        messages.iter().map(|message| (settings.naming.topic(message.kind()), message.encode().into_bytes())).collect();
    let offsets = investigator_projections::bus::publish(&database, &records)
        .await
        .map_err(|error| CliError::Bus(Box::new(error)))?;
    for ((topic, _), (message, offset)) in records.iter().zip(messages.iter().zip(offsets)) {
        writeln!(out, "sent {} to {topic} (embedded bus, offset {offset})", message.kind())?;
    }
    tracing::info!(sent = messages.len(), "messages published to the embedded bus (no KAFKA_BOOTSTRAP_SERVERS)");
    Ok(())
}

fn read_messages(args: &EmitArgs) -> Result<Vec<ThothMessage>, CliError> {
    let sender = sender_defaults();
    if let Some(path) = &args.from_file {
        let bytes =
            std::fs::read(path).map_err(|source| CliError::Read { what: path.display().to_string(), source })?;
        return parse_messages_file(&bytes, &sender)
            .map_err(|source| CliError::InvalidMessagesFile { path: path.clone(), source });
    }
    let (Some(kind), Some(json)) = (args.base_name, &args.json) else {
        return Err(CliError::Usage("give a message type with --json, or --from-file"));
    };
    let json = if json == "-" { read_stdin()? } else { json.clone() };
    Ok(vec![decode_one(kind, &json, &sender)?])
}

fn decode_one(kind: MessageKind, json: &str, sender: &SenderDefaults) -> Result<ThothMessage, CliError> {
    let contents = with_sender_defaults(json, sender);
    Ok(ThothMessage::decode(kind, contents.as_bytes())?)
}

fn read_stdin() -> Result<String, CliError> {
    let mut json = String::new();
    std::io::stdin()
        .read_to_string(&mut json)
        .map_err(|source| CliError::Read { what: "standard input".to_owned(), source })?;
    Ok(json)
}

/// Creates missing topics the way Thoth's messaging CLI does (1 partition, 1 replica).
async fn create_like_thoth(
    settings: &Settings,
    topics: &[String],
    timeout: Duration,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let kafka = settings.require_kafka()?;
    let options = TopicOptions {
        partitions: 1,
        replication_factor: 1,
        retention_ms: None,
        topic_settings: settings.topics.clone(),
    };
    let outcomes = TopicAdmin::new(kafka, timeout)?.create(topics, &options).await?;
    let mut failed = 0;
    for (topic, outcome) in &outcomes {
        match outcome {
            TopicOutcome::Created => writeln!(out, "created topic {topic}")?,
            TopicOutcome::AlreadyExisted => {}
            TopicOutcome::Failed(reason) => {
                failed += 1;
                writeln!(out, "failed to create topic {topic}: {reason}")?;
            }
        }
    }
    if failed > 0 {
        return Err(CliError::TopicsFailed { failed, total: outcomes.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_defaults_fill_only_what_is_missing() {
        let message = decode_one(
            MessageKind::ThothRepoInit,
            r#"{"project_url": "https://github.com/a/b", "component_name": "kebechet"}"#,
            &sender_defaults(),
        )
        .expect("valid");
        assert_eq!(message.component_name(), "kebechet");
        assert_eq!(message.service_version(), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn an_invalid_message_is_refused_with_its_field() {
        let error =
            decode_one(MessageKind::ThothRepoInit, r#"{"project_url": 7}"#, &sender_defaults()).expect_err("bad");
        assert_eq!(error.exit_code(), 2);
        let cause = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        assert!(cause.contains("field 'project_url'"), "{cause}");
    }
}
