//! schemathesis over `/api/v1/openapi.json`: every operation, every phase (examples, coverage,
//! fuzzing, stateful) and every check, with the exceptions of `tests/schemathesis/schemathesis.toml`
//! (each one a fact OpenAPI 3.0 cannot state). A request the description allows is answered,
//! one it forbids is refused with a 4xx, no answer is a server error, and every status and
//! body is one the description declares.

use std::path::PathBuf;

use crate::api::{get_json, service_over_sample_graph_with};

const TOKEN: &str = "s3cret";

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing_the_description_does_not_allow() {
    let (_database, service) = service_over_sample_graph_with(&[
        ("INVESTIGATOR_API_TOKEN", TOKEN),
        // Positions far ahead are generated: each waits this long before its 412.
        ("INVESTIGATOR_MIN_POSITION_WAIT_MS", "100"),
    ])
    .await;
    let configuration = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemathesis/schemathesis.toml");
    let document = format!("http://{}/api/v1/openapi.json", service.address);
    let (_, description) = get_json(&service, "/api/v1/openapi.json").await;
    let operations: usize = description["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|path| path.as_object().map_or(0, serde_json::Map::len))
        .sum();
    let authorization = format!("Authorization: Bearer {TOKEN}");
    let run = tokio::process::Command::new(investigator_tests::environment::schemathesis())
        .arg("--no-color")
        .arg("--config-file")
        .arg(&configuration)
        .args(["run", &document, "-H", &authorization, "--max-examples", "30", "--seed", "20261206"])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(600), run)
        .await
        .expect("schemathesis finished within 10 minutes")
        .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures (exit {:?}):\n{report}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains(&format!("Tested: {operations}")), "all {operations} operations were tested:\n{report}");
    assert!(report.contains(" passed"), "{report}");
}
