//! Resources shared by every probe: DNS resolver, trusted roots, TLS client settings, clock.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;

use crate::tls::ClientConfigs;

/// Why a [`ProbeContext`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The system DNS configuration (`/etc/resolv.conf`) could not be read.
    #[error("cannot read the system DNS configuration: {0}")]
    SystemDns(#[source] hickory_resolver::net::NetError),
    /// The DNS resolver could not be built.
    #[error("cannot build the DNS resolver: {0}")]
    Resolver(#[source] hickory_resolver::net::NetError),
    /// The TLS client settings could not be built.
    #[error("cannot build the TLS client configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// A source of the current time, so tests can move the clock (certificate expiry, heartbeats).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Shared, cheap-to-clone resources for probes: a DNS resolver (system configuration, or a
/// given server), the default trusted roots (webpki-roots), TLS client settings and the clock.
#[derive(Clone)]
pub struct ProbeContext {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    resolver: TokioResolver,
    nameservers: Vec<SocketAddr>,
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    tls: ClientConfigs,
    clock: Clock,
}

impl fmt::Debug for ProbeContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeContext")
            .field("nameservers", &self.inner.nameservers)
            .field("roots", &self.inner.roots.len())
            .finish_non_exhaustive()
    }
}

impl ProbeContext {
    /// A context resolving through the system DNS configuration (`/etc/resolv.conf` and
    /// `/etc/hosts`).
    pub fn new() -> Result<Self, ProbeError> {
        let (config, options) =
            hickory_resolver::system_conf::read_system_conf().map_err(ProbeError::SystemDns)?;
        Self::build(config, options)
    }

    /// A context resolving every name through the DNS server at `addr` (UDP, then TCP), e.g. a
    /// local resolver or a test server on `127.0.0.1:<port>`. `localhost` and `/etc/hosts`
    /// entries still resolve locally.
    pub fn with_resolver(addr: SocketAddr) -> Result<Self, ProbeError> {
        let mut udp = ConnectionConfig::udp();
        udp.port = addr.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = addr.port();
        let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
        let config = ResolverConfig::from_parts(None, Vec::new(), vec![server]);
        Self::build(config, ResolverOpts::default())
    }

    /// The same context reading the time from `clock` instead of the system clock.
    pub fn with_clock(&self, clock: Clock) -> Self {
        let mut inner = (*self.inner).clone();
        inner.clock = clock;
        Self {
            inner: Arc::new(inner),
        }
    }

    fn build(config: ResolverConfig, mut options: ResolverOpts) -> Result<Self, ProbeError> {
        let nameservers = config
            .name_servers
            .iter()
            .map(|ns| {
                let port = ns.connections.first().map_or(53, |c| c.port);
                SocketAddr::new(ns.ip, port)
            })
            .collect();
        // Every check measures a real lookup, so the resolver keeps no answers between checks.
        options.cache_size = 0;
        let mut builder =
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        *builder.options_mut() = options;
        let resolver = builder.build().map_err(ProbeError::Resolver)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = ClientConfigs::new(&provider)?;
        Ok(Self {
            inner: Arc::new(Inner {
                resolver,
                nameservers,
                roots: Arc::new(roots),
                provider,
                tls,
                clock: Arc::new(Utc::now),
            }),
        })
    }

    /// The current time according to the context's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    pub(crate) fn resolver(&self) -> &TokioResolver {
        &self.inner.resolver
    }

    /// The DNS servers names are resolved through, in order.
    pub fn nameservers(&self) -> &[SocketAddr] {
        &self.inner.nameservers
    }

    pub(crate) fn roots(&self) -> &Arc<RootCertStore> {
        &self.inner.roots
    }

    pub(crate) fn provider(&self) -> &Arc<CryptoProvider> {
        &self.inner.provider
    }

    pub(crate) fn tls_configs(&self) -> &ClientConfigs {
        &self.inner.tls
    }
}
