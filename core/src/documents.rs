//! Thoth documents turned into domain events: what graph-sync did to the tables, here as
//! facts appended to the log. Names, versions and index URLs are normalised on the way in;
//! whatever cannot be is an error naming the field.

mod adviser;
/// Crate-visible for the workflow names, which must read back as their solver.
pub(crate) mod solver;

use investigator_events::documents::{Document, DocumentError};
use investigator_events::domain::{DomainEvent, StreamId};
use sha2::{Digest, Sha256};

use crate::{IndexUrl, PackageName, PackageVersion};

/// The events one document stands for, ready to append.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentEvents {
    pub document_id: String,
    /// The stream they go to.
    pub stream: StreamId,
    /// The events, in order.
    pub events: Vec<DomainEvent>,
    /// The same document, with the same content, always gives the same key: syncing it
    /// again appends nothing. A corrected document (same id, other content) gives another.
    pub idempotency_key: String,
}

/// The events of a document.
pub fn document_events(document: &Document) -> Result<DocumentEvents, DocumentError> {
    let (stream, events) = match document {
        Document::Solver(solver) => {
            let event = solver::solver_result(solver)?;
            (StreamId::solver_document(&event.document_id), vec![DomainEvent::from(event)])
        }
        Document::Adviser(adviser) => {
            let (run, parked) = adviser::adviser_run(adviser)?;
            let stream = StreamId::adviser(&run.adviser_document_id);
            let mut events = vec![DomainEvent::from(run)];
            events.extend(parked.map(DomainEvent::from));
            (stream, events)
        }
    };
    let mut digest = Sha256::new();
    for event in &events {
        let encoded = event.encode();
        digest.update(encoded.event_type.name().as_bytes());
        digest.update(&encoded.payload);
    }
    let hash: String = digest.finalize().iter().take(12).map(|byte| format!("{byte:02x}")).collect();
    let document_id = document.document_id().to_owned();
    Ok(DocumentEvents { idempotency_key: format!("document:{document_id}:{hash}"), document_id, stream, events })
}

/// A PEP 503 name, or an error at `field`.
fn package_name(raw: &str, field: &str) -> Result<String, DocumentError> {
    PackageName::parse(raw.trim())
        .map(|name| name.as_str().to_owned())
        .map_err(|error| DocumentError::at(field, error.to_string()))
}

/// An index URL, or an error at `field`.
fn index_url(raw: &str, field: &str) -> Result<String, DocumentError> {
    IndexUrl::parse(raw).map(|url| url.as_str().to_owned()).map_err(|error| DocumentError::at(field, error.to_string()))
}

/// The PEP 440 normal form; a string PEP 440 cannot read (PyPI still serves a few, such as
/// `2004d`) is kept as written, as Thoth keeps it.
fn version(raw: &str) -> String {
    PackageVersion::parse(raw).map_or_else(|_| raw.trim().to_owned(), |version| version.normalized())
}

/// A naive ISO 8601 timestamp as Thoth writes it, in one canonical form (microseconds); an
/// RFC 3339 timestamp with an offset is taken in UTC.
fn timestamp(raw: &str, field: &str) -> Result<String, DocumentError> {
    const CANONICAL: &str = "%Y-%m-%dT%H:%M:%S%.6f";
    if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(naive.format(CANONICAL).to_string());
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|datetime| datetime.naive_utc().format(CANONICAL).to_string())
        .map_err(|_| {
            DocumentError::at(field, format!("'{raw}' is not an ISO 8601 timestamp such as 2021-07-13T01:02:53.123456"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_take_one_canonical_form() {
        assert_eq!(timestamp("2021-07-13T01:02:53.1", "t").expect("valid"), "2021-07-13T01:02:53.100000");
        assert_eq!(timestamp("2021-07-13T01:02:53", "t").expect("valid"), "2021-07-13T01:02:53.000000");
        assert_eq!(timestamp("2021-07-13T03:02:53+02:00", "t").expect("valid"), "2021-07-13T01:02:53.000000");
        let error = timestamp("13/07/2021", "metadata.datetime").expect_err("not ISO");
        assert_eq!(error.field.as_deref(), Some("metadata.datetime"));
    }

    #[test]
    fn versions_are_normalised_when_pep_440_reads_them() {
        assert_eq!(version("1.0-alpha1"), "1.0a1");
        assert_eq!(version(" 2004d "), "2004d");
    }
}
