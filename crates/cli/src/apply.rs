//! `vedette apply -f FILE|DIR [--prune] [--dry-run]`: makes the server hold what the files say.
//!
//! The server's current monitors, windows, webhook endpoints and status pages are read with paginated lists
//! (rather than one `GET` per document), which also gives `--prune` what it needs. For each
//! Monitor, MaintenanceWindow, WebhookEndpoint and StatusPage in the files: absent on the server → `PUT` with
//! `If-None-Match: *`; different → `PUT` with `If-Match: "<version>"`; identical → nothing.
//! "Identical" compares labels and spec as JSON after the same normalisation on both sides (the
//! server returns specs with every default filled in; parsing a file fills the same defaults).
//!
//! Webhook endpoints: the server never shows secrets (`********`) nor the signing secret, so a
//! `********` on the server equals any local value, and `spec.secrets` is compared only when the
//! file sets it (when it does not, the server keeps the stored signing secrets on update and
//! generates one on create). Writing `********` back keeps the stored value.
//!
//! Ownership: what apply writes carries the label `managed-by: vedette-cli` and, with
//! `--apply-set NAME` (or `VEDETTE_APPLY_SET`), the label `vedette.dev/apply-set: NAME`, like
//! kubectl's ApplySet. Neither label is part of the comparison, so an API-made resource whose
//! labels and spec already match the file is left alone (and stays API-owned). `--prune` needs an
//! apply set and deletes only resources carrying both labels, with this set's name, that no file
//! mentions any more: never API-made ones, never another set's, never those of the server's config
//! files. Pruning more than [`CONFIRM_ABOVE`] resources asks for confirmation on a terminal and
//! needs `--yes` otherwise.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::Value;
use vedette_client::{Client, Precondition};
#[cfg(test)]
use vedette_client::{MaintenanceWindow, Monitor, Webhook};
use vedette_model::document::{self, Loaded, Resource};
#[cfg(test)]
use vedette_model::kinds::MonitorKind;
use vedette_model::record::labels::{APPLY_SET, MANAGED_BY};
use vedette_model::webhook::EndpointSpec;
use vedette_model::{REDACTED, Source, Version, for_each_kind, with_kind};
use vedette_webhooks::EndpointRules;

use crate::context::{self, Connection};
use crate::diff;
use crate::output::{Paint, Spinner, Style};
use crate::server_kind::{self, Listed, ServerKind};

/// The value of the ownership label ([`MANAGED_BY`]) on what `vedette apply` writes.
pub const OWNER: &str = "vedette-cli";
/// Pruning more resources than this at once needs a confirmation (or `--yes`).
pub const CONFIRM_ABOVE: usize = 5;

/// Options of `vedette apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config file or directory (repeatable).
    #[arg(short = 'f', long = "filename", required = true)]
    pub paths: Vec<PathBuf>,
    /// Also delete resources this apply set created earlier that the files no longer hold
    /// (needs --apply-set).
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub apply_set: ApplySetArg,
    /// Prune more than 5 resources without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print what would change, as a diff, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `--apply-set NAME`: which set of resources this apply owns.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplySetArg {
    /// Name of the set of resources these files own, recorded as the label
    /// `vedette.dev/apply-set`; --prune deletes only resources of this set. Use one name per
    /// config directory, e.g. the repository and path.
    #[arg(long = "apply-set", env = "VEDETTE_APPLY_SET", value_name = "NAME", value_parser = parse_apply_set)]
    pub name: Option<String>,
}

/// Checks an apply set name: it is a label value.
fn parse_apply_set(name: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "{name:?} is not a valid apply set name: expected 1 to 63 letters, digits, '.', '_' or '-'"
        ))
    }
}

/// The apply set to prune: `--prune` without `--apply-set` is a usage error.
pub fn prune_set(prune: bool, apply_set: &ApplySetArg) -> Result<Option<&str>, crate::UsageError> {
    match (prune, apply_set.name.as_deref()) {
        (false, _) => Ok(None),
        (true, Some(name)) => Ok(Some(name)),
        (true, None) => Err(crate::UsageError(format!(
            "--prune needs --apply-set NAME (or VEDETTE_APPLY_SET): it deletes only resources \
             labelled {APPLY_SET}=NAME that the files no longer hold"
        ))),
    }
}

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Not on the server yet.
    Create,
    /// On the server, different.
    Update,
    /// On the server, the same.
    Unchanged,
    /// Owned by apply, no longer in the files.
    Prune,
}

