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

use vedette_model::{for_each_kind, with_kind};

use crate::apply::read_only;
use crate::context::{self, Connection};
use crate::server_kind::{self, Listed, ServerKind};

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
    let spec = with_kind!(resource, K, (_, _, spec) => serde_json::to_value(spec)?);
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

/// Runs `vedette export`.
pub async fn run(args: &Args, connection: &Connection) -> anyhow::Result<ExitCode> {
    let client = context::client(connection)?;
    let selector = args.selector.as_deref();
    if args.output == ExportFormat::Terraform {
        let monitors = client.monitors().all(selector).await?;
        let windows = client.maintenance().all(selector).await?;
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
    let mut skipped = 0;
    let mut resources: Vec<Resource> = Vec::new();
    for_each_kind!(K => if K::APPLIED {
        let listed = match server_kind::list::<K>(&client, selector).await {
            Ok(listed) => listed,
            // A server that does not serve an optional kind (webhooks) has none to export.
            Err(e) if server_kind::not_served::<K>(&e) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let (skip, mut writable): (Vec<Listed>, Vec<Listed>) =
            listed.into_iter().partition(|l| read_only(l.managed_by));
        skipped += skip.len();
        writable.sort_by(|a, b| a.resource.id().cmp(b.resource.id()));
        resources.extend(writable.into_iter().map(|l| K::exported(l.resource)));
    });
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
