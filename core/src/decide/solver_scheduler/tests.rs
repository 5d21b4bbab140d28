use investigator_events::domain::{
    DomainEvent, HashMismatchRecorded, PackageVersionSeen, StreamId, WorkflowKind, WorkflowTarget,
};
use investigator_events::thoth::MessageKind;
use serde_json::json;

use crate::decide::test_support::*;
use crate::decide::{
    Decision, DecisionSettings, Knowledge, PendingWorkflow, Rejection, Rule, VersionListing, VersionSource, decide,
};

fn unresolved(version: serde_json::Value, solver: serde_json::Value) -> investigator_events::thoth::ThothMessage {
    message(
        MessageKind::UnresolvedPackage,
        json!({"package_name": "Flask", "index_url": PYPI, "package_version": version, "solver": solver}),
    )
}

fn decide_unresolved(
    message: &investigator_events::thoth::ThothMessage,
    knowledge: &Knowledge,
    settings: &DecisionSettings,
) -> Result<Decision, Rejection> {
    decide(Rule::SolverScheduler, message, &origin(MessageKind::UnresolvedPackage, 42), knowledge, settings)
}

/// (version, solver) of each solver request.
fn solved(decision: &Decision) -> Vec<(String, String)> {
    requests(decision)
        .iter()
        .map(|request| {
            assert_eq!(request.kind, WorkflowKind::Solver);
            let target = &request.target;
            (target.package_version.clone().unwrap_or_default(), target.solver_name.clone().unwrap_or_default())
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(version, solver)| ((*version).to_owned(), (*solver).to_owned())).collect()
}

fn listed(knowledge: &mut Knowledge, versions: &[&str], source: VersionSource) {
    let versions = versions.iter().map(|version| (*version).to_owned()).collect();
    knowledge.insert_listing("flask", PYPI, VersionListing { versions, source });
}

#[test]
fn unresolved_package_on_an_unregistered_index_is_rejected() {
    let message = message(
        MessageKind::UnresolvedPackage,
        json!({"package_name": "flask", "index_url": "https://example.org/simple", "package_version": "2.0.1", "solver": null}),
    );
    assert_eq!(
        decide_unresolved(&message, &knowledge(), &settings()),
        Err(Rejection::UnregisteredIndex { index_url: "https://example.org/simple".to_owned() })
    );
    let not_a_url = message_with_index("pypi.org/simple");
    assert_eq!(
        decide_unresolved(&not_a_url, &knowledge(), &settings()),
        Err(Rejection::UnregisteredIndex { index_url: "pypi.org/simple".to_owned() })
    );
}

fn message_with_index(index: &str) -> investigator_events::thoth::ThothMessage {
    message(
        MessageKind::UnresolvedPackage,
        json!({"package_name": "flask", "index_url": index, "package_version": "2.0.1", "solver": null}),
    )
}

#[test]
fn unresolved_package_with_an_invalid_name_solver_or_version_is_rejected() {
    let bad_name = message(
        MessageKind::UnresolvedPackage,
        json!({"package_name": "flask==2", "index_url": PYPI, "package_version": null, "solver": null}),
    );
    let field = |result: Result<Decision, Rejection>| match result {
        Err(Rejection::InvalidField { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    };
    assert_eq!(field(decide_unresolved(&bad_name, &knowledge(), &settings())), "package_name");
    assert_eq!(
        field(decide_unresolved(&unresolved(json!("2.0.1"), json!("rhel-8")), &knowledge(), &settings())),
        "solver"
    );
    assert_eq!(
        field(decide_unresolved(&unresolved(json!("latest"), json!(null)), &knowledge(), &settings())),
        "package_version"
    );
}

#[test]
fn null_version_solves_every_listed_version_with_the_solvers_that_have_not_solved_it() {
    let mut knowledge = knowledge();
    listed(&mut knowledge, &["2.0.1", "2.0.0", "1.0"], VersionSource::Index);
    knowledge.insert_solved("flask", "2.0.0", PYPI, environment(RHEL));

    let decision = decide_unresolved(&unresolved(json!(null), json!(null)), &knowledge, &settings()).expect("decided");

    assert_eq!(
        solved(&decision),
        pairs(&[
            ("2.0.1", RHEL),
            ("2.0.1", FEDORA_34),
            ("2.0.1", FEDORA_35),
            ("2.0.0", FEDORA_34),
            ("2.0.0", FEDORA_35),
            ("1.0", RHEL),
            ("1.0", FEDORA_34),
            ("1.0", FEDORA_35),
        ])
    );
    assert_eq!(decision.skipped, [format!("{RHEL} already solved flask 2.0.0 on {PYPI}")]);
    for request in requests(&decision) {
        assert_eq!(request.version_source.as_deref(), Some("index"));
        assert_eq!(request.trigger.as_deref(), Some("thoth.investigator.unresolved-package"));
        assert_eq!(request.namespace, "thoth-middletier");
        assert_eq!(request.target.package_name.as_deref(), Some("flask"));
        assert_eq!(request.target.index_url.as_deref(), Some(PYPI));
    }
    assert!(decision.events.iter().all(|(stream, event)| match event {
        DomainEvent::WorkflowRequested(request) => *stream == StreamId::workflow(&request.workflow_id),
        _ => false,
    }));
}

#[test]
fn solver_requests_carry_thoths_parameters() {
    let mut knowledge = knowledge();
    knowledge.insert_index("https://tensorflow.pypi.thoth-station.ninja/simple", true);
    knowledge.insert_index("https://disabled.example.org/simple", false);
    let decision =
        decide_unresolved(&unresolved(json!("2.0.1"), json!(RHEL)), &knowledge, &settings()).expect("decided");
    let [request] = requests(&decision)[..] else { panic!("one request: {decision:?}") };
    assert!(request.workflow_id.starts_with("solver-rhel-8-py38-"), "{}", request.workflow_id);
    assert_eq!(
        serde_json::Value::Object(request.parameters.clone()),
        json!({
            "THOTH_SOLVER_WORKFLOW_ID": request.workflow_id,
            "THOTH_SOLVER_NAME": RHEL,
            "THOTH_SOLVER_PACKAGES": "flask===2.0.1",
            "THOTH_SOLVER_NO_TRANSITIVE": "1",
            "THOTH_SOLVER_INDEXES": PYPI,
            "THOTH_SOLVER_DEPENDENCY_INDEXES": "https://pypi.org/simple,https://tensorflow.pypi.thoth-station.ninja/simple",
            "THOTH_FORCE_SYNC": "0",
            "THOTH_LOG_SOLVER": "INFO",
        })
    );
    assert_eq!(request.version_source.as_deref(), Some("message"));
    assert_eq!(
        request.target,
        WorkflowTarget {
            package_name: Some("flask".to_owned()),
            package_version: Some("2.0.1".to_owned()),
            index_url: Some(PYPI.to_owned()),
            solver_name: Some(RHEL.to_owned()),
        }
    );
}

#[test]
fn star_without_an_index_listing_solves_the_versions_the_graph_knows() {
    let mut knowledge = knowledge();
    knowledge.insert_version("flask", "1.1", PYPI);
    let decision =
        decide_unresolved(&unresolved(json!("*"), json!(FEDORA_35)), &knowledge, &settings()).expect("decided");
    assert_eq!(solved(&decision), pairs(&[("1.1", FEDORA_35)]));
    assert_eq!(requests(&decision)[0].version_source.as_deref(), Some("graph"));
}

#[test]
fn a_specifier_solves_only_the_listed_versions_it_matches() {
    let mut knowledge = knowledge();
    listed(&mut knowledge, &["2.1.0", "2.0.1", "1.5", "1.0", "0.9"], VersionSource::Index);
    let decision =
        decide_unresolved(&unresolved(json!(">=1.0,<2"), json!(RHEL)), &knowledge, &settings()).expect("decided");
    assert_eq!(solved(&decision), pairs(&[("1.5", RHEL), ("1.0", RHEL)]));
}

#[test]
fn a_version_the_message_names_is_normalised_and_solved_where_unsolved() {
    let mut knowledge = knowledge();
    knowledge.insert_solved("flask", "2.0.1rc1", PYPI, environment(FEDORA_34));
    let decision =
        decide_unresolved(&unresolved(json!("2.0.1-RC1"), json!(null)), &knowledge, &settings()).expect("decided");
    assert_eq!(solved(&decision), pairs(&[("2.0.1rc1", RHEL), ("2.0.1rc1", FEDORA_35)]));
}

#[test]
fn a_named_solver_is_the_only_one_asked_whether_or_not_the_version_is_known() {
    let unknown =
        decide_unresolved(&unresolved(json!("2.0.1"), json!(FEDORA_34)), &knowledge(), &settings()).expect("decided");
    assert_eq!(solved(&unknown), pairs(&[("2.0.1", FEDORA_34)]));

    let mut knowledge = knowledge();
    knowledge.insert_solved("flask", "2.0.1", PYPI, environment(RHEL));
    let known =
        decide_unresolved(&unresolved(json!("2.0.1"), json!(FEDORA_34)), &knowledge, &settings()).expect("decided");
    assert_eq!(solved(&known), pairs(&[("2.0.1", FEDORA_34)]));
    let already =
        decide_unresolved(&unresolved(json!("2.0.1"), json!(RHEL)), &knowledge, &settings()).expect("decided");
    assert!(already.events.is_empty(), "{already:?}");
}

#[test]
fn a_named_solver_that_is_not_configured_asks_for_nothing() {
    let decision =
        decide_unresolved(&unresolved(json!("2.0.1"), json!("solver-rhel-9-py311")), &knowledge(), &settings())
            .expect("decided");
    assert!(decision.events.is_empty());
    assert_eq!(decision.skipped, ["solver-rhel-9-py311 is not a configured solver (THOTH_SOLVERS)"]);
}

#[test]
fn a_pending_solver_is_not_asked_for_again() {
    let mut knowledge = knowledge();
    let target = WorkflowTarget {
        package_name: Some("flask".to_owned()),
        package_version: Some("2.0.1".to_owned()),
        index_url: Some(PYPI.to_owned()),
        solver_name: Some(RHEL.to_owned()),
    };
    knowledge.insert_pending(PendingWorkflow::of(WorkflowKind::Solver, &target));
    let decision =
        decide_unresolved(&unresolved(json!("2.0.1"), json!(null)), &knowledge, &settings()).expect("decided");
    assert_eq!(solved(&decision), pairs(&[("2.0.1", FEDORA_34), ("2.0.1", FEDORA_35)]));
    assert_eq!(decision.skipped, [format!("solver for flask 2.0.1 on {PYPI} with {RHEL} already pending")]);
}

#[test]
fn a_message_decided_again_after_its_effects_were_observed_asks_for_nothing() {
    let mut knowledge = knowledge();
    let message = unresolved(json!("2.0.1"), json!(null));
    let first = decide_unresolved(&message, &knowledge, &settings()).expect("decided");
    assert_eq!(requests(&first).len(), 3);
    knowledge.observe(&first.events);
    let again =
        decide(Rule::SolverScheduler, &message, &origin(MessageKind::UnresolvedPackage, 43), &knowledge, &settings())
            .expect("decided");
    assert!(again.events.is_empty(), "{again:?}");
    assert_eq!(again.skipped.len(), 3);
}

#[test]
fn one_decision_never_asks_for_the_same_solver_twice() {
    let mut knowledge = knowledge();
    listed(&mut knowledge, &["2.0.1", "2.0.1"], VersionSource::Index);
    let decision = decide_unresolved(&unresolved(json!(null), json!(RHEL)), &knowledge, &settings()).expect("decided");
    assert_eq!(solved(&decision), pairs(&[("2.0.1", RHEL)]));
}

#[test]
fn the_same_record_gives_the_same_names_and_another_record_other_names() {
    let message = unresolved(json!("2.0.1"), json!(null));
    let first = decide_unresolved(&message, &knowledge(), &settings()).expect("decided");
    let again = decide_unresolved(&message, &knowledge(), &settings()).expect("decided");
    assert_eq!(first, again);
    let other =
        decide(Rule::SolverScheduler, &message, &origin(MessageKind::UnresolvedPackage, 7), &knowledge(), &settings())
            .expect("decided");
    let ids =
        |decision: &Decision| requests(decision).iter().map(|request| request.workflow_id.clone()).collect::<Vec<_>>();
    assert!(ids(&first).iter().all(|id| !ids(&other).contains(id)));
}

#[test]
fn no_listed_version_asks_for_nothing_and_says_so() {
    let mut knowledge = knowledge();
    listed(&mut knowledge, &[], VersionSource::Graph);
    let decision = decide_unresolved(&unresolved(json!(null), json!(null)), &knowledge, &settings()).expect("decided");
    assert!(decision.events.is_empty());
    assert_eq!(decision.skipped, [format!("no version of flask on {PYPI} matches None")]);
}

#[test]
fn unresolved_package_asks_for_nothing_when_solver_scheduling_is_off() {
    let settings = DecisionSettings { schedule_solver: false, ..settings() };
    let message = message_with_index("https://example.org/simple");
    let decision = decide_unresolved(&message, &knowledge(), &settings).expect("not even checked");
    assert!(decision.events.is_empty());
    assert_eq!(decision.skipped, ["solver scheduling is off (THOTH_INVESTIGATOR_SCHEDULE_SOLVER=0)"]);
}

fn released(index: &str) -> investigator_events::thoth::ThothMessage {
    message(
        MessageKind::PackageReleased,
        json!({"index_url": index, "package_name": "Flask", "package_version": "2.0.1"}),
    )
}

#[test]
fn package_released_records_the_version_solves_it_where_unsolved_and_reverse_solves_it() {
    let mut knowledge = knowledge();
    knowledge.insert_solved("flask", "2.0.1", PYPI, environment(FEDORA_35));
    let origin = origin(MessageKind::PackageReleased, 3);
    let decision = decide(Rule::SolverScheduler, &released(PYPI), &origin, &knowledge, &settings()).expect("decided");

    assert_eq!(
        decision.events[0],
        (
            StreamId::package("flask"),
            DomainEvent::PackageVersionSeen(PackageVersionSeen {
                package_name: "flask".to_owned(),
                package_version: "2.0.1".to_owned(),
                index_url: PYPI.to_owned(),
            })
        )
    );
    let requests = requests(&decision);
    let kinds: Vec<_> = requests.iter().map(|request| (request.kind, request.target.solver_name.clone())).collect();
    assert_eq!(
        kinds,
        [
            (WorkflowKind::Solver, Some(RHEL.to_owned())),
            (WorkflowKind::Solver, Some(FEDORA_34.to_owned())),
            (WorkflowKind::Revsolver, None),
        ]
    );
    let revsolver = requests[2];
    assert!(revsolver.workflow_id.starts_with("revsolver-"));
    assert_eq!(revsolver.version_source, None);
    assert_eq!(
        serde_json::Value::Object(revsolver.parameters.clone()),
        json!({
            "THOTH_REVSOLVER_WORKFLOW_ID": revsolver.workflow_id,
            "THOTH_REVSOLVER_PACKAGE_NAME": "flask",
            "THOTH_REVSOLVER_PACKAGE_VERSION": "2.0.1",
            "THOTH_LOG_REVSOLVER": "INFO",
        })
    );
}

#[test]
fn package_released_on_an_unregistered_index_is_rejected() {
    let result = decide(
        Rule::SolverScheduler,
        &released("https://example.org/simple"),
        &origin(MessageKind::PackageReleased, 3),
        &knowledge(),
        &settings(),
    );
    assert_eq!(result, Err(Rejection::UnregisteredIndex { index_url: "https://example.org/simple".to_owned() }));
}

#[test]
fn unrevsolved_package_asks_for_one_revsolver_unless_one_is_pending() {
    let message =
        message(MessageKind::UnrevsolvedPackage, json!({"package_name": "Flask", "package_version": "2.0.1"}));
    let origin = origin(MessageKind::UnrevsolvedPackage, 9);
    let decision = decide(Rule::SolverScheduler, &message, &origin, &knowledge(), &settings()).expect("decided");
    let [request] = requests(&decision)[..] else { panic!("one request: {decision:?}") };
    assert_eq!(request.kind, WorkflowKind::Revsolver);
    assert_eq!(request.namespace, "thoth-middletier");
    assert_eq!(request.trigger.as_deref(), Some("thoth.investigator.unrevsolved-package"));
    assert_eq!(parameter(request, "THOTH_REVSOLVER_PACKAGE_NAME"), "flask");

    // A revsolver asked for by a release blocks this one: the target has no index.
    let mut knowledge = knowledge();
    let release = decide(Rule::SolverScheduler, &released(PYPI), &origin, &knowledge, &settings()).expect("decided");
    knowledge.observe(&release.events);
    let again = decide(Rule::SolverScheduler, &message, &origin, &knowledge, &settings()).expect("decided");
    assert!(again.events.is_empty(), "{again:?}");

    let off = DecisionSettings { schedule_revsolver: false, ..settings() };
    assert!(decide(Rule::SolverScheduler, &message, &origin, &knowledge, &off).expect("decided").events.is_empty());
}

#[test]
fn hash_mismatch_records_the_hashes_and_solves_again_with_every_solver() {
    let source_hash = "A".repeat(64);
    let database_hash = "b".repeat(64);
    let message = message(
        MessageKind::HashMismatch,
        json!({"index_url": PYPI, "package_name": "flask", "package_version": "2.0.1",
               "missing_from_source": [source_hash], "missing_from_database": [database_hash]}),
    );
    let mut knowledge = knowledge();
    knowledge.insert_solved("flask", "2.0.1", PYPI, environment(RHEL));
    let origin = origin(MessageKind::HashMismatch, 1);
    let decision = decide(Rule::SolverScheduler, &message, &origin, &knowledge, &settings()).expect("decided");
    assert_eq!(
        facts(&decision),
        [&(
            StreamId::package("flask"),
            DomainEvent::HashMismatchRecorded(HashMismatchRecorded {
                package_name: "flask".to_owned(),
                package_version: "2.0.1".to_owned(),
                index_url: PYPI.to_owned(),
                missing_from_source: vec!["a".repeat(64)],
                missing_from_database: vec!["b".repeat(64)],
            })
        )]
    );
    assert_eq!(solved(&decision), pairs(&[("2.0.1", RHEL), ("2.0.1", FEDORA_34), ("2.0.1", FEDORA_35)]));

    let bad = message_with_hash("not-a-hash");
    let result = decide(Rule::SolverScheduler, &bad, &origin, &knowledge, &settings());
    assert!(matches!(result, Err(Rejection::InvalidField { field: "missing_from_source", .. })), "{result:?}");
}

fn message_with_hash(hash: &str) -> investigator_events::thoth::ThothMessage {
    message(
        MessageKind::HashMismatch,
        json!({"index_url": PYPI, "package_name": "flask", "package_version": "2.0.1",
               "missing_from_source": [hash], "missing_from_database": []}),
    )
}

#[test]
fn a_solver_request_is_stored_without_the_parameters_its_target_implies() {
    let only_pypi =
        decide_unresolved(&unresolved(json!("2.0.1"), json!(RHEL)), &knowledge(), &settings()).expect("decided");
    let [request] = requests(&only_pypi)[..] else { panic!("one request: {only_pypi:?}") };
    let stored = serde_json::to_value(request).expect("serialises");
    assert_eq!(stored["implied_parameters"], true, "{stored}");
    assert_eq!(stored["parameters"], json!({}));

    let mut knowledge = knowledge();
    knowledge.insert_index("https://tensorflow.pypi.thoth-station.ninja/simple", true);
    let debug = DecisionSettings { solver_debug: true, ..settings() };
    let decision = decide_unresolved(&unresolved(json!("2.0.1"), json!(RHEL)), &knowledge, &debug).expect("decided");
    let [request] = requests(&decision)[..] else { panic!("one request: {decision:?}") };
    let stored = serde_json::to_value(request).expect("serialises");
    assert_eq!(
        stored["parameters"],
        json!({
            "THOTH_SOLVER_DEPENDENCY_INDEXES": "https://pypi.org/simple,https://tensorflow.pypi.thoth-station.ninja/simple",
            "THOTH_LOG_SOLVER": "DEBUG",
        })
    );
}
