//! `investigator serve`: the pipeline (Kafka ingest, recorder, rule actors) and the HTTP
//! endpoints, in one actix system, until SIGINT or SIGTERM; and, while this replica holds the
//! singleton lease, the duties that run in one replica at a time (the log relays, the workflow
//! launcher and watchers, the learning relay and drivers).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix::{Arbiter, Supervisor};
use actix_web::{App, HttpServer, web};
use investigator_actors::duty::{DutyLease, SINGLETON};
use investigator_actors::health::Health;
use investigator_actors::kafka::{TopicAdmin, TopicOptions, TopicOutcome};
use investigator_actors::log_relay::LogCopy;
use investigator_actors::log_relay::dead_letters::DeadLetterCopy;
use investigator_actors::log_relay::mirror::KnowledgeMirror;
use investigator_actors::log_relay::redrives::RedriveCopy;
use investigator_actors::pipeline::PipelineSettings;
use investigator_actors::pipeline::batch::{BatchContext, RuleActors};
use investigator_actors::pipeline::bus_ingest::BusIngest;
use investigator_actors::pipeline::control::Control;
use investigator_actors::pipeline::ingest::{Ingest, IngestParts};
use investigator_actors::pipeline::listing::VersionLister;
use investigator_actors::pipeline::metrics::{KnownLabels, Metrics};
use investigator_actors::pipeline::recorder::BatchRecorder;
use investigator_actors::pipeline::rule_actor::RuleActor;
use investigator_actors::workflows::backpressure::{Backpressure, watch_outbox};
use investigator_core::decide::Rule;
use investigator_events::domain::{EventMetadata, IndexRegistered, StreamId};
use investigator_projections::store::{AppendRequest, NewEvent};
use investigator_projections::{Database, record};
use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::error::CliError;
use crate::http::{AppState, ResponseCache, Tokens, routes, security_headers, trace_requests};
use crate::settings::{ServiceSettings, Settings};

mod duties;

use duties::{RelayParts, SingletonDuties, learning_duties, workflow_duties};
use investigator_actors::message_sink::MessageSink;

/// Connections of the pipeline's pool: the batch transaction, the bus reader, headroom.
const POOL_SIZE: usize = 8;
/// Connections of the API's pool.
const API_POOL_SIZE: usize = 4;
/// Connections of the workflow launcher's and watchers' pool: kept apart from the pipeline's,
/// so launches in flight never make a batch wait for a connection.
const WORKFLOW_POOL_SIZE: usize = 4;
/// Connections of the learning drivers' and their relay's pool.
const LEARNING_POOL_SIZE: usize = 3;
/// The lease's own connection: a renewal never waits for one behind other work.
const LEASE_POOL_SIZE: usize = 1;
/// How long stopping waits for the singleton duties to stop and the lease to be released.
const LEASE_RELEASE_TIMEOUT: Duration = Duration::from_secs(10);
const RULES: [Rule; 6] = [
    Rule::SolverScheduler,
    Rule::SecurityIndicatorScheduler,
    Rule::AdviserRetry,
    Rule::MissingVersionFlagger,
    Rule::UserWorkflowScheduler,
    Rule::Metrics,
];

/// Runs the service on an actix system of its own thread (actors need one), and returns
/// when it has stopped.
pub async fn run(settings: &Settings, args: ServeArgs) -> Result<(), CliError> {
    let settings = settings.clone();
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("investigator".to_owned())
        .spawn(move || {
            let outcome = actix::System::new().block_on(async move {
                if args.api_only { serve_api_only(settings).await } else { serve(settings).await }
            });
            let _ = done.send(outcome);
        })
        .map_err(CliError::Output)?;
    result.await.unwrap_or(Err(CliError::ServiceStopped))
}

fn service_version() -> String {
    format!("{}+investigator", env!("CARGO_PKG_VERSION"))
}

