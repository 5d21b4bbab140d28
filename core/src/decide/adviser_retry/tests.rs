use investigator_events::domain::{AdviserReRunRequested, DomainEvent, StreamId, UnresolvedPackage, WorkflowKind};
use investigator_events::thoth::{JsonObject, MessageKind, ThothMessage};
use serde_json::json;

use crate::decide::test_support::*;
use crate::decide::{Decision, Knowledge, ParkedAdviser, Rejection, Rule, decide};

const PARKED: &str = "adviser-210714091502-7c1f3b1a9d2e4f60";

fn parked(id: &str, waits_for: &[&str], solver: Option<&str>) -> ParkedAdviser {
    let parameters: JsonObject = json!({"recommendation_type": "stable", "count": 1, "limit": 100, "dev": true})
        .as_object()
        .cloned()
        .unwrap_or_default();
    ParkedAdviser {
        adviser_document_id: id.to_owned(),
        unresolved: waits_for
            .iter()
            .map(|name| UnresolvedPackage { package_name: (*name).to_owned(), index_url: Some(PYPI.to_owned()) })
            .collect(),
        solver_name: solver.map(str::to_owned),
        parameters,
        source_type: Some("KEBECHET".to_owned()),
        origin: Some("https://github.com/thoth-station/thamos".to_owned()),
        recommendation_type: None,
    }
}

fn solved(name: &str, solver: &str) -> ThothMessage {
    message(
        MessageKind::SolvedPackage,
        json!({"package_name": name, "package_version": "2.0.1", "index_url": PYPI, "solver": solver}),
    )
}

fn decide_retry(message: &ThothMessage, knowledge: &Knowledge) -> Result<Decision, Rejection> {
    decide(Rule::AdviserRetry, message, &origin(MessageKind::SolvedPackage, 11), knowledge, &settings())
}

#[test]
fn a_parked_adviser_runs_again_only_when_the_last_package_it_waits_for_is_solved() {
    let mut knowledge = knowledge();
    knowledge.insert_parked(parked(PARKED, &["tensorflow", "numpy"], Some(RHEL)));

    let first = decide_retry(&solved("TensorFlow", RHEL), &knowledge).expect("decided");
    assert!(first.events.is_empty(), "{first:?}");
    assert_eq!(first.skipped, [format!("adviser {PARKED} still waits for numpy")]);

    knowledge.insert_solved_name("tensorflow", environment(RHEL));
    let last = decide_retry(&solved("numpy", RHEL), &knowledge).expect("decided");
    let new_id = &requests(&last)[0].workflow_id;
    // The parked run's time, and a hash of its id.
    assert!(new_id.starts_with("adviser-210714091502-") && new_id.len() == 37, "{new_id}");
    assert_eq!(
        last.events[1],
        (
            StreamId::adviser(PARKED),
            DomainEvent::AdviserReRunRequested(AdviserReRunRequested {
                adviser_document_id: PARKED.to_owned(),
                re_run_job_id: Some(new_id.clone()),
            })
        )
    );
    assert_eq!(last.events.len(), 2);
}

#[test]
fn the_re_run_carries_the_original_request() {
    let mut knowledge = knowledge();
    knowledge.insert_parked(parked(PARKED, &["numpy"], None));
    let decision = decide_retry(&solved("numpy", FEDORA_35), &knowledge).expect("decided");
    let [request] = requests(&decision)[..] else { panic!("one request: {decision:?}") };
    assert_eq!(request.kind, WorkflowKind::Adviser);
    assert_eq!(request.namespace, "thoth-backend");
    assert_eq!(request.trigger.as_deref(), Some("thoth.solver.solved-package"));
    assert_eq!(
        serde_json::Value::Object(request.parameters.clone()),
        json!({
            "THOTH_ADVISER_JOB_ID": request.workflow_id,
            "THOTH_ADVISER_DEV": "1",
            "THOTH_LOG_ADVISER": "INFO",
            "THOTH_ADVISER_RECOMMENDATION_TYPE": "stable",
            "THOTH_AUTHENTICATED_ADVISE": "0",
            "THOTH_ADVISER_PREDICTOR_CONFIG": "{}",
            "THOTH_ADVISER_METADATA": parameter(request, "THOTH_ADVISER_METADATA"),
            "THOTH_ADVISER_LIMIT": "100",
            "THOTH_ADVISER_COUNT": "1",
        })
    );
    assert_eq!(
        json_parameter(request, "THOTH_ADVISER_METADATA"),
        json!({
            "origin": "https://github.com/thoth-station/thamos",
            "re_run_adviser_id": PARKED,
            "source_type": "KEBECHET",
            "kebechet_metadata": null,
            "thoth.adviser": {"justification": null, "stack_info": null},
        })
    );
}

#[test]
fn a_parked_adviser_is_re_run_once_however_often_it_is_released() {
    let mut knowledge = knowledge();
    knowledge.insert_parked(parked(PARKED, &["numpy"], Some(RHEL)));
    let first = decide_retry(&solved("numpy", RHEL), &knowledge).expect("decided");
    assert_eq!(requests(&first).len(), 1);
    knowledge.observe(&first.events);
    let second = decide_retry(&solved("numpy", RHEL), &knowledge).expect("decided");
    assert!(second.events.is_empty(), "{second:?}");

    // Even if the parked run were still listed, the re-run's name is taken.
    let mut stale = self::knowledge();
    stale.insert_parked(parked(PARKED, &["numpy"], Some(RHEL)));
    stale.insert_workflow_id(&requests(&first)[0].workflow_id);
    let third = decide_retry(&solved("numpy", RHEL), &stale).expect("decided");
    assert!(third.events.is_empty(), "{third:?}");
}

#[test]
fn a_solver_of_another_environment_does_not_release_the_adviser() {
    let mut knowledge = knowledge();
    knowledge.insert_parked(parked(PARKED, &["numpy"], Some(RHEL)));
    let decision = decide_retry(&solved("numpy", FEDORA_34), &knowledge).expect("decided");
    assert!(decision.events.is_empty(), "{decision:?}");
    assert_eq!(decision.skipped, [format!("adviser {PARKED} waits for {RHEL}, not this solver's environment")]);

    // The same environment under another spelling does (ubi is rhel, 8.5 is 8).
    let same = decide_retry(&solved("numpy", "solver-ubi-8.5-py38"), &knowledge).expect("decided");
    assert_eq!(requests(&same).len(), 1);
}

#[test]
fn each_adviser_released_by_one_message_gets_its_own_re_run() {
    let mut knowledge = knowledge();
    knowledge.insert_parked(parked("adviser-a", &["numpy"], Some(RHEL)));
    knowledge.insert_parked(parked("adviser-b", &["numpy"], None));
    knowledge.insert_parked(parked("adviser-c", &["numpy", "scipy"], None));
    let decision = decide_retry(&solved("numpy", RHEL), &knowledge).expect("decided");
    let re_runs: Vec<_> = decision
        .events
        .iter()
        .filter_map(|(_, event)| match event {
            DomainEvent::AdviserReRunRequested(re_run) => Some(re_run.adviser_document_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(re_runs, ["adviser-a", "adviser-b"]);
    let ids: Vec<_> = requests(&decision).iter().map(|request| request.workflow_id.clone()).collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn solved_package_with_an_invalid_solver_is_rejected() {
    let result = decide_retry(&solved("numpy", "solver-rhel"), &knowledge());
    assert!(matches!(result, Err(Rejection::InvalidField { field: "solver", .. })), "{result:?}");
}
