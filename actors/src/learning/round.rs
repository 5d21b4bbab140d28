//! One round of one driver: measure the load, work out the budget, record a throttle change,
//! find, queue what the budget allows.

use std::sync::Arc;

use tracing::Instrument;

use investigator_core::learning::{Budget, Driver, Load};
use investigator_events::domain::{EventMetadata, LearningThrottleChanged, StreamId};
use investigator_events::thoth::TopicNaming;
use investigator_projections::store::{AppendRequest, NewEvent};
use investigator_projections::{Database, DatabaseError, RecordError};

use super::LearningSettings;
use super::load::LoadProbe;
use super::outbox::{self, Finding};
use crate::outbound::OutboundClient;
use crate::package_index::IndexClient;
use crate::pipeline::metrics::Metrics;

/// What every driver works with.
#[derive(Clone)]
pub struct LearningContext {
    /// The graph and the log.
    pub database: Database,
    pub settings: Arc<LearningSettings>,
    /// The deployment's topic names.
    pub naming: TopicNaming,
    /// How busy the system is.
    pub load: Arc<LoadProbe>,
    /// The package indexes' client.
    pub index: Arc<IndexClient>,
    /// The outbound HTTP client (the index client's too), for advisory downloads.
    pub outbound: OutboundClient,
    /// Where rounds are counted (absent for one-off commands that do not serve metrics).
    pub metrics: Option<Metrics>,
}

impl std::fmt::Debug for LearningContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LearningContext")
    }
}

