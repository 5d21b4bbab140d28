//! What the `thoth_record` fuzz target checks (shared with `events/tests/fuzz_regressions.rs`):
//! a Kafka record value decoded as one of Thoth's 19 message types (the first byte picks the
//! type): decoding never panics, and whatever decodes re-encodes to bytes that decode to the
//! same message (with an absent `version` filled in with pydantic's default, as `encode`
//! documents) and encode to the same bytes again.

use investigator_events::thoth::{MessageKind, ThothMessage};

/// Panics when `data` breaks a property.
pub fn check(data: &[u8]) {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let kind = MessageKind::ALL[usize::from(pick) % MessageKind::ALL.len()];
    let Ok(message) = ThothMessage::decode(kind, payload) else {
        return;
    };
    assert_eq!(message.kind(), kind);
    let encoded = message.encode();
    let again = match ThothMessage::decode(kind, encoded.as_bytes()) {
        Ok(again) => again,
        Err(error) => panic!("our own encoding does not decode: {error}\n{encoded}"),
    };
    // An absent `version` is kept absent and encoded as pydantic's default, so the round trip
    // fills it in; nothing else changes, and from there on the message is a fixed point.
    let filled = message.version().unwrap_or(kind.spec().current_version);
    assert_eq!(again.version(), Some(filled), "the round trip changed the version");
    assert_eq!(again.component_name(), message.component_name());
    assert_eq!(again.service_version(), message.service_version());
    if message.version().is_some() {
        assert_eq!(again, message, "the round trip changed the message");
    }
    assert_eq!(again.encode(), encoded, "encoding is not stable");
}
