//! Inputs the `thoth_record` fuzz target (`fuzz/`, run by `scripts/fuzz.sh`) found or was
//! seeded with, kept in `tests/fixtures/fuzz/thoth_record` at the repository root and checked
//! the way the target checks them: the first byte picks the message type, the rest is the
//! record value; decoding never panics, and what decodes re-encodes stably (an absent
//! `version` is filled in with pydantic's default on the way).

use std::path::PathBuf;

#[path = "../../fuzz/checks/thoth_record.rs"]
mod thoth_record;

#[test]
fn every_kept_fuzz_input_decodes_or_is_refused_without_panicking() {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/fuzz/thoth_record");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", directory.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", directory.display());
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("readable input");
            std::panic::catch_unwind(|| thoth_record::check(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "these inputs fail: {failed:?}");
}