/// Why a round failed. Nothing it found was queued unless its transaction committed.
#[derive(Debug, thiserror::Error)]
pub enum LearningError {
    /// PostgreSQL failed.
    #[error("the database failed")]
    Database(#[from] tokio_postgres::Error),
    /// No connection.
    #[error(transparent)]
    Connection(#[from] DatabaseError),
    /// Recording failed.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The advisories could not be read.
    #[error(transparent)]
    Advisories(#[from] super::osv_source::OsvSourceError),
    /// The CVE driver has no source.
    #[error("no advisory source: set INVESTIGATOR_CVE_SOURCE or pass one")]
    NoAdvisorySource,
    /// A message could not be built (a value the graph holds that Thoth's schema refuses).
    #[error("a {kind} message could not be built: {reason}")]
    Message {
        /// The message type.
        kind: &'static str,
        /// Why.
        reason: String,
    },
    /// Publishing the queued messages failed (they stay queued).
    #[error("publishing the queued messages failed: {reason}")]
    Relay {
        /// Why.
        reason: String,
    },
    /// The singleton lease is another replica's: nothing was committed, and the relay stops.
    #[error(transparent)]
    LeaseLost(investigator_projections::lease::LeaseError),
}

/// What a driver found in one round.
#[derive(Debug, Default)]
pub struct Found {
    /// Findings, most important first.
    pub findings: Vec<Finding>,
    /// Things looked at (versions, packages, advisories).
    pub checked: usize,
    /// Requests or documents that failed, as `what: why`; they led to no finding.
    pub errors: Vec<String>,
}

/// What one round did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoundReport {
    /// The load measured before finding.
    pub lag: i64,
    /// Pending workflows measured before finding.
    pub pending_workflows: i64,
    /// How many messages the load allowed.
    pub allowed: usize,
    /// Whether the load held the driver back.
    pub throttled: bool,
    /// Things looked at.
    pub checked: usize,
    /// Findings, before the budget.
    pub found: usize,
    /// Findings queued now (not queued before).
    pub queued: usize,
    /// Findings left for a later round because of the budget.
    pub deferred: usize,
    /// Requests or documents that failed.
    pub errors: Vec<String>,
}

/// Runs one round of `driver`. Findings beyond the budget are left for a later round.
pub async fn run_round(context: &LearningContext, driver: Driver) -> Result<RoundReport, LearningError> {
    let outcome =
        round(context, driver).instrument(tracing::info_span!("learning round", driver = driver.name())).await;
    if let Some(metrics) = &context.metrics {
        let label = match &outcome {
            Ok(report) if report.throttled => "throttled",
            Ok(_) => "ok",
            Err(_) => "failed",
        };
        metrics.learning_rounds.with_label_values(&[driver.name(), label]).inc();
        if let Ok(report) = &outcome {
            metrics.learning_queued.with_label_values(&[driver.name()]).inc_by(report.queued as u64);
            metrics.learning_throttled.with_label_values(&[driver.name()]).set(i64::from(report.throttled));
        }
    }
    outcome
}

async fn round(context: &LearningContext, driver: Driver) -> Result<RoundReport, LearningError> {
    let load = context.load.measure().await?;
    let budget = context.settings.ceilings.budget(load);
    record_throttle(context, driver, load, budget).await?;
    let mut report = RoundReport {
        lag: load.lag,
        pending_workflows: load.pending_workflows,
        allowed: budget.allowed,
        throttled: budget.throttled,
        ..RoundReport::default()
    };
    if budget.throttled {
        tracing::info!(
            driver = driver.name(),
            lag = load.lag,
            pending_workflows = load.pending_workflows,
            "held back by the load"
        );
        return Ok(report);
    }
    let found = find(context, driver, budget.allowed).await?;
    queue_found(context, driver, found, budget, &mut report).await?;
    Ok(report)
}

/// What `driver` finds now, whatever the load (at most about `budget` gaps for the refresh).
pub async fn find(context: &LearningContext, driver: Driver, budget: usize) -> Result<Found, LearningError> {
    match driver {
        Driver::Refresh => super::refresh::find(context, budget).await,
        Driver::Releases => super::releases::find(context, budget).await,
        Driver::Updates => super::updates::find(context, budget).await,
        Driver::Cves => super::cves::find(context, None, budget).await,
    }
}

/// Queues what was found within the budget, and fills in the report.
pub(super) async fn queue_found(
    context: &LearningContext,
    driver: Driver,
    found: Found,
    budget: Budget,
    report: &mut RoundReport,
) -> Result<(), LearningError> {
    let Found { mut findings, checked, errors } = found;
    report.checked = checked;
    report.found = findings.len();
    report.deferred = findings.len().saturating_sub(budget.allowed);
    findings.truncate(budget.allowed);
    report.queued = outbox::queue(&context.database, driver, findings).await?;
    for error in &errors {
        tracing::warn!(driver = driver.name(), error = error.as_str(), "a learning request failed");
    }
    report.errors = errors;
    tracing::info!(
        driver = driver.name(),
        checked = report.checked,
        found = report.found,
        queued = report.queued,
        deferred = report.deferred,
        errors = report.errors.len(),
        "learning round done"
    );
    Ok(())
}

/// Records `LearningThrottleChanged` when the budget changes the driver's state.
async fn record_throttle(
    context: &LearningContext,
    driver: Driver,
    load: Load,
    budget: Budget,
) -> Result<(), LearningError> {
    let was = investigator_projections::learning::throttled(
        &context.database.connection().await?.read().await?,
        driver.name(),
    )
    .await?;
    if was == budget.throttled {
        return Ok(());
    }
    let ceilings = context.settings.ceilings;
    let event = LearningThrottleChanged {
        driver: driver.name().to_owned(),
        throttled: budget.throttled,
        lag: load.lag,
        pending_workflows: load.pending_workflows,
        max_lag: ceilings.max_lag,
        max_pending_workflows: ceilings.max_pending_workflows,
    };
    let request = AppendRequest {
        idempotency_key: None,
        expected: Vec::new(),
        events: vec![NewEvent {
            stream: StreamId::learning(driver.name()),
            event: event.into(),
            metadata: EventMetadata { origin: Some(format!("learning:{driver}")), ..EventMetadata::default() },
        }],
    };
    investigator_projections::record(&context.database, request).await?;
    Ok(())
}
