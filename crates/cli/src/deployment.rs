//! `vedette deployment start|finish|list`: what pipelines call around a deploy.

use std::collections::BTreeMap;
use std::process::ExitCode;

use chrono::Utc;
use vedette_client::{Deployment, DeploymentFilter, ListQuery, Write};
use vedette_model::deployment::{DeploymentSource, DeploymentSpec, DeploymentStatus};

use crate::UsageError;
use crate::context::{self, Connection};
use crate::output::{self, Format, Table, print_data};

/// `vedette deployment ...`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Record that a deployment started; prints its id (the JSON view with -o json).
    Start(StartArgs),
    /// Record how a deployment ended.
    Finish {
        /// The deployment's id (what `start` printed).
        id: String,
        /// How it ended.
        #[arg(long, value_parser = ["succeeded", "failed", "rolled_back"])]
        status: String,
        /// Output format: the id (table) or the deployment (json, yaml).
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
    /// List deployments, by id.
    List {
        /// Only this service's.
        #[arg(long)]
        service: Option<String>,
        /// Only those to this environment.
        #[arg(long)]
        environment: Option<String>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
}

/// `vedette deployment start` (`--version` names the version deployed, not Vedette's).
#[derive(Debug, clap::Args)]
#[command(disable_version_flag = true)]
pub struct StartArgs {
    /// The service deployed.
    #[arg(long)]
    service: String,
    /// The version deployed.
    #[arg(long = "version", id = "deployed_version")]
    deployed_version: String,
    /// Where it goes (`prod`).
    #[arg(long)]
    environment: String,
    /// The commit deployed.
    #[arg(long)]
    commit: Option<String>,
    /// The branch or tag deployed.
    #[arg(long = "ref")]
    git_ref: Option<String>,
    /// The pipeline run's URL.
    #[arg(long)]
    run_url: Option<String>,
    /// The pipeline recording it: github, gitlab, jenkins, azure-devops, cli, api.
    #[arg(long, default_value = "cli", value_parser = parse_source)]
    source: DeploymentSource,
    /// Label selector of the monitors it affects.
    #[arg(long)]
    selector: Option<String>,
    /// Put the selected monitors in maintenance this long (e.g. 10m, at most 24h).
    #[arg(long)]
    mute: Option<vedette_model::Duration>,
    /// A label (repeatable): -l team=payments.
    #[arg(short = 'l', long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// The id; `<service>-<version>-<environment>` when absent.
    #[arg(long)]
    id: Option<String>,
    /// Output format: the id (table) or the deployment (json, yaml).
    #[arg(short, long, value_enum, default_value_t)]
    output: Format,
}

fn parse_source(text: &str) -> Result<DeploymentSource, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| "expected one of github, gitlab, jenkins, azure-devops, cli, api".to_owned())
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))
}

fn parse_status(text: &str) -> anyhow::Result<DeploymentStatus> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| {
        UsageError(format!(
            "--status {text}: expected succeeded, failed or rolled_back"
        ))
        .into()
    })
}

/// Prints one deployment: its id, or the whole view as json/yaml.
fn print_one(deployment: &Deployment, output: Format) -> anyhow::Result<()> {
    if !print_data(output, deployment)? {
        println!("{}", deployment.id);
    }
    Ok(())
}

/// Runs a `vedette deployment` command.
pub async fn run(command: &Command, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    let deployments = client.deployments();
    match command {
        Command::Start(args) => {
            let spec = DeploymentSpec {
                commit: args.commit.clone(),
                git_ref: args.git_ref.clone(),
                url: args.run_url.clone(),
                source: args.source,
                selector: args.selector.clone(),
                mute: args.mute,
                ..DeploymentSpec::new(&args.service, &args.deployed_version, &args.environment)
            };
            let created = deployments
                .create(&Write {
                    id: args.id.clone(),
                    labels: args.labels.iter().cloned().collect::<BTreeMap<_, _>>(),
                    spec,
                })
                .await?;
            print_one(&created, args.output)?;
        }
        Command::Finish { id, status, output } => {
            let finished = deployments.finish(id, parse_status(status)?).await?;
            print_one(&finished, *output)?;
        }
        Command::List {
            service,
            environment,
            output,
        } => {
            let list = deployments
                .filtered(&ListQuery {
                    filter: DeploymentFilter {
                        service: service.clone(),
                        environment: environment.clone(),
                        ..DeploymentFilter::default()
                    },
                    ..ListQuery::default()
                })
                .await?;
            if !print_data(*output, &list)? {
                let now = Utc::now();
                let mut table = Table::new(&[
                    "id",
                    "service",
                    "version",
                    "environment",
                    "status",
                    "started",
                    "finished",
                ]);
                for d in &list {
                    table.row(vec![
                        d.id.as_str().into(),
                        d.spec.service.as_str().into(),
                        d.spec.version.as_str().into(),
                        d.spec.environment.as_str().into(),
                        d.spec.status.as_str().into(),
                        output::ago(d.spec.started_at, now).into(),
                        output::ago(d.spec.finished_at, now).into(),
                    ]);
                }
                table.print();
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
