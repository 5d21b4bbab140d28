//! `investigator migrate`.

use std::io::Write;

use investigator_projections::migrations;

use crate::error::CliError;
use crate::settings::Settings;

/// Brings the database schema up to date and says what it did.
pub async fn run(settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    let database = super::database(settings)?;
    let report = migrations::migrate(&database).await?;
    for applied in &report.applied {
        writeln!(out, "applied  {applied}")?;
    }
    writeln!(
        out,
        "{}: {} migration(s) applied, {} already in place",
        database.target(),
        report.applied.len(),
        report.already_applied
    )?;
    Ok(())
}
