//! Inputs the `solver_document` and `osv_advisory` fuzz targets (`fuzz/`, run by
//! `scripts/fuzz.sh`) found or were seeded with, kept in `tests/fixtures/fuzz/<target>` at the
//! repository root and checked the way the targets check them.

use std::path::PathBuf;

/// The inputs kept for `target`, sorted.
fn inputs(target: &str) -> Vec<PathBuf> {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/fuzz").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", directory.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", directory.display());
    files
}

/// Runs `check` on every input of `target`; fails naming every input that panics.
fn check_all(target: &str, check: fn(&[u8])) {
    let failed: Vec<String> = inputs(target)
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("readable input");
            std::panic::catch_unwind(|| check(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "these inputs fail: {failed:?}");
}

#[path = "../../fuzz/checks/osv_advisory.rs"]
mod osv_advisory;
#[path = "../../fuzz/checks/solver_document.rs"]
mod solver_document;

#[test]
fn every_kept_solver_document_fuzz_input_parses_or_is_refused_without_panicking() {
    check_all("solver_document", solver_document::check);
}

#[test]
fn every_kept_osv_advisory_fuzz_input_parses_and_matches_without_panicking() {
    check_all("osv_advisory", osv_advisory::check);
}
