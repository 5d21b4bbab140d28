//! `investigator replay`.

use std::io::Write;
use std::time::Duration;

use investigator_projections::replay::{self, ReplayOptions, ReplayReport};
use investigator_projections::{Database, migrations};

use crate::cli::ReplayArgs;
use crate::error::CliError;
use crate::progress::ReplayDisplay;
use crate::settings::Settings;

/// Rebuilds the graph; swaps it in, or compares it and fails on any difference.
pub async fn run(settings: &Settings, args: &ReplayArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let database = super::database(settings)?;
    migrations::migrate(&database).await?;
    let options = ReplayOptions {
        batch_size: args.batch_size,
        verify: args.verify,
        swap_lock_timeout: Duration::from_secs(args.swap_timeout),
    };
    rebuild(&database, &options, out).await
}

/// Runs a replay and reports it; shared with `events import`.
pub(crate) async fn rebuild(database: &Database, options: &ReplayOptions, out: &mut dyn Write) -> Result<(), CliError> {
    let report = replay::replay(database, options, &mut ReplayDisplay::for_stderr()).await?;
    writeln!(
        out,
        "replayed {} event(s) up to position {} in {:.1} s ({:.0} events/s)",
        report.events,
        report.position,
        report.rebuild_time.as_secs_f64(),
        report.events_per_second()
    )?;
    if !options.verify {
        writeln!(out, "the rebuilt knowledge graph is live")?;
        return Ok(());
    }
    write_comparison(&report, out)?;
    let differing: Vec<String> = report.differences().map(|table| table.table.clone()).collect();
    if differing.is_empty() {
        writeln!(out, "verified: every table of the rebuilt graph equals the live one")?;
        return Ok(());
    }
    Err(CliError::VerificationFailed { tables: differing })
}

fn write_comparison(report: &ReplayReport, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out, "{:<10} {:<34} {:>10} {:>10}", "", "table", "live rows", "rebuilt")?;
    for table in &report.comparison {
        let rows =
            |sum: &Option<replay::TableChecksum>| sum.as_ref().map_or("-".to_owned(), |sum| sum.rows.to_string());
        let verdict = if table.matches() { "same" } else { "DIFFERENT" };
        writeln!(out, "{verdict:<10} {:<34} {:>10} {:>10}", table.table, rows(&table.live), rows(&table.rebuilt))?;
    }
    Ok(())
}
