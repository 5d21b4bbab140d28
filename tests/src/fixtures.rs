//! The golden fixtures of `events/tests/golden`: messaging-CLI files and, for each, what
//! thoth-messaging writes for its entries.

use std::path::PathBuf;

/// The fixture files: every type with every field, with required fields only, and older
/// schema versions with unknown keys.
pub const MESSAGE_FILES: [&str; 3] =
    ["thoth-messages.full.json", "thoth-messages.minimal.json", "thoth-messages.compat.json"];

/// The directory of the golden files.
pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events/tests/golden")
}

/// The path of a fixture file.
pub fn path(file: &str) -> PathBuf {
    golden_dir().join(file)
}

/// The expected records of a fixture file, one per entry, in order.
pub fn expected_records(file: &str) -> Vec<String> {
    let expected = path(&file.replace(".json", ".expected.jsonl"));
    let text = std::fs::read_to_string(&expected)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", expected.display()));
    text.lines().map(str::to_owned).collect()
}
