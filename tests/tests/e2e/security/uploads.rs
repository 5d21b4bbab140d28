//! Document uploads (`POST /api/v1/documents`): bodies of up to 32 MiB whose shape no
//! document has, and many uploads at once.

use std::time::Duration;

use investigator_tests::peak_memory::peak_resident_mib;
use investigator_tests::{Service, TestDatabase};
use tokio::io::AsyncWriteExt;

use super::{MEMORY_CEILING_MIB, code};

/// The largest body the endpoint takes.
const MAX_DOCUMENT: usize = 32 * 1024 * 1024;
const TOKEN: &str = "s3cret";

async fn service(database: &TestDatabase) -> Service {
    let mut env = database.vars();
    env.push(("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()));
    env.push(("INVESTIGATOR_API_TOKEN".to_owned(), TOKEN.to_owned()));
    Service::start(&env).await
}

/// `prefix`, then `0,0,…,0` up to `size` bytes in all with `suffix`.
fn zeros_between(prefix: &str, suffix: &str, size: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(prefix.as_bytes());
    // Room is left for the last "0" and the suffix.
    while body.len() + 3 + suffix.len() <= size {
        body.extend_from_slice(b"0,");
    }
    body.push(b'0');
    body.extend_from_slice(suffix.as_bytes());
    body
}

async fn upload(service: &Service, body: &[u8]) -> (u16, String) {
    service.post("/api/v1/documents", Some(TOKEN), body).await
}

fn peak(service: &Service) -> f64 {
    peak_resident_mib(service.pid().expect("a running service")).expect("the service runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_32_mib_array_of_zeros_is_refused_without_the_memory_it_would_take_to_read() {
    let database = TestDatabase::create().await;
    let service = service(&database).await;
    let before = peak(&service);
    let zeros = zeros_between("[", "]", MAX_DOCUMENT);

    let (status, body) = upload(&service, &zeros).await;
    assert_eq!((status, code(&body)), (422, "invalid_document".to_owned()), "{body}");
    assert!(body.contains("not a JSON object"), "{body}");
    let one = peak(&service);

    let parallel = (0..4).map(|_| upload(&service, &zeros));
    let answers = futures_util::future::join_all(parallel).await;
    for (status, body) in &answers {
        assert!(
            matches!((status, code(body).as_str()), (422, "invalid_document") | (429, "too_many_uploads")),
            "{status} {body}"
        );
    }
    let four = peak(&service);
    println!(
        "serve's peak memory: {before:.0} MiB idle, {one:.0} MiB after one 32 MiB [0,0,…] upload, {four:.0} MiB after four at once"
    );
    assert!(four < MEMORY_CEILING_MIB, "peak {four:.0} MiB");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_holding_millions_of_values_in_a_free_form_field_is_refused_within_bounded_memory() {
    let database = TestDatabase::create().await;
    let service = service(&database).await;
    let prefix = r#"{"metadata": {"document_id": "solver-rhel-8-py38-210713010253-a24759ebdaa1442c", "analyzer_version": "1.13.1", "datetime": "2021-07-13T01:02:53.123456"}, "result": {"errors": [{"package_name": "flask", "details": ["#;
    let bomb = zeros_between(prefix, "]}]}}", MAX_DOCUMENT);

    let (status, body) = upload(&service, &bomb).await;
    assert_eq!((status, code(&body)), (422, "invalid_document".to_owned()), "{body}");
    assert!(body.contains("more than 500000 JSON values"), "{body}");
    let refused = peak(&service);

    // The largest documents of this shape that are taken (just under the limit of values),
    // two at once, as many as are read at once.
    let taken = |id: &str| {
        let prefix = prefix.replace("a24759ebdaa1442c", id);
        zeros_between(&prefix, "]}]}}", 990_000)
    };
    let (first, second) = (taken("0000000000000001"), taken("0000000000000002"));
    let (one, two) = tokio::join!(upload(&service, &first), upload(&service, &second));
    assert_eq!((one.0, two.0), (201, 201), "{} {}", one.1, two.1);
    let accepted = peak(&service);
    println!(
        "serve's peak memory: {refused:.0} MiB after a 32 MiB document of 16 million values, \
         {accepted:.0} MiB after recording two of 495,000 at once"
    );
    assert!(accepted < MEMORY_CEILING_MIB, "peak {accepted:.0} MiB");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_third_upload_while_two_are_being_read_is_answered_429() {
    let database = TestDatabase::create().await;
    let service = service(&database).await;
    // Two uploads that announce 32 MiB and send a byte: they hold their places while the
    // server waits for the rest.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(service.address).await.expect("connected");
        let head = format!(
            "POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: {MAX_DOCUMENT}\r\n\r\n{{"
        );
        stream.write_all(head.as_bytes()).await.expect("sent");
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (status, body) = upload(&service, br#"{"metadata": {}}"#).await;
    assert_eq!((status, code(&body)), (429, "too_many_uploads".to_owned()), "{body}");
    let (_, headers, _) = service.get_with_headers("/_health").await;
    assert!(!headers.is_empty(), "the service still answers");

    drop(held);
    investigator_tests::eventually("the places freed", Duration::from_secs(10), || async {
        upload(&service, br#"{"metadata": {}}"#).await.0 == 422
    })
    .await;
}
