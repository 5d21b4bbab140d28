//! Kafka over TLS and SASL, as Thoth's clusters run it (`KAFKA_SECURITY_PROTOCOL` `ssl` or
//! `sasl_ssl` with a CA file): the investigator's own clients (topic admin, `emit`'s producer,
//! `serve`'s consumer) against the tansu broker behind a TLS terminator, with a certificate
//! authority made for the test (`investigator_tests::secure_broker`).

use std::time::Duration;

use investigator_tests::secure_broker::{SaslUser, SecureBroker, client_settings};
use investigator_tests::{Service, TestDatabase, eventually, investigator};

use crate::pipeline::{SOLVERS, count};

const UNRESOLVED: &str = "thoth.investigator.unresolved-package";

/// The settings of one deployment of its own on `broker`, trusting `ca`, as `user`.
fn deployment(broker: &SecureBroker, ca: &std::path::Path, user: Option<&SaslUser>) -> Vec<(String, String)> {
    let prefix = format!("sec-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let mut env = client_settings(broker, ca, user);
    env.extend([
        ("THOTH_DEPLOYMENT_NAME".to_owned(), prefix.clone()),
        ("KAFKA_CONSUMER_GROUP_ID".to_owned(), format!("{prefix}.investigator")),
        ("THOTH_SOLVERS".to_owned(), SOLVERS.to_owned()),
    ]);
    env
}

/// Creates the topics, starts `serve`, emits one message with `emit` and waits until `serve`
/// applied it: the admin client, a producer and a consumer group, all over `env`'s security.
async fn emit_and_serve(env: &[(String, String)], package: &str) -> (Service, TestDatabase) {
    let database = TestDatabase::create().await;
    let mut env = env.to_vec();
    env.extend(database.vars());
    let created = investigator(&["topics", "create"], &env).await;
    assert_eq!(created.code, Some(0), "topics create: {}", created.stderr);
    let service = Service::start(&env).await;
    let message = format!(
        r#"{{"package_name": "{package}", "package_version": "1.0.0", "index_url": "https://pypi.org/simple"}}"#
    );
    let sent = investigator(&["emit", UNRESOLVED, "--json", &message], &env).await;
    assert_eq!(sent.code, Some(0), "emit: {}", sent.stderr);
    assert!(sent.stdout.contains("offset"), "{}", sent.stdout);
    let sql = format!("SELECT count(*) FROM graph.workflow_run WHERE package_name = '{package}'");
    eventually("serve applied the message", Duration::from_secs(60), || async {
        count(&database.database, &sql).await > 0
    })
    .await;
    (service, database)
}

#[tokio::test(flavor = "multi_thread")]
async fn over_tls_the_investigator_creates_its_topics_emits_and_serves_with_the_ca_it_is_given() {
    let broker = SecureBroker::tls().await;
    let env = deployment(&broker, &broker.certificates().ca(), None);
    let _service = emit_and_serve(&env, "tls-package").await;
    assert!(broker.handshakes() >= 3, "admin, producer and consumer connections were TLS: {}", broker.handshakes());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_whose_certificate_the_given_ca_did_not_sign_is_refused_with_an_error_naming_it() {
    let broker = SecureBroker::tls().await;
    let env = deployment(&broker, &broker.certificates().other_ca(), None);
    let listed = investigator(&["topics", "list", "--timeout", "5"], &env).await;
    assert_eq!(listed.code, Some(1), "{}", listed.stderr);
    let stderr = &listed.stderr;
    assert!(stderr.contains(&format!("ssl://{}", broker.bootstrap_servers())), "the error names the broker: {stderr}");
    assert!(stderr.contains("certificate verify failed"), "and says why: {stderr}");
    assert_eq!(broker.handshakes(), 0, "no TLS session was ever set up");
}

#[tokio::test(flavor = "multi_thread")]
async fn sasl_logins_the_broker_refuses_and_a_missing_sasl_are_clear_errors_naming_the_broker() {
    // This tansu offers SCRAM only, and stores no SCRAM user (see secure_broker): every login
    // is refused, which is what this test needs; no login can succeed against it.
    let broker = SecureBroker::tls_with_authentication().await;
    let address = broker.bootstrap_servers();
    let password = "sasl-Pa55-never-0ut";
    let refusals = [
        ("SCRAM-SHA-512", "SASL SCRAM authentication failed: broker responded with unknown-user"),
        ("SCRAM-SHA-256", "SASL SCRAM authentication failed: broker responded with unknown-user"),
        ("PLAIN", "SASL PLAIN mechanism handshake failed"),
    ];
    for (mechanism, why) in refusals {
        let user = SaslUser { mechanism, name: "investigator".to_owned(), password: password.to_owned() };
        let env = deployment(&broker, &broker.certificates().ca(), Some(&user));
        let listed = investigator(&["topics", "list", "--timeout", "5"], &env).await;
        assert_eq!(listed.code, Some(1), "{mechanism}: {}", listed.stderr);
        let error = listed.stderr.lines().find(|line| line.starts_with("error:")).unwrap_or_default();
        assert!(error.contains(&format!("sasl_ssl://{address}")), "{mechanism}: the error names the broker: {error}");
        assert!(error.contains(why), "{mechanism}: and says why: {error}");
        assert!(!listed.stderr.contains(password), "{mechanism}: the password is never printed");
    }

    // Without SASL, the broker serves nothing but the handshake.
    let env = deployment(&broker, &broker.certificates().ca(), None);
    let listed = investigator(&["topics", "list", "--timeout", "5"], &env).await;
    assert_eq!(listed.code, Some(1), "a client without SASL was served: {}", listed.stdout);
    let error = listed.stderr.lines().find(|line| line.starts_with("error:")).unwrap_or_default();
    assert!(error.contains(&format!("ssl://{address}")), "the error names the broker: {error}");
    assert!(broker.handshakes() > 0, "the TLS sessions were set up; the broker refused what came next");
}
