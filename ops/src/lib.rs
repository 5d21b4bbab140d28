//! The `investigator` binary's library: command line, configuration, telemetry, and one
//! module per command. `main.rs` only parses, configures and calls [`run`], so everything
//! here is reachable from tests without spawning a process.
//!
//! Boundary: this crate wires the others together; it holds no domain rules.

pub mod cli;
mod commands;
pub mod embedded_postgres;
mod error;
mod gauges;
mod http;
mod lag;
mod progress;
pub mod settings;
pub mod telemetry;

use std::io::Write;

pub use cli::Cli;
pub use commands::emit::sender_defaults;
pub use error::CliError;
pub use settings::{Settings, SettingsError};

use cli::{Command, EventsCommand, OffsetsCommand, TopicsCommand};
use investigator_core::learning::Driver;

/// Runs one command, writing its report to `out` (logs go to standard error).
pub async fn run(cli: Cli, settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    match cli.command {
        Command::Emit(args) => commands::emit::run(settings, &args, out).await,
        Command::Topics { command: TopicsCommand::Create(args) } => {
            commands::topics::create(settings, &args, out).await
        }
        Command::Topics { command: TopicsCommand::List(args) } => commands::topics::list(settings, &args, out).await,
        Command::Serve(args) => commands::serve::run(settings, args).await,
        Command::Migrate => commands::migrate::run(settings, out).await,
        Command::Replay(args) => commands::replay::run(settings, &args, out).await,
        Command::Sync(args) => commands::sync::run(settings, &args, out).await,
        Command::Refresh(args) => commands::learn::run(settings, Driver::Refresh, None, args, out).await,
        Command::WatchReleases(args) => commands::learn::run(settings, Driver::Releases, None, args, out).await,
        Command::CheckPackages(args) => commands::learn::run(settings, Driver::Updates, None, args, out).await,
        Command::ImportCves(args) => {
            commands::learn::run(settings, Driver::Cves, args.source.as_deref(), args.options, out).await
        }
        Command::Offsets { command: OffsetsCommand::Reset(args) } => {
            commands::offsets::reset(settings, &args, out).await
        }
        Command::Events { command: EventsCommand::Tail(args) } => commands::events::tail(settings, &args, out).await,
        Command::Events { command: EventsCommand::Export(args) } => {
            commands::events::export(settings, &args, out).await
        }
        Command::Events { command: EventsCommand::Import(args) } => {
            commands::events::import(settings, &args, out).await
        }
    }
}
