//! An OSV advisory: parsing never panics, and matching a parsed advisory against lists of
//! known versions (fixed ones and the advisory's own version strings) never panics and
//! returns each known version at most once, in input order.

#![no_main]

#[path = "../checks/osv_advisory.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
