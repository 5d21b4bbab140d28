//! Inputs the `solver_document` and `osv_advisory` fuzz targets (`fuzz/`, run by
//! `scripts/fuzz.sh`) found or were seeded with, kept in `tests/fixtures/fuzz/<target>` at the
//! repository root and checked the way the targets check them.

use std::path::PathBuf;

use investigator_core::documents::document_events;
use investigator_core::osv::{Advisory, parse_advisory};
use investigator_events::documents::Document;

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

/// The same checks as `fuzz/fuzz_targets/solver_document.rs`.
fn check_document(data: &[u8]) {
    let Ok(document) = Document::parse(data) else {
        return;
    };
    let first = document_events(&document);
    if let Ok(events) = &first {
        assert_eq!(events.document_id, document.document_id());
    }
    assert_eq!(document_events(&document), first, "document_events is not deterministic");
}

/// The same checks as `fuzz/fuzz_targets/osv_advisory.rs`.
fn check_advisory(data: &[u8]) {
    const KNOWN: &[&[&str]] = &[
        &[],
        &["0", "0.1", "1.0", "1.0.0", "1.0a1", "1.0.post1", "1.0.dev3", "1.0+local.7", "2!1.0"],
        &["v1.2.3", " 1.2 ", "1.2-rc.1", "1.2_post_4", "2004d", "", "not a version", "1.0"],
        &["18446744073709551616", "1.99999999999999999999", "0.0.0.0.0.0.0.0.0.0.1", "1!0"],
    ];
    let Ok(advisory) = parse_advisory(data) else {
        return;
    };
    let own = own_versions(&advisory);
    let mut names: Vec<&str> = advisory.affected.iter().map(|package| package.name.as_str()).collect();
    names.extend(["flask", "Django", "foo_bar", ""]);
    for name in names {
        check_matching(&advisory, name, &own);
        for known in KNOWN {
            let known: Vec<String> = known.iter().map(|version| (*version).to_owned()).collect();
            check_matching(&advisory, name, &known);
        }
    }
}

fn own_versions(advisory: &Advisory) -> Vec<String> {
    let mut versions = Vec::new();
    for package in &advisory.affected {
        versions.extend(package.versions.iter().cloned());
        for range in &package.ranges {
            versions.extend([&range.introduced, &range.fixed, &range.last_affected].into_iter().flatten().cloned());
        }
    }
    versions
}

fn check_matching(advisory: &Advisory, name: &str, known: &[String]) {
    let affected = advisory.affected_versions(name, known);
    if advisory.withdrawn {
        assert!(affected.is_empty(), "a withdrawn advisory affects nothing");
    }
    let mut position = 0;
    for version in &affected {
        let found = known[position..].iter().position(|candidate| candidate == *version);
        let Some(offset) = found else {
            panic!("'{version}' is not among the known versions after position {position}, or is out of order");
        };
        position += offset + 1;
    }
    let mut distinct: Vec<&String> = affected.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), affected.len(), "a version was returned twice");
}

#[test]
fn every_kept_solver_document_fuzz_input_parses_or_is_refused_without_panicking() {
    check_all("solver_document", check_document);
}

#[test]
fn every_kept_osv_advisory_fuzz_input_parses_and_matches_without_panicking() {
    check_all("osv_advisory", check_advisory);
}
