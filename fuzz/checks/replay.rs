//! Replays the inputs kept for a fuzz target (`tests/fixtures/fuzz/<target>` at the repository
//! root) through its checks; shared by the crates' `tests/fuzz_regressions.rs`.

use std::path::{Path, PathBuf};

/// Runs `check` on every input kept for `target` (`repository` is the repository root); fails
/// naming every input that panics, and when there is none.
pub fn check_all(repository: &Path, target: &str, check: fn(&[u8])) {
    let directory = repository.join("tests/fixtures/fuzz").join(target);
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
            std::panic::catch_unwind(|| check(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "these inputs fail: {failed:?}");
}
