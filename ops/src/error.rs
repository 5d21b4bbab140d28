//! What a command can fail with, and the exit status each failure gives.

use std::io;
use std::path::PathBuf;

use investigator_actors::kafka::KafkaError;
use investigator_events::thoth::{DecodeError, MessagesFileError};
use investigator_projections::DatabaseError;
use investigator_projections::archive::ArchiveError;
use investigator_projections::migrations::MigrationError;
use investigator_projections::replay::ReplayError;
use investigator_projections::store::StoreError;

use crate::settings::SettingsError;

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The environment is not a usable configuration.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A message given on the command line is not a valid Thoth message.
    #[error("the message was not sent")]
    InvalidMessage(#[from] DecodeError),
    /// A messages file is not valid; nothing from it was sent.
    #[error("nothing from {path} was sent")]
    InvalidMessagesFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: MessagesFileError,
    },
    /// The service's thread ended without saying how (it panicked).
    #[error("the service stopped unexpectedly")]
    ServiceStopped,
    /// Talking to Kafka failed.
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    /// The arguments do not say what to do.
    #[error("{0}")]
    Usage(&'static str),
    /// An argument's value cannot be used.
    #[error("{argument}: {reason}")]
    InvalidArgument {
        /// The argument (`--topic`).
        argument: &'static str,
        /// Why, quoting at most an excerpt of the value.
        reason: String,
    },
    /// Some offsets were not moved (each is listed in the output).
    #[error("{failed} of {total} offsets were not moved (the output lists which and why)")]
    OffsetsNotMoved {
        /// How many were not moved.
        failed: usize,
        /// How many were asked for.
        total: usize,
    },
    /// Some messages were not delivered (each outcome is listed in the output).
    #[error("{failed} of {total} messages were not delivered (the output lists which; the others were sent)")]
    NotDelivered {
        /// How many failed.
        failed: usize,
        /// How many were sent for.
        total: usize,
    },
    /// Some topics could not be created (each is listed in the output).
    #[error("{failed} of {total} topics could not be created")]
    TopicsFailed {
        /// How many failed.
        failed: usize,
        /// How many were asked for.
        total: usize,
    },
    /// The database could not be reached.
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// The schema could not be brought up to date.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// The event log could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A replay failed; the live graph is unchanged.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// An archive could not be written or loaded.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The database has no event log to read.
    #[error("{target} has no event log yet: run `investigator migrate` (or `investigator sync`) first")]
    NoEventLog {
        /// host:port/database.
        target: String,
    },
    /// The rebuilt graph differs from the live one.
    #[error("the rebuilt knowledge graph differs from the live one in: {}", .tables.join(", "))]
    VerificationFailed {
        /// The tables that differ.
        tables: Vec<String>,
    },
    /// Some documents could not be synced (each is listed in the output).
    #[error(
        "{failed} of {total} documents could not be synced (the output lists which and why; the others were synced)"
    )]
    SyncFailed {
        /// How many failed.
        failed: usize,
        /// How many were given.
        total: usize,
    },
    /// A learning driver's round failed (nothing after the failure was queued).
    #[error(transparent)]
    Learning(#[from] investigator_actors::learning::LearningError),
    /// A learning round finished, but some requests or documents failed (each is listed in
    /// the output; they led to no finding).
    #[error("{failed} request(s) or document(s) failed (the output lists which and why; the rest was done)")]
    LearningIncomplete {
        /// How many failed.
        failed: usize,
    },
    /// A database query failed.
    #[error("the database query failed")]
    Query(#[from] tokio_postgres::Error),
    /// An input file or standard input could not be read.
    #[error("cannot read {what}")]
    Read {
        /// The file, or `standard input`.
        what: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The pipeline could not start, or stopped.
    #[error("the ingest pipeline failed")]
    Ingest(#[source] Box<investigator_actors::pipeline::ingest::IngestError>),
    /// Events could not be recorded.
    #[error("recording failed")]
    Record(#[source] Box<investigator_projections::RecordError>),
    /// No `DATABASE_URL`, and the private server could not be used.
    #[error(transparent)]
    EmbeddedPostgres(#[from] crate::embedded_postgres::EmbeddedPostgresError),
    /// Publishing to the embedded bus failed; nothing was published.
    #[error("the messages were not published")]
    Bus(#[source] Box<investigator_projections::bus::BusError>),
    /// The HTTP client for package indexes could not be built (no TLS).
    #[error("cannot build the HTTP client for package indexes")]
    Http(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// `INVESTIGATOR_LAUNCHER=kube` without a usable Kubernetes configuration.
    #[error("INVESTIGATOR_LAUNCHER=kube, but the Kubernetes client cannot be set up")]
    Kube(#[source] Box<investigator_actors::workflows::submitter::KubeConfigError>),
    /// The HTTP address is taken or not ours.
    #[error("cannot listen on {address}")]
    Bind {
        address: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The output could not be written.
    #[error("cannot write the output")]
    Output(#[from] io::Error),
}

impl CliError {
    /// 2 when the invocation or its input is wrong (as for clap's usage errors), 1 when
    /// something failed while doing what was asked.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Settings(_)
            | CliError::Usage(_)
            | CliError::InvalidArgument { .. }
            | CliError::InvalidMessage(_)
            | CliError::InvalidMessagesFile { .. }
            | CliError::Read { .. } => 2,
            CliError::EmbeddedPostgres(
                crate::embedded_postgres::EmbeddedPostgresError::NoBinaries { .. }
                | crate::embedded_postgres::EmbeddedPostgresError::NoPostgresUser,
            ) => 2,
            CliError::Archive(ArchiveError::Invalid { .. } | ArchiveError::LogNotEmpty { .. })
            | CliError::NoEventLog { .. } => 2,
            CliError::Kafka(_)
            | CliError::NotDelivered { .. }
            | CliError::TopicsFailed { .. }
            | CliError::OffsetsNotMoved { .. }
            | CliError::Output(_)
            | CliError::Database(_)
            | CliError::Migration(_)
            | CliError::Store(_)
            | CliError::Replay(_)
            | CliError::Archive(_)
            | CliError::VerificationFailed { .. }
            | CliError::SyncFailed { .. }
            | CliError::Learning(_)
            | CliError::LearningIncomplete { .. }
            | CliError::Query(_)
            | CliError::Ingest(_)
            | CliError::Record(_)
            | CliError::Http(_)
            | CliError::Kube(_)
            | CliError::ServiceStopped
            | CliError::Bus(_)
            | CliError::EmbeddedPostgres(_)
            | CliError::Bind { .. } => 1,
        }
    }
}
