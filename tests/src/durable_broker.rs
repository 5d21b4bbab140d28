//! A tansu broker whose topics outlive it: its storage is an S3-compatible object store (moto's
//! server, `INVESTIGATOR_S3_SERVER`) that keeps running while the broker is killed and started
//! again on the same port. For the test of a broker restart mid-stream.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::{environment, free_address};

/// The object store and the broker on it; both are killed when the value is dropped.
pub struct DurableBroker {
    store: Child,
    store_port: u16,
    broker: Option<Child>,
    port: u16,
}

impl DurableBroker {
    /// Starts the object store, creates the bucket, and starts the broker.
    pub async fn start() -> DurableBroker {
        let store_port = free_address().port();
        let store = Command::new(environment::s3_server())
            .args(["-H", "127.0.0.1", "-p", &store_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("moto's server starts");
        let client = reqwest::Client::new();
        let bucket = format!("http://127.0.0.1:{store_port}/tansu");
        let mut created = false;
        for _ in 0..200 {
            if client.put(&bucket).send().await.is_ok_and(|response| response.status().is_success()) {
                created = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(created, "the object store did not answer on port {store_port}");
        let mut broker = DurableBroker { store, store_port, broker: None, port: free_address().port() };
        broker.start_broker().await;
        broker
    }

    /// `host:port` of the broker.
    pub fn bootstrap_servers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the broker (SIGKILL) and starts it again on the same port and storage after `down`.
    pub async fn restart(&mut self, down: Duration) {
        if let Some(mut broker) = self.broker.take() {
            let _ = broker.kill().await;
        }
        tokio::time::sleep(down).await;
        self.start_broker().await;
    }

    async fn start_broker(&mut self) {
        let listener = format!("tcp://127.0.0.1:{}", self.port);
        let child = Command::new(environment::tansu_binary())
            .args(["broker", "--listener-url", &listener, "--advertised-listener-url", &listener])
            .args(["--storage-engine", "s3://tansu/"])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.store_port))
            .env("AWS_ALLOW_HTTP", "true")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("tansu starts");
        self.broker = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("tansu did not listen on port {}", self.port);
    }
}

impl Drop for DurableBroker {
    fn drop(&mut self) {
        if let Some(broker) = self.broker.as_mut() {
            let _ = broker.start_kill();
        }
        let _ = self.store.start_kill();
    }
}
