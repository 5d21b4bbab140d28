//! The command line.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};
use investigator_events::thoth::MessageKind;

const ABOUT: &str = "Thoth's continuous-learning backbone: consumes Thoth's Kafka messages, records every change to the \
knowledge graph in an event log, and launches Argo workflows when compute is needed.";

const CONFIGURATION: &str = "\
Configuration comes from environment variables, with Thoth's names:
  KAFKA_BOOTSTRAP_SERVERS   the Kafka cluster (host:port[,host:port])
  THOTH_DEPLOYMENT_NAME     topic prefix: <name>.<base name>; bare base names when unset
  KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_*, KAFKA_SASL_*, KAFKA_CLIENT_ID ...  as in thoth-messaging
  DATABASE_URL              the PostgreSQL database
  RUST_LOG                  log filter (default: info); logs go to stderr
See README.md for the full table.";

/// The `investigator` command line.
#[derive(Debug, Parser)]
#[command(name = "investigator", version, about = ABOUT, after_help = CONFIGURATION)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the investigator service (not available yet: the pipeline is still being built)
    #[command(
        long_about = "Run the investigator service: consume the topics of THOTH_CONSUMER_MODE, decide and record, \
launch workflows, and serve the REST API on port 6066.\n\nNot available in this build yet: it exits with status 2."
    )]
    Serve,
    /// Create or update the database schema (not available yet: no migrations exist)
    #[command(long_about = "Create or update the database schema in DATABASE_URL.\n\n\
Not available in this build yet: there are no migrations; it exits with status 2.")]
    Migrate,
    /// Rebuild the knowledge-graph projections from the event log (not available yet)
    #[command(long_about = "Rebuild the knowledge-graph projections from the event log.\n\n\
Not available in this build yet: there is no event log; it exits with status 2.")]
    Replay,
    /// Publish Thoth messages, validated exactly as Thoth's models validate them
    Emit(EmitArgs),
    /// Manage the Kafka topics of Thoth's 19 message types
    Topics {
        /// What to do with the topics.
        #[command(subcommand)]
        command: TopicsCommand,
    },
    /// Load solver documents into the knowledge graph (not available yet)
    #[command(long_about = "Load solver documents into the knowledge graph.\n\n\
Not available in this build yet: there is no knowledge graph; it exits with status 2.")]
    Sync,
}

/// `investigator emit`.
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("source").required(true).args(["base_name", "from_file"])),
    long_about = "Publish Thoth messages to their topics, as Thoth's own producers would: the JSON that \
thoth-messaging writes, no key, no headers, on <THOTH_DEPLOYMENT_NAME>.<base name>.\n\n\
Every message is validated first with the rules of thoth-messaging's models (strict types, required fields); \
if anything is invalid, nothing is sent. A missing component_name or service_version is filled in \
(investigator-cli and this build's version), as the messaging CLI does.",
    after_help = emit_after_help()
)]
pub struct EmitArgs {
    /// The message type's base name, e.g. thoth.investigator.unresolved-package (with --json)
    #[arg(value_parser = parse_kind, requires = "json", conflicts_with = "from_file")]
    pub base_name: Option<MessageKind>,

    /// The message as a JSON object; `-` reads it from standard input
    #[arg(long, value_name = "JSON", requires = "base_name")]
    pub json: Option<String>,

    /// A messaging-CLI file: [{"topic_name": <base name>, "message_contents": {...}}, ...]
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,

    /// Create the topics that do not exist yet (1 partition, as Thoth does) instead of refusing
    #[arg(long)]
    pub create_topics: bool,

    /// Validate and print what would be sent, without sending
    #[arg(long)]
    pub dry_run: bool,

    /// Seconds to wait for the cluster and for each delivery
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// `investigator topics ...`.
#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Create every Thoth topic of the deployment that does not exist (existing ones are left as they are)
    Create(TopicsCreateArgs),
    /// Show which Thoth topics of the deployment exist, with their partitions and record counts
    List(TopicsListArgs),
}

/// `investigator topics create`.
#[derive(Debug, Args)]
pub struct TopicsCreateArgs {
    /// Partitions per topic (Thoth creates 1; more allow more consumers in one group)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub partitions: i32,

    /// Replicas per partition (Thoth creates 1)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=100))]
    pub replication_factor: i32,

    /// retention.ms of the topics; the broker's default when not given
    #[arg(long, value_name = "MILLISECONDS", value_parser = clap::value_parser!(i64).range(1..))]
    pub retention_ms: Option<i64>,

    /// Seconds to wait for the cluster
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// `investigator topics list`.
#[derive(Debug, Args)]
pub struct TopicsListArgs {
    /// Seconds to wait for the cluster
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

fn parse_kind(base_name: &str) -> Result<MessageKind, String> {
    base_name.parse::<MessageKind>().map_err(|error| format!("{error}\n\n{}", emit_after_help()))
}

fn emit_after_help() -> String {
    let names: Vec<String> = MessageKind::ALL.iter().map(|kind| format!("  {}", kind.base_name())).collect();
    format!("Message types (base names):\n{}", names.join("\n"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn emit_takes_a_base_name_with_json_or_a_file() {
        let cli = Cli::try_parse_from(["investigator", "emit", "thoth.repo-init", "--json", "{}"]).expect("valid");
        let Command::Emit(args) = cli.command else { panic!("emit expected") };
        assert_eq!(args.base_name, Some(MessageKind::ThothRepoInit));

        assert!(Cli::try_parse_from(["investigator", "emit", "thoth.repo-init"]).is_err(), "--json is required");
        assert!(Cli::try_parse_from(["investigator", "emit"]).is_err(), "a source is required");
        assert!(
            Cli::try_parse_from(["investigator", "emit", "thoth.repo-init", "--json", "{}", "--from-file", "f"])
                .is_err(),
            "one source only"
        );
        let unknown = Cli::try_parse_from(["investigator", "emit", "thoth.nope", "--json", "{}"]).expect_err("unknown");
        assert!(unknown.to_string().contains("thoth.investigator.unresolved-package"), "lists the known types");
    }
}
