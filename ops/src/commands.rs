//! One module per subcommand.

pub mod emit;
pub mod events;
pub mod migrate;
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

/// The database of `DATABASE_URL`, or an error saying how to give it.
pub(crate) fn database(settings: &Settings) -> Result<Database, CliError> {
    let url = settings.require_database_url()?;
    Ok(Database::connect_lazy(url.expose(), POOL_SIZE)?)
}
