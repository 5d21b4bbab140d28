//! One module per subcommand.

pub mod emit;
pub mod events;
pub mod learn;
pub mod migrate;
pub mod offsets;
pub mod replay;
pub mod serve;
pub mod sync;
pub mod topics;

use investigator_projections::Database;

use crate::error::CliError;
use crate::settings::Settings;

/// Connections a command keeps open at most (a replay uses four).
const POOL_SIZE: usize = 6;

/// The database of `DATABASE_URL`, which must hold the event log already (for commands that
/// only read it).
pub(crate) async fn database_with_log(settings: &Settings) -> Result<Database, CliError> {
    let database = database(settings)?;
    if !investigator_projections::migrations::has_event_log(&database).await? {
        return Err(CliError::NoEventLog { target: database.target().to_owned() });
    }
    Ok(database)
}

/// The database of `DATABASE_URL`, or the private server under the data directory.
pub(crate) fn database(settings: &Settings) -> Result<Database, CliError> {
    Ok(Database::connect_lazy(&database_url(settings)?, POOL_SIZE)?)
}

/// `DATABASE_URL`, or the URL of the private server under the data directory (created and
/// started when needed, which blocks this thread for a second or two).
pub(crate) fn database_url(settings: &Settings) -> Result<String, CliError> {
    if let Some(url) = &settings.database_url {
        return Ok(url.expose().to_owned());
    }
    let start = || {
        crate::embedded_postgres::EmbeddedPostgres::ensure(
            &settings.data_directory,
            settings.postgres_bin.as_deref(),
            settings.postgres_listen.as_deref(),
        )
    };
    let url = match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(start)?,
        _ => start()?,
    };
    tracing::info!(directory = %settings.data_directory.display(), "DATABASE_URL is not set: using the private PostgreSQL server");
    Ok(url)
}

/// The one outbound HTTP client (indexes, advisory sources), reaching special addresses only
/// as `INVESTIGATOR_ALLOW_PRIVATE_NETWORKS` allows.
pub(crate) fn outbound_client(settings: &Settings) -> Result<investigator_actors::outbound::OutboundClient, CliError> {
    investigator_actors::outbound::OutboundClient::new(settings.allowed_networks.clone())
        .map_err(|error| CliError::Http(Box::new(error)))
}
