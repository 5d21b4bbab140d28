//! A tansu broker reached over TLS, and with SASL authentication when asked, for the
//! tests of `KAFKA_SECURITY_PROTOCOL` `ssl` and `sasl_ssl` (what Thoth's clusters use).
//!
//! - The certificates: a certificate authority made for the test with the openssl CLI, a
//!   broker certificate it signs (for `localhost` and `127.0.0.1`), and a second authority that
//!   signed nothing of ours, to be refused.
//! - TLS: tansu cannot terminate it (see [`crate::tls_proxy`]), so a [`TlsProxy`] does, and the
//!   broker advertises the proxy's address: every connection a client makes, bootstrap or not,
//!   is TLS.
//! - SASL: tansu's `--authentication` makes every request but the SASL handshake wait for an
//!   authenticated session. What its storage here (`dynostore`: memory or S3, the only engine
//!   this build has) gives it: SCRAM-SHA-256/512 users cannot be stored (upserts are dropped,
//!   lookups find nobody), so every SCRAM login is refused as an unknown user; PLAIN accepts any
//!   user and password (tansu checks that both are given, not what they are). So PLAIN shows the
//!   investigator's SASL settings at work end to end, and SCRAM a refusal.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::tls_proxy::TlsProxy;
use crate::{environment, free_address};

/// The files of the test's certificate authorities.
pub struct TestCertificates {
    directory: tempfile::TempDir,
}

impl TestCertificates {
    /// Makes the authorities and the broker's certificate with the openssl CLI.
    pub fn make() -> TestCertificates {
        let directory = tempfile::tempdir().expect("a directory for the certificates");
        let openssl = |args: &[&str]| {
            let output = std::process::Command::new("openssl")
                .args(args)
                .current_dir(directory.path())
                .stdin(Stdio::null())
                .output()
                .expect("the openssl CLI runs (Debian: apt-get install openssl)");
            assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        };
        for (name, subject) in [("ca", "/CN=investigator-test-ca"), ("other-ca", "/CN=someone-elses-ca")] {
            let (key, certificate) = (format!("{name}.key"), format!("{name}.pem"));
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &certificate,
                "-days",
                "2",
                "-subj",
                subject,
            ]);
        }
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "broker.key",
            "-out",
            "broker.csr",
            "-subj",
            "/CN=localhost",
        ]);
        std::fs::write(directory.path().join("broker.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
            .expect("the extension file");
        openssl(&[
            "x509",
            "-req",
            "-in",
            "broker.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "broker.pem",
            "-days",
            "2",
            "-extfile",
            "broker.ext",
        ]);
        TestCertificates { directory }
    }

    /// The authority that signed the broker's certificate.
    pub fn ca(&self) -> PathBuf {
        self.directory.path().join("ca.pem")
    }

    /// An authority that signed nothing of ours.
    pub fn other_ca(&self) -> PathBuf {
        self.directory.path().join("other-ca.pem")
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.directory.path().join(name)).expect("a certificate file")
    }
}

/// A SASL user: the mechanism (`PLAIN`, `SCRAM-SHA-512`...), a name and a password.
#[derive(Debug, Clone)]
pub struct SaslUser {
    /// `KAFKA_SASL_MECHANISM`.
    pub mechanism: &'static str,
    /// `KAFKA_SASL_USERNAME`.
    pub name: String,
    /// `KAFKA_SASL_PASSWORD`.
    pub password: String,
}

/// The broker behind its TLS terminator; everything is killed when dropped.
pub struct SecureBroker {
    certificates: TestCertificates,
    proxy: TlsProxy,
    broker: Child,
}

impl SecureBroker {
    /// A broker with in-memory storage, reached over TLS only.
    pub async fn tls() -> SecureBroker {
        let (certificates, proxy, broker_port) = terminator();
        let broker = start_tansu(broker_port, proxy.address().port(), &[]).await;
        SecureBroker { certificates, proxy, broker }
    }

    /// A broker reached over TLS that wants every client authenticated with SASL.
    pub async fn tls_with_authentication() -> SecureBroker {
        let (certificates, proxy, broker_port) = terminator();
        let broker = start_tansu(broker_port, proxy.address().port(), &["--authentication"]).await;
        SecureBroker { certificates, proxy, broker }
    }

    /// `127.0.0.1:port` of the TLS side, for `KAFKA_BOOTSTRAP_SERVERS`.
    pub fn bootstrap_servers(&self) -> String {
        self.proxy.address().to_string()
    }

    /// The certificates.
    pub fn certificates(&self) -> &TestCertificates {
        &self.certificates
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> usize {
        self.proxy.handshakes()
    }
}

impl Drop for SecureBroker {
    fn drop(&mut self) {
        let _ = self.broker.start_kill();
    }
}

/// The certificates, the terminator on a port of its own, and the broker's (plaintext) port.
fn terminator() -> (TestCertificates, TlsProxy, u16) {
    let certificates = TestCertificates::make();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port for the TLS side");
    let broker_port = free_address().port();
    let broker = std::net::SocketAddr::from(([127, 0, 0, 1], broker_port));
    let proxy = TlsProxy::start(listener, &certificates.read("broker.pem"), &certificates.read("broker.key"), broker);
    (certificates, proxy, broker_port)
}

/// tansu on `port` (memory storage), advertising the terminator's `advertised` port.
async fn start_tansu(port: u16, advertised: u16, extra: &[&str]) -> Child {
    let listener = format!("tcp://127.0.0.1:{port}");
    let advertised = format!("tcp://127.0.0.1:{advertised}");
    let child = Command::new(environment::tansu_binary())
        .args(["broker", "--listener-url", &listener, "--advertised-listener-url", &advertised])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("tansu starts");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("tansu did not listen on port {port}");
}

/// The settings a client of `broker` needs, trusting `ca`.
pub fn client_settings(broker: &SecureBroker, ca: &Path, user: Option<&SaslUser>) -> Vec<(String, String)> {
    let mut vars = vec![
        ("KAFKA_BOOTSTRAP_SERVERS".to_owned(), broker.bootstrap_servers()),
        ("KAFKA_SSL_CA_LOCATION".to_owned(), ca.display().to_string()),
    ];
    match user {
        None => vars.push(("KAFKA_SECURITY_PROTOCOL".to_owned(), "ssl".to_owned())),
        Some(user) => vars.extend([
            ("KAFKA_SECURITY_PROTOCOL".to_owned(), "sasl_ssl".to_owned()),
            ("KAFKA_SASL_MECHANISM".to_owned(), user.mechanism.to_owned()),
            ("KAFKA_SASL_USERNAME".to_owned(), user.name.clone()),
            ("KAFKA_SASL_PASSWORD".to_owned(), user.password.clone()),
        ]),
    }
    vars
}
