//! Poison records mixed one in ten with good ones, on the real broker: every good record is
//! applied, every bad one becomes a dead letter with its reason, nothing halts, and the
//! service's memory stays bounded.

use std::time::Duration;

use investigator_events::thoth::MessageKind;
use investigator_tests::{TestDatabase, TestKafka, eventually};

use super::messages::{PYPI, unresolved};
use super::{applied_records, count, publish, serve, texts};

/// A bad record and the dead-letter reason it must get (`None`: it must be applied).
struct Poison {
    what: &'static str,
    bytes: Vec<u8>,
    reason_code: Option<&'static str>,
}

fn good_fields(name: &str) -> String {
    format!(
        r#"{{"component_name": "c", "service_version": "1", "package_name": "{name}", "package_version": "1.0.0", "index_url": "{PYPI}", "solver": null}}"#
    )
}

/// One of each kind of bad record, `i` making each distinct.
fn poison(i: usize) -> Poison {
    let name = format!("poison-bad-{i}");
    match i % 10 {
        0 => Poison { what: "not JSON", bytes: b"{\"package_name\": ".to_vec(), reason_code: Some("malformed_json") },
        1 => Poison {
            what: "a wrong field type",
            bytes: good_fields(&name).replace(&format!("\"{name}\""), "123").into_bytes(),
            reason_code: Some("invalid_value"),
        },
        2 => Poison {
            what: "a missing required field",
            bytes: good_fields(&name).replace(&format!("\"package_name\": \"{name}\", "), "").into_bytes(),
            reason_code: Some("missing_field"),
        },
        3 => Poison {
            what: "an unknown schema version",
            bytes: good_fields(&name)
                .replace("\"component_name\"", "\"version\": \"v99\", \"component_name\"")
                .into_bytes(),
            reason_code: Some("unknown_schema_version"),
        },
        4 => {
            let text = good_fields(&name);
            let at = text.find(&name).expect("the name") + name.len();
            let mut bytes = text.into_bytes();
            bytes.splice(at..at, [0xff, 0xfe, 0x80]);
            Poison { what: "invalid UTF-8 in a string", bytes, reason_code: Some("malformed_json") }
        }
        5 => Poison {
            what: "a field given twice",
            bytes: good_fields(&name)
                .replace("\"solver\": null", "\"solver\": null, \"package_name\": \"other\"")
                .into_bytes(),
            reason_code: Some("duplicate_field"),
        },
        6 => {
            let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
            let bytes = good_fields(&name).replace("\"solver\": null", &format!("\"solver\": null, \"x\": {nested}"));
            // Unknown keys are skipped without recursion: the message is good (Python's parser
            // would give up at about 1,000 levels), and nothing overflows.
            Poison { what: "an unknown field nested 100,000 deep", bytes: bytes.into_bytes(), reason_code: None }
        }
        7 => {
            let mut bytes =
                good_fields(&name).replace("\"solver\": null", "\"solver\": null, \"blob\": \"").into_bytes();
            bytes.extend(std::iter::repeat_n(b'a', 900_000));
            Poison { what: "900 kB, cut off", bytes, reason_code: Some("malformed_json") }
        }
        8 => {
            Poison { what: "an array, not an object", bytes: b"[1, 2, 3]".to_vec(), reason_code: Some("not_an_object") }
        }
        _ => Poison { what: "JSON null", bytes: b"null".to_vec(), reason_code: Some("not_an_object") },
    }
}

fn resident_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_records_become_dead_letters_and_every_good_record_is_applied() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[("INVESTIGATOR_INDEX_TIMEOUT_MS", "0")]).await;
    let topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    let (good, bad) = (180, 20);
    let mut expected_reasons = Vec::new();
    for round in 0..bad {
        let nine: Vec<_> =
            (round * 9..round * 9 + 9).map(|i| unresolved(&format!("poison-good-{i}"), "1.0.0", PYPI)).collect();
        publish(&kafka, &nine).await;
        let poison = poison(round);
        kafka.send_raw(&topic, &poison.bytes).await;
        expected_reasons.push((poison.what, poison.reason_code));
    }
    assert_eq!(expected_reasons.len(), bad);
    let total = (good + bad) as i64;
    let pid = service.pid().expect("a running service");
    let mut peak = 0.0f64;
    eventually("every record applied or dead-lettered", Duration::from_secs(90), || {
        peak = peak.max(resident_mib(pid));
        async { applied_records(&database.database).await == total }
    })
    .await;

    let applied = count(
        &database.database,
        "SELECT count(DISTINCT package_name) FROM graph.workflow_run WHERE package_name LIKE 'poison-good-%'",
    )
    .await;
    assert_eq!(applied, good as i64, "every good record's workflows were requested");
    let accepted = expected_reasons.iter().filter(|(_, code)| code.is_none()).count() as i64;
    let odd_but_good = count(
        &database.database,
        "SELECT count(DISTINCT package_name) FROM graph.workflow_run WHERE package_name LIKE 'poison-bad-%'",
    )
    .await;
    assert_eq!(odd_but_good, accepted, "the deeply nested unknown field is ignored and its record applied");
    let reasons = texts(&database.database, "SELECT reason_code FROM graph.dead_letter ORDER BY \"offset\"").await;
    let expected: Vec<&str> = expected_reasons.iter().filter_map(|(_, code)| *code).collect();
    assert_eq!(reasons, expected, "each bad record dead-lettered with its reason: {expected_reasons:?}");
    let (status, body) = service.get("/api/v1/status").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"halted_topics\":[]"), "nothing halted: {body}");
    assert!(peak < 400.0, "resident memory stayed bounded: peak {peak:.0} MiB");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ten_megabyte_record_is_a_dead_letter_and_the_stream_goes_on() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[("INVESTIGATOR_INDEX_TIMEOUT_MS", "0")]).await;
    let topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    // Valid JSON, 10 MB: a package name no index could hold.
    let huge = format!(
        r#"{{"component_name": "c", "service_version": "1", "package_name": "{}", "package_version": "1.0.0", "index_url": "{PYPI}", "solver": null}}"#,
        "a".repeat(10 * 1024 * 1024)
    );
    kafka.send_raw_large(&topic, huge.as_bytes()).await;
    publish(&kafka, &[unresolved("after-the-huge-one", "1.0.0", PYPI)]).await;
    let pid = service.pid().expect("a running service");
    let mut peak = 0.0f64;
    eventually("both records taken", Duration::from_secs(90), || {
        peak = peak.max(resident_mib(pid));
        async { applied_records(&database.database).await == 2 }
    })
    .await;
    assert_eq!(
        texts(&database.database, "SELECT reason_code FROM graph.dead_letter").await,
        ["invalid_field"],
        "the huge record is a dead letter with its reason"
    );
    assert_eq!(
        count(&database.database, "SELECT count(*) FROM graph.workflow_run WHERE package_name = 'after-the-huge-one'")
            .await,
        2,
        "the record after it is applied"
    );
    assert!(peak < 600.0, "resident memory stayed bounded: peak {peak:.0} MiB");
}

