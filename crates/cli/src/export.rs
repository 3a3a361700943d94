//! `vedette export [--selector S] [-o yaml|json|terraform]`: the server's monitors,
//! maintenance windows and webhook endpoints as config documents, or as Terraform resources with
//! `import {}` blocks (monitors, windows, status pages and discovery sources).
//!
//! The rule that makes `export | apply` a no-op and `apply -f F; export` reproduce F:
//! - read-only fields (`status`, `version`, `managed_by`, timestamps) are left out;
//! - specs are written as the server holds them, every default filled in (parsing a file fills
//!   the same defaults, so both compare equal);
//! - labels are kept exactly, except `managed-by: vedette-cli`, which `apply` adds to whatever it
//!   writes and leaves out of its comparison;
//! - resources the API cannot write are skipped: those of the server's own config files
//!   (`managed_by: file`, whose files are their source of truth) and of the demo
//!   (`managed_by: demo`);
//! - webhook endpoints keep their secrets as `********` (applying that back keeps the stored
//!   value) and leave out the signing secrets, which the server never shows (apply then keeps
//!   the stored ones).

use std::process::ExitCode;

use serde::Serialize;
use vedette_model::document::{self, Metadata, Resource};

use crate::apply::{monitor_resource, page_resource, read_only, webhook_resource, window_resource};
use crate::context::{self, Connection};

/// Output formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ExportFormat {
    /// Documents separated by `---`, ready for `vedette apply -f`.
    #[default]
    Yaml,
    /// A JSON array of the same documents.
    Json,
    /// Terraform `resource` and `import {}` blocks for adopting existing monitors.
    Terraform,
}

/// Options of `vedette export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only resources whose labels match, e.g. `team=payments,env!=dev`.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Output format.
    #[arg(short, long, visible_alias = "format", value_enum, default_value_t)]
    output: ExportFormat,
}

/// One document in the JSON form.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    metadata: Metadata,
    spec: serde_json::Value,
}

fn envelope(resource: &Resource) -> anyhow::Result<Envelope<'_>> {
    let spec = match resource {
        Resource::Monitor { spec, .. } => serde_json::to_value(spec)?,
        Resource::MaintenanceWindow { spec, .. } => serde_json::to_value(spec)?,
        Resource::WebhookEndpoint { spec, .. } => spec.clone(),
        Resource::StatusPage { spec, .. } => serde_json::to_value(spec)?,
        Resource::DiscoverySource { spec, .. } => serde_json::to_value(spec)?,
    };
    Ok(Envelope {
        api_version: document::API_VERSION,
        kind: resource.kind(),
        metadata: Metadata {
            id: Some(resource.id().to_owned()),
            labels: resource.labels().clone(),
        },
        spec,
    })
}

/// A webhook endpoint without `spec.secrets`: the server shows only `********` for them, and
/// applying the export back without them keeps the stored ones.
fn without_signing_secrets(mut resource: Resource) -> Resource {
    if let Resource::WebhookEndpoint { spec, .. } = &mut resource
        && let Some(map) = spec.as_object_mut()
    {
        map.remove("secrets");
    }
    resource
}

/// Runs `vedette export`.
pub async fn run(args: &Args, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    let selector = args.selector.as_deref();
    let monitors = client.monitors().all(selector).await?;
    let windows = client.maintenance().all(selector).await?;
    if args.output == ExportFormat::Terraform {
        // The renderer takes the API objects as they are and lists file-managed ones in a
        // comment instead of exporting them.
        let monitors = monitors
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()?;
        let windows = windows
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()?;
        let pages = client
            .status_pages()
            .all(selector)
            .await?
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()?;
        let sources = client
            .discovery_sources()
            .all(selector)
            .await?
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()?;
        print!(
            "{}",
            crate::terraform::render_all(&monitors, &windows, &pages, &sources)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let skipped = monitors.iter().filter(|m| read_only(m.managed_by)).count()
        + windows.iter().filter(|w| read_only(w.managed_by)).count();
    let mut resources: Vec<Resource> = monitors
        .iter()
        .filter(|m| !read_only(m.managed_by))
        .map(monitor_resource)
        .collect();
    resources.sort_by(|a, b| a.id().cmp(b.id()));
    let mut windows: Vec<Resource> = windows
        .iter()
        .filter(|w| !read_only(w.managed_by))
        .map(window_resource)
        .collect();
    windows.sort_by(|a, b| a.id().cmp(b.id()));
    resources.extend(windows);
    if args.output != ExportFormat::Terraform {
        // Servers without webhooks (404) have none to export.
        let mut webhooks: Vec<Resource> = match client.webhooks().all(selector).await {
            Ok(w) => w
                .iter()
                .map(webhook_resource)
                .map(without_signing_secrets)
                .collect(),
            Err(e) if e.status() == Some(404) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        webhooks.sort_by(|a, b| a.id().cmp(b.id()));
        resources.extend(webhooks);
        let mut pages: Vec<Resource> = client
            .status_pages()
            .all(selector)
            .await?
            .iter()
            .filter(|p| !read_only(p.managed_by))
            .map(page_resource)
            .collect();
        pages.sort_by(|a, b| a.id().cmp(b.id()));
        resources.extend(pages);
    }
    if args.output == ExportFormat::Json {
        let docs = resources
            .iter()
            .map(envelope)
            .collect::<anyhow::Result<Vec<_>>>()?;
        println!("{}", serde_json::to_string_pretty(&docs)?);
    } else {
        print!("{}", document::to_documents(&resources));
    }
    if skipped > 0 {
        eprintln!("skipped {skipped} resource(s) the API cannot write (managed_by: file or demo)");
    }
    Ok(ExitCode::SUCCESS)
}
