//! `vedette-operator`: keeps Vedette's monitors, maintenance windows, webhook endpoints, status
//! pages and discovery sources in step with their custom resources in a Kubernetes cluster
//! (`run`), and prints or writes its CRDs (`crds`).

mod controller;
mod crd;
mod deployment;
mod discovery;
mod follow;
mod http;
mod kinds;
mod leader;
mod metrics;
mod monitor;
mod schema;
mod status;
mod telemetry;
mod webhook;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use futures::FutureExt;
use kube::runtime::events::{Recorder, Reporter};

use crate::controller::{Context, Mirrored, Mirrors, Wake};
use crate::crd::{
    Deployment, DiscoverySource, MaintenanceWindow, Monitor, StatusPage, WebhookEndpoint,
};
use crate::leader::Elector;
use crate::metrics::Metrics;
use crate::telemetry::LogFormat;

/// Command line.
#[derive(Parser)]
#[command(name = "vedette-operator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the operator against the cluster of the ambient kubeconfig or service account.
    Run(RunArgs),
    /// Writes the CRDs as YAML: one file per CRD into `--out`, or all to stdout.
    Crds {
        /// Directory to write `<plural>.vedette.dev.yaml` files into.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Vedette's base URL.
    #[arg(long, env = "VEDETTE_URL")]
    vedette_url: String,
    /// File holding the API token (write scope); read once at start.
    #[arg(long, env = "VEDETTE_TOKEN_FILE")]
    vedette_token_file: PathBuf,
    /// Address of `/metrics`, `/healthz` and `/readyz`.
    #[arg(long, default_value = "0.0.0.0:8081")]
    listen: SocketAddr,
    /// Namespace of the leader-election Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    lease_namespace: String,
    /// Name of the leader-election Lease.
    #[arg(long, default_value = "vedette-operator")]
    lease_name: String,
    /// Seconds a leader's lease lasts without renewal.
    #[arg(long, default_value_t = 15)]
    lease_seconds: u64,
    /// This process's identity in the Lease (the pod name in a cluster).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// Seconds between resyncs that notice monitors deleted or changed in Vedette.
    #[arg(long, default_value_t = 60)]
    resync_seconds: u64,
    /// Most resources reconciled at once (bounds the load on Vedette and the API server).
    #[arg(long, default_value_t = 16)]
    concurrency: u16,
    /// Log line format.
    #[arg(long, value_enum, default_value = "json")]
    log_format: LogFormat,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds { out } => write_crds(out),
        Command::Run(args) => {
            telemetry::init(args.log_format);
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(run(args))
        }
    }
}