#[tokio::test(flavor = "multi_thread")]
async fn records_with_a_nul_character_are_dead_letters_and_the_stream_goes_on() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let _service = serve(&kafka, &database, &[("INVESTIGATOR_INDEX_TIMEOUT_MS", "0")]).await;
    let topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    // A NUL byte: valid UTF-8, not JSON; kept whole in the dead letter, which PostgreSQL's
    // JSONB could not hold as text.
    kafka.send_raw(&topic, b"{\"component_name\":\"t\0\"}").await;
    // The escape \u0000 in valid JSON: a value the graph cannot store.
    let escaped = good_fields("nul\\u0000name");
    kafka.send_raw(&topic, escaped.as_bytes()).await;
    publish(&kafka, &[unresolved("after-the-nul", "1.0.0", PYPI)]).await;
    eventually("all three records taken", Duration::from_secs(60), || async {
        applied_records(&database.database).await == 3
    })
    .await;
    assert_eq!(
        texts(&database.database, "SELECT reason_code FROM graph.dead_letter ORDER BY \"offset\"").await,
        ["malformed_json", "invalid_value"]
    );
    let encodings =
        texts(&database.database, "SELECT payload ->> 'encoding' FROM graph.dead_letter ORDER BY \"offset\"").await;
    assert_eq!(encodings, ["base64", "text"], "the NUL byte's record kept whole, as base64");
    let reason = texts(&database.database, "SELECT reason FROM graph.dead_letter WHERE \"offset\" = 1").await;
    assert!(reason[0].contains("field 'package_name'") && reason[0].contains("NUL"), "{reason:?}");
    assert_eq!(
        count(&database.database, "SELECT count(*) FROM graph.workflow_run WHERE package_name = 'after-the-nul'").await,
        2,
        "the record after them is applied"
    );
    let copies = kafka.read_topic(&kafka.naming().topic_for_base_name("thoth.investigator.dead-letter"), 2).await;
    assert!(copies.iter().any(|copy| copy.payload == b"{\"component_name\":\"t\0\"}"), "the copy keeps the bytes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_value_is_quoted_as_an_excerpt_in_the_reason_and_the_log() {
    let kafka = TestKafka::new();
    let database = TestDatabase::create().await;
    let service = serve(&kafka, &database, &[("INVESTIGATOR_INDEX_TIMEOUT_MS", "0")]).await;
    let topic = kafka.naming().topic(MessageKind::UnresolvedPackage);
    // A 2 MB package_version that is not a string: serde would quote it whole.
    let huge = good_fields("huge-version").replace("\"1.0.0\"", &format!("[\"{}\"]", "9".repeat(2_000_000)));
    kafka.send_raw_large(&topic, huge.as_bytes()).await;
    let huge_version = good_fields("huge-version-2").replace("\"1.0.0\"", &format!("\"{}\"", "9".repeat(2_000_000)));
    kafka.send_raw_large(&topic, huge_version.as_bytes()).await;
    eventually("both records dead-lettered", Duration::from_secs(60), || async {
        applied_records(&database.database).await == 2
    })
    .await;
    let lengths = count(&database.database, "SELECT max(length(reason))::int8 FROM graph.dead_letter").await;
    assert!(lengths < 1_000, "a reason of {lengths} characters");
    let (_, letters) = service.get("/api/v1/dead-letters").await;
    let letters: serde_json::Value = serde_json::from_str(&letters).expect("JSON");
    for letter in letters["dead_letters"].as_array().into_iter().flatten() {
        assert!(letter["reason"].as_str().is_some_and(|reason| reason.len() < 1_000), "{}", letter["reason"]);
    }
    let longest = service.log_text().lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 4_000, "a log line of {longest} bytes");
}
