//! The admin API refuses index URLs that point inward or are not URLs, before recording them.

use investigator_tests::{Service, TestDatabase};

use super::code;

async fn service(database: &TestDatabase, extra: &[(&str, &str)]) -> Service {
    let mut env = database.vars();
    env.push(("KAFKA_BOOTSTRAP_SERVERS".to_owned(), String::new()));
    env.push(("INVESTIGATOR_API_TOKEN".to_owned(), "s3cret".to_owned()));
    env.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    Service::start(&env).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_index_at_the_metadata_address_or_with_a_hostile_warehouse_url_is_refused_and_not_recorded() {
    let database = TestDatabase::create().await;
    let service = service(&database, &[]).await;
    let register = |body: &'static str| service.post("/api/v1/python/package-index", Some("s3cret"), body.as_bytes());

    let (status, body) =
        register(r#"{"url": "http://169.254.169.254/latest/meta-data", "verify_ssl": false, "enabled": true}"#).await;
    assert_eq!((status, code(&body)), (400, "index_address_denied".to_owned()), "{body}");
    assert!(body.contains("link-local"), "the range is named: {body}");
    let (status, body) = register(r#"{"url": "http://[::ffff:10.0.0.1]/simple"}"#).await;
    assert_eq!((status, code(&body)), (400, "index_address_denied".to_owned()), "{body}");
    let (status, body) =
        register(r#"{"url": "https://mirror.example.org/simple", "warehouse_api_url": "gopher://x\r\nINJECT"}"#).await;
    assert_eq!((status, code(&body)), (400, "invalid_warehouse_api_url".to_owned()), "{body}");
    assert!(!body.contains("INJECT\r") && !body.contains('\r'), "{body}");
    let (status, body) =
        register(r#"{"url": "https://mirror.example.org/simple", "warehouse_api_url": "http://169.254.169.254/pypi"}"#)
            .await;
    assert_eq!((status, code(&body)), (400, "index_address_denied".to_owned()), "{body}");
    let (status, body) = register(r#"{"url": "ftp://mirror.example.org/simple"}"#).await;
    assert_eq!((status, code(&body)), (400, "invalid_index_url".to_owned()), "{body}");

    let (_, indexes) = service.get("/api/v1/python-package-index").await;
    for refused in ["169.254.169.254", "10.0.0.1", "mirror.example.org", "INJECT"] {
        assert!(!indexes.contains(refused), "{refused} was recorded: {indexes}");
    }
    let (status, body) = register(
        r#"{"url": "https://mirror.example.org/simple", "warehouse_api_url": "https://mirror.example.org/pypi"}"#,
    )
    .await;
    assert_eq!(status, 201, "a public index is recorded: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_may_allow_a_private_range_for_an_internal_index() {
    let database = TestDatabase::create().await;
    let service = service(&database, &[("INVESTIGATOR_ALLOW_PRIVATE_NETWORKS", "10.0.0.0/8")]).await;
    let internal = br#"{"url": "http://10.1.2.3:3141/root/pypi/+simple"}"#;
    let (status, body) = service.post("/api/v1/python/package-index", Some("s3cret"), internal).await;
    assert_eq!(status, 201, "{body}");
    let metadata = br#"{"url": "http://169.254.169.254/simple"}"#;
    let (status, body) = service.post("/api/v1/python/package-index", Some("s3cret"), metadata).await;
    assert_eq!((status, code(&body)), (400, "index_address_denied".to_owned()), "still refused: {body}");
}
