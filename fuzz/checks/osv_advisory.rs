//! What the `osv_advisory` fuzz target checks (shared with `core/tests/fuzz_regressions.rs`):
//! an OSV advisory: parsing never panics, and matching a parsed advisory against lists of
//! known versions (fixed ones and the advisory's own version strings) never panics and
//! returns each known version at most once, in input order.

use investigator_core::osv::{Advisory, parse_advisory};

/// Versions a graph may hold: PEP 440 in its odd spellings, and strings PyPI serves that are
/// not PEP 440 at all.
const KNOWN: &[&[&str]] = &[
    &[],
    &["0", "0.1", "1.0", "1.0.0", "1.0a1", "1.0.post1", "1.0.dev3", "1.0+local.7", "2!1.0"],
    &["v1.2.3", " 1.2 ", "1.2-rc.1", "1.2_post_4", "2004d", "", "not a version", "1.0"],
    &["18446744073709551616", "1.99999999999999999999", "0.0.0.0.0.0.0.0.0.0.1", "1!0"],
];

/// Panics when `data` breaks a property.
pub fn check(data: &[u8]) {
    let Ok(advisory) = parse_advisory(data) else {
        return;
    };
    let own: Vec<String> = own_versions(&advisory);
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

/// Every version string the advisory itself names, listed or as a range bound.
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
    // Each returned version is one of the known ones, each string once, in input order.
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
