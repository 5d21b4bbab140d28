//! Inputs the `thoth_record` fuzz target (`fuzz/`, run by `scripts/fuzz.sh`) found or was
//! seeded with, kept in `tests/fixtures/fuzz/thoth_record` at the repository root and checked
//! the way the target checks them: the first byte picks the message type, the rest is the
//! record value; decoding never panics, and what decodes re-encodes stably (an absent
//! `version` is filled in with pydantic's default on the way).

use std::path::Path;

#[path = "../../fuzz/checks/replay.rs"]
mod replay;
#[path = "../../fuzz/checks/thoth_record.rs"]
mod thoth_record;

#[test]
fn every_kept_fuzz_input_decodes_or_is_refused_without_panicking() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    replay::check_all(&repository, "thoth_record", thoth_record::check);
}
