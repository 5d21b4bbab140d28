//! Settings the binary refuses before it starts anything.

use investigator_tests::investigator;

#[tokio::test(flavor = "multi_thread")]
async fn serve_refuses_every_setting_out_of_its_range_at_once_before_starting() {
    let vars = [
        ("ARGO_PENDING_WORKFLOW_LIMIT", "-3"),
        ("INVESTIGATOR_HTTP_WORKERS", "0"),
        ("INVESTIGATOR_BATCH_SIZE", "lots"),
        ("THOTH_SOLVERS", "garbage,,;;"),
        // Were it read, the service would need this server; it must not get that far.
        ("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none"),
    ];
    let env: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let run = investigator(&["serve"], &env).await;
    assert_eq!(run.code, Some(2), "a wrong setting is a wrong invocation: {}", run.stderr);
    for expected in [
        "ARGO_PENDING_WORKFLOW_LIMIT: '-3' is not a whole number from 0 to 1000000",
        "INVESTIGATOR_HTTP_WORKERS: '0' is not a whole number from 1 to 256",
        "INVESTIGATOR_BATCH_SIZE: 'lots' is not a whole number from 1 to 100000",
        "THOTH_SOLVERS: solver name 'garbage'",
    ] {
        assert!(run.stderr.contains(expected), "{expected} missing from:\n{}", run.stderr);
    }
    assert_eq!(run.stderr.matches("THOTH_SOLVERS:").count(), 1, "one problem for the list: {}", run.stderr);
    assert!(!run.stderr.contains("no solver given"), "{}", run.stderr);
}