async fn serve(settings: Settings) -> Result<(), CliError> {
    // Without Kafka, the embedded bus (fed by `investigator emit`) is read instead.
    let kafka = settings.kafka.clone();
    // Resolved once: without DATABASE_URL this starts (or finds) the private server.
    let database_url = super::database_url(&settings)?;
    let database = Database::connect_lazy(&database_url, POOL_SIZE)?;
    investigator_projections::migrations::migrate(&database).await?;
    register_indexes(&database, &settings).await?;
    if let Some(kafka) = &kafka {
        create_topics(kafka, &settings).await?;
    }

    let service = &settings.service;
    let pipeline = Arc::new(PipelineSettings {
        naming: settings.naming.clone(),
        modes: settings.consumer_modes.clone(),
        consumer_group: kafka.as_ref().map_or_else(
            || investigator_actors::kafka::DEFAULT_CONSUMER_GROUP.to_owned(),
            |kafka| kafka.consumer_group_id.clone(),
        ),
        max_retries: service.max_retries,
        backoff: service.backoff,
        halt_on_fail: service.halt_on_fail.clone(),
        batch_size: service.batch_size,
        batch_linger: service.batch_linger,
        offset_reset: service.offset_reset,
        decisions: service.decisions.clone(),
        panic_injection: service.panic_injection.clone(),
    });
    let metrics = Metrics::new(&service_version());
    let namespaces = [service.decisions.middletier_namespace.as_str(), service.decisions.backend_namespace.as_str()];
    let mut components = vec!["pipeline"];
    if kafka.is_some() {
        components.extend([KnowledgeMirror::NAME, DeadLetterCopy::NAME, RedriveCopy::NAME]);
    }
    // As Thoth does at subscribe time: every consumed topic shows as not halted, and every
    // per-type series is there from the first scrape.
    metrics.initialise(&KnownLabels {
        naming: &settings.naming,
        modes: &settings.consumer_modes,
        handlers: &RULES,
        namespaces: &namespaces,
        components: &components,
    });
    metrics.set_schema(
        settings.naming.deployment_name().unwrap_or_default(),
        &investigator_projections::migrations::head_revision(),
        &[
            ("store", investigator_projections::migrations::STORE.len()),
            ("graph", investigator_projections::migrations::GRAPH.len()),
        ],
    );
    let health = Health::new(metrics.clone());
    let control = Control::default();

    let decisions = Arc::new(service.decisions.clone());
    let mut arbiters = Vec::new();
    let mut rule_actors: RuleActors = BTreeMap::new();
    for rule in RULES {
        let arbiter = Arbiter::new();
        let (settings, injection, metrics) =
            (Arc::clone(&decisions), pipeline.panic_injection.clone(), metrics.clone());
        let address = Supervisor::start_in_arbiter(&arbiter.handle(), move |_| {
            RuleActor::new(rule, settings, injection, metrics)
        });
        rule_actors.insert(rule, address);
        arbiters.push(arbiter);
    }
    let context = BatchContext {
        database: database.clone(),
        settings: Arc::clone(&pipeline),
        rule_actors: Arc::new(rule_actors),
        metrics: metrics.clone(),
        control: control.clone(),
        lister: match service.index_timeout {
            Some(timeout) => Some(Arc::new(VersionLister::new(super::outbound_client(&settings)?, timeout))),
            None => None,
        },
    };
    let recorder = actix::Actor::start(BatchRecorder::new(context));
    let ingest = match &kafka {
        Some(kafka) => {
            let parts = IngestParts {
                settings: Arc::clone(&pipeline),
                recorder,
                control: control.clone(),
                metrics: metrics.clone(),
                health: health.clone(),
                database: database.clone(),
            };
            let ingest = Ingest::new(kafka, parts).map_err(|error| CliError::Ingest(Box::new(error)))?;
            Source::Kafka(Box::new(ingest))
        }
        None => Source::Bus(Box::new(BusIngest::new(
            database.clone(),
            Arc::clone(&pipeline),
            recorder,
            control.clone(),
            health.clone(),
        ))),
    };

    let api_database = Database::connect_lazy(&database_url, API_POOL_SIZE)?;
    let (metrics_for_workflows, control_for_workflows) = (metrics.clone(), control.clone());
    let mut pools = vec![("pipeline", database.clone()), ("api", api_database.clone())];
    let state = api_state(&settings, api_database, control, metrics, health.clone(), false)?;
    let broker_for_gauges = state.broker.clone();
    let server_handle = start_http(state, service)?;
    tracing::info!(address = %service.http_addr, modes = ?settings.consumer_modes, "investigator serving");

    let (stop, stopping) = watch::channel(false);
    let backpressure = service.launcher_settings.outbox_limit.map(|limit| {
        let namespaces =
            (service.decisions.middletier_namespace.as_str(), service.decisions.backend_namespace.as_str());
        Backpressure::new(control_for_workflows.clone(), &settings.naming, &settings.consumer_modes, namespaces, limit)
    });
    let workflow_database = Database::connect_lazy(&database_url, WORKFLOW_POOL_SIZE)?;
    if let Some(backpressure) = backpressure {
        // In every replica: each pauses its own consumption while the outbox is full.
        let interval = service.launcher_settings.interval;
        actix::spawn(watch_outbox(backpressure, workflow_database.clone(), interval, stopping.clone()));
    }
    let learning_database = Database::connect_lazy(&database_url, LEARNING_POOL_SIZE)?;
    let mut duties = SingletonDuties {
        workflows: workflow_duties(&workflow_database, service, &metrics_for_workflows).await?,
        learning: learning_duties(&settings, &learning_database, broker_for_gauges.clone(), &metrics_for_workflows)?,
        relays: kafka.as_ref().map(|kafka| RelayParts {
            kafka: kafka.clone(),
            settings: settings.clone(),
            database: database.clone(),
            metrics: metrics_for_workflows.clone(),
            health: health.clone(),
        }),
    };
    pools.push(("workflows", workflow_database));
    pools.push(("learning", learning_database));
    let lease_database = Database::connect_lazy(&database_url, LEASE_POOL_SIZE)?;
    let lease = DutyLease::new(
        lease_database.clone(),
        SINGLETON,
        service.lease.clone(),
        metrics_for_workflows.clone(),
        health.clone(),
    );
    pools.push(("lease", lease_database));
    let singleton = actix::spawn(lease.run(move |token, stop| duties.start(token, &stop), stopping.clone()));
    actix::spawn(crate::gauges::refresh(pools, broker_for_gauges, metrics_for_workflows.clone(), stopping.clone()));
    let stop = Arc::new(stop);
    let stop_on_signal = Arc::clone(&stop);
    actix::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_on_signal.send(true);
    });
    let mut stopping_ingest = stopping.clone();
    let stopped = async move {
        let _ = stopping_ingest.wait_for(|stop| *stop).await;
    };
    let ingest_result = match ingest {
        Source::Kafka(ingest) => ingest.run(stopped).await,
        Source::Bus(ingest) => ingest.run(stopped).await,
    };
    // The duties stop and the lease is released, so another replica takes over at once (also
    // when the ingest stopped on its own, with an error).
    let _ = stop.send(true);
    if tokio::time::timeout(LEASE_RELEASE_TIMEOUT, singleton).await.is_err() {
        tracing::warn!("the singleton duties did not stop in time; their lease expires on its own");
    }
    server_handle.stop(true).await;
    for arbiter in arbiters {
        arbiter.stop();
    }
    ingest_result.map_err(|error| CliError::Ingest(Box::new(error)))
}

