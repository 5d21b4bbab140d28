//! What a batch reads from the graph before deciding: the versions its messages name, not
//! the whole history of their packages, and still every fact the rules ask about.

use investigator_core::SolverEnvironment;
use investigator_core::decide::{KnowledgeKeys, PendingWorkflow};
use investigator_events::domain::{DomainEvent, StreamId, WorkflowKind, WorkflowRequested, WorkflowTarget};
use investigator_events::thoth::{MessageKind, ThothMessage};
use investigator_projections::load_knowledge;
use investigator_tests::TestDatabase;
use serde_json::json;

use crate::learning::{index, seed, seen, solved};

const PYPI: &str = "https://pypi.org/simple";

fn message(kind: MessageKind, body: serde_json::Value) -> ThothMessage {
    let mut body = body;
    body["component_name"] = json!("test");
    body["service_version"] = json!("0.1.0");
    ThothMessage::decode(kind, body.to_string().as_bytes()).expect("a valid message")
}

fn released(name: &str, version: &str) -> ThothMessage {
    message(MessageKind::PackageReleased, json!({"index_url": PYPI, "package_name": name, "package_version": version}))
}

fn requested(id: &str, kind: WorkflowKind, name: &str, version: Option<&str>, solver: Option<&str>) -> DomainEvent {
    WorkflowRequested {
        workflow_id: id.to_owned(),
        kind,
        namespace: "thoth-middletier".to_owned(),
        target: WorkflowTarget {
            package_name: Some(name.to_owned()),
            package_version: version.map(str::to_owned),
            index_url: version.map(|_| PYPI.to_owned()),
            solver_name: solver.map(str::to_owned),
        },
        parameters: Default::default(),
        trigger: None,
        version_source: None,
    }
    .into()
}

fn pending_solver(version: &str) -> PendingWorkflow {
    PendingWorkflow {
        kind: WorkflowKind::Solver,
        package_name: Some("flask".to_owned()),
        package_version: Some(version.to_owned()),
        index_url: Some(PYPI.to_owned()),
        solver_name: Some("solver-rhel-8-py38".to_owned()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_reads_the_versions_it_names_and_a_listing_reads_them_all() {
    let db = TestDatabase::migrated().await;
    let mut events = vec![index(PYPI, None, false)];
    events.extend(["1.0", "2.0", "3.0"].map(|version| seen("flask", version, PYPI)));
    events.push(solved("solver-rhel-8-py38-1", ("rhel", "8", "3.8"), &[("flask", "2.0", PYPI, &[])]));
    seed(&db.database, events).await;
    let mut workflows = Vec::new();
    for version in ["1.0", "2.0", "3.0"] {
        let id = format!("solver-flask-{version}");
        workflows.push((
            id.clone(),
            requested(&id, WorkflowKind::Solver, "flask", Some(version), Some("solver-rhel-8-py38")),
        ));
    }
    workflows.push((
        "kebechet-administrator-flask".to_owned(),
        requested("kebechet-administrator-flask", WorkflowKind::KebechetAdministrator, "flask", None, None),
    ));
    for (id, event) in workflows {
        let request = investigator_projections::store::AppendRequest {
            events: vec![investigator_projections::store::NewEvent {
                stream: StreamId::workflow(&id),
                event,
                metadata: Default::default(),
            }],
            ..Default::default()
        };
        investigator_projections::record(&db.database, request).await.expect("the request is recorded");
    }
    let client = db.sql().await;
    let rhel =
        SolverEnvironment { os_name: "rhel".to_owned(), os_version: "8".to_owned(), python_version: "3.8".to_owned() };

    // One release of Flask (name and version as a producer may spell them).
    let mut keys = KnowledgeKeys::default();
    keys.add(&released(" Flask", "2.0"));
    let knowledge = load_knowledge(&client, &keys).await.expect("the knowledge loads");
    assert_eq!(knowledge.known_versions("flask", PYPI), vec!["2.0"]);
    assert!(knowledge.is_solved_in("flask", "2.0", PYPI, &rhel));
    assert!(knowledge.is_pending(&pending_solver("2.0")));
    assert!(!knowledge.is_pending(&pending_solver("1.0")), "another version's workflow was read");
    let kebechet = PendingWorkflow {
        kind: WorkflowKind::KebechetAdministrator,
        package_name: Some("flask".to_owned()),
        package_version: None,
        index_url: None,
        solver_name: None,
    };
    assert!(knowledge.is_pending(&kebechet), "the package's own workflow is pending");

    // Every version of Flask, as a `null` version asks.
    let mut keys = KnowledgeKeys::default();
    keys.add(&released("flask", "2.0"));
    keys.add(&message(
        MessageKind::UnresolvedPackage,
        json!({"package_name": "flask", "package_version": null, "index_url": PYPI, "solver": null}),
    ));
    let knowledge = load_knowledge(&client, &keys).await.expect("the knowledge loads");
    assert_eq!(knowledge.known_versions("flask", PYPI), vec!["3.0", "2.0", "1.0"]);
    for version in ["1.0", "2.0", "3.0"] {
        assert!(knowledge.is_pending(&pending_solver(version)), "{version}");
    }
    assert!(knowledge.is_solved_in("flask", "2.0", PYPI, &rhel));
    assert!(!knowledge.is_solved_in("flask", "3.0", PYPI, &rhel));
}