/// One planned change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What happens.
    pub action: Action,
    /// The resource as on the server (labels without the ownership label), if there.
    pub before: Option<Resource>,
    /// The resource as the files want it, unless pruned.
    pub after: Option<Resource>,
    /// The server's version, for `If-Match`.
    pub version: Option<Version>,
    /// The apply set the resource belongs to once written (`--apply-set`, else the one it has).
    pub apply_set: Option<String>,
}

impl Change {
    /// `Monitor` or `MaintenanceWindow`.
    pub fn kind(&self) -> &'static str {
        self.resource().kind()
    }

    /// The resource's id.
    pub fn id(&self) -> &str {
        self.resource().id()
    }

    fn resource(&self) -> &Resource {
        self.after
            .as_ref()
            .or(self.before.as_ref())
            .expect("a change has a before or an after")
    }

    /// `monitor/ID` or `maintenance/ID`.
    pub fn name(&self) -> String {
        with_kind!(self.resource(), K, (id, _, _) => format!("{}/{id}", K::NOUN))
    }
}

/// Counts of a plan (or of what was done).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Created.
    pub created: usize,
    /// Updated.
    pub updated: usize,
    /// Unchanged.
    pub unchanged: usize,
    /// Pruned.
    pub pruned: usize,
}

impl Summary {
    /// Counts the actions of `changes`.
    pub fn of(changes: &[Change]) -> Self {
        let mut s = Self::default();
        for c in changes {
            s.add(c.action);
        }
        s
    }

    fn add(&mut self, action: Action) {
        match action {
            Action::Create => self.created += 1,
            Action::Update => self.updated += 1,
            Action::Unchanged => self.unchanged += 1,
            Action::Prune => self.pruned += 1,
        }
    }

    /// Anything to do.
    pub fn has_changes(&self) -> bool {
        self.created + self.updated + self.pruned > 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} unchanged, {} pruned",
            self.created, self.updated, self.unchanged, self.pruned
        )
    }
}

