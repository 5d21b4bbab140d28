//! The client against loopback servers: deadlines, body caps, redirects, refused addresses.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use investigator_core::network::{NetworkAllowance, SpecialRange};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::redirects::judge_redirect;
use super::*;

/// How a test server answers one request.
#[derive(Clone)]
enum Reply {
    /// 200 with this body.
    Body(&'static str),
    /// 302 to this location.
    Redirect(String),
    /// A length of 1,000 bytes announced, then one byte every `interval`.
    Drip { interval: Duration },
    /// A chunked body that never ends.
    Endless,
    /// 200 announcing this length, and nothing more.
    Announce(u64),
}

/// A loopback server answering every request with `reply(path)`; counts connections.
struct TestServer {
    address: std::net::SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl TestServer {
    async fn start(reply: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        let reply = Arc::new(reply);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let reply = Arc::clone(&reply);
                tokio::spawn(async move { answer(stream, &*reply).await });
            }
        });
        TestServer { address, connections }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn answer(mut stream: TcpStream, reply: &(dyn Fn(&str) -> Reply + Send + Sync)) {
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let written = match reply(&path) {
            Reply::Body(body) => {
                let response = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                stream.write_all(response.as_bytes()).await
            }
            Reply::Redirect(location) => {
                let response = format!("HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n");
                stream.write_all(response.as_bytes()).await
            }
            Reply::Drip { interval } => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n").await;
                for _ in 0..1000 {
                    if stream.write_all(b"x").await.is_err() {
                        return;
                    }
                    tokio::time::sleep(interval).await;
                }
                Ok(())
            }
            Reply::Endless => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").await;
                let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
                while stream.write_all(chunk.as_bytes()).await.is_ok() {}
                return;
            }
            Reply::Announce(length) => {
                let response = format!("HTTP/1.1 200 OK\r\ncontent-length: {length}\r\n\r\n");
                let _ = stream.write_all(response.as_bytes()).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
                return;
            }
        };
        if written.is_err() {
            return;
        }
    }
}

fn loopback_client() -> OutboundClient {
    OutboundClient::new(NetworkAllowance::ranges(&[SpecialRange::Loopback])).expect("a client")
}

fn request(deadline: Duration) -> OutboundRequest<'static> {
    OutboundRequest { accept: "*/*", deadline, max_body_bytes: 1024 * 1024, verify_tls: true }
}

#[tokio::test]
async fn a_server_dripping_its_body_is_cut_off_at_the_deadline() {
    let server = TestServer::start(|_| Reply::Drip { interval: Duration::from_millis(200) }).await;
    let started = Instant::now();
    let error = loopback_client().get(&server.url("/all.zip"), request(Duration::from_secs(1))).await.expect_err("cut");
    let elapsed = started.elapsed();
    assert!(matches!(error, OutboundError::Timeout { .. }), "{error:?}");
    assert!(elapsed < Duration::from_secs(3), "the deadline covers the body: {elapsed:?}");
}

#[tokio::test]
async fn a_body_beyond_the_cap_is_abandoned() {
    let endless = TestServer::start(|_| Reply::Endless).await;
    let error =
        loopback_client().get(&endless.url("/simple/x/"), request(Duration::from_secs(10))).await.expect_err("cap");
    assert!(matches!(error, OutboundError::TooLarge { limit: 1_048_576, .. }), "{error:?}");
    let announced = TestServer::start(|_| Reply::Announce(5 * 1024 * 1024 * 1024)).await;
    let started = Instant::now();
    let error =
        loopback_client().get(&announced.url("/"), request(Duration::from_secs(10))).await.expect_err("announced");
    assert!(matches!(error, OutboundError::TooLarge { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "refused on the announced length");
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed() {
    let elsewhere = TestServer::start(|_| Reply::Body("secret")).await;
    let target = elsewhere.url("/latest/meta-data");
    let index = TestServer::start(move |_| Reply::Redirect(target.clone())).await;
    let error = loopback_client().get(&index.url("/simple/x/"), request(Duration::from_secs(5))).await.expect_err("x");
    assert!(
        matches!(&error, OutboundError::Refused { reason, .. } if reason.contains("leaves the origin")),
        "{error:?}"
    );
    assert_eq!(elsewhere.connections(), 0, "the other origin is never asked");
}

#[tokio::test]
async fn redirects_within_the_origin_are_followed_a_bounded_number_of_times() {
    let index = TestServer::start(|path| match path {
        "/simple/Flask/" => Reply::Redirect("/simple/flask/".to_owned()),
        "/simple/flask/" => Reply::Body("flask"),
        _ => Reply::Redirect("/loop".to_owned()),
    })
    .await;
    let client = loopback_client();
    let answer = client.get(&index.url("/simple/Flask/"), request(Duration::from_secs(5))).await.expect("followed");
    assert_eq!((answer.status, answer.body.as_slice()), (200, &b"flask"[..]));
    let error = client.get(&index.url("/loop"), request(Duration::from_secs(5))).await.expect_err("a loop");
    assert!(matches!(&error, OutboundError::Refused { reason, .. } if reason.contains("redirects")), "{error:?}");
}

#[test]
fn a_redirect_from_https_to_http_or_another_port_leaves_the_origin() {
    let url = |text: &str| reqwest::Url::parse(text).expect("a URL");
    let first = [url("https://pypi.org/simple/Flask/")];
    assert!(judge_redirect(&first, &url("https://pypi.org/simple/flask/")).is_ok());
    assert!(judge_redirect(&first, &url("https://pypi.org:443/simple/flask/")).is_ok(), "the default port");
    for elsewhere in ["http://pypi.org/simple/flask/", "https://pypi.org:8443/", "https://files.pythonhosted.org/"] {
        let refused = judge_redirect(&first, &url(elsewhere)).expect_err(elsewhere);
        assert!(matches!(refused, RedirectRefused::OtherOrigin { .. }), "{elsewhere}");
    }
    let six: Vec<reqwest::Url> = (0..=MAX_REDIRECTS).map(|_| url("https://pypi.org/a")).collect();
    assert_eq!(judge_redirect(&six, &url("https://pypi.org/b")), Err(RedirectRefused::TooMany));
}

#[tokio::test]
async fn loopback_addresses_are_refused_by_default_whether_literal_or_resolved() {
    let server = TestServer::start(|_| Reply::Body("private")).await;
    let client = OutboundClient::new(NetworkAllowance::none()).expect("a client");
    let port = server.address.port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://localhost:{port}/"),
    ] {
        let error = client.get(&url, request(Duration::from_secs(5))).await.expect_err(&url);
        assert!(
            matches!(&error, OutboundError::Refused { reason, .. } if reason.contains("loopback")),
            "{url}: {error:?}"
        );
    }
    assert_eq!(server.connections(), 0, "nothing was sent");
    let allowed = loopback_client().get(&format!("http://localhost:{port}/"), request(Duration::from_secs(5))).await;
    assert_eq!(allowed.expect("allowed").body, b"private");
}

#[tokio::test]
async fn the_metadata_service_is_refused_without_a_connection() {
    let client = OutboundClient::new(NetworkAllowance::none()).expect("a client");
    let started = Instant::now();
    let error = client
        .get("http://169.254.169.254/latest/meta-data/", request(Duration::from_secs(5)))
        .await
        .expect_err("refused");
    assert!(matches!(&error, OutboundError::Refused { reason, .. } if reason.contains("link-local")), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    let error = client.get("gopher://x/", request(Duration::from_secs(5))).await.expect_err("not http");
    assert!(matches!(error, OutboundError::InvalidUrl { .. }), "{error:?}");
}
