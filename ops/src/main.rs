//! `investigator`: see `investigator --help`.

use std::process::ExitCode;

use clap::Parser;
use investigator_ops::{Cli, Settings, run, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let telemetry = telemetry::install(&settings);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            telemetry.shutdown();
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    let outcome = runtime.block_on(run(cli, &settings, &mut stdout));
    // Outside the runtime: the exporter's shutdown blocks until the last spans are out.
    telemetry.shutdown();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in investigator_events::error_chain::chain(&error).skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(error.exit_code())
        }
    }
}