/// `serve --api-only`: the REST API over the graph of `DATABASE_URL`, which must exist
/// already (a read replica migrates nothing and consumes nothing). `DATABASE_URL` may name a
/// hot standby: every read works there, writes answer `read_only_database`.
async fn serve_api_only(settings: Settings) -> Result<(), CliError> {
    let api_database = Database::connect_lazy(&super::database_url(&settings)?, API_POOL_SIZE)?;
    if !investigator_projections::migrations::has_event_log(&api_database).await? {
        return Err(CliError::NoEventLog { target: api_database.target().to_owned() });
    }
    let metrics = Metrics::new(&service_version());
    // The API's own series from the first scrape; it consumes nothing and holds no duty.
    metrics.initialise_api();
    let health = Health::new(metrics.clone());
    let (stop, stopping) = watch::channel(false);
    // The gauges say, among the rest, whether this is a standby and how far behind it is.
    actix::spawn(crate::gauges::refresh(vec![("api", api_database.clone())], None, metrics.clone(), stopping));
    let state = api_state(&settings, api_database, Control::default(), metrics, health, true)?;
    let server_handle = start_http(state, &settings.service)?;
    tracing::info!(address = %settings.service.http_addr, "investigator serving the API only");
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop.send(true);
    server_handle.stop(true).await;
    Ok(())
}

/// What the HTTP handlers share.
fn api_state(
    settings: &Settings,
    api_database: Database,
    control: Control,
    metrics: Metrics,
    health: Health,
    api_only: bool,
) -> Result<AppState, CliError> {
    let service = &settings.service;
    let kafka = settings.kafka.as_ref();
    Ok(AppState {
        service_version: service_version(),
        naming: settings.naming.clone(),
        control,
        metrics,
        health,
        graph: api_database.clone(),
        solvers: service.decisions.solvers.clone(),
        tokens: Tokens { write: service.api_token.clone(), read: service.api_read_token.clone() },
        sink: MessageSink::new(kafka, &settings.naming, &api_database, Duration::from_secs(30))?,
        cache: ResponseCache::new(service.api_cache),
        broker: kafka.map(|kafka| TopicAdmin::new(kafka, Duration::from_secs(2)).map(Arc::new)).transpose()?,
        api_only,
        replica_id: service.lease.replica_id.clone(),
        thoth_compatible_control: service.http_access.thoth_compatible_control,
        metrics_need_read_token: service.http_access.metrics_need_read_token,
        allowed_networks: settings.allowed_networks.clone(),
        uploads: Arc::new(tokio::sync::Semaphore::new(crate::http::MAX_CONCURRENT_UPLOADS)),
    })
}

