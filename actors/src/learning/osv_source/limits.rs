//! How much of a source is read and kept. Each limit is met with an error naming it, never
//! with a silently partial batch (which would read as "no advisory affects this version").

use std::fmt;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The largest advisory document read; a bigger one is rejected. OSV's largest PyPI
/// advisories (every version of a long-lived package listed) are some hundreds of KiB.
pub const MAX_DOCUMENT_BYTES: u64 = 4 * 1024 * 1024;
/// The largest download read; a bigger one is refused whole. OSV's `PyPI/all.zip` is some
/// tens of MiB.
pub const MAX_DOWNLOAD_BYTES: u64 = 128 * 1024 * 1024;
/// The most documents a source may hold (archive entries, files, array elements). OSV's
/// PyPI export holds some tens of thousands.
pub const MAX_DOCUMENTS: usize = 100_000;
/// The most bytes of documents a source may hold, decompressed: a zip archive of a
/// megabyte can hold gigabytes.
pub const MAX_READ_BYTES: u64 = 1024 * 1024 * 1024;
/// Rejected documents listed by name at most; the others are counted.
pub const MAX_REJECTED_KEPT: usize = 1_000;
/// What the process's memory grows by, for each byte an advisory is estimated to take
/// ([`investigator_core::osv::Advisory::approximate_size`]). Measured with 40,000 advisories
/// of 8 KiB details: about 1.06 from a stored archive, 1.9 from a deflated one (each entry's
/// decompressor, freed between the advisories kept, leaves holes the allocator cannot reuse).
const ALLOCATOR_OVERHEAD: u64 = 2;

/// What a source has used of its limits so far.
#[derive(Debug)]
pub(super) struct Budget {
    max_kept_bytes: u64,
    kept_bytes: u64,
    max_read_bytes: u64,
    read_bytes: u64,
}

impl Budget {
    pub(super) fn new(max_kept_bytes: u64) -> Self {
        Budget { max_kept_bytes, kept_bytes: 0, max_read_bytes: MAX_READ_BYTES, read_bytes: 0 }
    }

    /// A budget whose source may hold only `max_read_bytes` (tests of that limit, which
    /// would otherwise need a gigabyte).
    #[cfg(test)]
    pub(super) fn reading_at_most(max_read_bytes: u64) -> Self {
        Budget { max_read_bytes, ..Budget::new(u64::MAX) }
    }

    /// A source declaring `documents` documents.
    pub(super) fn count_documents(&self, documents: usize) -> Result<(), String> {
        if documents > MAX_DOCUMENTS {
            return Err(format!("it holds more than {MAX_DOCUMENTS} documents"));
        }
        Ok(())
    }

    /// `bytes` more of documents read.
    pub(super) fn read(&mut self, bytes: u64) -> Result<(), String> {
        self.read_bytes = self.read_bytes.saturating_add(bytes);
        if self.read_bytes > self.max_read_bytes {
            return Err(format!("its documents hold more than {} bytes", self.max_read_bytes));
        }
        Ok(())
    }

    /// An advisory of about `size` bytes kept.
    pub(super) fn keep(&mut self, size: usize) -> Result<(), String> {
        let grows_by = u64::try_from(size).unwrap_or(u64::MAX).saturating_mul(ALLOCATOR_OVERHEAD);
        self.kept_bytes = self.kept_bytes.saturating_add(grows_by);
        if self.kept_bytes > self.max_kept_bytes {
            return Err(format!(
                "its advisories take more than {} MiB of memory (INVESTIGATOR_CVE_MAX_MB)",
                self.max_kept_bytes / (1024 * 1024)
            ));
        }
        Ok(())
    }
}

/// Why a JSON array of advisories could not be split.
pub(super) enum ArrayError {
    /// Not a JSON array.
    NotJson(serde_json::Error),
    /// More than [`MAX_DOCUMENTS`] elements.
    TooMany,
}

/// The elements of a JSON array, unparsed, refusing more than [`MAX_DOCUMENTS`] as they are
/// met (a `Vec` of every element of `[1,1,…]` would take 16 bytes per two of input).
pub(super) fn bounded_array(body: &[u8]) -> Result<Vec<&RawValue>, ArrayError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let elements = deserializer.deserialize_seq(BoundedElements).map_err(|error| {
        if error.to_string().starts_with(TOO_MANY) { ArrayError::TooMany } else { ArrayError::NotJson(error) }
    })?;
    deserializer.end().map_err(ArrayError::NotJson)?;
    Ok(elements)
}

const TOO_MANY: &str = "more elements than a source may hold";

struct BoundedElements;

impl<'de> Visitor<'de> for BoundedElements {
    type Value = Vec<&'de RawValue>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an array of advisories")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Self::Value, A::Error> {
        let mut elements = Vec::new();
        while let Some(element) = sequence.next_element::<&RawValue>()? {
            if elements.len() == MAX_DOCUMENTS {
                return Err(serde::de::Error::custom(TOO_MANY));
            }
            elements.push(element);
        }
        Ok(elements)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_longer_than_a_source_may_hold_is_refused_as_it_is_read() {
        let long = format!("[{}]", vec!["1"; MAX_DOCUMENTS + 1].join(","));
        assert!(matches!(bounded_array(long.as_bytes()), Err(ArrayError::TooMany)));
        let short = format!("[{}]", ["{}"; 3].join(","));
        assert_eq!(bounded_array(short.as_bytes()).ok().map(|elements| elements.len()), Some(3));
        assert!(matches!(bounded_array(b"[1, 2"), Err(ArrayError::NotJson(_))));
    }

    #[test]
    fn the_budget_counts_documents_bytes_and_what_is_kept() {
        let mut budget = Budget::new(1024);
        assert!(budget.count_documents(MAX_DOCUMENTS).is_ok());
        assert!(budget.count_documents(MAX_DOCUMENTS + 1).is_err());
        assert!(budget.read(MAX_READ_BYTES).is_ok());
        assert!(budget.read(1).is_err());
        assert!(budget.keep(500).is_ok(), "counted twice: 1,000 bytes");
        let refused = budget.keep(20).expect_err("over the kept budget");
        assert!(refused.contains("INVESTIGATOR_CVE_MAX_MB"), "{refused}");
    }
}
