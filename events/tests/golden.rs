//! Golden tests: the fixtures in `golden/` are messaging-CLI files, and each `.expected.jsonl`
//! holds, line by line, what thoth-messaging 0.16.2's models write for the same entries
//! (generated with `tests/python/thoth_peer.py golden FILE`; the end-to-end suite checks
//! they still match the library).

use investigator_events::thoth::*;
use serde_json::json;

const FULL: &str = include_str!("golden/thoth-messages.full.json");
const FULL_EXPECTED: &str = include_str!("golden/thoth-messages.full.expected.jsonl");
const MINIMAL: &str = include_str!("golden/thoth-messages.minimal.json");
const MINIMAL_EXPECTED: &str = include_str!("golden/thoth-messages.minimal.expected.jsonl");
const COMPAT: &str = include_str!("golden/thoth-messages.compat.json");
const COMPAT_EXPECTED: &str = include_str!("golden/thoth-messages.compat.expected.jsonl");
const SCALARS: &str = include_str!("golden/python-json-scalars.json");

fn sender() -> SenderDefaults {
    SenderDefaults { component_name: "unused".to_owned(), service_version: "unused".to_owned() }
}

fn decode_file(file: &str) -> Vec<ThothMessage> {
    match parse_messages_file(file.as_bytes(), &sender()) {
        Ok(messages) => messages,
        Err(error) => panic!("fixture does not decode: {error}"),
    }
}

