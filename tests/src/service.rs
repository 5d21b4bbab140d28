//! `investigator serve` as a child process, the way it runs in production.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Child;

use crate::{environment, investigator_binary};

/// A running `investigator serve`.
pub struct Service {
    child: Child,
    /// Where its HTTP endpoints listen.
    pub address: SocketAddr,
    /// Its standard error (warnings and errors; everything with `TEST_LOG`), shown when the
    /// test fails.
    log: std::path::PathBuf,
}

/// Settings that make tests fast: a broker that holds each group join for half the session
/// timeout, short backoffs, small lingers; and loopback allowed, where the tests' indexes and
/// advisory sources listen (a test may set the variable otherwise).
fn test_vars(address: SocketAddr) -> Vec<(String, String)> {
    [
        ("INVESTIGATOR_HTTP_ADDR", address.to_string()),
        (crate::ALLOW_PRIVATE_NETWORKS.0, crate::ALLOW_PRIVATE_NETWORKS.1.to_owned()),
        ("KAFKA_CONSUMER_SESSION_TIMEOUT_MS", "2000".to_owned()),
        ("KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS", "500".to_owned()),
        ("THOTH_INVESTIGATOR_BACKOFF", "0.05".to_owned()),
        ("INVESTIGATOR_BATCH_LINGER_MS", "10".to_owned()),
        // A service started again after a kill has a new replica id and waits for the killed
        // one's lease to expire before its singleton duties run: the shortest lease keeps that
        // wait short.
        ("INVESTIGATOR_LEASE_TTL_S", "3".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// A free loopback port.
pub fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("the port")
}

impl Service {
    /// Starts `investigator serve` with `env` (later entries win) and waits until `/_health`
    /// answers.
    pub async fn start(env: &[(String, String)]) -> Service {
        Service::start_with(&[], env).await
    }

    /// Starts `investigator serve <arguments>` (`--api-only`...) as [`Service::start`] does.
    pub async fn start_with(arguments: &[&str], env: &[(String, String)]) -> Service {
        let address = free_address();
        let log_filter = if environment::test_log() { environment::test_log_filter() } else { "warn".to_owned() };
        let log = std::env::temp_dir().join(format!("investigator-serve-{}.log", uuid::Uuid::new_v4().simple()));
        let log_file = std::fs::File::create(&log).expect("a log file for investigator serve");
        let mut command = tokio::process::Command::new(investigator_binary());
        command
            .arg("serve")
            .args(arguments)
            .envs(test_vars(address))
            .env("RUST_LOG", log_filter)
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if environment::test_log() { Stdio::inherit() } else { Stdio::from(log_file) })
            .kill_on_drop(true);
        let child = command.spawn().expect("investigator serve starts");
        let mut service = Service { child, address, log };
        service.wait_ready().await;
        service
    }

    /// Whether the process has exited, and how.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("investigator serve exited before it was ready: {status}");
            }
            if let Some((200, _)) = self.try_get("/_health").await {
                return;
            }
            assert!(Instant::now() < deadline, "investigator serve was not ready within 60 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the service has logged so far (empty with `TEST_LOG`, which sends it to the
    /// test's own output).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `GET path`: status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        self.try_get(path).await.unwrap_or_else(|| panic!("GET {path} failed"))
    }

    async fn try_get(&self, path: &str) -> Option<(u16, String)> {
        self.try_get_with_headers(path).await.map(|(status, _, body)| (status, body))
    }

    /// `GET path`: status, headers (lower-cased names) and body.
    pub async fn get_with_headers(&self, path: &str) -> (u16, Vec<(String, String)>, String) {
        self.try_get_with_headers(path).await.unwrap_or_else(|| panic!("GET {path} failed"))
    }

    /// `GET path` with request headers: status, headers (lower-cased names) and body.
    pub async fn get_sending(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, String) {
        self.try_request("GET", path, headers, b"").await.unwrap_or_else(|| panic!("GET {path} failed"))
    }

    async fn try_get_with_headers(&self, path: &str) -> Option<(u16, Vec<(String, String)>, String)> {
        self.try_request("GET", path, &[], b"").await
    }

    /// `POST path` with a bearer token (when given) and a body: status and body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
        let authorization = token.map(|token| format!("Bearer {token}"));
        let headers: Vec<(&str, &str)> = authorization.iter().map(|value| ("Authorization", value.as_str())).collect();
        self.try_request("POST", path, &headers, body)
            .await
            .map(|(status, _, body)| (status, body))
            .unwrap_or_else(|| panic!("POST {path} failed"))
    }

    /// Any request, with headers and a body: status and body.
    pub async fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
        self.try_request(method, path, headers, body)
            .await
            .map(|(status, _, body)| (status, body))
            .unwrap_or_else(|| panic!("{method} {path} failed"))
    }

    /// Any request, with headers and a body: status, headers (lower-cased names) and body.
    pub async fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<(String, String)>, String) {
        self.try_request(method, path, headers, body).await.unwrap_or_else(|| panic!("{method} {path} failed"))
    }

    /// `GET path` with a bearer token: status and body.
    pub async fn get_with_token(&self, path: &str, token: &str) -> (u16, String) {
        let authorization = format!("Bearer {token}");
        self.try_request("GET", path, &[("Authorization", &authorization)], b"")
            .await
            .map(|(status, _, body)| (status, body))
            .unwrap_or_else(|| panic!("GET {path} failed"))
    }

    async fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Option<(u16, Vec<(String, String)>, String)> {
        let mut stream = tokio::net::TcpStream::connect(self.address).await.ok()?;
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.address);
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if method != "GET" {
            request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        // A server may answer (413) before reading the whole body; the answer is what counts.
        let _ = stream.write_all(body).await;
        let mut response = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response)).await.ok()?.ok()?;
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        Some((status, headers, body.to_owned()))
    }

    /// A metric's value from `/metrics` (the first sample whose line starts with `prefix`).
    pub async fn metric(&self, prefix: &str) -> Option<f64> {
        let (_, body) = self.get("/metrics").await;
        body.lines().find(|line| line.starts_with(prefix))?.rsplit(' ').next()?.parse().ok()
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub async fn kill(self) {
        self.kill_keeping_log().await;
    }

    /// [`Service::kill`], returning what the process had logged.
    pub async fn kill_keeping_log(mut self) -> String {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        self.log_text()
    }

    /// [`Service::stop`], returning the exit code and everything the process logged.
    pub async fn stop_keeping_log(mut self) -> (Option<i32>, String) {
        let code = self.terminate().await;
        (code, self.log_text())
    }

    /// Asks the process to stop (SIGTERM) and waits for it; returns its exit code.
    pub async fn stop(mut self) -> Option<i32> {
        self.terminate().await
    }

    async fn terminate(&mut self) -> Option<i32> {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(Ok(status)) => status.code(),
            _ => {
                let _ = self.child.start_kill();
                None
            }
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Ok(log) = std::fs::read_to_string(&self.log)
        {
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("--- investigator serve ({}), last lines of its log:", self.address);
            for line in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("{line}");
            }
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Waits until `check` is true, for at most `timeout`; panics naming `what` otherwise.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
