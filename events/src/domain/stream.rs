//! Stream ids: which aggregate an event belongs to. Optimistic concurrency and stream
//! versions are per stream.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A stream id, `<kind>:<identity>`: `package:flask`, `index:https://pypi.org/simple`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StreamId(String);

impl StreamId {
    /// Everything about one package (by PEP 503 name): versions seen or missing, flags,
    /// vulnerabilities, security indicators, hashes.
    pub fn package(package_name: &str) -> Self {
        StreamId(format!("package:{package_name}"))
    }

    /// One package index.
    pub fn index(url: &str) -> Self {
        StreamId(format!("index:{url}"))
    }

    /// One solver run.
    pub fn solver_document(document_id: &str) -> Self {
        StreamId(format!("solver:{document_id}"))
    }

    /// One workflow.
    pub fn workflow(workflow_id: &str) -> Self {
        StreamId(format!("workflow:{workflow_id}"))
    }

    /// One adviser run.
    pub fn adviser(document_id: &str) -> Self {
        StreamId(format!("adviser:{document_id}"))
    }

    /// One dead-lettered record.
    pub fn dead_letter(topic: &str, partition: i32, offset: i64) -> Self {
        StreamId(format!("dead-letter:{topic}/{partition}/{offset}"))
    }

    /// One learning driver's decisions (`refresh`, `releases`, `updates`, `cves`).
    pub fn learning(driver: &str) -> Self {
        StreamId(format!("learning:{driver}"))
    }

    /// One partition's consumer offset of one consumer group.
    pub fn consumer_offset(consumer_group: &str, topic: &str, partition: i32) -> Self {
        StreamId(format!("consumer-offset:{consumer_group}/{topic}/{partition}"))
    }

    /// A stream id as stored.
    pub fn from_stored(id: String) -> Self {
        StreamId(id)
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
