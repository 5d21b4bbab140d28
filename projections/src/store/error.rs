//! What can go wrong with the log.

use investigator_events::domain::{EventDecodeError, StreamId};

use super::ExpectedVersion;

/// An event-log operation that failed. Nothing of a failed append is kept: the caller's
/// transaction is to be rolled back.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A stream is not at the version the append expected: someone else appended first.
    #[error("stream '{stream}' is at version {actual}, but the append expected {}", describe(.expected))]
    Conflict {
        stream: StreamId,
        /// What the append expected.
        expected: ExpectedVersion,
        /// Its version now (0: no event).
        actual: i64,
    },
    /// An event in the log cannot be read by this build.
    #[error("the event at position {position} cannot be read")]
    Unreadable {
        position: i64,
        /// Why.
        #[source]
        source: EventDecodeError,
    },
    /// PostgreSQL refused or failed.
    #[error("{operation} failed")]
    Database {
        /// What was being done.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// No connection.
    #[error(transparent)]
    Connection(#[from] crate::DatabaseError),
}

fn describe(expected: &ExpectedVersion) -> String {
    match expected {
        ExpectedVersion::Any => "any version".to_owned(),
        ExpectedVersion::NoStream => "no stream".to_owned(),
        ExpectedVersion::Exactly(version) => format!("version {version}"),
    }
}

/// Wraps driver errors with the operation they interrupted.
pub(crate) trait DatabaseContext<T> {
    fn during(self, operation: &'static str) -> Result<T, StoreError>;
}

impl<T> DatabaseContext<T> for Result<T, tokio_postgres::Error> {
    fn during(self, operation: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Database { operation, source })
    }
}
