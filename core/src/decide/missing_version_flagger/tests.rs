use investigator_events::domain::{
    CveProvided, DomainEvent, PackageMarkedMissing, SourceDistributionFlagSet, StreamId, VersionMarkedMissing,
    WorkflowKind,
};
use investigator_events::thoth::{MessageKind, ThothMessage};
use serde_json::json;

use crate::decide::test_support::*;
use crate::decide::{Decision, DecisionSettings, Knowledge, Rule, decide};

fn decide_flags(message: &ThothMessage, knowledge: &Knowledge, settings: &DecisionSettings) -> Decision {
    decide(Rule::MissingVersionFlagger, message, &origin(message.kind(), 2), knowledge, settings).expect("decided")
}

fn administrator_parameters(decision: &Decision) -> serde_json::Value {
    let [request] = requests(decision)[..] else { panic!("one request: {decision:?}") };
    assert_eq!(request.kind, WorkflowKind::KebechetAdministrator);
    assert_eq!(request.namespace, "thoth-backend");
    let mut parameters = request.parameters.clone();
    assert_eq!(
        parameters.remove("WORKFLOW_ID").and_then(|id| id.as_str().map(str::to_owned)),
        Some(request.workflow_id.clone())
    );
    serde_json::Value::Object(parameters)
}

#[test]
fn missing_package_flags_the_package_and_asks_kebechet_administrator() {
    let message =
        message(MessageKind::MissingPackage, json!({"index_url": "https://pypi.org/simple/", "package_name": "Flask"}));
    let decision = decide_flags(&message, &knowledge(), &settings());
    assert_eq!(
        facts(&decision),
        [&(
            StreamId::package("flask"),
            DomainEvent::PackageMarkedMissing(PackageMarkedMissing {
                package_name: "flask".to_owned(),
                index_url: PYPI.to_owned()
            })
        )]
    );
    assert_eq!(
        administrator_parameters(&decision),
        json!({
            "THOTH_PACKAGE_NAME": "flask",
            "THOTH_PACKAGE_VERSION": "",
            "THOTH_PACKAGE_INDEX": PYPI,
            "THOTH_SOLVER_NAME": "",
            "THOTH_MESSAGE_TYPE": "thoth.package-update.missing-package",
        })
    );
}

#[test]
fn missing_version_flags_the_version_and_asks_kebechet_administrator() {
    let message = message(
        MessageKind::MissingVersion,
        json!({"index_url": PYPI, "package_name": "flask", "package_version": "2.0"}),
    );
    let decision = decide_flags(&message, &knowledge(), &settings());
    assert_eq!(
        facts(&decision),
        [&(
            StreamId::package("flask"),
            DomainEvent::VersionMarkedMissing(VersionMarkedMissing {
                package_name: "flask".to_owned(),
                package_version: "2.0".to_owned(),
                index_url: PYPI.to_owned(),
            })
        )]
    );
    assert_eq!(
        administrator_parameters(&decision),
        json!({
            "THOTH_PACKAGE_NAME": "flask",
            "THOTH_PACKAGE_VERSION": "2.0",
            "THOTH_PACKAGE_INDEX": PYPI,
            "THOTH_SOLVER_NAME": "",
            "THOTH_MESSAGE_TYPE": "thoth.package-update.missing-package-version",
        })
    );
}

#[test]
fn update_provides_source_distro_sets_the_flag_only() {
    let message = message(
        MessageKind::UpdateProvidesSourceDistro,
        json!({"package_name": "flask", "package_version": "2.0.1", "index_url": PYPI, "value": false}),
    );
    let decision = decide_flags(&message, &knowledge(), &settings());
    assert_eq!(
        decision.events,
        [(
            StreamId::package("flask"),
            DomainEvent::SourceDistributionFlagSet(SourceDistributionFlagSet {
                package_name: "flask".to_owned(),
                package_version: "2.0.1".to_owned(),
                index_url: PYPI.to_owned(),
                provides_source_distro: false,
            })
        )]
    );
}

#[test]
fn cve_provided_records_the_vulnerability_and_asks_kebechet_administrator() {
    let message = message(
        MessageKind::CveProvided,
        json!({"package_name": "flask", "package_version": "0.12", "index_url": PYPI}),
    );
    let decision = decide_flags(&message, &knowledge(), &settings());
    assert_eq!(
        facts(&decision),
        [&(
            StreamId::package("flask"),
            DomainEvent::CveProvided(CveProvided {
                package_name: "flask".to_owned(),
                package_version: "0.12".to_owned(),
                index_url: PYPI.to_owned(),
                advisory: None,
            })
        )]
    );
    assert_eq!(administrator_parameters(&decision)["THOTH_MESSAGE_TYPE"], "thoth.cve-update.cve-provided");
}

#[test]
fn hash_mismatch_in_the_backend_only_asks_kebechet_administrator() {
    let message = message(
        MessageKind::HashMismatch,
        json!({"index_url": PYPI, "package_name": "flask", "package_version": "2.0.1",
               "missing_from_source": [], "missing_from_database": []}),
    );
    let decision = decide_flags(&message, &knowledge(), &settings());
    assert!(facts(&decision).is_empty());
    assert_eq!(
        administrator_parameters(&decision),
        json!({
            "THOTH_PACKAGE_NAME": "flask",
            "THOTH_PACKAGE_VERSION": "2.0.1",
            "THOTH_PACKAGE_INDEX": PYPI,
            "THOTH_SOLVER_NAME": "",
            "THOTH_MESSAGE_TYPE": "thoth.package-update.hash-mismatch",
        })
    );
}

#[test]
fn kebechet_administrator_is_not_asked_when_off_or_pending() {
    let message = message(
        MessageKind::MissingVersion,
        json!({"index_url": PYPI, "package_name": "flask", "package_version": "2.0"}),
    );
    let off = DecisionSettings { kebechet_administrator: false, ..settings() };
    let decision = decide_flags(&message, &knowledge(), &off);
    assert_eq!(decision.events.len(), 1);
    assert!(requests(&decision).is_empty());

    let mut knowledge = knowledge();
    let first = decide_flags(&message, &knowledge, &settings());
    knowledge.observe(&first.events);
    let again = decide_flags(&message, &knowledge, &settings());
    assert_eq!(facts(&again).len(), 1, "the flag is a fact and is recorded again");
    assert!(requests(&again).is_empty(), "{again:?}");
}
