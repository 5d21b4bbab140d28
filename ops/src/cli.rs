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
  DATABASE_URL              the PostgreSQL database; unset: a private server under INVESTIGATOR_DATA_DIR
  INVESTIGATOR_HTTP_ADDR    where serve listens (default: 127.0.0.1:6066)
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

/// `investigator serve`'s options.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ServeArgs {
    /// Serve the REST API only (a read replica): no consumer, no pipeline, no migrations
    #[arg(long)]
    pub api_only: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the investigator service: Kafka ingest, decisions, the event log, the REST API
    #[command(long_about = "Run the investigator service: consume the topics of THOTH_CONSUMER_MODE (or, without \
KAFKA_BOOTSTRAP_SERVERS, the embedded bus that `investigator emit` feeds), decide what each message leads to, \
record the knowledge changes, workflow requests and dead letters in the event log together with the consumer \
offsets, and serve /_health, /metrics, /halt, /resume and the REST API under /api/v1 on INVESTIGATOR_HTTP_ADDR \
(port 6066). Stops on SIGINT or SIGTERM after the batch in flight. With --api-only, only the REST API runs: a \
read replica of the knowledge graph in DATABASE_URL, consuming nothing.")]
    Serve(ServeArgs),
    /// Create or update the database schema (safe to run again)
    #[command(long_about = "Create or update the database schema in DATABASE_URL: the event log (schema \
`investigator`) and the knowledge graph (schema `graph`). Numbered migrations, each applied once; safe to run \
again, and from several processes at once.")]
    Migrate,
    /// Rebuild the knowledge graph from the event log alone, and swap it in (or --verify it)
    Replay(ReplayArgs),
    /// Publish Thoth messages, validated exactly as Thoth's models validate them
    Emit(EmitArgs),
    /// Manage the Kafka topics of Thoth's 19 message types
    Topics {
        /// What to do with the topics.
        #[command(subcommand)]
        command: TopicsCommand,
    },
    /// Load Thoth solver and adviser documents (files or directories) into the knowledge graph
    Sync(SyncArgs),
    /// Ask about knowledge gaps in the graph (Thoth's graph-refresh-job), once
    #[command(long_about = "Find knowledge gaps in the graph, as Thoth's graph-refresh-job does, and publish \
the Thoth messages that ask about them on the normal topics: unresolved-package (with `solver`) for each version \
on an enabled index that a configured solver (THOTH_SOLVERS) has not answered, unrevsolved-package for those never \
reverse-solved, si-unanalyzed-package for versions with a source distribution and no security-indicator result.\n\n\
A gap with a workflow in flight, or asked about less than INVESTIGATOR_REFRESH_RETRY_AFTER_S ago, is not asked \
again; INVESTIGATOR_REFRESH_EXCLUDE leaves packages alone. Nothing beyond the room under \
INVESTIGATOR_LEARNING_MAX_LAG is published, and nothing at all while the lag or the pending workflows are over \
their ceilings.")]
    Refresh(LearnArgs),
    /// Publish package-released for versions the enabled indexes serve and the graph does not know, once
    #[command(long_about = "For each enabled index, list what it serves (PEP 691 JSON or PEP 503 HTML simple \
API, or the warehouse JSON API when the index has one) and publish package-released for each version the graph \
does not know yet, exactly once per version. An index with only_if_package_seen is asked only about the package \
names the graph knows on it. A request that times out or fails, or an answer that cannot be read, is reported \
and leads to nothing.")]
    WatchReleases(LearnArgs),
    /// Check that the indexes still serve the versions and artifacts the graph knows, once
    #[command(long_about = "For the versions the graph knows on each enabled index, ask the index and publish \
what changed, once per finding, as Thoth's package-update-job does: missing-package (the index answers 404 for \
the package), missing-package-version (the package is listed without the version), hash-mismatch (the \
version's sha256 hashes differ). Only a 404 counts as missing: timeouts, errors and malformed answers are \
reported and lead to nothing.")]
    CheckPackages(LearnArgs),
    /// Import OSV advisories and publish cve-provided for each known version they affect, once
    #[command(long_about = "Read security advisories in OSV format (a directory of JSON files, a zip such as \
OSV's PyPI all.zip, or an http(s) URL to either) and, for each version the graph knows on INVESTIGATOR_CVE_INDEX \
(https://pypi.org/simple) that an advisory affects, record the advisory (id, details, link) and publish \
cve-provided, exactly once per (advisory, version).")]
    ImportCves(ImportCvesArgs),
    /// Move a consumer group's stored offsets (recorded in the event log)
    Offsets {
        /// What to do with the offsets.
        #[command(subcommand)]
        command: OffsetsCommand,
    },
    /// Inspect, export and import the event log
    Events {
        /// What to do with the log.
        #[command(subcommand)]
        command: EventsCommand,
    },
}