/// Loads every path; prints each problem as `file:line: field: message` and fails when there is
/// any, before the server is asked anything.
pub fn load(paths: &[PathBuf]) -> anyhow::Result<Vec<Loaded>> {
    let mut all: Vec<Loaded> = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<(&'static str, String), String> = HashMap::new();
    for path in paths {
        let (loaded, errors) = document::load_path(path);
        problems.extend(errors.iter().map(ToString::to_string));
        for item in loaded {
            let here = format!("{}:{}", item.file.display(), item.line);
            let key = (item.resource.kind(), item.resource.id().to_owned());
            if let Some(first) = seen.get(&key) {
                problems.push(format!(
                    "{here}: metadata.id: duplicate {} id {:?}: also defined at {first}",
                    key.0, key.1
                ));
                continue;
            }
            if let Some(owner) = item.resource.labels().get(MANAGED_BY)
                && owner != OWNER
            {
                problems.push(format!(
                    "{here}: metadata.labels.{MANAGED_BY}: {owner:?} is reserved: apply marks \
                     what it writes with {MANAGED_BY}: {OWNER}; remove the label"
                ));
                continue;
            }
            if let Resource::DiscoverySource { .. } = item.resource {
                problems.push(format!(
                    "{here}: kind: {}: vedette apply does not write discovery sources yet \
                     (issue 15); put them in the server's --config files or write them \
                     through the API (/api/v1/discovery-sources)",
                    document::KIND_DISCOVERY_SOURCE
                ));
                continue;
            }
            if item.resource.labels().contains_key(APPLY_SET) {
                problems.push(format!(
                    "{here}: metadata.labels.{APPLY_SET}: reserved: apply sets it from \
                     --apply-set; remove the label"
                ));
                continue;
            }
            seen.insert(key, here);
            all.push(item);
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        bail!(
            "{} error(s) in the files; nothing was changed",
            problems.len()
        );
    }
    Ok(all)
}

/// Resources of the server's config files or of its demo: the API refuses to write them.
pub fn read_only(managed_by: Option<Source>) -> bool {
    matches!(managed_by, Some(Source::File | Source::Demo))
}

/// Labels without the ownership and apply set labels of apply.
pub fn without_owner(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut labels = labels.clone();
    if labels.get(MANAGED_BY).map(String::as_str) == Some(OWNER) {
        labels.remove(MANAGED_BY);
    }
    labels.remove(APPLY_SET);
    labels
}

/// Labels with the ownership label of apply and, if any, the apply set label.
pub fn with_owner(
    labels: &BTreeMap<String, String>,
    apply_set: Option<&str>,
) -> BTreeMap<String, String> {
    let mut labels = labels.clone();
    labels.insert(MANAGED_BY.to_owned(), OWNER.to_owned());
    if let Some(set) = apply_set {
        labels.insert(APPLY_SET.to_owned(), set.to_owned());
    }
    labels
}

/// A server monitor as a document resource (ownership label dropped).
#[cfg(test)]
fn monitor_resource(m: &Monitor) -> Resource {
    MonitorKind::listed(m).resource
}

/// A webhook endpoint spec with every default filled in (through the endpoint type of the
/// server); as it is when it does not parse (the server will say why on apply).
pub fn webhook_spec_normalised(spec: &Value) -> Value {
    let mut out = serde_json::from_value::<EndpointSpec>(spec.clone())
        .ok()
        .and_then(|s| serde_json::to_value(s).ok())
        .unwrap_or_else(|| spec.clone());
    if let Some(map) = out.as_object_mut()
        && map.get("secrets") == Some(&Value::Array(Vec::new()))
        && spec.get("secrets").is_none()
    {
        map.remove("secrets");
    }
    out
}

/// `spec` with every value the server shows as `********` in `redacted` replaced by the value at
/// the same place of `local`: a redacted secret equals whatever the file holds.
pub fn adopt_redacted(redacted: &Value, local: &Value) -> Value {
    match (redacted, local) {
        (Value::String(s), l) if s == REDACTED && !l.is_null() => l.clone(),
        (Value::Object(r), Value::Object(l)) => Value::Object(
            r.iter()
                .map(|(k, v)| {
                    let v = match l.get(k) {
                        Some(lv) => adopt_redacted(v, lv),
                        None => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        (Value::Array(r), Value::Array(l)) => Value::Array(
            r.iter()
                .enumerate()
                .map(|(i, v)| match l.get(i) {
                    Some(lv) => adopt_redacted(v, lv),
                    None => v.clone(),
                })
                .collect(),
        ),
        (r, _) => r.clone(),
    }
}

/// `local` with every value that is `********` at the same place of `redacted` shown as
/// `********` too, so that a diff does not print the file's secrets.
pub fn mask_like(local: &Value, redacted: &Value) -> Value {
    match (local, redacted) {
        (Value::String(_), Value::String(r)) if r == REDACTED => redacted.clone(),
        (Value::Object(l), Value::Object(r)) => Value::Object(
            l.iter()
                .map(|(k, v)| {
                    let v = r.get(k).map_or_else(|| v.clone(), |rv| mask_like(v, rv));
                    (k.clone(), v)
                })
                .collect(),
        ),
        (Value::Array(l), Value::Array(r)) => Value::Array(
            l.iter()
                .enumerate()
                .map(|(i, v)| r.get(i).map_or_else(|| v.clone(), |rv| mask_like(v, rv)))
                .collect(),
        ),
        (l, _) => l.clone(),
    }
}

/// A webhook endpoint spec as a diff shows it: defaults filled in, secrets as `********`.
pub fn webhook_spec_shown(spec: &Value) -> Value {
    let normalised = webhook_spec_normalised(spec);
    let redacted = serde_json::from_value::<EndpointSpec>(normalised.clone())
        .ok()
        .zip(vedette_webhooks::Catalog::builtin().ok())
        .and_then(|(s, catalog)| serde_json::to_value(s.redacted(&catalog)).ok());
    match redacted {
        Some(redacted) => mask_like(&normalised, &redacted),
        None => normalised,
    }
}

/// The resource with its labels [`without_owner`].
fn strip_owner(resource: &Resource) -> Resource {
    let mut resource = resource.clone();
    let labels = resource.labels_mut();
    *labels = without_owner(labels);
    resource
}

/// The resource as JSON after serialising the parsed spec (which fills every default).
fn normalised(resource: &Resource) -> serde_json::Value {
    let spec = with_kind!(resource, K, (_, _, spec) => K::normalised(spec));
    serde_json::json!({"labels": resource.labels(), "spec": spec})
}

/// Whether the server's webhook endpoint `before` already is what the file wants (`after`):
/// `********` equals any local value, and the signing secrets count only when the file sets them.
fn same_webhook(before: &Resource, after: &Resource) -> bool {
    let (
        Resource::WebhookEndpoint {
            labels: have_labels,
            spec: have,
            ..
        },
        Resource::WebhookEndpoint {
            labels: want_labels,
            spec: want,
            ..
        },
    ) = (before, after)
    else {
        return false;
    };
    let want = webhook_spec_normalised(want);
    let have = adopt_redacted(&webhook_spec_normalised(have), &want);
    have_labels == want_labels && have == want
}

/// The server's webhook endpoint as compared with and shown next to `desired`: without the
/// signing secrets when the file does not set them.
fn webhook_before(server: &Resource, desired: &Resource) -> Resource {
    let mut server = server.clone();
    if let (Resource::WebhookEndpoint { spec, .. }, Resource::WebhookEndpoint { spec: want, .. }) =
        (&mut server, desired)
        && want.get("secrets").is_none()
        && let Some(map) = spec.as_object_mut()
    {
        map.remove("secrets");
    }
    server
}

/// Fields the server assigns when a file leaves them out are taken from the server, so that
/// leaving them out is not a difference: the push token of a heartbeat monitor.
fn adopt_server_fields(desired: &mut Resource, current: &Resource) {
    if let (
        Resource::Monitor { spec: want, .. },
        Resource::Monitor {
            spec: have_spec, ..
        },
    ) = (desired, current)
        && let (Some(want), Some(have)) = (
            want.check.as_heartbeat_mut(),
            have_spec.check.as_heartbeat(),
        )
        && want.token.is_none()
    {
        want.token.clone_from(&have.token);
    }
}

/// [`plan_with_webhooks`] without webhook endpoints on the server.
#[cfg(test)]
fn plan_against(
    desired: &[Resource],
    monitors: &[Monitor],
    windows: &[MaintenanceWindow],
    prune: Option<&str>,
) -> Vec<Change> {
    plan_with_webhooks(desired, monitors, windows, &[], None, prune)
}

/// [`plan_all`] with the server's monitors, windows and webhook endpoints.
#[cfg(test)]
pub fn plan_with_webhooks(
    desired: &[Resource],
    monitors: &[Monitor],
    windows: &[MaintenanceWindow],
    webhooks: &[Webhook],
    apply_set: Option<&str>,
    prune: Option<&str>,
) -> Vec<Change> {
    use vedette_model::kinds::{MaintenanceKind, WebhookEndpointKind};
    let current: Vec<Listed> = monitors
        .iter()
        .map(MonitorKind::listed)
        .chain(windows.iter().map(MaintenanceKind::listed))
        .chain(webhooks.iter().map(WebhookEndpointKind::listed))
        .collect();
    plan_all(desired, &current, apply_set, prune)
}

/// One planned change per resource of `desired` (monitors first, then windows, which may name
/// them, then the rest), then, with `prune` naming an apply set, the prunes of that set in the
/// reverse order. `current` is what the server holds (all of it, or at least every resource
/// owned by apply); what is written joins `apply_set`, else keeps the set it has.
pub fn plan_all(
    desired: &[Resource],
    current: &[Listed],
    apply_set: Option<&str>,
    prune: Option<&str>,
) -> Vec<Change> {
    let set_of = |labels: &BTreeMap<String, String>| labels.get(APPLY_SET).cloned();
    let by_key: HashMap<(&str, &str), (&Resource, Version, Option<String>)> = current
        .iter()
        .map(|l| {
            (
                (l.resource.kind(), l.resource.id()),
                (&l.resource, l.version, set_of(&l.labels)),
            )
        })
        .collect();
    let rank = |r: &Resource| with_kind!(r, K, (_, _, _) => K::RANK);
    let mut ordered: Vec<&Resource> = desired.iter().collect();
    // Monitors first: windows may name them.
    ordered.sort_by_key(|r| rank(r));
    let mut changes = Vec::new();
    for resource in ordered {
        let mut after = strip_owner(resource);
        let change = match by_key.get(&(resource.kind(), resource.id())) {
            None => Change {
                action: Action::Create,
                before: None,
                after: Some(after),
                version: None,
                apply_set: apply_set.map(str::to_owned),
            },
            Some((before, version, set)) => {
                adopt_server_fields(&mut after, before);
                let before = &webhook_before(before, &after);
                let version = *version;
                let same = if matches!(after, Resource::WebhookEndpoint { .. }) {
                    same_webhook(before, &after)
                } else {
                    // The server shows credentials as `********`: equal to any local value.
                    let want = normalised(&after);
                    adopt_redacted(&normalised(before), &want) == want
                };
                // Joining the apply set is a change too (the label is written).
                let joins = apply_set.is_some_and(|s| set.as_deref() != Some(s));
                let action = if same && !joins {
                    Action::Unchanged
                } else {
                    Action::Update
                };
                Change {
                    action,
                    before: Some(before.clone()),
                    after: Some(after),
                    version: Some(version),
                    apply_set: apply_set.map(str::to_owned).or_else(|| set.clone()),
                }
            }
        };
        changes.push(change);
    }
    if let Some(prune_set) = prune {
        let wanted: HashSet<(&str, &str)> = desired.iter().map(|r| (r.kind(), r.id())).collect();
        let owned = |labels: &BTreeMap<String, String>, managed_by: Option<Source>| {
            labels.get(MANAGED_BY).map(String::as_str) == Some(OWNER)
                && labels.get(APPLY_SET).map(String::as_str) == Some(prune_set)
                && !read_only(managed_by)
        };
        let mut prunes: Vec<Change> = current
            .iter()
            .filter(|l| owned(&l.labels, l.managed_by))
            .filter(|l| !wanted.contains(&(l.resource.kind(), l.resource.id())))
            .map(|l| Change {
                action: Action::Prune,
                before: Some(l.resource.clone()),
                after: None,
                version: Some(l.version),
                apply_set: Some(prune_set.to_owned()),
            })
            .collect();
        // Webhook endpoints, then windows, then monitors (windows may name them), each by id.
        prunes.sort_by(|a, b| {
            (std::cmp::Reverse(rank(a.resource())), a.id())
                .cmp(&(std::cmp::Reverse(rank(b.resource())), b.id()))
        });
        changes.extend(prunes);
    }
    changes
}

/// Loads the files, reads the server and plans (see [`plan_all`]).
pub async fn plan(
    client: &Client,
    paths: &[PathBuf],
    apply_set: Option<&str>,
    prune: Option<&str>,
) -> anyhow::Result<Vec<Change>> {
    Ok(plan_loaded(client, load(paths)?, apply_set, prune).await?.0)
}

/// Where each resource of the files was read (`file:line`), by (kind, id).
type Origins = HashMap<(&'static str, String), String>;

async fn plan_loaded(
    client: &Client,
    loaded: Vec<Loaded>,
    apply_set: Option<&str>,
    prune: Option<&str>,
) -> anyhow::Result<(Vec<Change>, Origins)> {
    let origins: Origins = loaded
        .iter()
        .map(|l| {
            (
                (l.resource.kind(), l.resource.id().to_owned()),
                format!("{}:{}", l.file.display(), l.line),
            )
        })
        .collect();
    let desired: Vec<Resource> = loaded.into_iter().map(|l| l.resource).collect();
    let _spinner = Spinner::start("reading the server");
    let mut current = Vec::new();
    for_each_kind!(K => if K::APPLIED {
        // An optional kind (webhooks) is read only when needed, and a server that does not
        // serve it holds none, unless the files want one.
        let wanted = desired.iter().any(|r| r.kind() == K::KIND);
        if !K::OPTIONAL || wanted || prune.is_some() {
            match server_kind::list::<K>(client, None).await {
                Ok(listed) => current.extend(listed),
                Err(e) if !wanted && server_kind::not_served::<K>(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    });
    Ok((plan_all(&desired, &current, apply_set, prune), origins))
}

/// Carries out one change. Acts as [`OWNER`], so what apply labelled may be replaced and pruned.
async fn execute(client: &Client, change: &Change) -> Result<(), vedette_client::Error> {
    let client = &client.clone().acting_as(OWNER);
    let set = change.apply_set.as_deref();
    let precondition = match (change.action, change.version) {
        (Action::Create, _) => Precondition::Absent,
        (_, Some(v)) => Precondition::Version(v),
        (_, None) => Precondition::Exists,
    };
    match (change.action, change.after.as_ref(), change.before.as_ref()) {
        (Action::Unchanged, _, _) => Ok(()),
        (Action::Create | Action::Update, Some(after), _) => {
            with_kind!(after, K, (id, labels, spec) => {
                server_kind::put::<K>(client, id, &with_owner(labels, set), spec, precondition).await
            })
        }
        (Action::Prune, _, Some(before)) => with_kind!(before, K, (id, _, _) => {
            server_kind::delete::<K>(client, id, precondition).await
        }),
        _ => Ok(()),
    }
}

/// Asks on the terminal whether to prune the many resources of `changes`; without a terminal,
/// refuses and names `--yes`.
fn confirm_prune(changes: &[Change]) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    let names: Vec<String> = changes
        .iter()
        .filter(|c| c.action == Action::Prune)
        .map(Change::name)
        .collect();
    let count = names.len();
    if !std::io::stdin().is_terminal() {
        return Err(crate::UsageError(format!(
            "apply would prune {count} resources (more than {CONFIRM_ABOVE}): {}; check with \
             --dry-run, then pass --yes to confirm",
            names.join(", ")
        ))
        .into());
    }
    eprintln!("apply would prune {count} resources:");
    for name in &names {
        eprintln!("  {name}");
    }
    eprint!("Delete them? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        bail!("nothing was changed")
    }
}

/// Runs `vedette apply`.
pub async fn run(args: &Args, connection: &Connection) -> anyhow::Result<ExitCode> {
    let prune = prune_set(args.prune, &args.apply_set)?;
    let client = context::client(connection)?;
    let apply_set = args.apply_set.name.as_deref();
    let (changes, origins) = plan_loaded(&client, load(&args.paths)?, apply_set, prune).await?;
    let style = Style::stdout();
    let summary = Summary::of(&changes);
    if args.dry_run {
        print!("{}", diff::render(&changes, &style));
        println!("{summary} (dry run: nothing was changed)");
        return Ok(ExitCode::SUCCESS);
    }
    if summary.pruned > CONFIRM_ABOVE && !args.yes {
        confirm_prune(&changes)?;
    }
    let mut done = Summary::default();
    let mut failures = 0;
    for change in &changes {
        match execute(&client, change).await {
            Ok(()) => {
                done.add(change.action);
                let (word, paint) = match change.action {
                    Action::Create => ("created", Some(Paint::Green)),
                    Action::Update => ("updated", Some(Paint::Yellow)),
                    Action::Unchanged => ("unchanged", None),
                    Action::Prune => ("pruned", Some(Paint::Red)),
                };
                println!("{} {}", change.name(), style.paint(word, paint));
            }
            Err(e) => {
                failures += 1;
                match origins.get(&(change.kind(), change.id().to_owned())) {
                    Some(place) if change.action != Action::Prune => {
                        eprintln!("error: {place}: {}: {e}", change.name());
                    }
                    _ => eprintln!("error: {}: {e}", change.name()),
                }
            }
        }
    }
    println!("{done}");
    if failures > 0 {
        eprintln!("{failures} change(s) failed");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_model::MonitorSpec;

    fn monitor(id: &str, labels: &[(&str, &str)], url: &str, version: Version) -> Monitor {
        Monitor {
            id: id.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            spec: MonitorSpec::http(url),
            status: None,
            managed_by: Some(Source::Api),
            version,
            created_at: None,
            updated_at: None,
        }
    }

    fn file(id: &str, labels: &[(&str, &str)], url: &str) -> Resource {
        monitor_resource(&monitor(id, labels, url, 0))
    }

    fn actions(changes: &[Change]) -> Vec<(Action, String)> {
        changes
            .iter()
            .map(|c| (c.action, c.id().to_owned()))
            .collect()
    }

    #[test]
    fn create_update_unchanged_and_prune_only_what_apply_owns() {
        let server = vec![
            monitor(
                "same",
                &[("managed-by", "vedette-cli"), ("team", "a")],
                "http://a/",
                1,
            ),
            monitor(
                "changed",
                &[("managed-by", "vedette-cli")],
                "http://old/",
                4,
            ),
            monitor("api-made", &[], "http://api/", 1),
            monitor(
                "orphan",
                &[("managed-by", "vedette-cli"), (APPLY_SET, "s")],
                "http://o/",
                2,
            ),
            monitor(
                "other-set",
                &[("managed-by", "vedette-cli"), (APPLY_SET, "t")],
                "http://t/",
                2,
            ),
            monitor("no-set", &[("managed-by", "vedette-cli")], "http://x/", 2),
            monitor("from-file", &[("managed-by", "file")], "http://f/", 1),
        ];
        let desired = vec![
            file("same", &[("team", "a")], "http://a/"),
            file("changed", &[], "http://new/"),
            file("new", &[], "http://n/"),
        ];
        let changes = plan_against(&desired, &server, &[], Some("s"));
        assert_eq!(
            actions(&changes),
            vec![
                (Action::Unchanged, "same".to_owned()),
                (Action::Update, "changed".to_owned()),
                (Action::Create, "new".to_owned()),
                (Action::Prune, "orphan".to_owned()),
            ]
        );
        assert_eq!(changes[1].version, Some(4));
        assert_eq!(changes[3].version, Some(2));
        assert_eq!(
            Summary::of(&changes).to_string(),
            "1 created, 1 updated, 1 unchanged, 1 pruned"
        );
        assert_eq!(changes[3].apply_set.as_deref(), Some("s"));
        let without_prune = plan_against(&desired, &server, &[], None);
        assert!(without_prune.iter().all(|c| c.action != Action::Prune));
    }

    #[test]
    fn an_api_made_resource_equal_to_the_file_is_left_alone() {
        let server = vec![monitor("m", &[("team", "a")], "http://a/", 1)];
        let changes = plan_against(
            &[file("m", &[("team", "a")], "http://a/")],
            &server,
            &[],
            Some("s"),
        );
        assert_eq!(actions(&changes), vec![(Action::Unchanged, "m".to_owned())]);
        let changes = plan_against(
            &[file("m", &[("team", "b")], "http://a/")],
            &server,
            &[],
            Some("s"),
        );
        assert_eq!(actions(&changes), vec![(Action::Update, "m".to_owned())]);
    }

    #[test]
    fn applying_with_a_set_adopts_what_it_writes_into_the_set() {
        let server = vec![monitor("m", &[("team", "a")], "http://a/", 1)];
        let desired = [file("m", &[("team", "a")], "http://a/")];
        let changes = plan_with_webhooks(&desired, &server, &[], &[], Some("s"), None);
        assert_eq!(actions(&changes), vec![(Action::Update, "m".to_owned())]);
        assert_eq!(changes[0].apply_set.as_deref(), Some("s"));
        // Already in another set and applied without a set: it keeps its set.
        let server = vec![monitor(
            "m",
            &[("team", "a"), (APPLY_SET, "t")],
            "http://a/",
            1,
        )];
        let changes = plan_with_webhooks(&desired, &server, &[], &[], None, None);
        assert_eq!(actions(&changes), vec![(Action::Unchanged, "m".to_owned())]);
        assert_eq!(changes[0].apply_set.as_deref(), Some("t"));
    }

    #[test]
    fn prune_needs_an_apply_set_with_a_label_value_name() {
        let none = ApplySetArg { name: None };
        assert!(prune_set(false, &none).unwrap().is_none());
        let err = prune_set(true, &none).unwrap_err().to_string();
        assert!(err.contains("--apply-set"), "{err}");
        assert!(parse_apply_set("infra-prod").is_ok());
        assert!(parse_apply_set("a/b").is_err());
        assert!(parse_apply_set("").is_err());
    }

    #[test]
    fn defaults_filled_by_the_server_are_no_difference() {
        let (loaded, errors) = document::parse_str(
            "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: m}\nspec:\n  http: {url: \"http://a/\"}\n",
            std::path::Path::new("m.yaml"),
        );
        assert!(errors.is_empty(), "{errors:?}");
        // The server's answer has every default written out.
        let server: Monitor = serde_json::from_value(serde_json::json!({
            "id": "m", "labels": {"managed-by": "vedette-cli"}, "version": 1,
            "spec": serde_json::to_value(MonitorSpec::http("http://a/")).unwrap()
        }))
        .unwrap();
        let changes = plan_against(&[loaded[0].resource.clone()], &[server], &[], None);
        assert_eq!(changes[0].action, Action::Unchanged);
    }

    #[test]
    fn a_heartbeat_token_assigned_by_the_server_is_kept() {
        let (loaded, _) = document::parse_str(
            "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: hb}\nspec:\n  heartbeat: {grace: 1m}\n",
            std::path::Path::new("hb.yaml"),
        );
        let desired = loaded[0].resource.clone();
        let mut server_spec = match &desired {
            Resource::Monitor { spec, .. } => spec.clone(),
            _ => unreachable!(),
        };
        server_spec.check.as_heartbeat_mut().unwrap().token =
            Some(vedette_model::spec::Secret("generated".to_owned()));
        let server = Monitor {
            spec: server_spec,
            ..monitor("hb", &[("managed-by", "vedette-cli")], "http://x/", 1)
        };
        let changes = plan_against(&[desired], &[server], &[], None);
        assert_eq!(changes[0].action, Action::Unchanged);
    }

    #[test]
    fn owner_labels_other_than_apply_are_refused_before_the_server_is_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.yaml");
        std::fs::write(
            &path,
            "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: m, labels: {managed-by: terraform}}\nspec:\n  http: {url: \"http://a/\"}\n",
        )
        .unwrap();
        let err = load(&[path]).unwrap_err();
        assert!(err.to_string().contains("1 error(s)"), "{err}");
    }

    #[test]
    fn duplicates_across_paths_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let text = "apiVersion: vedette.dev/v1\nkind: Monitor\nmetadata: {id: m}\nspec:\n  http: {url: \"http://a/\"}\n";
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        std::fs::write(&a, text).unwrap();
        std::fs::write(&b, text).unwrap();
        assert!(load(std::slice::from_ref(&a)).is_ok());
        assert!(load(&[a, b]).is_err());
    }

    fn webhook(id: &str, spec: serde_json::Value) -> Webhook {
        serde_json::from_value(serde_json::json!({
            "id": id, "labels": {"managed-by": "vedette-cli"}, "spec": spec, "version": 3,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn redacted_webhook_secrets_and_signing_secrets_are_no_difference() {
        let server = webhook(
            "w",
            serde_json::json!({
                "url": "http://x/", "description": "", "event_types": ["*"], "timeout": "15s",
                "enabled": true, "auth": {"type": "bearer", "token": "********"},
                "secrets": [{"secret": "********"}],
            }),
        );
        let desired = |spec: serde_json::Value| Resource::WebhookEndpoint {
            id: "w".to_owned(),
            labels: BTreeMap::new(),
            spec,
        };
        let plan = |spec: serde_json::Value| {
            plan_with_webhooks(
                &[desired(spec)],
                &[],
                &[],
                std::slice::from_ref(&server),
                None,
                None,
            )
        };
        let same =
            serde_json::json!({"url": "http://x/", "auth": {"type": "bearer", "token": "t0ken"}});
        let changes = plan(same.clone());
        assert_eq!(actions(&changes), vec![(Action::Unchanged, "w".to_owned())]);
        let mut with_secret = same.clone();
        with_secret["secrets"] =
            serde_json::json!([{"secret": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="}]);
        assert_eq!(plan(with_secret)[0].action, Action::Unchanged);
        let mut changed = same;
        changed["description"] = serde_json::json!("new");
        let changes = plan(changed);
        assert_eq!(changes[0].action, Action::Update);
        assert_eq!(changes[0].version, Some(3));
        assert_eq!(changes[0].name(), "webhook/w");
        let shown = crate::diff::yaml(changes[0].after.as_ref().unwrap());
        assert!(!shown.contains("t0ken"), "{shown}");
        assert!(
            shown.contains("token: '********'") || shown.contains("token: \"********\""),
            "{shown}"
        );
        // Owned by the set and no longer in the files: pruned; by another set: kept.
        let mut of_set = server.clone();
        of_set.labels.insert(APPLY_SET.to_owned(), "s".to_owned());
        let prune = |stored: &Webhook, set: &str| {
            plan_with_webhooks(&[], &[], &[], std::slice::from_ref(stored), None, Some(set))
        };
        assert_eq!(
            actions(&prune(&of_set, "s")),
            vec![(Action::Prune, "w".to_owned())]
        );
        assert!(prune(&of_set, "t").is_empty());
        assert!(prune(&server, "s").is_empty());
    }
}
