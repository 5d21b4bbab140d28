//! Credentials in Thoth's messages: the declared fields match what the messages carry, and a
//! kept record (a dead letter) has none left, whatever its encoding: escaped keys, nested
//! objects, a key given twice, bytes cut off.

use investigator_events::thoth::*;
use serde_json::{Value, json};

const FULL: &str = include_str!("golden/thoth-messages.full.json");

fn golden_messages() -> Vec<ThothMessage> {
    let sender = SenderDefaults { component_name: "unused".to_owned(), service_version: "unused".to_owned() };
    parse_messages_file(FULL.as_bytes(), &sender).expect("the golden file decodes")
}

/// The bytes kept for `record`, as text.
fn kept(record: &[u8]) -> String {
    String::from_utf8(without_credentials(record).bytes(record).into_owned()).expect("UTF-8")
}

fn assert_none_left(record: &[u8], secrets: &[&str]) {
    let text = kept(record);
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} kept in {text}");
    }
}

#[test]
fn every_field_of_thoth_messages_that_names_a_credential_is_declared_and_only_those() {
    let messages = golden_messages();
    assert_eq!(messages.len(), 19, "one golden message of every kind");
    for message in messages {
        let kind = message.kind();
        let encoded: Value = serde_json::from_str(&message.encode()).expect("JSON");
        let keys: Vec<&String> = encoded.as_object().expect("an object").keys().collect();
        let named: Vec<&str> = keys.iter().filter(|key| is_credential_key(key)).map(|key| key.as_str()).collect();
        assert_eq!(named, kind.credential_fields(), "{kind}: the fields naming a credential are the declared ones");
        for field in kind.credential_fields() {
            assert!(keys.iter().any(|key| key == field), "{kind} has no field {field}");
        }
    }
}

#[test]
fn the_golden_messages_keep_none_of_their_declared_credentials() {
    for message in golden_messages() {
        let encoded: Value = serde_json::from_str(&message.encode()).expect("JSON");
        let secrets: Vec<String> = message
            .kind()
            .credential_fields()
            .iter()
            .filter_map(|field| encoded[field].as_str().map(str::to_owned))
            .collect();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_none_left(message.encode().as_bytes(), &secrets);
    }
}

#[test]
fn package_extract_trigger_is_kept_without_its_registry_password_however_the_key_is_written() {
    let records = [
        r#"{"component_name": "c", "service_version": "1", "version": "v99", "image": "quay.io/a/b", "environment_type": "runtime", "registry_user": "robot", "registry_password": "pe-s3cr3t"}"#,
        r#"{"image": "quay.io/a/b", "registry\u005fpassword": "pe-s3cr3t"}"#,
        r#"{"image": "quay.io/a/b", "registry_password": "pe-s3cr3t", "registry_password": null}"#,
        r#"{"image": "quay.io/a/b", "Registry-Password": "pe-s3cr3t"}"#,
        r#"{"image": "quay.io/a/b", "registry_password": "pe-s3cr3t", "graph_sync": tru"#,
        r#"{"image": "quay.io/a/b", "registry\u005fpassword": "pe-s3cr3t""#,
    ];
    for record in records {
        assert_none_left(record.as_bytes(), &["pe-s3cr3t"]);
    }
    let kept = kept(records[0].as_bytes());
    assert!(kept.contains(r#""registry_password":"<redacted>""#) && kept.contains("robot"), "{kept}");
}

#[test]
fn build_analysis_trigger_is_kept_without_either_registry_password() {
    let records = [
        json!({"component_name": "c", "service_version": "1", "version": "v2", "base_image": "quay.io/base:1",
               "output_image": "quay.io/out:1", "base_registry_user": "u1", "base_registry_password": "base-s3cr3t",
               "output_registry_user": "u2", "output_registry_password": "out-s3cr3t"})
        .to_string(),
        r#"{"base_registry\u005Fpassword": "base-s3cr3t", "output\u005fregistry\u005fpassword": "out-s3cr3t"}"#
            .to_owned(),
        r#"{"base_registry_password": "base-s3cr3t", "output_registry_password": "out-s3cr3t", "debug": "#.to_owned(),
    ];
    for record in &records {
        assert_none_left(record.as_bytes(), &["base-s3cr3t", "out-s3cr3t"]);
    }
    let kept = kept(records[0].as_bytes());
    assert!(kept.contains("quay.io/base:1") && kept.contains("u2"), "everything else is kept: {kept}");
}

#[test]
fn credentials_nested_in_free_form_objects_and_lists_are_redacted() {
    let kebechet = json!({"component_name": "c", "service_version": "1", "version": "v9",
        "webhook_payload": {"installation": {"id": 1, "access_token": "ghs_nested-s3cr3t"},
                            "repository": {"full_name": "thoth-station/thamos"}},
        "job_id": null});
    let adviser = json!({"recommendation_type": "stable",
        "kebechet_metadata": {"auth": {"github_token": "adv-s3cr3t"}},
        "stack_info": [{"type": "INFO", "message": "m", "secret": {"value": "list-s3cr3t"}}]});
    let in_a_string = json!({"justification": [{"link": "https://example.com/x?api_key=query-s3cr3t"}]});
    for record in [&kebechet, &adviser, &in_a_string] {
        assert_none_left(
            record.to_string().as_bytes(),
            &["ghs_nested-s3cr3t", "adv-s3cr3t", "list-s3cr3t", "query-s3cr3t"],
        );
    }
    assert!(kept(kebechet.to_string().as_bytes()).contains("thoth-station/thamos"), "the rest of the payload stays");
}

#[test]
fn a_record_naming_no_credential_is_kept_byte_for_byte() {
    let record = br#"{"component_name": "c", "service_version": "1", "package_name": "tokenizers", "index_url": "https://pypi.org/simple"}"#;
    assert_eq!(without_credentials(record), KeptRecord::AsReceived);
}