/// `investigator replay`.
#[derive(Debug, Args)]
#[command(long_about = "Rebuild every knowledge-graph table from the event log alone, into a fresh schema, \
while the service may keep running; then, holding the log for a moment, apply what arrived meanwhile and swap \
the rebuilt graph in atomically.\n\nWith --verify, nothing is swapped: each table of the rebuilt graph is \
compared (row count and checksum) with the live one, and the exit status is 1 if any differs.\n\nShows a \
progress bar with events/s and the time left on a terminal, log lines otherwise.")]
pub struct ReplayArgs {
    /// Compare the rebuilt graph with the live one instead of swapping it in
    #[arg(long)]
    pub verify: bool,

    /// Events applied per transaction
    #[arg(long, value_name = "EVENTS", default_value_t = 10_000, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
    pub batch_size: i64,

    /// Seconds the swap may wait for readers of the live graph
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub swap_timeout: u64,
}

/// `investigator sync`.
#[derive(Debug, Args)]
#[command(long_about = "Load Thoth documents into the knowledge graph, as Thoth's graph-sync does: solver \
documents (solver-...) and adviser documents (adviser-...). Each document becomes events in the log, projected \
at once. A directory is read recursively (its *.json files, in name order).\n\nA document already synced with \
the same content is left as it is. A bad document is reported with its file and the field at fault; the \
others proceed. Exit status: 0 when every document is in the graph, 1 when any could not be synced.")]
pub struct SyncArgs {
    /// Document files, or directories of them
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
}

/// The options of the learning commands.
#[derive(Debug, Clone, Copy, Args)]
pub struct LearnArgs {
    /// Print what would be published, without queueing or publishing anything
    #[arg(long)]
    pub dry_run: bool,
}

/// `investigator import-cves`.
#[derive(Debug, Args)]
pub struct ImportCvesArgs {
    /// A directory of OSV JSON files, a zip of them, or an http(s) URL (default: INVESTIGATOR_CVE_SOURCE)
    #[arg(value_name = "DIR|ZIP|URL")]
    pub source: Option<String>,

    /// The command's options.
    #[command(flatten)]
    pub options: LearnArgs,
}

/// `investigator offsets ...`.
#[derive(Debug, Subcommand)]
pub enum OffsetsCommand {
    /// Move stored offsets: to the start or the end of the broker's log, or to an offset
    #[command(
        long_about = "Move the stored next offsets of a topic's partitions for the consumer group (KAFKA_CONSUMER_GROUP_ID), as an operator: after a topic was created again, or to skip or replay records. Each move is recorded in the event log (ConsumerOffsetReset, policy `operator`) and shown by /api/v1/status. Records between the old and the new offset are applied again (moving back) or never (moving forward). A running `serve` follows: its records before the new offset are skipped, and it goes back when the new offset is behind what it read. A topic halted by INVESTIGATOR_OFFSET_RESET=halt consumes again after /resume."
    )]
    Reset(ResetOffsetsArgs),
}

/// `investigator offsets reset`.
#[derive(Debug, Args)]
pub struct ResetOffsetsArgs {
    /// The topic: a base name (thoth.investigator.unresolved-package) or the full name
    #[arg(long, value_name = "TOPIC")]
    pub topic: String,

    /// Only this partition (default: every partition the broker has, or the embedded bus's one)
    #[arg(long, value_name = "PARTITION", value_parser = clap::value_parser!(i32).range(0..))]
    pub partition: Option<i32>,

    /// `earliest` (the first record the broker holds), `latest` (after its last), or an offset
    #[arg(long, value_name = "WHERE")]
    pub to: String,
}

/// `investigator events ...`.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print events as JSON, one per line
    Tail(TailArgs),
    /// Write the whole log to a compressed, checksummed archive
    Export(ArchiveArgs),
    /// Load an archive into an empty log (checked whole first), then rebuild the knowledge graph
    Import(ImportArgs),
}

/// `investigator events tail`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// Start at this position (default: the last --last events)
    #[arg(long, value_name = "POSITION", value_parser = clap::value_parser!(i64).range(1..))]
    pub from: Option<i64>,

    /// Without --from: how many of the latest events to show (of --type and --stream, when given)
    #[arg(long, value_name = "EVENTS", default_value_t = 20, value_parser = clap::value_parser!(i64).range(0..))]
    pub last: i64,

    /// Keep printing events as they are appended
    #[arg(long, short)]
    pub follow: bool,

    /// Only events of this stream, e.g. package:flask
    #[arg(long, value_name = "STREAM")]
    pub stream: Option<String>,

    /// Only events of this type, e.g. SolverResultRecorded
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
}

/// `investigator events export`.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The archive file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `investigator events import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The archive file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Only load the log; leave the knowledge graph to a later `investigator replay`
    #[arg(long)]
    pub no_replay: bool,
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
