//! `investigator emit`: what is invalid is refused with a clear error and nothing is sent.

use investigator_ops::{Cli, CliError, run};
use investigator_tests::{TestKafka, fixtures, investigator};

async fn emit_in_process(kafka: &TestKafka, args: &[&str]) -> (Result<(), CliError>, String) {
    let cli =
        <Cli as clap::Parser>::try_parse_from(["investigator", "emit"].iter().chain(args)).expect("valid command line");
    let mut out = Vec::new();
    let result = run(cli, &kafka.settings(), &mut out).await;
    (result, String::from_utf8(out).expect("UTF-8 output"))
}

async fn with_topics() -> TestKafka {
    let kafka = TestKafka::new();
    let created = investigator(&["topics", "create"], &kafka.vars()).await;
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    kafka
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_messages_are_refused_with_the_field_and_nothing_is_sent() {
    let kafka = with_topics().await;
    let cases: [(&[&str], &str); 4] = [
        (
            &["thoth.repo-init", "--json", r#"{"project_url": 42}"#],
            "field 'project_url': invalid type: integer `42`, expected a string",
        ),
        (
            &[
                "thoth.update-provides-source-distro",
                "--json",
                r#"{"package_name": "p", "package_version": "1", "index_url": "i", "value": "true"}"#,
            ],
            "field 'value'",
        ),
        (&["thoth.investigator.unrevsolved-package", "--json", r#"{"package_name": "p""#], "not valid JSON"),
        (
            &["thoth.investigator.unrevsolved-package", "--json", r#"{"package_name": "p"}"#],
            "field 'package_version': required field is missing",
        ),
    ];
    for (args, expected) in cases {
        let run = investigator(&[&["emit"], args].concat(), &kafka.vars()).await;
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: stderr was {}", run.stderr);
        assert!(run.stdout.is_empty());
    }

    let unknown_topic = investigator(&["emit", "thoth.no-such-type", "--json", "{}"], &kafka.vars()).await;
    assert_eq!(unknown_topic.code, Some(2));
    assert!(
        unknown_topic.stderr.contains("'thoth.no-such-type' is not the base name of a Thoth message type"),
        "{}",
        unknown_topic.stderr
    );
    assert!(unknown_topic.stderr.contains("thoth.investigator.unresolved-package"), "the known types are listed");

    assert_eq!(kafka.total_records().await, 0, "nothing reached the broker");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_with_one_bad_entry_is_refused_whole() {
    let kafka = with_topics().await;
    let good = std::fs::read_to_string(fixtures::path("thoth-messages.full.json")).expect("fixture");
    let mut entries: Vec<serde_json::Value> = serde_json::from_str(&good).expect("fixture is JSON");
    entries[5]["message_contents"]["force_sync"] = serde_json::json!("yes");
    entries.push(serde_json::json!({"topic_name": "thoth.investigator.adviser-re-run", "message_contents": {}}));
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), serde_json::to_vec(&entries).expect("JSON")).expect("write");

    let (result, out) = emit_in_process(&kafka, &["--from-file", &file.path().display().to_string()]).await;
    let error = result.expect_err("refused");
    assert_eq!(error.exit_code(), 2);
    let chain = format!("{error}: {}", std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default());
    assert!(chain.contains("2 invalid entries"), "{chain}");
    assert!(chain.contains("entry 5") && chain.contains("field 'force_sync'"), "{chain}");
    assert!(chain.contains("entry 19") && chain.contains("not a Thoth message topic"), "{chain}");
    assert!(out.is_empty());
    assert_eq!(kafka.total_records().await, 0, "none of the 19 valid entries was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_topics_are_refused_unless_creation_is_asked_for() {
    let kafka = TestKafka::new();
    let args = ["thoth.repo-init", "--json", r#"{"project_url": "https://github.com/a/b"}"#];

    let (result, _) = emit_in_process(&kafka, &args).await;
    let error = result.expect_err("no topic");
    assert!(error.to_string().contains(&format!("{}.thoth.repo-init", kafka.deployment)), "{error}");
    assert!(kafka.topic_records().await.iter().all(|(_, records)| records.is_none()), "no topic was created");

    let (result, out) = emit_in_process(&kafka, &[&args[..], &["--create-topics"]].concat()).await;
    result.expect("sent after creating the topic");
    assert!(out.contains(&format!("created topic {}.thoth.repo-init", kafka.deployment)), "{out}");
    let repo_init = format!("{}.thoth.repo-init", kafka.deployment);
    let counts = kafka.topic_records().await;
    assert_eq!(counts.iter().find(|(topic, _)| *topic == repo_init).map(|(_, records)| *records), Some(Some(1)));
    assert_eq!(counts.iter().filter(|(_, records)| records.is_some()).count(), 1, "only the needed topic was created");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_validates_and_sends_nothing() {
    let kafka = with_topics().await;
    let (result, out) = emit_in_process(
        &kafka,
        &["--from-file", &fixtures::path("thoth-messages.minimal.json").display().to_string(), "--dry-run"],
    )
    .await;
    result.expect("valid file");
    assert!(out.contains("dry run: 19 valid message(s), nothing sent"), "{out}");
    assert_eq!(out.lines().filter(|line| line.starts_with(&kafka.deployment)).count(), 19);
    assert_eq!(kafka.total_records().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_message_is_sent_with_sender_defaults_as_thoth_wire_json() {
    let kafka = with_topics().await;
    let (result, out) = emit_in_process(
        &kafka,
        &[
            "thoth.investigator.unresolved-package",
            "--json",
            r#"{"package_name": "flask", "index_url": "https://pypi.org/simple"}"#,
        ],
    )
    .await;
    result.expect("sent");
    assert!(out.starts_with("sent thoth.investigator.unresolved-package to "), "{out}");

    let records = kafka.read_records(1).await;
    assert_eq!(records.len(), 1);
    let expected = format!(
        r#"{{"component_name": "investigator-cli", "service_version": "{}", "version": "v1", "package_name": "flask", "index_url": "https://pypi.org/simple", "package_version": null, "solver": null}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(String::from_utf8(records[0].payload.clone()).expect("UTF-8"), expected);
    assert_eq!(records[0].topic, format!("{}.thoth.investigator.unresolved-package", kafka.deployment));
}
