use investigator_events::thoth::{ConsumerMode, MessageKind};
use serde_json::json;

use super::test_support::*;
use super::*;

use ConsumerMode::{Backend, Middletier};
use Rule::{AdviserRetry, MissingVersionFlagger, SecurityIndicatorScheduler, SolverScheduler, UserWorkflowScheduler};

#[test]
fn the_middletier_table_is_thoths() {
    let middletier = |kind| rules_for(kind, &[Middletier]);
    assert_eq!(middletier(MessageKind::UnresolvedPackage), [SolverScheduler]);
    assert_eq!(middletier(MessageKind::PackageReleased), [SolverScheduler]);
    assert_eq!(middletier(MessageKind::UnrevsolvedPackage), [SolverScheduler]);
    assert_eq!(middletier(MessageKind::HashMismatch), [SolverScheduler]);
    assert_eq!(middletier(MessageKind::SolvedPackage), [SecurityIndicatorScheduler, AdviserRetry]);
    assert_eq!(middletier(MessageKind::SiUnanalyzedPackage), [SecurityIndicatorScheduler]);
    assert_eq!(middletier(MessageKind::UpdateProvidesSourceDistro), [MissingVersionFlagger]);
    assert_eq!(middletier(MessageKind::BuildAnalysisTrigger), [UserWorkflowScheduler]);
    assert_eq!(middletier(MessageKind::InspectionCompleted), [UserWorkflowScheduler]);
    assert!(middletier(MessageKind::AdviserTrigger).is_empty());
    assert!(middletier(MessageKind::MissingPackage).is_empty());
}

#[test]
fn the_backend_table_is_thoths() {
    let backend = |kind| rules_for(kind, &[Backend]);
    for kind in
        [MessageKind::MissingPackage, MessageKind::MissingVersion, MessageKind::CveProvided, MessageKind::HashMismatch]
    {
        assert_eq!(backend(kind), [MissingVersionFlagger], "{kind}");
    }
    for kind in [
        MessageKind::AdviserTrigger,
        MessageKind::ProvenanceCheckerTrigger,
        MessageKind::PackageExtractTrigger,
        MessageKind::KebechetTrigger,
        MessageKind::KebechetRunUrlTrigger,
        MessageKind::ThothRepoInit,
    ] {
        assert_eq!(backend(kind), [UserWorkflowScheduler], "{kind}");
    }
    assert!(backend(MessageKind::UnresolvedPackage).is_empty());
    assert!(backend(MessageKind::SolvedPackage).is_empty());
}

#[test]
fn modes_combine_without_repeats_and_metrics_counts_everything() {
    assert_eq!(rules_for(MessageKind::HashMismatch, &[Backend, Middletier]), [SolverScheduler, MissingVersionFlagger]);
    assert_eq!(
        rules_for(MessageKind::HashMismatch, &[Middletier, Backend, Middletier]),
        [SolverScheduler, MissingVersionFlagger]
    );
    assert_eq!(
        rules_for(MessageKind::AdviserTrigger, &[Backend, ConsumerMode::Metrics]),
        [UserWorkflowScheduler, Rule::Metrics]
    );
    for kind in MessageKind::ALL {
        assert_eq!(rules_for(kind, &[ConsumerMode::Metrics]), [Rule::Metrics], "{kind}");
        for mode in [Backend, Middletier] {
            let handled = kind.spec().handled_by.contains(&mode);
            assert_eq!(!rules_for(kind, &[mode]).is_empty(), handled, "{kind} in {mode}");
        }
    }
}

#[test]
fn a_handler_decides_nothing_about_a_message_it_does_not_handle() {
    let solved = message(
        MessageKind::SolvedPackage,
        json!({"package_name": "flask", "package_version": "2.0.1", "index_url": PYPI, "solver": RHEL}),
    );
    let origin = origin(MessageKind::SolvedPackage, 1);
    for handler in [SolverScheduler, MissingVersionFlagger, UserWorkflowScheduler, Rule::Metrics] {
        assert_eq!(
            decide(handler, &solved, &origin, &knowledge(), &settings()),
            Ok(Decision::default()),
            "{handler:?}"
        );
    }
    let trigger = message(MessageKind::AdviserTrigger, json!({"recommendation_type": "latest"}));
    assert_eq!(decide(Rule::Metrics, &trigger, &origin, &knowledge(), &settings()), Ok(Decision::default()));
    assert_eq!(decide(AdviserRetry, &trigger, &origin, &knowledge(), &settings()), Ok(Decision::default()));
}

#[test]
fn rejections_have_stable_codes() {
    assert_eq!(Rejection::UnregisteredIndex { index_url: "x".to_owned() }.code(), "unregistered_index");
    assert_eq!(Rejection::InvalidField { field: "job_id", reason: "r".to_owned() }.code(), "invalid_field");
}

#[test]
fn a_specifier_needs_a_listing_of_the_index_like_every_version_does() {
    let unresolved = |version: serde_json::Value| {
        message(
            MessageKind::UnresolvedPackage,
            json!({"package_name": "Flask", "index_url": "https://pypi.org/simple/", "package_version": version, "solver": null}),
        )
    };
    let listings = |version: serde_json::Value| {
        let mut keys = KnowledgeKeys::default();
        keys.add(&unresolved(version));
        keys.listings.into_iter().collect::<Vec<_>>()
    };
    let flask = vec![("flask".to_owned(), PYPI.to_owned())];
    assert_eq!(listings(json!(null)), flask);
    assert_eq!(listings(json!("*")), flask);
    assert_eq!(listings(json!(">=1.0,<2")), flask);
    assert!(listings(json!("2.0.1")).is_empty());
    assert!(listings(json!("not a version")).is_empty());
}

#[test]
fn a_message_naming_a_version_asks_about_that_version_only() {
    let mut keys = KnowledgeKeys::default();
    keys.add(&message(
        MessageKind::PackageReleased,
        json!({"index_url": PYPI, "package_name": " Flask_Login", "package_version": "2.0.01"}),
    ));
    keys.add(&message(MessageKind::MissingPackage, json!({"index_url": PYPI, "package_name": "Six"})));
    assert_eq!(keys.versions.into_iter().collect::<Vec<_>>(), vec![("flask-login".to_owned(), "2.0.1".to_owned())]);
    assert_eq!(keys.names.into_iter().collect::<Vec<_>>(), vec!["flask-login".to_owned(), "six".to_owned()]);
    assert!(keys.listings.is_empty());
}
