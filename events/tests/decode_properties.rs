//! Property tests: decoding never panics, whatever the bytes, and what decodes re-encodes
//! stably.

use investigator_events::thoth::*;
use proptest::prelude::*;
use serde_json::{Map, Value};

const FULL_EXPECTED: &str = include_str!("golden/thoth-messages.full.expected.jsonl");

fn any_kind() -> impl Strategy<Value = MessageKind> {
    (0..MessageKind::ALL.len()).prop_map(|index| MessageKind::ALL[index])
}

/// Field names that occur in Thoth messages, so generated objects hit real fields often.
const FIELD_NAMES: &[&str] = &[
    "component_name",
    "service_version",
    "version",
    "package_name",
    "package_version",
    "index_url",
    "solver",
    "value",
    "count",
    "dev",
    "metadata",
    "webhook_payload",
    "justification",
    "missing_from_source",
    "recommendation_type",
    "message_justification",
    "image",
    "environment_type",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![(0..FIELD_NAMES.len()).prop_map(|index| FIELD_NAMES[index].to_owned()), "[a-z_]{1,10}",]
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((key(), json_value()), 0..12).prop_map(|pairs| pairs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(kind in any_kind(), bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = ThothMessage::decode(kind, &bytes);
    }

    #[test]
    fn arbitrary_topics_never_panic(topic in ".{0,80}", bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let naming = TopicNaming::new(Some("prop".to_owned())).expect("valid name");
        let result = ThothMessage::decode_record(&naming, &topic, &bytes);
        if naming.kind_of_topic(&topic).is_none() {
            prop_assert_eq!(result.map_err(|error| error.reason), Err(DecodeReason::UnknownTopic));
        }
    }

    #[test]
    fn whatever_decodes_re_encodes_stably(line in 0..19usize, overlay in json_object()) {
        // Random fields laid over a valid message, so that many cases decode.
        let mut object: Map<String, Value> = serde_json::from_str(FULL_EXPECTED.lines().nth(line).expect("19 lines")).expect("golden is JSON");
        object.extend(overlay);
        let kind = MessageKind::ALL[line];
        let payload = serde_json::to_vec(&object).expect("serialisable");
        if let Ok(message) = ThothMessage::decode(kind, &payload) {
            let encoded = message.encode();
            let again = ThothMessage::decode(kind, encoded.as_bytes()).expect("our own output decodes");
            prop_assert_eq!(&again, &message);
            prop_assert_eq!(again.encode(), encoded);
        }
    }

    #[test]
    fn a_bad_value_in_one_field_is_reported_against_that_field(line in 0..19usize, field_pick in any::<prop::sample::Index>(), value in json_value()) {
        let expected_line = FULL_EXPECTED.lines().nth(line).expect("19 lines");
        let mut object: Map<String, Value> = serde_json::from_str(expected_line).expect("golden is JSON");
        let field = object.keys().nth(field_pick.index(object.len())).expect("non-empty").clone();
        object.insert(field.clone(), value);
        let kind = MessageKind::ALL[line];
        let payload = serde_json::to_vec(&object).expect("serialisable");
        if let Err(error) = ThothMessage::decode(kind, &payload) {
            let path = error.field.clone().unwrap_or_default();
            prop_assert!(path == field || path.starts_with(&format!("{field}.")) || path.starts_with(&format!("{field}[")),
                "error {} does not name field {}", error, field);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for depth in [200, 100_000] {
        let payload = format!(
            r#"{{"component_name": "c", "service_version": "1", "webhook_payload": {}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let error = ThothMessage::decode(MessageKind::KebechetTrigger, payload.as_bytes()).expect_err("too deep");
        assert!(
            matches!(error.reason, DecodeReason::MalformedJson { .. } | DecodeReason::InvalidValue { .. }),
            "{error}"
        );

        let unknown_key =
            format!(r#"{{"component_name": "c", "deep": {}{}}}"#, "{\"a\":".repeat(depth), "}".repeat(depth));
        assert!(ThothMessage::decode(MessageKind::ThothRepoInit, unknown_key.as_bytes()).is_err());
    }
}

#[test]
fn strict_types_refuse_what_pydantic_strict_types_refuse() {
    let base = r#""component_name": "c", "service_version": "1", "package_name": "p", "package_version": "1", "index_url": "i""#;
    let cases = [
        (r#""value": "true""#, "value"),
        (r#""value": 1"#, "value"),
        (r#""value": null"#, "value"),
        (r#""value": true, "version": 1"#, "version"),
        (r#""value": true, "version": null"#, "version"),
        (r#""value": true, "package_name": 5"#, "package_name"),
    ];
    for (extra, field) in cases {
        let payload = format!("{{{base}, {extra}}}");
        let error = ThothMessage::decode(MessageKind::UpdateProvidesSourceDistro, payload.as_bytes()).expect_err(extra);
        assert_eq!(error.field.as_deref(), Some(field), "{extra}: {error}");
    }
    let missing = format!("{{{base}}}");
    let error =
        ThothMessage::decode(MessageKind::UpdateProvidesSourceDistro, missing.as_bytes()).expect_err("value missing");
    assert_eq!((error.field.as_deref(), error.reason), (Some("value"), DecodeReason::MissingField));

    let int_as_bool = r#"{"component_name": "c", "service_version": "1", "message": "m", "justification_type": "t", "count": true, "adviser_version": "1"}"#;
    assert!(ThothMessage::decode(MessageKind::AdviseJustification, int_as_bool.as_bytes()).is_err());

    let positional = r#"["c", "1", "v1", "https://github.com/a/b", null]"#;
    let error = ThothMessage::decode(MessageKind::ThothRepoInit, positional.as_bytes()).expect_err("array");
    assert_eq!(error.reason, DecodeReason::NotAnObject { found: "an array".to_owned() });

    let metadata_as_array = r#"{"component_name": "c", "service_version": "1", "metadata": [5, "p", "1", "i"]}"#;
    let error =
        ThothMessage::decode(MessageKind::KebechetRunUrlTrigger, metadata_as_array.as_bytes()).expect_err("array");
    assert_eq!(error.field.as_deref(), Some("metadata"));

    let metadata_null = r#"{"component_name": "c", "service_version": "1", "metadata": null}"#;
    assert!(ThothMessage::decode(MessageKind::KebechetRunUrlTrigger, metadata_null.as_bytes()).is_err());

    let nested_wrong = r#"{"component_name": "c", "service_version": "1", "metadata": {"message_justification": "1"}}"#;
    let error = ThothMessage::decode(MessageKind::KebechetRunUrlTrigger, nested_wrong.as_bytes()).expect_err("string");
    assert_eq!(error.field.as_deref(), Some("metadata.message_justification"));
}

#[test]
fn random_overlays_decode_often_enough_for_the_round_trip_property_to_mean_something() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut decoded = 0;
    for case in 0..500 {
        let overlay = json_object().new_tree(&mut runner).expect("strategy").current();
        let line = case % 19;
        let mut object: Map<String, Value> =
            serde_json::from_str(FULL_EXPECTED.lines().nth(line).expect("line")).expect("json");
        object.extend(overlay);
        let payload = serde_json::to_vec(&object).expect("serialisable");
        decoded += usize::from(ThothMessage::decode(MessageKind::ALL[line], &payload).is_ok());
    }
    assert!(decoded > 100, "only {decoded} of 500 overlays decoded");
}
