//! Messages of the investigator, as pure data with serde.
//!
//! - [`thoth`]: the 19 message types Thoth's components exchange over Kafka, with their topic
//!   names, strict decoding and byte-exact encoding.
//! - [`documents`]: the documents Thoth's workflows write (solver and adviser results), read
//!   with errors that name the field at fault.
//! - [`error_chain`]: walking an error's causes.
//! - [`excerpt`]: how an input value is quoted in errors and logs (bounded, escaped).
//! - [`storable`]: what PostgreSQL cannot store (a NUL character), found before decoding.
//! - [`domain`]: the investigator's own domain events, as the event log stores them, with
//!   upcasting from older schema versions.
//!
//! Boundary: no I/O, no async, no clock, no randomness. Everything here is a function of its
//! input, so every other crate can rely on it and tests need nothing but bytes.

// The wire and event types are what other crates, Thoth and the stored log agree on: each
// is documented. The other crates document contracts and reasons, not every field.
#![warn(missing_docs)]

pub mod documents;
pub mod domain;
pub mod error_chain;
pub mod excerpt;
pub mod storable;
pub mod thoth;
