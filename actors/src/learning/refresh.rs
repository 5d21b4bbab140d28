//! The graph refresh (Thoth's graph-refresh-job): knowledge gaps in the graph, asked about on
//! the normal topics.
//!
//! - per configured solver, versions on enabled indexes it has not answered:
//!   unresolved-package with `solver` set;
//! - among those versions, the ones never reverse-solved: unrevsolved-package;
//! - versions with a source distribution and no security-indicator result:
//!   si-unanalyzed-package.
//!
//! Oldest gaps first (Thoth took random ones; oldest first gets every gap asked about in
//! turn). A gap with a workflow in flight, or queued less than `retry_after` ago, is left
//! alone; the kinds take turns within the budget.

use std::collections::BTreeSet;

use investigator_core::learning::Driver;
use investigator_events::thoth::MessageKind;
use investigator_projections::learning::{self, KnownVersion};
use serde_json::json;

use super::outbox::{Finding, message};
use super::round::Found;
use super::{LearningContext, LearningError};

/// Finds gaps, at most `budget` of them.
pub async fn find(context: &LearningContext, budget: usize) -> Result<Found, LearningError> {
    let settings = &context.settings;
    let mut connection = context.database.connection().await?;
    let client = connection.read().await?;
    let excluded: Vec<String> =
        settings.exclusions.iter().filter_map(|rule| rule.whole_package()).map(str::to_owned).collect();
    let retry_before = chrono::Utc::now()
        - chrono::Duration::from_std(settings.retry_after).unwrap_or_else(|_| chrono::Duration::days(1));
    let count = settings.refresh_count.min(budget);
    // Rules with a specifier are applied here; ask for more so they do not starve the count.
    let limit = i64::try_from(count.saturating_mul(2).max(1)).unwrap_or(i64::MAX);
    let keep = |versions: Vec<KnownVersion>| -> Vec<KnownVersion> {
        let mut kept: Vec<KnownVersion> = versions
            .into_iter()
            .filter(|version| !settings.excluded(&version.package_name, &version.package_version))
            .collect();
        kept.truncate(count);
        kept
    };

    let mut queues: Vec<Vec<Finding>> = Vec::new();
    let mut checked = 0;
    let mut unsolved: BTreeSet<(String, String)> = BTreeSet::new();
    for solver in &settings.solvers {
        let name = solver.to_string();
        let gaps = keep(
            learning::unsolved_versions(&client, &name, &solver.environment(), &excluded, retry_before, limit).await?,
        );
        checked += gaps.len();
        let mut findings = Vec::with_capacity(gaps.len());
        for gap in gaps {
            unsolved.insert((gap.package_name.clone(), gap.package_version.clone()));
            let fields = json!({"package_name": gap.package_name, "package_version": gap.package_version,
                                "index_url": gap.index_url, "solver": name});
            findings.push(Finding {
                key: learning::unresolved_finding(&name, &gap.package_name, &gap.package_version, &gap.index_url),
                attempt: gap.attempt,
                reason: format!("not solved by {name}"),
                message: message(Driver::Refresh, MessageKind::UnresolvedPackage, fields)?,
                knowledge: Vec::new(),
            });
        }
        queues.push(findings);
    }

    let unsolved: Vec<(String, String)> = unsolved.into_iter().collect();
    let answered: BTreeSet<(String, String)> =
        learning::revsolved(&client, &unsolved, retry_before).await?.into_iter().collect();
    let unrevsolved: Vec<(String, String)> =
        unsolved.into_iter().filter(|version| !answered.contains(version)).collect();
    let attempts = learning::unrevsolved_attempts(&client, &unrevsolved).await?;
    let mut findings = Vec::with_capacity(unrevsolved.len());
    for ((name, version), attempt) in unrevsolved.into_iter().zip(attempts) {
        findings.push(Finding {
            key: learning::unrevsolved_finding(&name, &version),
            attempt,
            reason: "never reverse-solved".to_owned(),
            message: message(
                Driver::Refresh,
                MessageKind::UnrevsolvedPackage,
                json!({"package_name": name, "package_version": version}),
            )?,
            knowledge: Vec::new(),
        });
    }
    queues.push(findings);

    let unanalyzed = keep(learning::si_unanalyzed_versions(&client, &excluded, retry_before, limit).await?);
    checked += unanalyzed.len();
    let mut findings = Vec::with_capacity(unanalyzed.len());
    for gap in unanalyzed {
        let fields = json!({"package_name": gap.package_name, "package_version": gap.package_version,
                            "index_url": gap.index_url});
        findings.push(Finding {
            key: learning::si_unanalyzed_finding(&gap.package_name, &gap.package_version, &gap.index_url),
            attempt: gap.attempt,
            reason: "a source distribution with no security-indicator result".to_owned(),
            message: message(Driver::Refresh, MessageKind::SiUnanalyzedPackage, fields)?,
            knowledge: Vec::new(),
        });
    }
    queues.push(findings);
    Ok(Found { findings: take_turns(queues), checked, errors: Vec::new() })
}

/// The queues' findings, one from each in turn, so a budget smaller than the whole is shared.
fn take_turns(queues: Vec<Vec<Finding>>) -> Vec<Finding> {
    let mut iterators: Vec<_> = queues.into_iter().map(Vec::into_iter).collect();
    let mut all = Vec::new();
    loop {
        let before = all.len();
        for iterator in &mut iterators {
            all.extend(iterator.next());
        }
        if all.len() == before {
            return all;
        }
    }
}
