//! Where the infrastructure is, as `scripts/test.sh` exports it. The harness's only reader of
//! the environment.

fn required(variable: &str, what: &str) -> String {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{variable} is not set: it names {what}. Run the tests with scripts/test.sh, which starts the \
             infrastructure and sets it (arguments go to cargo nextest, e.g. scripts/test.sh -E 'test(interop)')"
        ),
    }
}

/// A PostgreSQL URL whose user may create databases.
pub fn database_url() -> String {
    required("DATABASE_URL", "a PostgreSQL server the tests may create databases on")
}

/// pgbouncer in transaction pooling in front of the server of `DATABASE_URL`, when the run
/// goes through it (`scripts/test.sh` with `INVESTIGATOR_TEST_POOLER=transaction`).
pub fn pooler_url() -> Option<String> {
    std::env::var("INVESTIGATOR_TEST_POOLER_URL").ok().filter(|url| !url.is_empty())
}

/// Another `investigator` binary to test instead of the one built next to the tests
/// (`INVESTIGATOR_TEST_BINARY`): to show that a new test fails on an older build.
pub fn binary_override() -> Option<std::path::PathBuf> {
    std::env::var_os("INVESTIGATOR_TEST_BINARY").filter(|path| !path.is_empty()).map(std::path::PathBuf::from)
}

/// The broker's `host:port`.
pub fn kafka_bootstrap_servers() -> String {
    required("KAFKA_BOOTSTRAP_SERVERS", "the tansu broker")
}

/// The Python interpreter of the venv holding thoth-messaging.
pub fn thoth_python() -> String {
    required("INVESTIGATOR_TEST_PYTHON", "the Python of the venv with thoth-messaging")
}

/// The tansu broker's binary.
pub fn tansu_binary() -> String {
    required("TANSU_BIN", "the tansu broker's binary")
}

/// moto's S3-compatible server (`scripts/tool-venv.sh object-store`).
pub fn s3_server() -> String {
    required("INVESTIGATOR_S3_SERVER", "moto's S3 server, for the broker that keeps its topics in an object store")
}

/// schemathesis, the API contract checker (`scripts/tool-venv.sh schemathesis`).
pub fn schemathesis() -> String {
    required("INVESTIGATOR_TEST_SCHEMATHESIS", "schemathesis, for the API contract test")
}

/// kustomize, which renders `ops/deploy` (`scripts/kustomize.sh`).
pub fn kustomize() -> String {
    required(
        "INVESTIGATOR_TEST_KUSTOMIZE",
        "kustomize v4.5.4, which renders ops/deploy (scripts/kustomize.sh installs it)",
    )
}

/// Whether logs should be printed.
pub fn test_log() -> bool {
    std::env::var("TEST_LOG").is_ok_and(|value| !value.is_empty() && value != "0")
}

/// The log filter for the test process and the binaries it runs, when `TEST_LOG` is set.
pub fn test_log_filter() -> String {
    std::env::var("RUST_LOG").unwrap_or_else(|_| "debug".to_owned())
}