/// Starts the HTTP server on the current actix system.
fn start_http(state: AppState, service: &ServiceSettings) -> Result<actix_web::dev::ServerHandle, CliError> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .configure(routes)
            .default_service(web::to(crate::http::unknown_path))
            .wrap(actix_web::middleware::from_fn(trace_requests))
            .wrap(actix_web::middleware::from_fn(security_headers))
    })
    .workers(service.http_workers)
    .disable_signals()
    .bind(service.http_addr)
    .map_err(|source| CliError::Bind { address: service.http_addr.to_string(), source })?
    .run();
    let server_handle = server.handle();
    actix::spawn(async move {
        if let Err(error) = server.await {
            tracing::error!(%error, "the HTTP server stopped");
        }
    });
    if service.http_access.thoth_compatible_control {
        tracing::warn!(
            address = %service.http_addr,
            "GET /halt and GET /resume answer without a token (INVESTIGATOR_THOTH_COMPATIBLE_CONTROL)"
        );
    }
    Ok(server_handle)
}

/// Where the records come from.
enum Source {
    /// Kafka, when `KAFKA_BOOTSTRAP_SERVERS` is set.
    Kafka(Box<Ingest>),
    /// The embedded bus in the database otherwise.
    Bus(Box<BusIngest>),
}

/// Registers and enables the indexes of `THOTH_INDEXES` that are not registered yet.
async fn register_indexes(database: &Database, settings: &Settings) -> Result<(), CliError> {
    // An index registered already (by an operator, through the API) keeps its settings.
    let registered: Vec<String> = database
        .connection()
        .await?
        .read()
        .await?
        .query("SELECT url FROM graph.python_package_index WHERE registered_position > 0", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    for index in &settings.service.indexes {
        let url = index.as_str().to_owned();
        if registered.contains(&url) {
            continue;
        }
        let warehouse_api_url = (url == "https://pypi.org/simple").then(|| "https://pypi.org/pypi".to_owned());
        let event = IndexRegistered {
            url: url.clone(),
            warehouse_api_url,
            verify_ssl: true,
            only_if_package_seen: false,
            enabled: true,
        };
        let request = AppendRequest {
            idempotency_key: Some(format!("index-registered:{url}")),
            expected: Vec::new(),
            events: vec![NewEvent {
                stream: StreamId::index(&url),
                event: event.into(),
                metadata: EventMetadata { origin: Some("config".to_owned()), ..EventMetadata::default() },
            }],
        };
        record(database, request).await.map_err(|error| CliError::Record(Box::new(error)))?;
    }
    Ok(())
}

/// Creates the topics the modes consume, and the dead-letter topic, where missing.
/// How long one attempt to reach the Kafka cluster at start may take.
const REACHABILITY_ATTEMPT: Duration = Duration::from_secs(3);

pub(crate) async fn create_topics(
    kafka: &investigator_actors::kafka::KafkaSettings,
    settings: &Settings,
) -> Result<(), CliError> {
    // Short attempts, so the first warning comes within seconds of the start.
    TopicAdmin::new(kafka, REACHABILITY_ATTEMPT)?.wait_until_reachable(kafka.startup_timeout).await?;
    let admin = TopicAdmin::new(kafka, Duration::from_secs(30))?;
    let topics = super::topics::every_topic(&settings.naming);
    let options = TopicOptions {
        partitions: 1,
        replication_factor: 1,
        retention_ms: None,
        topic_settings: settings.topics.clone(),
    };
    for (topic, outcome) in admin.create(&topics, &options).await? {
        match outcome {
            TopicOutcome::Created => tracing::info!(topic, "topic created"),
            TopicOutcome::AlreadyExisted => {}
            TopicOutcome::Failed(reason) => tracing::warn!(topic, reason, "topic could not be created"),
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "SIGTERM cannot be handled; stop with SIGINT");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
