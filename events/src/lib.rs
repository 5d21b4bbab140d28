//! Messages of the investigator, as pure data with serde.
//!
//! Today this is [`thoth`]: the 19 message types Thoth's components exchange over Kafka, with
//! their topic names, strict decoding and byte-exact encoding.
//!
//! Boundary: no I/O, no async, no clock, no randomness. Everything here is a function of its
//! input, so every other crate can rely on it and tests need nothing but bytes.

pub mod thoth;
