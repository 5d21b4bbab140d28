//! The 19 Thoth message types exchanged with thoth-messaging 0.16.2 through the broker, in
//! both directions.

use std::collections::HashMap;

use investigator_events::thoth::{MessageKind, ThothMessage, parse_messages_file};
use investigator_tests::{TestKafka, ThothPeer, fixtures, investigator};

/// Every fixture entry as (expected record bytes, the message it should decode to). What
/// thoth-messaging sends is the entry completed by pydantic (a missing `version` becomes the
/// type's current one), so the expected message is the entry's own encoding, decoded.
fn fixture_messages() -> Vec<(String, ThothMessage)> {
    let mut all = Vec::new();
    for file in fixtures::MESSAGE_FILES {
        let bytes = std::fs::read(fixtures::path(file)).expect("fixture readable");
        let messages = parse_messages_file(&bytes, &investigator_ops::sender_defaults()).expect("fixtures are valid");
        let completed = messages.into_iter().map(|message| {
            ThothMessage::decode(message.kind(), message.encode().as_bytes()).expect("our encoding decodes")
        });
        all.extend(fixtures::expected_records(file).into_iter().zip(completed));
    }
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn thoth_messaging_publishes_every_type_and_our_consumer_decodes_each_one() {
    let kafka = TestKafka::new();
    let created = investigator(&["topics", "create"], &kafka.vars()).await;
    assert_eq!(created.code, Some(0), "{}", created.stderr);

    let peer = ThothPeer::for_kafka(&kafka);
    let mut sent = 0;
    for file in fixtures::MESSAGE_FILES {
        sent += peer.publish(&fixtures::path(file)).await.len();
    }
    let expected = fixture_messages();
    assert_eq!(sent, expected.len());

    let records = kafka.read_records(expected.len()).await;
    assert_eq!(records.len(), expected.len(), "every record Thoth sent arrives, and nothing else");

    let mut unmatched: HashMap<&str, Vec<&ThothMessage>> = HashMap::new();
    for (bytes, message) in &expected {
        unmatched.entry(bytes.as_str()).or_default().push(message);
    }
    let mut kinds_seen = Vec::new();
    for record in &records {
        assert!(record.key.is_none() && record.header_count == 0, "Thoth sends no key and no headers");
        let decoded = ThothMessage::decode_record(kafka.naming(), &record.topic, &record.payload)
            .unwrap_or_else(|error| panic!("{error}"));
        let text = String::from_utf8(record.payload.clone()).expect("UTF-8 JSON");
        let candidates = unmatched.get_mut(text.as_str()).unwrap_or_else(|| panic!("unexpected record {text}"));
        let position = candidates
            .iter()
            .position(|message| **message == decoded)
            .unwrap_or_else(|| panic!("{text} decoded to {decoded:?}, which is not what the fixture says"));
        candidates.remove(position);
        assert_eq!(decoded.encode(), text, "re-encoding gives Thoth's bytes");
        kinds_seen.push(decoded.kind());
    }
    kinds_seen.sort();
    kinds_seen.dedup();
    assert_eq!(kinds_seen, MessageKind::ALL.to_vec(), "all 19 types went through");
}

#[tokio::test(flavor = "multi_thread")]
async fn investigator_emit_publishes_every_type_back_and_thoth_messaging_parses_each_one() {
    let kafka = TestKafka::new();
    let created = investigator(&["topics", "create"], &kafka.vars()).await;
    assert_eq!(created.code, Some(0), "{}", created.stderr);

    for file in fixtures::MESSAGE_FILES {
        let path = fixtures::path(file).display().to_string();
        let run = investigator(&["emit", "--from-file", &path], &kafka.vars()).await;
        assert_eq!(run.code, Some(0), "emit {file}: {}", run.stderr);
        assert_eq!(
            run.stdout.lines().filter(|line| line.starts_with("sent ")).count(),
            fixtures::expected_records(file).len()
        );
    }

    let mut expected: Vec<String> =
        fixtures::MESSAGE_FILES.iter().flat_map(|file| fixtures::expected_records(file)).collect();
    let records = ThothPeer::for_kafka(&kafka).consume(expected.len()).await;
    assert_eq!(records.len(), expected.len(), "thoth-messaging reads every record we sent, and nothing else");

    let mut received = Vec::new();
    for record in records {
        assert_eq!(record.error, None, "thoth-messaging refused {}: {:?}", record.raw, record.error);
        assert!(!record.has_key && !record.has_headers, "Thoth's wire format has no key and no headers");
        assert_eq!(record.reserialized.as_deref(), Some(record.raw.as_str()), "pydantic writes back exactly our bytes");
        assert_eq!(Some(record.topic.as_str()), Some(format!("{}.{}", kafka.deployment, record.base_name).as_str()));
        received.push(record.raw);
    }
    received.sort();
    expected.sort();
    assert_eq!(received, expected, "each record is what thoth-messaging itself would have written");
}

#[tokio::test(flavor = "multi_thread")]
async fn golden_files_are_what_thoth_messaging_writes() {
    for file in fixtures::MESSAGE_FILES {
        let from_thoth = ThothPeer::golden(&fixtures::path(file)).await;
        assert_eq!(
            from_thoth,
            fixtures::expected_records(file),
            "{file}: regenerate with tests/python/thoth_peer.py golden"
        );
    }
}
