use std::collections::BTreeMap;

use investigator_events::domain::{StreamId, WorkflowKind, WorkflowTarget};
use investigator_events::thoth::{MessageKind, ThothMessage};
use serde_json::{Value, json};

use crate::decide::fields::is_dns_label;
use crate::decide::test_support::*;
use crate::decide::{Decision, Knowledge, Rejection, Rule, decide};

fn decide_user(message: &ThothMessage, knowledge: &Knowledge) -> Result<Decision, Rejection> {
    decide(Rule::UserWorkflowScheduler, message, &origin(message.kind(), 21), knowledge, &settings())
}

fn the_request(decision: &Decision) -> &investigator_events::domain::WorkflowRequested {
    let [request] = requests(decision)[..] else { panic!("one request: {decision:?}") };
    request
}

fn adviser_trigger(fields: Value) -> ThothMessage {
    let mut object = json!({"recommendation_type": "latest", "job_id": "adviser-211008121019-7b4a96e23db7f0f4"});
    if let (Some(object), Value::Object(fields)) = (object.as_object_mut(), fields) {
        object.extend(fields);
    }
    message(MessageKind::AdviserTrigger, object)
}

fn rejected_field(result: Result<Decision, Rejection>) -> &'static str {
    match result {
        Err(Rejection::InvalidField { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[test]
fn adviser_trigger_asks_for_the_adviser_with_thoths_parameters_and_metadata() {
    let message = adviser_trigger(json!({
        "dev": true, "authenticated": true, "count": 3, "limit": null,
        "origin": "https://github.com/thoth-station/thamos", "source_type": "KEBECHET",
        "kebechet_metadata": {"message_justification": 5, "package_name": "flask", "package_version": "2.0.1", "package_index": PYPI},
        "justification": [{"type": "INFO", "message": "m"}], "stack_info": null,
    }));
    let decision = decide_user(&message, &knowledge()).expect("decided");
    let request = the_request(&decision);
    let id = "adviser-211008121019-7b4a96e23db7f0f4";
    assert_eq!(decision.events[0].0, StreamId::workflow(id));
    assert_eq!(request.workflow_id, id);
    assert_eq!(request.kind, WorkflowKind::Adviser);
    assert_eq!(request.namespace, "thoth-backend");
    assert_eq!(request.target, WorkflowTarget::default());
    assert_eq!(request.trigger.as_deref(), Some("thoth.adviser-trigger"));
    assert_eq!(request.version_source, None);
    let mut parameters = request.parameters.clone();
    let metadata = parameters.remove("THOTH_ADVISER_METADATA").expect("metadata");
    let update = parameters.remove("THOTH_ADVISER_DEPLOYMENT_PACKAGE_UPDATE").expect("package update");
    assert_eq!(
        Value::Object(parameters),
        json!({
            "THOTH_ADVISER_JOB_ID": id,
            "THOTH_ADVISER_DEV": "1",
            "THOTH_LOG_ADVISER": "INFO",
            "THOTH_ADVISER_RECOMMENDATION_TYPE": "latest",
            "THOTH_AUTHENTICATED_ADVISE": "1",
            "THOTH_ADVISER_PREDICTOR_CONFIG": "{}",
            "THOTH_ADVISER_COUNT": "3",
        })
    );
    assert_eq!(
        serde_json::from_str::<Value>(metadata.as_str().expect("a string")).expect("JSON"),
        json!({
            "origin": "https://github.com/thoth-station/thamos",
            "re_run_adviser_id": null,
            "source_type": "KEBECHET",
            "kebechet_metadata": {"message_justification": 5, "package_name": "flask", "package_version": "2.0.1", "package_index": PYPI},
            "thoth.adviser": {"justification": [{"type": "INFO", "message": "m"}], "stack_info": null},
        })
    );
    assert_eq!(
        serde_json::from_str::<Value>(update.as_str().expect("a string")).expect("JSON"),
        json!({"package_name": "flask", "package_version": "2.0.1", "index_url": PYPI})
    );
}

#[test]
fn adviser_trigger_with_an_unknown_integration_or_a_kebechet_advise_without_origin_is_rejected() {
    assert_eq!(
        rejected_field(decide_user(&adviser_trigger(json!({"source_type": "GITHUB_APP"})), &knowledge())),
        "source_type"
    );
    assert_eq!(
        rejected_field(decide_user(&adviser_trigger(json!({"source_type": "KEBECHET", "origin": " "})), &knowledge())),
        "origin"
    );
    for fine in
        [json!({"source_type": null}), json!({"source_type": "CLI"}), json!({"source_type": "JUPYTER_NOTEBOOK"})]
    {
        assert!(decide_user(&adviser_trigger(fine.clone()), &knowledge()).is_ok(), "{fine}");
    }
}

#[test]
fn a_job_id_that_cannot_name_a_workflow_is_rejected() {
    for job_id in ["Adviser-1", "adviser_1", "adviser-", &format!("adviser-{}", "0".repeat(60))] {
        let message = adviser_trigger(json!({"job_id": job_id}));
        assert_eq!(rejected_field(decide_user(&message, &knowledge())), "job_id", "{job_id}");
    }
}

#[test]
fn a_repeated_trigger_asks_for_nothing() {
    let message = adviser_trigger(json!({}));
    let mut knowledge = knowledge();
    knowledge.insert_workflow_id("adviser-211008121019-7b4a96e23db7f0f4");
    let decision = decide_user(&message, &knowledge).expect("decided");
    assert!(decision.events.is_empty());
    assert_eq!(decision.skipped, ["workflow adviser-211008121019-7b4a96e23db7f0f4 already requested"]);
}

#[test]
fn without_a_job_id_the_name_follows_from_the_record() {
    let message = adviser_trigger(json!({"job_id": null}));
    let first = decide_user(&message, &knowledge()).expect("decided");
    let again = decide_user(&message, &knowledge()).expect("decided");
    let id = &the_request(&first).workflow_id;
    assert_eq!(id, &the_request(&again).workflow_id);
    assert!(id.starts_with("adviser-") && is_dns_label(id), "{id}");
    let other = decide(
        Rule::UserWorkflowScheduler,
        &message,
        &origin(MessageKind::AdviserTrigger, 22),
        &knowledge(),
        &settings(),
    )
    .expect("decided");
    assert_ne!(id, &the_request(&other).workflow_id);
}

#[test]
fn provenance_checker_trigger_asks_for_a_provenance_check() {
    let message = message(
        MessageKind::ProvenanceCheckerTrigger,
        json!({"authenticated": true, "origin": "o", "whitelisted_sources": ["https://pypi.org/simple", "https://x/simple"], "job_id": "provenance-checker-1"}),
    );
    let decision = decide_user(&message, &knowledge()).expect("decided");
    let request = the_request(&decision);
    assert_eq!(request.namespace, "thoth-backend");
    assert_eq!(
        Value::Object(request.parameters.clone()),
        json!({
            "THOTH_ADVISER_METADATA": parameter(request, "THOTH_ADVISER_METADATA"),
            "THOTH_AUTHENTICATED_PROVENANCE_CHECK": "1",
            "THOTH_WHITELISTED_SOURCES": "https://pypi.org/simple,https://x/simple",
            "THOTH_LOG_ADVISER": "INFO",
            "THOTH_PROVENANCE_CHECKER_JOB_ID": "provenance-checker-1",
            "THOTH_DOCUMENT_ID": "provenance-checker-1",
        })
    );
    assert_eq!(
        json_parameter(request, "THOTH_ADVISER_METADATA"),
        json!({"origin": "o", "kebechet_metadata": null, "thoth.adviser": {"justification": null, "stack_info": null}})
    );
}

#[test]
fn package_extract_credentials_go_to_a_secret_and_never_into_the_events() {
    let password = "s3cr3t-Pa55w0rd";
    let message = message(
        MessageKind::PackageExtractTrigger,
        json!({"image": "quay.io/thoth/s2i:latest", "environment_type": "runtime", "verify_tls": false,
               "job_id": "package-extract-1", "origin": "o", "registry_user": "robot", "registry_password": password, "graph_sync": true}),
    );
    let decision = decide_user(&message, &knowledge()).expect("decided");
    let request = the_request(&decision);
    assert_eq!(request.namespace, "thoth-middletier");
    assert_eq!(
        Value::Object(request.parameters.clone()),
        json!({
            "THOTH_LOG_PACKAGE_EXTRACT": "INFO",
            "THOTH_ANALYZED_IMAGE": "quay.io/thoth/s2i:latest",
            "THOTH_ANALYZER_NO_TLS_VERIFY": "1",
            "THOTH_PACKAGE_EXTRACT_JOB_ID": "package-extract-1",
            "THOTH_SYNC_PACKAGE_EXTRACT": "1",
            "THOTH_DOCUMENT_ID": "package-extract-1",
            "THOTH_PACKAGE_EXTRACT_METADATA": "{\"origin\":\"o\",\"environment_type\":\"runtime\",\"is_external\":true}",
            "THOTH_REGISTRY_CREDENTIALS_SECRET": "package-extract-1-registry",
        })
    );
    let [secret] = &decision.secrets[..] else { panic!("one secret: {:?}", decision.secrets) };
    assert_eq!(secret.workflow_id, "package-extract-1");
    assert_eq!(secret.name, "package-extract-1-registry");
    assert_eq!(secret.data, BTreeMap::from([("THOTH_REGISTRY_CREDENTIALS".to_owned(), format!("robot:{password}"))]));
    assert_no_secret_in_events(&decision, password);
    assert!(!format!("{secret:?}").contains(password), "the secret's Debug shows no value");
}

fn assert_no_secret_in_events(decision: &Decision, password: &str) {
    for (_, event) in &decision.events {
        let encoded = event.encode();
        let payload = String::from_utf8_lossy(&encoded.payload);
        assert!(!payload.contains(password), "{payload}");
    }
    assert!(!format!("{:?}", decision.events).contains(password));
}

#[test]
fn package_extract_of_an_unknown_environment_type_is_rejected() {
    let message = message(
        MessageKind::PackageExtractTrigger,
        json!({"image": "quay.io/thoth/s2i", "environment_type": "devtime"}),
    );
    assert_eq!(rejected_field(decide_user(&message, &knowledge())), "environment_type");
}

#[test]
fn build_analysis_passes_every_field_and_keeps_both_registries_credentials_secret() {
    let message = message(
        MessageKind::BuildAnalysisTrigger,
        json!({
            "base_image": "registry.access.redhat.com/ubi8/python-38", "base_image_analysis_id": "package-extract-base-1",
            "buildlog_document_id": "buildlog-1", "buildlog_parser_id": null, "environment_type": "runtime", "debug": true,
            "job_id": "build-analysis-1", "origin": "o", "output_image": "quay.io/me/app:1", "output_image_analysis_id": null,
            "base_registry_password": "base-pa55", "base_registry_user": "base-user", "base_registry_verify_tls": true,
            "output_registry_password": "output-pa55", "output_registry_user": "output-user", "output_registry_verify_tls": false,
        }),
    );
    let decision = decide_user(&message, &knowledge()).expect("decided");
    let request = the_request(&decision);
    assert_eq!(request.namespace, "thoth-middletier");
    let output_id = parameter(request, "THOTH_BUILD_ANALYSIS_OUTPUT_IMAGE_ANALYSIS_ID").to_owned();
    let parser_id = parameter(request, "THOTH_BUILD_ANALYSIS_BUILDLOG_PARSER_ID").to_owned();
    assert!(output_id.starts_with("package-extract-") && is_dns_label(&output_id), "{output_id}");
    assert!(parser_id.starts_with("buildlog-parser-") && is_dns_label(&parser_id), "{parser_id}");
    assert_eq!(
        Value::Object(request.parameters.clone()),
        json!({
            "THOTH_BUILD_ANALYSIS_BASE_IMAGE": "registry.access.redhat.com/ubi8/python-38",
            "THOTH_BUILD_ANALYSIS_BASE_IMAGE_ANALYSIS_ID": "package-extract-base-1",
            "THOTH_BUILD_ANALYSIS_BASE_IMAGE_DOCUMENT_ID": "package-extract-base-1",
            "THOTH_BUILD_ANALYSIS_BASE_REGISTRY_NO_TLS_VERIFY": "0",
            "THOTH_BUILD_ANALYSIS_OUTPUT_IMAGE": "quay.io/me/app:1",
            "THOTH_BUILD_ANALYSIS_OUTPUT_IMAGE_ANALYSIS_ID": output_id,
            "THOTH_BUILD_ANALYSIS_OUTPUT_IMAGE_DOCUMENT_ID": output_id,
            "THOTH_BUILD_ANALYSIS_OUTPUT_REGISTRY_NO_TLS_VERIFY": "1",
            "THOTH_BUILD_ANALYSIS_BUILDLOG_DOCUMENT_ID": "buildlog-1",
            "THOTH_BUILD_ANALYSIS_BUILDLOG_PARSER_ID": parser_id,
            "THOTH_BUILD_ANALYSIS_ENVIRONMENT_TYPE": "runtime",
            "THOTH_BUILD_ANALYSIS_ORIGIN": "o",
            "THOTH_BUILD_ANALYSIS_LOG": "DEBUG",
            "THOTH_BUILD_ANALYSIS_JOB_ID": "build-analysis-1",
            "THOTH_BUILD_ANALYSIS_METADATA": parameter(request, "THOTH_BUILD_ANALYSIS_METADATA"),
            "THOTH_REGISTRY_CREDENTIALS_SECRET": "build-analysis-1-registry",
        })
    );
    assert_eq!(
        json_parameter(request, "THOTH_BUILD_ANALYSIS_METADATA"),
        json!({
            "origin": "o", "environment_type": "runtime", "base_image_analysis_id": "package-extract-base-1",
            "output_image_analysis_id": output_id, "buildlog_document_id": "buildlog-1",
            "build_analysis_job_id": "build-analysis-1", "is_external": true,
        })
    );
    let [secret] = &decision.secrets[..] else { panic!("one secret: {:?}", decision.secrets) };
    assert_eq!(
        secret.data,
        BTreeMap::from([
            ("THOTH_BUILD_ANALYSIS_BASE_REGISTRY_CREDENTIALS".to_owned(), "base-user:base-pa55".to_owned()),
            ("THOTH_BUILD_ANALYSIS_OUTPUT_REGISTRY_CREDENTIALS".to_owned(), "output-user:output-pa55".to_owned()),
        ])
    );
    assert_no_secret_in_events(&decision, "base-pa55");
    assert_no_secret_in_events(&decision, "output-pa55");
}

#[test]
fn build_analysis_with_nothing_to_analyse_or_a_user_without_password_is_rejected() {
    let nothing = message(MessageKind::BuildAnalysisTrigger, json!({"origin": "o"}));
    assert_eq!(rejected_field(decide_user(&nothing, &knowledge())), "base_image");
    let no_password = message(
        MessageKind::BuildAnalysisTrigger,
        json!({"output_image": "quay.io/me/app:1", "output_registry_user": "me"}),
    );
    assert_eq!(rejected_field(decide_user(&no_password, &knowledge())), "output_registry_password");
}

#[test]
fn kebechet_trigger_passes_the_webhook_and_its_repository() {
    let message = message(
        MessageKind::KebechetTrigger,
        json!({"webhook_payload": {"action": "opened", "repository": {"full_name": "thoth-station/thamos"}}, "job_id": "kebechet-1"}),
    );
    let decision = decide_user(&message, &knowledge()).expect("decided");
    let request = the_request(&decision);
    assert_eq!(request.namespace, "thoth-backend");
    assert_eq!(parameter(request, "WORKFLOW_ID"), "kebechet-1");
    assert_eq!(parameter(request, "KEBECHET_SLUG"), "thoth-station/thamos");
    assert_eq!(
        json_parameter(request, "WEBHOOK_PAYLOAD"),
        json!({"action": "opened", "repository": {"full_name": "thoth-station/thamos"}})
    );
}

#[test]
fn kebechet_run_url_trigger_passes_the_metadata() {
    let message = message(
        MessageKind::KebechetRunUrlTrigger,
        json!({"url": "https://github.com/thoth-station/thamos", "service_name": "github", "installation_id": "1",
               "job_id": "kebechet-run-url-1",
               "metadata": {"message_justification": 1, "package_name": "flask", "package_version": "0.12", "package_index": PYPI}}),
    );
    let decision = decide_user(&message, &knowledge()).expect("decided");
    let request = the_request(&decision);
    assert_eq!(request.namespace, "thoth-backend");
    assert_eq!(
        Value::Object(request.parameters.clone()),
        json!({
            "WORKFLOW_ID": "kebechet-run-url-1",
            "KEBECHET_REPO_URL": "https://github.com/thoth-station/thamos",
            "KEBECHET_SERVICE_NAME": "github",
            "KEBECHET_METADATA": parameter(request, "KEBECHET_METADATA"),
        })
    );
    assert_eq!(
        json_parameter(request, "KEBECHET_METADATA"),
        json!({"message_justification": 1, "package_name": "flask", "package_version": "0.12", "package_index": PYPI})
    );
    let no_url = message_without_url();
    assert_eq!(rejected_field(decide_user(&no_url, &knowledge())), "url");
}

fn message_without_url() -> ThothMessage {
    message(MessageKind::KebechetRunUrlTrigger, json!({"url": null, "service_name": "github"}))
}

#[test]
fn inspection_completed_syncs_the_inspection_into_the_graph() {
    let message = message(
        MessageKind::InspectionCompleted,
        json!({"inspection_id": "inspection-tensorflow-abc", "force_sync": true}),
    );
    let decision = decide_user(&message, &knowledge()).expect("decided");
    let request = the_request(&decision);
    assert_eq!(request.kind, WorkflowKind::GraphSync);
    assert_eq!(request.namespace, "thoth-middletier");
    assert!(request.workflow_id.starts_with("graph-sync-") && is_dns_label(&request.workflow_id));
    assert_eq!(
        Value::Object(request.parameters.clone()),
        json!({
            "THOTH_SYNC_JOB_ID": request.workflow_id,
            "THOTH_SYNC_DOCUMENT_ID": "inspection-tensorflow-abc",
            "THOTH_FORCE_SYNC": "1",
        })
    );
}

#[test]
fn repo_init_is_named_by_its_job_id() {
    let message = message(
        MessageKind::ThothRepoInit,
        json!({"project_url": "https://github.com/me/project", "job_id": "repo-init-1"}),
    );
    let decision = decide_user(&message, &knowledge()).expect("decided");
    let request = the_request(&decision);
    assert_eq!(request.workflow_id, "repo-init-1");
    assert_eq!(request.kind, WorkflowKind::RepoInit);
    assert_eq!(request.namespace, "thoth-backend");
    assert_eq!(
        Value::Object(request.parameters.clone()),
        json!({"WORKFLOW_ID": "repo-init-1", "PROJECT_URL": "https://github.com/me/project"})
    );
}

/// A trigger of `kind` with every declared credential field set to a value of its own (and the
/// user beside it), so that the decision has a use for each.
fn trigger_with_credentials(kind: MessageKind) -> ThothMessage {
    let mut fields = match kind {
        MessageKind::PackageExtractTrigger => {
            json!({"image": "quay.io/a/b:1", "environment_type": "runtime", "registry_user": "robot"})
        }
        MessageKind::BuildAnalysisTrigger => json!({"base_image": "quay.io/base:1", "output_image": "quay.io/out:1",
            "base_registry_user": "base-user", "output_registry_user": "output-user"}),
        other => panic!("{other} declares credential fields: give it a fixture here, and a secret in the decision"),
    };
    for field in kind.credential_fields() {
        fields[*field] = json!(format!("{field}-S3CR3T"));
    }
    message(kind, fields)
}

#[test]
fn every_declared_credential_field_of_every_trigger_reaches_its_secret_and_nothing_else() {
    let kinds: Vec<MessageKind> =
        MessageKind::ALL.into_iter().filter(|kind| !kind.credential_fields().is_empty()).collect();
    assert_eq!(kinds, [MessageKind::BuildAnalysisTrigger, MessageKind::PackageExtractTrigger]);
    for kind in kinds {
        let decision = decide_user(&trigger_with_credentials(kind), &knowledge()).expect("decided");
        let [secret] = &decision.secrets[..] else { panic!("{kind}: one secret: {:?}", decision.secrets) };
        let request = the_request(&decision);
        assert_eq!(
            parameter(request, "THOTH_REGISTRY_CREDENTIALS_SECRET"),
            secret.name,
            "{kind}: the workflow names it"
        );
        for field in kind.credential_fields() {
            let value = format!("{field}-S3CR3T");
            assert!(
                secret.data.values().any(|data| data.ends_with(&format!(":{value}"))),
                "{kind}: {field} is in the secret"
            );
            assert_no_secret_in_events(&decision, &value);
            assert!(!format!("{:?}", request.parameters).contains(&value), "{kind}: {field} is not a parameter");
        }
    }
}
