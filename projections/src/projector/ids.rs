//! Row ids derived from natural keys.
//!
//! Ids come from hashing a row's natural key, never from a sequence: a sequence hands out
//! different numbers to a rebuild (rolled-back transactions and `ON CONFLICT` consume values
//! live), while a hash gives the same id to the same row in every rebuild, in any order. The
//! hash is XXH3-64, a fixed, documented algorithm, so ids are stable across builds.
//!
//! Two keys hashing to the same id is not silent: every insert names its natural key as the
//! conflict target, so a colliding id surfaces as a primary-key violation. With n rows the
//! chance of any collision is about n² / 2^64 (one in 10^7 for a million rows).

use xxhash_rust::xxh3::Xxh3;

/// Hashes a table tag and the key's parts, each length-prefixed (so `("ab", "c")` and
/// `("a", "bc")` differ, as do `None` and `Some("")`), to a positive 63-bit id.
fn id(table: &str, parts: &[Option<&str>]) -> i64 {
    let mut hasher = Xxh3::new();
    hasher.update(table.as_bytes());
    for part in parts {
        match part {
            None => hasher.update(&[0]),
            Some(text) => {
                hasher.update(&[1]);
                hasher.update(&(text.len() as u64).to_le_bytes());
                hasher.update(text.as_bytes());
            }
        }
    }
    (hasher.digest() & (i64::MAX as u64)) as i64
}

pub(crate) fn index(url: &str) -> i64 {
    id("python_package_index", &[Some(url)])
}

pub(crate) fn entity(name: &str, version: Option<&str>, index_url: Option<&str>) -> i64 {
    id("python_package_version_entity", &[Some(name), version, index_url])
}

pub(crate) struct EnvironmentKey<'a> {
    pub os_name: &'a str,
    pub os_version: &'a str,
    pub python_version: &'a str,
}

pub(crate) fn version(name: &str, version: Option<&str>, index_url: Option<&str>, env: &EnvironmentKey<'_>) -> i64 {
    id(
        "python_package_version",
        &[Some(name), version, index_url, Some(env.os_name), Some(env.os_version), Some(env.python_version)],
    )
}

pub(crate) fn ecosystem_solver(solver_name: &str, solver_version: &str, env: &EnvironmentKey<'_>) -> i64 {
    id(
        "ecosystem_solver",
        &[
            Some("python"),
            Some(solver_name),
            Some(solver_version),
            Some(env.os_name),
            Some(env.os_version),
            Some(env.python_version),
        ],
    )
}

pub(crate) fn license(name: &str, identifier: &str, version: &str) -> i64 {
    id("python_package_license", &[Some(name), Some(identifier), Some(version)])
}

pub(crate) fn artifact(sha256: &str) -> i64 {
    id("python_artifact", &[Some(sha256)])
}

pub(crate) fn import_package(name: &str) -> i64 {
    id("import_package", &[Some(name)])
}

pub(crate) fn cve(cve_id: &str) -> i64 {
    id("cve", &[Some(cve_id)])
}

pub(crate) fn si_run(document_id: &str) -> i64 {
    id("si_aggregated_run", &[Some(document_id)])
}

pub(crate) fn adviser_run(document_id: &str) -> i64 {
    id("adviser_run", &[Some(document_id)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_positive_and_separate_their_parts() {
        // Stored ids must never change between builds: this value is the contract.
        assert_eq!(index("https://pypi.org/simple"), 3_829_607_835_860_460_334);
        assert!(index("https://pypi.org/simple") > 0);
        assert_ne!(entity("ab", Some("c"), None), entity("a", Some("bc"), None));
        assert_ne!(entity("a", None, None), entity("a", Some(""), None));
        assert_ne!(index("x"), import_package("x"), "tables have their own ids");
    }
}
