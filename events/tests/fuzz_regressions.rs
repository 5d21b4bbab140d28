//! Inputs the `thoth_record` fuzz target (`fuzz/`, run by `scripts/fuzz.sh`) found or was
//! seeded with, kept in `tests/fixtures/fuzz/thoth_record` at the repository root and checked
//! the way the target checks them: the first byte picks the message type, the rest is the
//! record value; decoding never panics, and what decodes re-encodes stably (an absent
//! `version` is filled in with pydantic's default on the way).

use std::path::PathBuf;

use investigator_events::thoth::{MessageKind, ThothMessage};

/// The same checks as `fuzz/fuzz_targets/thoth_record.rs`.
fn check(data: &[u8]) {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let kind = MessageKind::ALL[usize::from(pick) % MessageKind::ALL.len()];
    let Ok(message) = ThothMessage::decode(kind, payload) else {
        return;
    };
    assert_eq!(message.kind(), kind);
    let encoded = message.encode();
    let again = match ThothMessage::decode(kind, encoded.as_bytes()) {
        Ok(again) => again,
        Err(error) => panic!("our own encoding does not decode: {error}\n{encoded}"),
    };
    // An absent `version` is kept absent and encoded as pydantic's default, so the round trip
    // fills it in; nothing else changes, and from there on the message is a fixed point.
    let filled = message.version().unwrap_or(kind.spec().current_version);
    assert_eq!(again.version(), Some(filled), "the round trip changed the version");
    assert_eq!(again.component_name(), message.component_name());
    assert_eq!(again.service_version(), message.service_version());
    if message.version().is_some() {
        assert_eq!(again, message, "the round trip changed the message");
    }
    assert_eq!(again.encode(), encoded, "encoding is not stable");
}

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
            std::panic::catch_unwind(|| check(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "these inputs fail: {failed:?}");
}
