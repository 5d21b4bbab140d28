//! The duties that run in one replica at a time, under the singleton lease: the log's relays to
//! Kafka, the workflow launcher and watchers, the learning relay and drivers. Each holding of
//! the lease starts them anew; losing it stops them.

use std::sync::Arc;
use std::time::Duration;

use investigator_actors::duty::Duty;
use investigator_actors::health::Health;
use investigator_actors::kafka::TopicAdmin;
use investigator_actors::learning::relay::OutboxRelay;
use investigator_actors::learning::schedule::run_schedule;
use investigator_actors::log_relay::dead_letters::DeadLetterCopy;
use investigator_actors::log_relay::mirror::KnowledgeMirror;
use investigator_actors::log_relay::redrives::RedriveCopy;
use investigator_actors::log_relay::{LogCopy, LogRelay, RelayContext};
use investigator_actors::pipeline::metrics::Metrics;
use investigator_actors::workflows::watcher::watch_namespace;
use investigator_actors::workflows::{KubeWorkflows, LauncherSettings, Submitter, WorkflowLauncher};
use investigator_core::learning::Driver;
use investigator_projections::Database;
use investigator_projections::lease::LeaseToken;
use tokio::sync::watch;

use crate::error::CliError;
use crate::settings::{Launcher, ServiceSettings, Settings};

/// The duties that run in one replica at a time, started anew for each holding of the lease.
pub(super) struct SingletonDuties {
    pub(super) workflows: WorkflowDuties,
    pub(super) learning: LearningDuties,
    /// The log's relays to Kafka, when there is Kafka.
    pub(super) relays: Option<RelayParts>,
}

impl SingletonDuties {
    /// Starts every duty for the holding `token`; each stops when `stop` turns true.
    pub(super) fn start(&mut self, token: &LeaseToken, stop: &watch::Receiver<bool>) -> Vec<Duty> {
        let mut duties = self.workflows.start(token, stop);
        duties.extend(self.learning.start(token, stop));
        if let Some(relays) = &self.relays {
            duties.extend(relays.start(KnowledgeMirror, token, stop));
            duties.extend(relays.start(DeadLetterCopy, token, stop));
            duties.extend(relays.start(RedriveCopy, token, stop));
        }
        duties
    }
}

/// The workflow launcher (to the cluster, or to the log) and, with a cluster, a watcher per
/// namespace.
pub(super) struct WorkflowDuties {
    database: Database,
    submitter: Submitter,
    settings: LauncherSettings,
    metrics: Metrics,
    /// With a cluster: its workflows, the namespaces to watch and the watches' timeout.
    watches: Option<(KubeWorkflows, Vec<String>, u32)>,
    launcher: Launcher,
}

impl WorkflowDuties {
    fn start(&self, token: &LeaseToken, stop: &watch::Receiver<bool>) -> Vec<Duty> {
        let mut duties = Vec::new();
        if let Some((workflows, namespaces, timeout_seconds)) = &self.watches {
            for namespace in namespaces {
                let task = actix::spawn(watch_namespace(
                    workflows.clone(),
                    namespace.clone(),
                    *timeout_seconds,
                    self.database.clone(),
                    self.metrics.clone(),
                    stop.clone(),
                ));
                duties.push(Duty { name: "workflow_watcher", task });
            }
        }
        let launcher = WorkflowLauncher::new(
            self.database.clone(),
            self.submitter.clone(),
            self.settings.clone(),
            self.metrics.clone(),
            token.clone(),
        );
        duties.push(Duty { name: "workflow_launcher", task: actix::spawn(launcher.run(stop.clone())) });
        tracing::info!(launcher = ?self.launcher, pending_limit = ?self.settings.pending_limit, "workflow launcher started");
        duties
    }
}