fn object(value: serde_json::Value) -> JsonObject {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn s(text: &str) -> String {
    text.to_owned()
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// The values of `golden/thoth-messages.full.json`, written out by hand.
fn full_messages() -> Vec<ThothMessage> {
    let (component_name, service_version) = (s("interop-peer"), s("0.16.2+messaging"));
    let pypi = || s("https://pypi.org/simple");
    vec![
        AdviseJustification {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            message: s("Package 'flask' has a CVE — consider 2.0.3"),
            justification_type: s("WARNING"),
            count: 42,
            adviser_version: s("0.21.1"),
        }
        .into(),
        AdviserTrigger {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v5"),
            recommendation_type: s("stable"),
            dev: true,
            debug: true,
            authenticated: true,
            count: Some(3),
            limit: Some(10000),
            origin: some("https://github.com/thoth-station/thamos"),
            job_id: some("adviser-210101120000-deadbeefcafe"),
            limit_latest_versions: Some(-1),
            re_run_adviser_id: some("adviser-201231235959-0123456789abcdef"),
            source_type: some("KEBECHET"),
            kebechet_metadata: Some(object(json!({
                "repo_url": "https://github.com/thoth-station/thamos",
                "message_justification": 5,
                "ratio": 0.25,
                "tiny": 1.5e-7,
                "big": 1e16,
                "nested": {"list": [1, 2.0, null, true, "ünïcødé ✓"]}
            }))),
            justification: Some(vec![object(json!({
                "type": "INFO", "message": "Résolution tried 1 000 stacks", "link": "https://thoth-station.ninja/j/x"
            }))]),
            stack_info: Some(vec![object(json!({
                "type": "WARNING", "message": "No Python version declared", "score": -0.5
            }))]),
        }
        .into(),
        BuildAnalysisTrigger {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            base_image: some("quay.io/thoth-station/s2i-thoth-ubi8-py38:v0.35.1"),
            base_image_analysis_id: some("package-extract-211011-base"),
            buildlog_document_id: some("buildlog-211011-abc"),
            buildlog_parser_id: some("buildlog-parser-211011-def"),
            environment_type: some("runtime"),
            debug: true,
            job_id: some("build-analysis-211011-01"),
            origin: some("https://github.com/acme/app"),
            output_image: some("quay.io/acme/app:latest"),
            output_image_analysis_id: some("package-extract-211011-out"),
            base_registry_password: some("base-s3cr3t"),
            base_registry_user: some("base-robot"),
            base_registry_verify_tls: false,
            output_registry_password: some("out-s3cr3t"),
            output_registry_user: some("out-robot"),
            output_registry_verify_tls: false,
        }
        .into(),
        CveProvided {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            package_name: s("Jinja2"),
            package_version: s("2.10"),
            index_url: pypi(),
        }
        .into(),
        HashMismatch {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            index_url: pypi(),
            package_name: s("tensorflow"),
            package_version: s("2.4.1"),
            missing_from_source: vec![s("9f2d6b1f1f3c2f6e4f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1")],
            missing_from_database: vec![
                s("0d5f0e0c4c2b2a19181716151413121110090807060504030201000f0e0d0c0b"),
                s("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"),
            ],
        }
        .into(),
        InspectionCompleted {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            inspection_id: s("inspection-tensorflow-2.4.1-8a5f"),
            force_sync: true,
        }
        .into(),
        KebechetRunUrlTrigger {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v2"),
            url: some("https://github.com/acme/app"),
            service_name: some("github"),
            installation_id: some("1234567"),
            job_id: some("kebechet-run-url-211011-02"),
            metadata: KebechetRunUrlMetadata {
                message_justification: Some(5),
                package_name: some("flask"),
                package_version: some("2.0.1"),
                package_index: Some(pypi()),
            },
        }
        .into(),
        KebechetTrigger {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            webhook_payload: object(json!({
                "action": "opened", "number": 7,
                "repository": {"full_name": "acme/app", "private": false, "stars": 1.0},
                "sender": {"login": "dev-ß"}
            })),
            job_id: some("kebechet-211011-03"),
        }
        .into(),
        MissingPackage {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            index_url: pypi(),
            package_name: s("left-pad"),
        }
        .into(),
        MissingVersion {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            index_url: pypi(),
            package_name: s("urllib3"),
            package_version: s("1.26.0"),
        }
        .into(),
        PackageExtractTrigger {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v2"),
            image: s("quay.io/acme/app:1.0"),
            environment_type: s("buildtime"),
            is_external: false,
            verify_tls: false,
            debug: true,
            job_id: some("package-extract-211011-04"),
            origin: some("https://github.com/acme/app"),
            registry_user: some("robot"),
            registry_password: some("pa$$w0rd"),
            graph_sync: true,
        }
        .into(),
        PackageReleased {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            index_url: pypi(),
            package_name: s("numpy"),
            package_version: s("1.21.0rc1"),
        }
        .into(),
        ProvenanceCheckerTrigger {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v4"),
            debug: true,
            authenticated: true,
            origin: some("https://github.com/acme/app"),
            whitelisted_sources: Some(vec![
                pypi(),
                s("https://tensorflow.pypi.thoth-station.ninja/index/manylinux2010/AVX2/simple"),
            ]),
            job_id: some("provenance-checker-211011-05"),
            kebechet_metadata: Some(object(json!({"source": "kebechet"}))),
            justification: Some(vec![object(json!({"type": "ERROR", "message": "Artifact hash mismatch"}))]),
            stack_info: Some(vec![object(json!({"type": "INFO", "message": "ok"}))]),
        }
        .into(),
        SiUnanalyzedPackage {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            package_name: s("requests"),
            package_version: s("2.26.0"),
            index_url: pypi(),
        }
        .into(),
        SolvedPackage {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            package_name: s("Flask"),
            package_version: s("2.0.1"),
            index_url: pypi(),
            solver: s("solver-fedora-35-py310"),
        }
        .into(),
        ThothRepoInit {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            project_url: s("https://github.com/acme/app"),
            job_id: some("repo-init-211011-06"),
        }
        .into(),
        UnresolvedPackage {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            package_name: s("daiquiri"),
            index_url: pypi(),
            package_version: some("==3.0.1"),
            solver: some("solver-rhel-8-py38"),
        }
        .into(),
        UnrevsolvedPackage {
            component_name: component_name.clone(),
            service_version: service_version.clone(),
            version: some("v1"),
            package_name: s("six"),
            package_version: s("1.16.0"),
        }
        .into(),
        UpdateProvidesSourceDistro {
            component_name,
            service_version,
            version: some("v1"),
            package_name: s("pyyaml"),
            package_version: s("5.4.1"),
            index_url: pypi(),
            value: false,
        }
        .into(),
    ]
}

#[test]
fn every_type_decodes_to_the_right_fields() {
    let decoded = decode_file(FULL);
    let expected = full_messages();
    assert_eq!(decoded.len(), 19);
    for (decoded, expected) in decoded.iter().zip(&expected) {
        assert_eq!(decoded, expected);
    }
    let kinds: Vec<_> = decoded.iter().map(ThothMessage::kind).collect();
    assert_eq!(kinds, MessageKind::ALL.to_vec(), "one message of each type, in catalogue order");
}

fn assert_encodes_like_thoth(file: &str, expected_lines: &str) {
    let messages = decode_file(file);
    let expected: Vec<&str> = expected_lines.lines().collect();
    assert_eq!(messages.len(), expected.len());
    for (message, expected) in messages.iter().zip(expected) {
        assert_eq!(message.encode(), expected, "{}", message.kind());
    }
}

#[test]
fn every_field_set_encodes_byte_for_byte_like_thoth_messaging() {
    assert_encodes_like_thoth(FULL, FULL_EXPECTED);
}

#[test]
fn required_fields_only_encode_with_thoth_defaults_and_nulls() {
    assert_encodes_like_thoth(MINIMAL, MINIMAL_EXPECTED);
}

#[test]
fn older_schema_versions_and_unknown_keys_encode_like_thoth_messaging() {
    assert_encodes_like_thoth(COMPAT, COMPAT_EXPECTED);
}

#[test]
fn thoth_messaging_output_decodes_and_re_encodes_to_the_same_bytes() {
    for expected_lines in [FULL_EXPECTED, MINIMAL_EXPECTED, COMPAT_EXPECTED] {
        for line in expected_lines.lines() {
            let kind_of_line = MessageKind::ALL
                .into_iter()
                .find(|kind| ThothMessage::decode(*kind, line.as_bytes()).is_ok_and(|m| m.encode() == line));
            assert!(kind_of_line.is_some(), "no type re-encodes {line}");
        }
    }
}

#[test]
fn floats_and_strings_are_written_as_python_json_dumps_writes_them() {
    let cases: serde_json::Value = serde_json::from_str(SCALARS).expect("scalar golden is JSON");
    let floats = cases["floats"].as_array().expect("floats");
    assert!(floats.len() > 4000);
    for case in floats {
        let bits = u64::from_str_radix(case[0].as_str().expect("hex"), 16).expect("hex bits");
        let value = f64::from_bits(bits);
        assert_eq!(python_json::to_string(&value), case[1].as_str().expect("text"), "bits {bits:016x}");
    }
    let strings = cases["strings"].as_array().expect("strings");
    assert!(strings.len() >= 2000);
    for case in strings {
        let text = case[0].as_str().expect("string");
        assert_eq!(python_json::to_string(text), case[1].as_str().expect("text"), "{text:?}");
    }
}

#[test]
fn the_kind_table_names_the_version_pydantic_fills_in() {
    // The minimal fixtures send no version; encoding writes each type's pydantic default.
    for message in decode_file(MINIMAL) {
        assert_eq!(message.version(), None);
        let completed = ThothMessage::decode(message.kind(), message.encode().as_bytes()).expect("decodes");
        assert_eq!(completed.version(), Some(message.kind().spec().current_version), "{}", message.kind());
    }
}
