//! W3C trace context (`traceparent`) for records: the producer's, when a record carries a
//! valid one in its headers, or a new trace started at ingest. It goes into every event the
//! record leads to (`EventMetadata::traceparent`), the mirror topic's headers and the
//! workflows' annotations, so one trace id follows a message from Kafka to the cluster.

/// A `traceparent` header value if `value` is a valid one (version 00, non-zero ids).
pub fn valid(value: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let parts: Vec<&str> = text.split('-').collect();
    let [version, trace_id, span_id, flags] = parts.as_slice() else {
        return None;
    };
    let hex = |part: &str, length: usize| {
        part.len() == length && part.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    let zero = |part: &str| part.bytes().all(|b| b == b'0');
    (*version == "00" && hex(trace_id, 32) && hex(span_id, 16) && hex(flags, 2) && !zero(trace_id) && !zero(span_id))
        .then(|| text.to_owned())
}

/// A new trace, sampled: `00-<32 hex>-<16 hex>-01`.
pub fn start() -> String {
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let span = &uuid::Uuid::new_v4().simple().to_string()[..16];
    format!("00-{trace}-{span}-01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_well_formed_traceparent_is_kept() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(valid(good.as_bytes()).as_deref(), Some(good));
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6-00f067aa0ba902b7-01",
        ] {
            assert_eq!(valid(bad.as_bytes()), None, "{bad}");
        }
        assert!(valid(start().as_bytes()).is_some(), "a started trace is valid");
        assert_ne!(start(), start());
    }
}
