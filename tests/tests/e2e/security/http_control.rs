//! Secure by default, over HTTP: halting and resuming need POST and the write token (Thoth's
//! GET only when asked for), every answer carries the security headers, protected answers are
//! not stored, `/metrics` closes by setting, and errors quote no database message.

use investigator_tests::{Service, TestDatabase};
use serde_json::Value;

use super::code;
use crate::api::service_with;

const TOKEN: &str = "s3cret-t0ken";
const HALT: &str = "/halt/thoth.investigator.unrevsolved-package";
const RESUME: &str = "/resume/thoth.investigator.unrevsolved-package";

async fn halted_topics(service: &Service) -> Value {
    let (_, status) = service.get("/api/v1/status").await;
    serde_json::from_str::<Value>(&status).expect("JSON")["halted_topics"].clone()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

#[tokio::test(flavor = "multi_thread")]
async fn halting_and_resuming_need_post_and_the_write_token_and_get_only_when_thoth_compatible() {
    let database = TestDatabase::create().await;
    let service = service_with(&database, &[("INVESTIGATOR_API_TOKEN", TOKEN)]).await;

    // A GET, which any page a browser on the network opens can send: refused, nothing halted.
    let (status, headers, body) = service.get_with_headers(HALT).await;
    assert_eq!((status, code(&body)), (405, "control_needs_post".to_owned()), "{body}");
    assert_eq!(header(&headers, "allow"), Some("POST"));
    assert_eq!(halted_topics(&service).await, serde_json::json!([]), "a GET halts nothing");

    let (status, body) = service.post(HALT, None, b"").await;
    assert_eq!((status, code(&body)), (401, "missing_token".to_owned()), "{body}");
    let (status, body) = service.post(HALT, Some("guess"), b"").await;
    assert_eq!((status, code(&body)), (401, "invalid_token".to_owned()), "{body}");
    assert_eq!(halted_topics(&service).await, serde_json::json!([]), "refused requests halt nothing");

    // The scheme in any case (RFC 9110).
    let authorization = format!("bearer {TOKEN}");
    let (status, body) = service.request("POST", HALT, &[("Authorization", authorization.as_str())], b"").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Successfully halted consumption of"), "{body}");
    assert_ne!(halted_topics(&service).await, serde_json::json!([]), "halted");
    let (status, _) = service.post(RESUME, Some(TOKEN), b"").await;
    assert_eq!(status, 200);
    assert_eq!(halted_topics(&service).await, serde_json::json!([]), "resumed");
    drop(service);

    // Without a write token, control is disabled like every other write.
    let disabled = service_with(&database, &[]).await;
    let (status, body) = disabled.post(HALT, Some(TOKEN), b"").await;
    assert_eq!((status, code(&body)), (401, "writes_disabled".to_owned()), "{body}");
    drop(disabled);

    // Thoth's GET, only when asked for.
    let compatible = service_with(&database, &[("INVESTIGATOR_THOTH_COMPATIBLE_CONTROL", "1")]).await;
    let (status, body) = compatible.get(HALT).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = compatible.get(RESUME).await;
    assert_eq!(status, 200, "{body}");
    assert!(compatible.log_text().contains("INVESTIGATOR_THOTH_COMPATIBLE_CONTROL"), "the open control is logged");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_carries_the_security_headers_and_token_protected_ones_are_not_stored() {
    let database = TestDatabase::create().await;
    let service =
        service_with(&database, &[("INVESTIGATOR_API_TOKEN", TOKEN), ("INVESTIGATOR_API_READ_TOKEN", "r3ader")]).await;
    for path in ["/_health", "/metrics", "/api/v1/python-package-index", "/no/such/path", HALT] {
        let (_, headers, _) = service.get_with_headers(path).await;
        assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(header(&headers, "x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            header(&headers, "content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{path}"
        );
    }
    let authorization = "Bearer r3ader";
    let (status, headers, _) =
        service.get_sending("/api/v1/python-package-index", &[("Authorization", authorization)]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), Some("no-store"), "an answer that needed a token");
    let (status, _, _) = service.get_sending("/api/v1/python-package-index", &[("Authorization", authorization)]).await;
    assert_eq!(status, 200, "a cached answer too");
    let (_, headers, _) =
        service.get_sending("/api/v1/python-package-index", &[("Authorization", authorization)]).await;
    assert_eq!(header(&headers, "cache-control"), Some("no-store"), "a cached answer is not stored either");
    let (_, headers, _) = service.get_with_headers("/_health").await;
    assert_eq!(header(&headers, "cache-control"), None, "the open probe");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_open_by_default_and_need_the_read_token_when_configured() {
    let database = TestDatabase::create().await;
    let open = service_with(&database, &[("INVESTIGATOR_API_READ_TOKEN", "r3ader")]).await;
    let (status, body) = open.get("/metrics").await;
    assert_eq!(status, 200, "Prometheus scrapes as it scrapes Thoth: {body}");
    drop(open);

    let closed = service_with(
        &database,
        &[("INVESTIGATOR_API_READ_TOKEN", "r3ader"), ("INVESTIGATOR_METRICS_NEED_READ_TOKEN", "1")],
    )
    .await;
    let (status, body) = closed.get("/metrics").await;
    assert_eq!((status, code(&body)), (401, "missing_token".to_owned()), "{body}");
    let (status, body) = closed.get_with_token("/metrics", "r3ader").await;
    assert_eq!(status, 200);
    assert!(body.contains("thoth_investigator_halted_topics"), "{body}");
    let (status, _) = closed.get("/_health").await;
    assert_eq!(status, 200, "the probes stay open");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_with_a_nul_gets_a_422_naming_the_field_and_quoting_no_database_message() {
    let database = TestDatabase::create().await;
    let service = service_with(&database, &[("INVESTIGATOR_API_TOKEN", TOKEN)]).await;
    let file =
        crate::knowledge_graph::documents_dir().join("solver/solver-fedora-34-py39-210810110536-c7a8153e2b9d4061.json");
    let document = std::fs::read_to_string(&file).expect("a sample solver document");
    // PostgreSQL stores no NUL character in text or JSONB; the document is otherwise valid.
    let with_nul = document.replacen(r#""analyzer_version": "1.13.1""#, r#""analyzer_version": "1.13.1\u0000""#, 1);
    assert_ne!(with_nul, document, "the sample has the field");

    let (status, body) = service.post("/api/v1/documents", Some(TOKEN), with_nul.as_bytes()).await;
    assert_eq!((status, code(&body)), (422, "invalid_document".to_owned()), "{body}");
    assert!(body.contains("NUL"), "the answer says what to fix: {body}");
    for database_words in
        ["Unicode escape", "jsonb", "byte sequence", "db error", "ERROR", "event_log", "investigator."]
    {
        assert!(!body.contains(database_words), "the answer quotes the database ({database_words}): {body}");
    }
    assert!(body.contains("analyzer_version"), "the answer names the field: {body}");
}
