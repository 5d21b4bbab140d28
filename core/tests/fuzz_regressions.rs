//! Inputs the `solver_document` and `osv_advisory` fuzz targets (`fuzz/`, run by
//! `scripts/fuzz.sh`) found or were seeded with, kept in `tests/fixtures/fuzz/<target>` at the
//! repository root and checked the way the targets check them.

use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks/replay.rs"]
mod replay;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[path = "../../fuzz/checks/osv_advisory.rs"]
mod osv_advisory;
#[path = "../../fuzz/checks/solver_document.rs"]
mod solver_document;

#[test]
fn every_kept_solver_document_fuzz_input_parses_or_is_refused_without_panicking() {
    replay::check_all(&repository(), "solver_document", solver_document::check);
}

#[test]
fn every_kept_osv_advisory_fuzz_input_parses_and_matches_without_panicking() {
    replay::check_all(&repository(), "osv_advisory", osv_advisory::check);
}
