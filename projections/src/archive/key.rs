//! The key that signs archives: what proves an archive was exported by someone holding it.
//! A SHA-256 anyone can recompute proves only that the file is whole.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The HMAC-SHA256 of an archive's contents.
pub(super) type ArchiveMac = Hmac<Sha256>;

/// The secret shared by whoever exports and imports archives (`INVESTIGATOR_ARCHIVE_KEY`).
/// Never printed.
#[derive(Clone)]
pub struct ArchiveKey(Vec<u8>);

impl ArchiveKey {
    /// A key of these bytes (any length; HMAC hashes a long one).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        ArchiveKey(bytes.into())
    }

    /// A fresh MAC under this key.
    pub(super) fn mac(&self) -> ArchiveMac {
        <ArchiveMac as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
    }
}

impl fmt::Debug for ArchiveKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ArchiveKey(***)")
    }
}

/// Whether `tag` is the MAC of what `mac` has seen (compared in constant time).
pub(super) fn matches(mac: ArchiveMac, tag: &[u8]) -> bool {
    mac.verify_slice(tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_matches_only_under_its_key_and_the_key_is_never_printed() {
        let key = ArchiveKey::new("k3y");
        let mut signing = key.mac();
        signing.update(b"frames");
        let tag = signing.finalize().into_bytes().to_vec();
        let mut same = key.mac();
        same.update(b"frames");
        assert!(matches(same, &tag));
        let mut other = ArchiveKey::new("other").mac();
        other.update(b"frames");
        assert!(!matches(other, &tag));
        let mut altered = key.mac();
        altered.update(b"framez");
        assert!(!matches(altered, &tag));
        assert_eq!(format!("{key:?}"), "ArchiveKey(***)");
    }
}
