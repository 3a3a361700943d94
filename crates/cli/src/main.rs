//! `vedette`: runs the server, checks config files, and works with a server through its API
//! (apply, diff, export, get, describe, delete, pause, resume, run, status, tokens, contexts).
//!
//! Exit codes: 0 success; 1 failure (or, for `diff`, changes found); 2 usage or configuration
//! errors (and any error of `diff`). `verify` has its own: 0 passed, 1 failed, 2 timed out,
//! 3 no monitor matched, 4 usage, authentication or connection error. When the reader of stdout goes away (`vedette get monitors
//! | head -1`), the command ends quietly by SIGPIPE, as other Unix tools do (the shell shows 141).

mod actions;
mod apply;
mod completion;
mod context;
mod delete;
mod deployment;
mod describe;
mod diff;
mod export;
mod get;
mod logging;
mod output;
mod serve;
mod server_kind;
mod status;
use vedette_model::terraform;
mod token;
mod validate;
mod verify;
mod watch;
mod webhook;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// jemalloc instead of glibc's malloc: it returns freed pages to the system, where glibc keeps
/// the fragments of every peak (loading 100,000 monitors, a fold, a scrape) for good.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A mistake in how the command was called or configured: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Exit code of usage and configuration errors.
const USAGE: u8 = 2;

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
    #[command(flatten)]
    connection: context::Connection,
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
    /// Make the server hold what config files say: create, update, and --prune what apply owns.
    Apply(apply::Args),
    /// Show what `apply` would change; exit 0 without changes, 1 with changes, 2 on errors.
    Diff(diff::Args),
    /// Print the server's monitors and maintenance windows as config documents.
    Export(export::Args),
    /// List monitors, incidents, results or maintenance windows.
    #[command(subcommand)]
    Get(get::Resource),
    /// Show one monitor in detail: state, spec, last results with assertions, incidents.
    #[command(subcommand)]
    Describe(describe::Resource),
    /// Delete monitors, maintenance windows or webhook endpoints by id (several need --yes or
    /// a confirmation).
    Delete(delete::Args),
    /// Pause a monitor at runtime, beside its spec (`apply` keeps it paused; any source).
    Pause(actions::PauseArgs),
    /// End a monitor's runtime pause (a monitor with `spec.paused: true` stays paused).
    Resume(actions::TargetArgs),
    /// Run a monitor's check now; exit 0 when up or degraded, 1 when down.
    Run(actions::RunArgs),
    /// Monitors counted by state, and open incidents.
    Status(status::Args),
    /// Record deployments from a pipeline: start (prints the id), finish, list.
    #[command(subcommand)]
    Deployment(deployment::Command),
    /// Create, list and revoke API tokens (admin).
    #[command(subcommand)]
    Token(token::Command),
    /// Webhook endpoints: create, list, test, watch deliveries, replay; listen and verify
    /// locally.
    #[command(subcommand)]
    Webhook(webhook::Command),
    /// Save a server and token as a context and make it current (checks the token first).
    Login(context::LoginArgs),
    /// List the saved contexts or switch between them.
    #[command(subcommand)]
    Context(context::ContextCommand),
    /// Print a shell completion script.
    Completion(completion::Args),
    /// Gate a deployment: wait until the selected monitors pass N checks in a row; exit 0
    /// passed, 1 failed, 2 timed out, 3 no monitor matched, 4 usage or connection error.
    Verify(verify::Args),
}

/// Runs an API command on a single-threaded runtime.
fn block_on<F: Future<Output = anyhow::Result<ExitCode>>>(f: F) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

/// The command line with the server option's old name, `--url`, read as `--server` (with a
/// warning), except in `webhook create`, where `--url` is the endpoint's URL.
fn legacy_args(args: Vec<OsString>) -> Vec<OsString> {
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let webhook_create = words.windows(2).any(|pair| pair == ["webhook", "create"]);
    if webhook_create {
        return args;
    }
    let mut warned = false;
    args.into_iter()
        .map(|arg| match arg.to_str() {
            Some(a) if a == "--url" || a.starts_with("--url=") => {
                if !warned {
                    eprintln!("warning: --url is now --server; --url will be removed");
                    warned = true;
                }
                OsString::from(a.replacen("--url", "--server", 1))
            }
            _ => arg,
        })
        .collect()
}

/// Lets SIGPIPE end the process, as it ends other Unix tools, instead of `println!` panicking
/// on a closed pipe. Not for commands that serve HTTP (`serve`, `webhook listen`), which must
/// survive a peer that goes away.
fn die_on_closed_pipe() {
    // SAFETY: sets the disposition of one signal to its default before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Whether the command line runs `verify` (whose usage errors exit 4, not 2): its first
/// word that is neither an option nor the value of a global option.
fn is_verify(args: &[OsString]) -> bool {
    const VALUED: [&str; 4] = ["--server", "--token", "--context", "--log-format"];
    let mut words = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(word) = words.next() {
        if VALUED.contains(&word) {
            words.next();
        } else if !word.starts_with('-') {
            return word == "verify";
        }
    }
    false
}

fn main() -> ExitCode {
    let args = legacy_args(std::env::args_os().collect());
    let verifying = is_verify(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if verifying && e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(verify::ERROR_EXIT);
        }
        Err(e) => e.exit(),
    };
    if !matches!(
        cli.command,
        Command::Serve(_) | Command::Webhook(webhook::Command::Listen(_))
    ) {
        die_on_closed_pipe();
    }
    logging::init(cli.log_format);
    let conn = &cli.connection;
    let is_diff = matches!(cli.command, Command::Diff(_));
    let outcome = match cli.command {
        Command::Serve(args) => serve::run(args, conn.token.clone()),
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
        Command::Apply(args) => block_on(apply::run(&args, conn)),
        Command::Diff(args) => block_on(diff::run(&args, conn)),
        Command::Export(args) => block_on(export::run(&args, conn)),
        Command::Get(resource) => block_on(get::run(&resource, conn)),
        Command::Describe(resource) => block_on(describe::run(&resource, conn)),
        Command::Delete(args) => block_on(delete::run(&args, conn)),
        Command::Pause(args) => block_on(actions::pause(&args, conn)),
        Command::Resume(args) => block_on(actions::resume(&args, conn)),
        Command::Run(args) => block_on(actions::run(&args, conn)),
        Command::Status(args) => block_on(status::run(&args, conn)),
        Command::Deployment(command) => block_on(deployment::run(&command, conn)),
        Command::Token(command) => block_on(token::run(&command, conn)),
        Command::Webhook(command) => block_on(webhook::run(&command, conn)),
        Command::Login(args) => block_on(context::login(&args, conn)),
        Command::Context(command) => context::run(&command),
        Command::Completion(args) => completion::run(&args, Cli::command()),
        Command::Verify(args) => block_on(verify::run(&args, conn)),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if is_diff || e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(USAGE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
