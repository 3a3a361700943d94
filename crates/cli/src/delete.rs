//! `vedette delete KIND ID...`: deletes monitors, maintenance windows or webhook endpoints by id.
//! More than one id asks for confirmation on a terminal and needs `--yes` otherwise.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use vedette_client::Precondition;

use crate::UsageError;
use crate::context::{self, Connection};

/// What `vedette delete` deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Monitors (with their results).
    #[value(alias = "monitors", alias = "mon")]
    Monitor,
    /// Maintenance windows.
    #[value(alias = "maintenance-window", alias = "mw")]
    Maintenance,
    /// Webhook endpoints (with their delivery logs).
    #[value(alias = "webhooks")]
    Webhook,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Monitor => "monitor",
            Self::Maintenance => "maintenance",
            Self::Webhook => "webhook",
        }
    }
}

/// Options of `vedette delete`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// monitor, maintenance or webhook.
    #[arg(value_enum)]
    kind: Kind,
    /// Ids to delete.
    #[arg(required = true)]
    ids: Vec<String>,
    /// Delete more than one without asking.
    #[arg(long, short = 'y')]
    yes: bool,
}

/// Asks on the terminal before deleting several resources; without one, refuses and names
/// `--yes`.
fn confirm(names: &[String]) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(format!(
            "deleting {} resources ({}) needs --yes when not on a terminal",
            names.len(),
            names.join(", ")
        ))
        .into());
    }
    eprint!("Delete {}? [y/N] ", names.join(", "));
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}

/// Runs `vedette delete`; exit 1 when any deletion failed.
pub async fn run(args: &Args, connection: &Connection) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = args
        .ids
        .iter()
        .map(|id| format!("{}/{id}", args.kind.name()))
        .collect();
    if names.len() > 1 && !args.yes && !confirm(&names)? {
        eprintln!("nothing was deleted");
        return Ok(ExitCode::FAILURE);
    }
    let client = context::client(connection)?;
    let mut failed = 0;
    for (id, name) in args.ids.iter().zip(&names) {
        let done = match args.kind {
            Kind::Monitor => client.monitors().delete(id, Precondition::None).await,
            Kind::Maintenance => client.maintenance().delete(id, Precondition::None).await,
            Kind::Webhook => client.webhooks().delete(id, Precondition::None).await,
        };
        match done {
            Ok(()) => println!("{name} deleted"),
            Err(e) => {
                failed += 1;
                eprintln!("error: {name}: {e}");
            }
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