/// What the launcher and watchers are made of.
pub(super) async fn workflow_duties(
    database: &Database,
    service: &ServiceSettings,
    metrics: &Metrics,
) -> Result<WorkflowDuties, CliError> {
    let submitter = match service.launcher {
        Launcher::Log => Submitter::Log,
        Launcher::Kube => Submitter::Kube(Box::new(
            KubeWorkflows::from_environment(service.kube_timeout)
                .await
                .map_err(|error| CliError::Kube(Box::new(error)))?,
        )),
    };
    let watches = match &submitter {
        Submitter::Kube(workflows) => {
            let mut namespaces =
                vec![service.decisions.middletier_namespace.clone(), service.decisions.backend_namespace.clone()];
            namespaces.dedup();
            Some((workflows.as_ref().clone(), namespaces, service.watch_timeout_seconds))
        }
        Submitter::Log => None,
    };
    Ok(WorkflowDuties {
        database: database.clone(),
        submitter,
        settings: service.launcher_settings.clone(),
        metrics: metrics.clone(),
        watches,
        launcher: service.launcher,
    })
}

/// The relay of queued learning messages, and each driver `INVESTIGATOR_LEARNING_DRIVERS`
/// names, on its schedule.
pub(super) struct LearningDuties {
    settings: Settings,
    database: Database,
    context: investigator_actors::learning::LearningContext,
    schedules: Vec<(Driver, Duration)>,
    metrics: Metrics,
}

impl LearningDuties {
    fn start(&self, token: &LeaseToken, stop: &watch::Receiver<bool>) -> Vec<Duty> {
        let mut duties = Vec::new();
        match crate::commands::learn::relay_sink(&self.settings, &self.database) {
            Ok(sink) => {
                let relay =
                    OutboxRelay::new(self.database.clone(), sink, Some(self.metrics.clone())).fenced_by(token.clone());
                duties.push(Duty { name: "learning_relay", task: actix::spawn(relay.run(stop.clone())) });
            }
            Err(error) => tracing::error!(error = %investigator_events::error_chain::one_line(&error),
                                          "the learning relay could not be started; it starts with the next holding"),
        }
        for (driver, interval) in &self.schedules {
            let task = actix::spawn(run_schedule(self.context.clone(), *driver, *interval, stop.clone()));
            duties.push(Duty { name: "learning_driver", task });
        }
        duties
    }
}

pub(super) fn learning_duties(
    settings: &Settings,
    database: &Database,
    broker: Option<Arc<TopicAdmin>>,
    metrics: &Metrics,
) -> Result<LearningDuties, CliError> {
    let learning = settings.service.learning.clone();
    let schedules = learning.schedules.iter().map(|(driver, interval)| (*driver, *interval)).collect();
    let context = crate::commands::learn::context(settings, learning, database.clone(), broker, Some(metrics.clone()))?;
    // The sink is made for each holding; made once here, a broken Kafka configuration stops
    // the service at start rather than at the first holding.
    crate::commands::learn::relay_sink(settings, database)?;
    Ok(LearningDuties {
        settings: settings.clone(),
        database: database.clone(),
        context,
        schedules,
        metrics: metrics.clone(),
    })
}

/// What the log's relays to Kafka are made of.
pub(super) struct RelayParts {
    pub(super) kafka: investigator_actors::kafka::KafkaSettings,
    pub(super) settings: Settings,
    pub(super) database: Database,
    pub(super) metrics: Metrics,
    pub(super) health: Health,
}

impl RelayParts {
    /// The relay of the log to the deployment's topic for `copy`, for the holding `token`;
    /// none (and an error in the log) when its producer cannot be made.
    fn start<C: LogCopy + 'static>(&self, copy: C, token: &LeaseToken, stop: &watch::Receiver<bool>) -> Option<Duty> {
        let topic = self.settings.naming.topic_for_base_name(C::BASE_NAME);
        let context = RelayContext {
            database: self.database.clone(),
            metrics: self.metrics.clone(),
            health: self.health.clone(),
            lease: token.clone(),
        };
        match LogRelay::new(copy, &self.kafka, topic, context) {
            Ok(relay) => Some(Duty { name: C::NAME, task: actix::spawn(relay.run(stop.clone())) }),
            Err(error) => {
                tracing::error!(relay = C::NAME, %error, "the relay's producer could not be made; it starts with the next holding");
                None
            }
        }
    }
}
