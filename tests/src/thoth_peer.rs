//! Thoth's own library as the other party: `tests/python/thoth_peer.py`, run with the venv
//! that holds thoth-messaging 0.16.2.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::{TestKafka, environment};

/// thoth-messaging, configured for one test deployment.
pub struct ThothPeer {
    env: Vec<(String, String)>,
}

/// One record as thoth-messaging read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRecord {
    /// Full topic name.
    pub topic: String,
    /// The message type's base name.
    pub base_name: String,
    /// The record value as text.
    pub raw: String,
    /// Whether the record had a key.
    pub has_key: bool,
    /// Whether the record had headers.
    pub has_headers: bool,
    /// `model.parse_raw(raw).json()`, when the model accepted it.
    pub reserialized: Option<String>,
    /// pydantic's error, when it did not.
    pub error: Option<String>,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/thoth_peer.py")
}

async fn run_peer(args: &[&str], env: &[(String, String)]) -> String {
    let mut command = tokio::process::Command::new(environment::thoth_python());
    command.arg(script()).args(args).envs(env.iter().map(|(k, v)| (k, v))).kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("thoth_peer.py finished within 120 s")
        .expect("thoth_peer.py could be started");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "thoth_peer.py {args:?} failed: {stderr}");
    String::from_utf8(output.stdout).expect("thoth_peer.py prints UTF-8")
}

impl ThothPeer {
    /// thoth-messaging pointed at the test's broker and deployment prefix.
    pub fn for_kafka(kafka: &TestKafka) -> Self {
        ThothPeer { env: kafka.vars() }
    }

    /// What thoth-messaging's models write for each entry of a messaging-CLI file.
    pub async fn golden(file: &Path) -> Vec<String> {
        let output = run_peer(&["golden", &file.display().to_string()], &[]).await;
        output.lines().map(str::to_owned).collect()
    }

    /// Publishes every entry of a messaging-CLI file with thoth-messaging's producer helper.
    pub async fn publish(&self, file: &Path) -> Vec<String> {
        let output = run_peer(&["publish", &file.display().to_string()], &self.env).await;
        let report: Value = serde_json::from_str(&output).expect("publish prints JSON");
        report["sent"]
            .as_array()
            .expect("sent topics")
            .iter()
            .map(|topic| topic.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Reads up to `count` records of the deployment's topics and parses each with its model.
    pub async fn consume(&self, count: usize) -> Vec<PeerRecord> {
        let output = run_peer(&["consume", "--count", &count.to_string(), "--timeout", "60"], &self.env).await;
        let report: Value = serde_json::from_str(&output).expect("consume prints JSON");
        let text = |record: &Value, key: &str| record[key].as_str().map(str::to_owned);
        report["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|record| PeerRecord {
                topic: text(record, "topic").unwrap_or_default(),
                base_name: text(record, "base_name").unwrap_or_default(),
                raw: text(record, "raw").unwrap_or_default(),
                has_key: !record["key"].is_null(),
                has_headers: !record["headers"].is_null(),
                reserialized: text(record, "parsed"),
                error: text(record, "error"),
            })
            .collect()
    }
}
