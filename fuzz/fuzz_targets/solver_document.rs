//! A solver or adviser document as graph-sync reads it: parsing never panics, and a parsed
//! document turns into its domain events (or an error naming the field) without panicking,
//! the same way every time.

#![no_main]

#[path = "../checks/solver_document.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
