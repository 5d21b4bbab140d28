//! thamos, Thoth's client, reads the investigator's user-api endpoints: its generated client
//! (`tests/python/thamos_client.py`) calls each one and must accept every answer.

use std::time::Duration;

use investigator_tests::environment;
use serde_json::Value;

use crate::api::service_over_sample_graph_with;

#[tokio::test(flavor = "multi_thread")]
async fn thamos_reads_every_graph_endpoint() {
    let (_database, service) = service_over_sample_graph_with(&[]).await;
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/thamos_client.py");
    let base_url = format!("http://{}/api/v1", service.address);
    let mut command = tokio::process::Command::new(environment::thoth_python());
    command.arg(&script).arg(&base_url).kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("thamos_client.py finished within 60 s")
        .expect("thamos_client.py could be started");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "thamos could not read an answer: {stderr}");
    let answers: Value = serde_json::from_slice(&output.stdout).expect("thamos_client.py prints JSON");

    let os_names: Vec<&str> = answers["environments"]["environment"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["os_name"].as_str())
        .collect();
    assert!(os_names.contains(&"rhel") && os_names.contains(&"ubi"), "{answers}");
    assert!(answers["indexes"]["indexes"].to_string().contains("https://pypi.org/simple"), "{answers}");
    assert_eq!(answers["platform"]["platform"][0], "linux-x86_64");
    assert_eq!(answers["packages"]["packages"].as_array().map(Vec::len), Some(2), "{answers}");
    assert_eq!(answers["packages_headers"]["per_page"], "2");
    assert!(answers["packages_headers"]["entries_count"].as_str().is_some_and(|count| count != "0"));
    let versions = answers["versions"]["versions"].as_array().expect("versions");
    assert!(versions.iter().any(|row| row["package_version"] == "2.26.0"), "{answers}");
    assert!(answers["version_environments"]["environments"].as_array().is_some_and(|list| !list.is_empty()));
    assert!(answers["dependencies"]["dependencies"].to_string().contains("urllib3"), "{answers}");
    assert_eq!(answers["metadata"]["metadata"]["package_name"], "requests", "{answers}");
    assert!(answers["metadata"]["metadata"]["dependencies"].is_object(), "{answers}");
    assert_eq!(answers["unknown"]["status"], 404);
    assert!(answers["unknown"]["body"]["error"].as_str().is_some_and(|error| error.contains("not found")));
}
