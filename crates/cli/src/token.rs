//! `vedette token create|list|revoke` (admin scope).

use std::process::ExitCode;

use chrono::Utc;
use vedette_client::{NewToken, Scope};

use crate::UsageError;
use crate::context::{self, Connection};
use crate::output::{self, Format, Table, print_data};

/// `vedette token ...`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a token; its secret is printed this once and never again.
    Create {
        /// A name for people.
        #[arg(long)]
        name: String,
        /// What it may do (repeatable): read, write or admin; admin ⊃ write ⊃ read.
        #[arg(long = "scope", required = true, value_parser = parse_scope)]
        scopes: Vec<Scope>,
        /// Lifetime, e.g. 30d or 12h; no expiry when absent.
        #[arg(long)]
        expires_in: Option<vedette_model::Duration>,
        /// Output format (json and yaml include the secret too).
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
    /// List tokens (never their secrets).
    List {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
    /// Revoke a token.
    Revoke {
        /// The token's id.
        id: String,
    },
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    match s {
        "read" => Ok(Scope::Read),
        "write" => Ok(Scope::Write),
        "admin" => Ok(Scope::Admin),
        _ => Err("expected read, write or admin".to_owned()),
    }
}

fn scopes(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs a `vedette token` command.
pub async fn run(command: &Command, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    match command {
        Command::Create {
            name,
            scopes: wanted,
            expires_in,
            output,
        } => {
            let expires_at = expires_in
                .map(|d| {
                    chrono::Duration::from_std(d.std())
                        .ok()
                        .and_then(|d| Utc::now().checked_add_signed(d))
                        .ok_or_else(|| UsageError(format!("--expires-in {d} is too far away")))
                })
                .transpose()?;
            let created = client
                .create_token(&NewToken {
                    name: name.clone(),
                    scopes: wanted.clone(),
                    expires_at,
                })
                .await?;
            if !print_data(*output, &created)? {
                eprintln!(
                    "Created token {} ({}; scopes {}; expires {}). Store the secret now: it is not shown again.",
                    created.info.id,
                    created.info.name,
                    scopes(&created.info.scopes),
                    output::time(created.info.expires_at)
                );
                println!("{}", created.token);
            }
        }
        Command::List { output } => {
            let tokens = client.list_tokens().await?;
            if !print_data(*output, &tokens)? {
                let now = Utc::now();
                let mut table =
                    Table::new(&["id", "name", "scopes", "created", "expires", "last used"]);
                for t in &tokens {
                    table.row(vec![
                        t.id.as_str().into(),
                        t.name.as_str().into(),
                        scopes(&t.scopes).into(),
                        output::ago(t.created_at, now).into(),
                        t.expires_at
                            .map_or_else(|| "never".to_owned(), |e| output::ago(Some(e), now))
                            .into(),
                        output::ago(t.last_used_at, now).into(),
                    ]);
                }
                table.print();
            }
        }
        Command::Revoke { id } => {
            client.revoke_token(id).await?;
            println!("token/{id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