fn write_crds(out: Option<PathBuf>) -> anyhow::Result<()> {
    for crd in crd::all()? {
        let text = crd::yaml(&crd)?;
        match &out {
            Some(dir) => {
                let path = dir.join(format!("{}.yaml", crd.metadata.name.unwrap_or_default()));
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            None => print!("---\n{text}"),
        }
    }
    Ok(())
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let token = std::fs::read_to_string(&args.vedette_token_file).with_context(|| {
        format!(
            "cannot read --vedette-token-file {}",
            args.vedette_token_file.display()
        )
    })?;
    let token = token.trim();
    if token.is_empty() {
        bail!(
            "--vedette-token-file {} is empty",
            args.vedette_token_file.display()
        );
    }
    let vedette = vedette_client::Client::new(&args.vedette_url, token)
        .context("--vedette-url")?
        .acting_as(crd::MANAGER);
    let metrics = Arc::new(Metrics::default());
    let ready = Arc::new(AtomicBool::new(false));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(listen = %args.listen, "serving /metrics, /healthz and /readyz");
    let router = http::router(http::Probe {
        metrics: metrics.clone(),
        ready: ready.clone(),
    });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });

    let kube = kube::Client::try_default()
        .await
        .context("cannot reach the Kubernetes API")?;
    let identity = args
        .identity
        .clone()
        .unwrap_or_else(|| format!("vedette-operator-{}", std::process::id()));
    let elector = Elector::new(
        kube.clone(),
        &args.lease_namespace,
        &args.lease_name,
        &identity,
        Duration::from_secs(args.lease_seconds.max(3)),
    );
    let mut terminate = terminate_signal()?;
    tracing::info!(
        identity,
        lease = args.lease_name,
        "waiting for the leader lease"
    );
    tokio::select! {
        () = elector.acquire() => {}
        _ = terminate.recv() => {
            tracing::info!("stopping before leading");
            return Ok(());
        }
    }
    tracing::info!(identity, "leading");
    metrics.set_leader(true);
    ready.store(true, Ordering::Relaxed);

    let recorder = Recorder::new(
        kube.clone(),
        Reporter {
            controller: "vedette-operator".into(),
            instance: Some(identity.clone()),
        },
    );
    let discovery = Arc::new(discovery::Discovery {
        kube: kube.clone(),
        metrics: metrics.clone(),
    });
    let http_routes = discovery::http_route_resource(&kube).await;
    let context = Arc::new(Context {
        kube: kube.clone(),
        vedette: vedette.clone(),
        recorder,
        metrics: metrics.clone(),
        following: Arc::default(),
    });
    let following = context.following.clone();

    let (stop, stopped) = futures::channel::oneshot::channel::<()>();
    let stopped = stopped.map(|_| ()).shared();
    let mut tasks = vec![tokio::spawn(discovery::ingresses(
        discovery.clone(),
        stopped.clone(),
    ))];
    match http_routes {
        Some(resource) => tasks.push(tokio::spawn(discovery::http_routes(
            discovery,
            resource,
            stopped.clone(),
        ))),
        None => tracing::info!("the cluster serves no Gateway API HTTPRoute: not watching them"),
    }
    let mut kinds = Kinds {
        context,
        concurrency: args.concurrency.max(1),
        every: Duration::from_secs(args.resync_seconds.max(1)),
        stopped,
        tasks,
        followers: Vec::new(),
        wakers: HashMap::new(),
    };
    let monitors = kinds.spawn::<Monitor>(|c| c);
    kinds.spawn::<WebhookEndpoint>(webhook::watch_secrets(kube));
    kinds.spawn::<MaintenanceWindow>(|c| c);
    kinds.spawn::<StatusPage>(|c| c);
    kinds.spawn::<DiscoverySource>(|c| c);
    kinds.spawn::<Deployment>(|c| c);
    let Kinds {
        tasks,
        mut followers,
        wakers,
        ..
    } = kinds;
    followers.push(tokio::spawn(follow::events(
        vedette,
        monitors,
        wakers,
        metrics.clone(),
        following,
    )));
    let lost = tokio::select! {
        () = elector.hold() => true,
        _ = terminate.recv() => false,
    };
    let _ = stop.send(());
    for task in tasks {
        if let Err(e) = task.await {
            tracing::error!(error = %e, "controller task failed");
        }
    }
    for follower in followers {
        follower.abort();
    }
    metrics.set_leader(false);
    if lost {
        bail!("lost the leader lease; exiting so that a restart rejoins the election");
    }
    elector
        .release()
        .await
        .context("releasing the leader lease")?;
    tracing::info!("stopped; lease released");
    Ok(())
}

/// Starts the controller of each kind with its resync, collecting their tasks.
struct Kinds<S> {
    context: Arc<Context>,
    concurrency: u16,
    every: Duration,
    stopped: S,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    followers: Vec<tokio::task::JoinHandle<()>>,
    /// Each kind's mirrors, by change-feed name, for the event stream.
    wakers: HashMap<&'static str, Arc<dyn Wake>>,
}

impl<S: std::future::Future<Output = ()> + Clone + Send + Sync + 'static> Kinds<S> {
    /// Starts the controller of kind `K` (with the watches `with` adds) and its resync; the
    /// map of its mirrors.
    fn spawn<K: Mirrored>(
        &mut self,
        with: impl FnOnce(kube::runtime::Controller<K>) -> kube::runtime::Controller<K> + Send + 'static,
    ) -> Arc<Mirrors<K>> {
        let (mirrors, woken) = Mirrors::<K>::new();
        self.tasks.push(tokio::spawn(controller::run(
            self.context.clone(),
            mirrors.clone(),
            woken,
            self.concurrency,
            with,
            self.stopped.clone(),
        )));
        self.followers.push(tokio::spawn(follow::resync(
            self.context.vedette.clone(),
            mirrors.clone(),
            self.context.metrics.clone(),
            self.every,
        )));
        self.wakers.insert(K::FEED_KIND, mirrors.clone());
        mirrors
    }
}

/// SIGTERM or SIGINT.
fn terminate_signal() -> anyhow::Result<tokio::sync::mpsc::Receiver<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        let _ = tx.send(()).await;
    });
    Ok(rx)
}
