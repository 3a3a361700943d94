//! `vedette token create|list|revoke` (admin scope).

use std::process::ExitCode;

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use vedette_client::{CreatedToken, NewToken, Scope, TokenInfo};
use vedette_server::api::auth::{generate_id, generate_secret};
use vedette_store::{SQLITE_FILE, Store, StoreConfig};

use crate::UsageError;
use crate::context::{self, Connection};
use crate::output::{self, Format, Table, print_data};

/// `vedette token ...`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a token; its secret is printed this once and never again. With --data-dir or
    /// --database-url it is written straight into the store (offline recovery when no admin
    /// token is left; stop the server first).
    Create {
        /// A name for people (`recovery` when written offline and absent).
        #[arg(long, required_unless_present_any = ["data_dir", "database_url"])]
        name: Option<String>,
        /// What it may do (repeatable): read, write or admin; admin ⊃ write ⊃ read.
        #[arg(long = "scope", required_unless_present = "admin")]
        scopes: Vec<Scope>,
        /// Shorthand for --scope admin.
        #[arg(long)]
        admin: bool,
        /// Write the token into the SQLite store in this data directory instead of calling
        /// the API (the server's --data-dir).
        #[arg(long, conflicts_with = "database_url")]
        data_dir: Option<PathBuf>,
        /// Write the token into this database (postgres://... or sqlite://...) instead of
        /// calling the API (the server's --database-url).
        #[arg(long)]
        database_url: Option<String>,
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

/// `wanted`, plus `admin` when `--admin` was given.
fn with_admin(wanted: &[Scope], admin: bool) -> Vec<Scope> {
    let mut scopes = wanted.to_vec();
    if admin && !scopes.contains(&Scope::Admin) {
        scopes.push(Scope::Admin);
    }
    scopes
}

/// The expiry time of a token living `expires_in` from now.
fn expires_at(
    expires_in: Option<vedette_model::Duration>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    Ok(expires_in
        .map(|d| {
            chrono::Duration::from_std(d.std())
                .ok()
                .and_then(|d| Utc::now().checked_add_signed(d))
                .ok_or_else(|| UsageError(format!("--expires-in {d} is too far away")))
        })
        .transpose()?)
}

/// Writes a new token straight into the store at `cfg` (no server involved) and returns it
/// with its secret, shaped like the API's answer.
async fn create_offline(
    cfg: &StoreConfig,
    name: String,
    scopes: Vec<Scope>,
    expires_at: Option<DateTime<Utc>>,
) -> anyhow::Result<CreatedToken> {
    if name.trim().is_empty() {
        return Err(UsageError("--name must not be blank".to_owned()).into());
    }
    if let Some(url) = &cfg.database_url
        && !(url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("sqlite:"))
    {
        return Err(UsageError(
            "--database-url must start with postgres://, postgresql:// or sqlite:".to_owned(),
        )
        .into());
    }
    if cfg.database_url.is_none() && !cfg.data_dir.join(SQLITE_FILE).is_file() {
        return Err(UsageError(format!(
            "--data-dir {}: no {SQLITE_FILE} there; give the server's data directory",
            cfg.data_dir.display()
        ))
        .into());
    }
    let store = Store::open(cfg).await.context("cannot open the store")?;
    let secret = generate_secret();
    let now = Utc::now();
    let record = store
        .create_token(
            &vedette_store::NewToken {
                id: generate_id(),
                name: name.trim().to_owned(),
                scopes,
                expires_at,
            },
            &secret,
            now,
        )
        .await
        .context("cannot write the token")?;
    store.close().await;
    Ok(CreatedToken {
        info: TokenInfo {
            id: record.id,
            name: record.name,
            scopes: record.scopes,
            created_at: Some(record.created_at),
            expires_at: record.expires_at,
            last_used_at: None,
        },
        token: secret,
    })
}

/// Prints a created token: the secret on stdout, a note on stderr (or all as json/yaml).
fn print_created(created: &CreatedToken, output: Format) -> anyhow::Result<()> {
    if !print_data(output, created)? {
        eprintln!(
            "Created token {} ({}; scopes {}; expires {}). Store the secret now: it is not shown again.",
            created.info.id,
            created.info.name,
            scopes(&created.info.scopes),
            output::time(created.info.expires_at)
        );
        println!("{}", created.token);
    }
    Ok(())
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
    if let Command::Create {
        name,
        scopes: wanted,
        admin,
        data_dir,
        database_url,
        expires_in,
        output,
    } = command
        && (data_dir.is_some() || database_url.is_some())
    {
        let cfg = StoreConfig {
            data_dir: data_dir.clone().unwrap_or_default(),
            database_url: database_url.clone(),
        };
        let name = name.clone().unwrap_or_else(|| "recovery".to_owned());
        let created = create_offline(
            &cfg,
            name,
            with_admin(wanted, *admin),
            expires_at(*expires_in)?,
        )
        .await?;
        print_created(&created, *output)?;
        return Ok(ExitCode::SUCCESS);
    }
    let client = context::client(connection)?;
    match command {
        Command::Create {
            name,
            scopes: wanted,
            admin,
            expires_in,
            output,
            ..
        } => {
            let created = client
                .create_token(&NewToken {
                    name: name.clone().unwrap_or_default(),
                    scopes: with_admin(wanted, *admin),
                    expires_at: expires_at(*expires_in)?,
                })
                .await?;
            print_created(&created, *output)?;
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
