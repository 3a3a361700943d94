//! `vedette`: runs the server and checks config files.

mod logging;
mod serve;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Self-hosted uptime and synthetic monitoring.
#[derive(Debug, Parser)]
#[command(name = "vedette", version, about, propagate_version = true)]
struct Cli {
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "VEDETTE_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: logging::Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(serve::Args),
    /// Check config files and print every error with file, line and field path.
    Validate(validate::Args),
    /// Print the JSON Schema of a config document's spec.
    Schema {
        /// Which spec.
        #[arg(value_parser = ["monitor", "maintenance"], default_value = "monitor")]
        kind: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let outcome = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Validate(args) => validate::run(&args),
        Command::Schema { kind } => {
            let schema = if kind == "monitor" {
                schemars::schema_for!(vedette_model::MonitorSpec)
            } else {
                schemars::schema_for!(vedette_model::maintenance::MaintenanceSpec)
            };
            serde_json::to_string_pretty(&schema)
                .map(|s| {
                    println!("{s}");
                    ExitCode::SUCCESS
                })
                .map_err(anyhow::Error::from)
        }
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
