//! `investigator refresh`, `watch-releases`, `check-packages`, `import-cves`: one round of a
//! learning driver, then the queued messages published.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use investigator_actors::kafka::TopicAdmin;
use investigator_actors::learning::load::LoadProbe;
use investigator_actors::learning::osv_source::OsvSource;
use investigator_actors::learning::relay::OutboxRelay;
use investigator_actors::learning::{LearningContext, run_round};
use investigator_actors::message_sink::MessageSink;
use investigator_actors::package_index::IndexClient;
use investigator_actors::pipeline::metrics::Metrics;
use investigator_core::learning::Driver;
use investigator_projections::{Database, migrations};

use crate::cli::LearnArgs;
use crate::error::CliError;
use crate::settings::Settings;

/// How long the commands wait for the cluster and each delivery.
const KAFKA_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs one round of `driver` (with `source` as the advisories, for `import-cves`), then
/// publishes everything queued.
pub async fn run(
    settings: &Settings,
    driver: Driver,
    source: Option<&str>,
    args: LearnArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let database = super::database(settings)?;
    migrations::migrate(&database).await?;
    let mut learning = settings.service.learning.clone();
    if let Some(source) = source {
        learning.cve_source = Some(OsvSource::parse(source));
    }
    let broker = match &settings.kafka {
        Some(kafka) => {
            // Clusters without auto-creation need the topics the messages go to.
            super::serve::create_topics(kafka, settings).await?;
            Some(Arc::new(TopicAdmin::new(kafka, KAFKA_TIMEOUT)?))
        }
        None => None,
    };
    let context = context(settings, learning, database.clone(), broker, None)?;
    if args.dry_run {
        return dry_run(&context, driver, out).await;
    }
    let report = run_round(&context, driver).await?;
    for error in &report.errors {
        writeln!(out, "error    {error}")?;
    }
    let relay = OutboxRelay::new(database.clone(), relay_sink(settings, &database)?, None);
    let published = relay.drain().await?;
    writeln!(
        out,
        "{driver}: checked {}, found {}, queued {}, deferred {} by the load (lag {}, pending workflows {}{}), \
         published {published}",
        report.checked,
        report.found,
        report.queued,
        report.deferred,
        report.lag,
        report.pending_workflows,
        if report.throttled { ", held back" } else { "" },
    )?;
    if !report.errors.is_empty() {
        return Err(CliError::LearningIncomplete { failed: report.errors.len() });
    }
    Ok(())
}

/// Prints what a round would queue, and queues nothing.
async fn dry_run(context: &LearningContext, driver: Driver, out: &mut dyn Write) -> Result<(), CliError> {
    let found = investigator_actors::learning::round::find(context, driver, usize::MAX).await?;
    for finding in &found.findings {
        writeln!(out, "{}\t{}\t{}", finding.message.kind().base_name(), finding.message.encode(), finding.reason)?;
    }
    for error in &found.errors {
        writeln!(out, "error    {error}")?;
    }
    writeln!(out, "dry run: {} finding(s), nothing queued or published", found.findings.len())?;
    Ok(())
}

/// What a driver works with, for `serve` and the commands alike.
pub(crate) fn context(
    settings: &Settings,
    learning: investigator_actors::learning::LearningSettings,
    database: Database,
    broker: Option<Arc<TopicAdmin>>,
    metrics: Option<Metrics>,
) -> Result<LearningContext, CliError> {
    let consumer_group = settings.kafka.as_ref().map_or_else(
        || investigator_actors::kafka::DEFAULT_CONSUMER_GROUP.to_owned(),
        |kafka| kafka.consumer_group_id.clone(),
    );
    let outbound = super::outbound_client(settings)?;
    let index = IndexClient::new(outbound.clone(), learning.index_timeout);
    Ok(LearningContext {
        load: Arc::new(LoadProbe::new(database.clone(), &settings.naming, consumer_group, broker)),
        database,
        settings: Arc::new(learning),
        naming: settings.naming.clone(),
        index: Arc::new(index),
        outbound,
        metrics,
    })
}

/// Where queued messages are published: Kafka when configured, else the embedded bus.
pub(crate) fn relay_sink(settings: &Settings, database: &Database) -> Result<MessageSink, CliError> {
    Ok(MessageSink::new(settings.kafka.as_ref(), &settings.naming, database, KAFKA_TIMEOUT)?)
}
