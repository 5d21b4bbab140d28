use investigator_events::domain::{WorkflowKind, WorkflowTarget};
use investigator_events::thoth::{MessageKind, ThothMessage};
use serde_json::json;

use crate::decide::test_support::*;
use crate::decide::{Decision, DecisionSettings, Knowledge, PendingWorkflow, Rejection, Rule, decide};

fn solved_package(solver: &str) -> ThothMessage {
    message(
        MessageKind::SolvedPackage,
        json!({"package_name": "Flask", "package_version": "2.0.1", "index_url": "https://pypi.python.org/simple", "solver": solver}),
    )
}

fn si_unanalyzed() -> ThothMessage {
    message(
        MessageKind::SiUnanalyzedPackage,
        json!({"package_name": "flask", "package_version": "2.0.1", "index_url": PYPI}),
    )
}

fn decide_si(
    message: &ThothMessage,
    knowledge: &Knowledge,
    settings: &DecisionSettings,
) -> Result<Decision, Rejection> {
    decide(Rule::SecurityIndicatorScheduler, message, &origin(message.kind(), 5), knowledge, settings)
}

#[test]
fn solved_package_asks_for_security_indicators_and_kebechet_administrator() {
    let decision = decide_si(&solved_package(FEDORA_34), &knowledge(), &settings()).expect("decided");
    let [si, administrator] = requests(&decision)[..] else { panic!("two requests: {decision:?}") };

    assert_eq!(si.kind, WorkflowKind::SecurityIndicator);
    assert_eq!(si.namespace, "thoth-middletier");
    assert!(si.workflow_id.starts_with("security-indicator-"), "{}", si.workflow_id);
    assert_eq!(
        serde_json::Value::Object(si.parameters.clone()),
        json!({
            "THOTH_SECURITY_INDICATORS_JOB_ID": si.workflow_id,
            "THOTH_SECURITY_INDICATORS_PACKAGE_NAME": "flask",
            "THOTH_SECURITY_INDICATORS_PACKAGE_VERSION": "2.0.1",
            "THOTH_SECURITY_INDICATORS_PACKAGE_INDEX": PYPI,
            "THOTH_SECURITY_INDICATORS_AGGREGATION_FUNCTION": "process_data",
            "THOTH_FORCE_SYNC": "0",
        })
    );
    assert_eq!(
        si.target,
        WorkflowTarget {
            package_name: Some("flask".to_owned()),
            package_version: Some("2.0.1".to_owned()),
            index_url: Some(PYPI.to_owned()),
            solver_name: None,
        }
    );

    assert_eq!(administrator.kind, WorkflowKind::KebechetAdministrator);
    assert_eq!(administrator.namespace, "thoth-backend");
    assert!(administrator.workflow_id.starts_with("kebechet-administrator-"), "{}", administrator.workflow_id);
    assert_eq!(
        serde_json::Value::Object(administrator.parameters.clone()),
        json!({
            "WORKFLOW_ID": administrator.workflow_id,
            "THOTH_PACKAGE_NAME": "flask",
            "THOTH_PACKAGE_VERSION": "2.0.1",
            "THOTH_PACKAGE_INDEX": PYPI,
            "THOTH_SOLVER_NAME": FEDORA_34,
            "THOTH_MESSAGE_TYPE": "thoth.solver.solved-package",
        })
    );
    assert_eq!(administrator.trigger.as_deref(), Some("thoth.solver.solved-package"));
}

#[test]
fn an_analysed_version_gets_no_second_analysis() {
    let mut knowledge = knowledge();
    knowledge.insert_security_analyzed("flask", "2.0.1", "https://other.example.org/simple");
    let decision = decide_si(&solved_package(RHEL), &knowledge, &settings()).expect("decided");
    let kinds: Vec<_> = requests(&decision).iter().map(|request| request.kind).collect();
    assert_eq!(kinds, [WorkflowKind::KebechetAdministrator]);
    assert_eq!(decision.skipped, ["flask 2.0.1 already has security indicators"]);

    let unanalyzed = decide_si(&si_unanalyzed(), &knowledge, &settings()).expect("decided");
    assert!(unanalyzed.events.is_empty());
}

#[test]
fn si_unanalyzed_package_asks_for_one_analysis_unless_one_is_pending() {
    let decision = decide_si(&si_unanalyzed(), &knowledge(), &settings()).expect("decided");
    let [request] = requests(&decision)[..] else { panic!("one request: {decision:?}") };
    assert_eq!(request.kind, WorkflowKind::SecurityIndicator);
    assert_eq!(request.trigger.as_deref(), Some("thoth.investigator.si-unanalyzed-package"));

    let mut knowledge = knowledge();
    knowledge.insert_pending(PendingWorkflow::of(WorkflowKind::SecurityIndicator, &request.target));
    let pending = decide_si(&si_unanalyzed(), &knowledge, &settings()).expect("decided");
    assert!(pending.events.is_empty());
    assert_eq!(pending.skipped, [format!("security-indicator for flask 2.0.1 on {PYPI} already pending")]);
}

#[test]
fn the_toggles_turn_each_workflow_off() {
    let no_security = DecisionSettings { schedule_security: false, ..settings() };
    let decision = decide_si(&solved_package(RHEL), &knowledge(), &no_security).expect("decided");
    let kinds: Vec<_> = requests(&decision).iter().map(|request| request.kind).collect();
    assert_eq!(kinds, [WorkflowKind::KebechetAdministrator]);

    let no_administrator = DecisionSettings { kebechet_administrator: false, ..settings() };
    let decision = decide_si(&solved_package(RHEL), &knowledge(), &no_administrator).expect("decided");
    let kinds: Vec<_> = requests(&decision).iter().map(|request| request.kind).collect();
    assert_eq!(kinds, [WorkflowKind::SecurityIndicator]);
}

#[test]
fn solved_package_with_an_invalid_solver_is_rejected() {
    let result = decide_si(&solved_package("rhel-8-py38"), &knowledge(), &settings());
    assert!(matches!(result, Err(Rejection::InvalidField { field: "solver", .. })), "{result:?}");
}
