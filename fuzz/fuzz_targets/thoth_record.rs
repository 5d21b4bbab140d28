//! A Kafka record value decoded as one of Thoth's 19 message types (the first byte picks the
//! type): decoding never panics, and whatever decodes re-encodes to bytes that decode to the
//! same message (with an absent `version` filled in with pydantic's default, as `encode`
//! documents) and encode to the same bytes again.

#![no_main]

#[path = "../checks/thoth_record.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check(data));
