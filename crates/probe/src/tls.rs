//! TLS: the handshake shared with the HTTP probe, and the TLS check itself (connect, handshake
//! with SNI, certificate facts, verification).
//!
//! The handshake accepts any certificate; the chain and name are verified right after it
//! against the trusted roots (plus a custom CA), so the facts (`chain_valid`, `hostname_match`)
//! are known whether or not the check enforces them.

use std::sync::Arc;
use std::time::Instant;

use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use vedette_model::spec::TlsCheck;
use vedette_model::{FailureReason, Observation};

use crate::ProbeContext;
use crate::cert;
use crate::failure::{Failure, Trace, ms_since};
use crate::net;
use crate::stage;

/// Application protocols offered through ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alpn {
    /// No ALPN (plain TLS check).
    None,
    /// `http/1.1` only.
    Http1,
    /// `h2` only.
    Http2,
    /// `h2`, then `http/1.1`.
    Auto,
}

/// One TLS client configuration per ALPN offer, built once per context.
#[derive(Clone)]
pub(crate) struct ClientConfigs {
    none: Arc<ClientConfig>,
    http1: Arc<ClientConfig>,
    http2: Arc<ClientConfig>,
    auto: Arc<ClientConfig>,
}

impl ClientConfigs {
    pub(crate) fn new(provider: &Arc<CryptoProvider>) -> Result<Self, rustls::Error> {
        let make = |alpn: &[&[u8]]| -> Result<Arc<ClientConfig>, rustls::Error> {
            let verifier = Arc::new(DeferredVerifier {
                algorithms: provider.signature_verification_algorithms,
            });
            let mut config = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()?
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
            config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            // Each check measures a full handshake.
            config.resumption = Resumption::disabled();
            Ok(Arc::new(config))
        };
        Ok(Self {
            none: make(&[])?,
            http1: make(&[b"http/1.1"])?,
            http2: make(&[b"h2"])?,
            auto: make(&[b"h2", b"http/1.1"])?,
        })
    }

    fn get(&self, alpn: Alpn) -> Arc<ClientConfig> {
        match alpn {
            Alpn::None => self.none.clone(),
            Alpn::Http1 => self.http1.clone(),
            Alpn::Http2 => self.http2.clone(),
            Alpn::Auto => self.auto.clone(),
        }
    }
}

/// Accepts any certificate during the handshake (it is verified afterwards, see
/// [`cert::inspect`]) but still checks the handshake signatures against the certificate's key.
#[derive(Debug)]
struct DeferredVerifier {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for DeferredVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Who the peer must prove to be: the SNI / verified name and the trusted roots.
pub(crate) struct TlsTarget {
    name: ServerName<'static>,
    roots: Arc<RootCertStore>,
    verify: bool,
}

impl TlsTarget {
    /// Prepares a target before connecting, so a bad name or CA fails as configuration.
    pub(crate) fn new(
        name: &str,
        ca_cert: Option<&str>,
        verify: bool,
        ctx: &ProbeContext,
    ) -> Result<Self, String> {
        let bare = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        let name = ServerName::try_from(bare.to_owned())
            .map_err(|_| format!("invalid TLS server name {name:?}"))?;
        let roots = match ca_cert {
            Some(pem) => Arc::new(cert::roots_with(ctx.roots(), pem)?),
            None => ctx.roots().clone(),
        };
        Ok(Self {
            name,
            roots,
            verify,
        })
    }
}

/// Runs the handshake on `tcp`, timing it into `tls_ms`, recording the certificate facts in
/// the observation and failing with reason `tls` when verification is on and does not pass.
pub(crate) async fn handshake(
    tcp: TcpStream,
    target: &TlsTarget,
    alpn: Alpn,
    ctx: &ProbeContext,
    trace: &mut Trace,
) -> Result<TlsStream<TcpStream>, Failure> {
    let connector = TlsConnector::from(ctx.tls_configs().get(alpn));
    let peer = tcp.peer_addr().ok();
    let shown = || peer.map_or_else(|| "the server".to_owned(), |a| a.to_string());
    stage::enter(|| format!("in the TLS handshake with {}", shown()));
    let start = Instant::now();
    let result = connector.connect(target.name.clone(), tcp).await;
    Trace::add(&mut trace.obs.phases.tls_ms, ms_since(start));
    let stream =
        result.map_err(|e| trace.fail(FailureReason::Tls, handshake_error(&e, &shown())))?;
    let chain = stream.get_ref().1.peer_certificates().unwrap_or(&[]);
    let inspection = cert::inspect(
        chain,
        &target.name,
        &target.roots,
        ctx.provider(),
        ctx.now(),
    )
    .map_err(|message| trace.fail(FailureReason::Tls, message))?;
    trace.obs.cert = Some(inspection.info);
    if target.verify
        && let Some(problem) = inspection.problem
    {
        return Err(trace.fail(FailureReason::Tls, problem));
    }
    Ok(stream)
}

/// Why a handshake with `peer` failed, in plain words: a server that does not speak TLS, a
/// refusal (the alert it sent), or the connection closing mid-way.
fn handshake_error(e: &std::io::Error, peer: &str) -> String {
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::InvalidMessage(_)) => format!(
            "TLS handshake with {peer} failed: the server did not answer in TLS (is it plain HTTP or another protocol on this port?)"
        ),
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("{peer} refused the TLS handshake (alert: {alert:?})")
        }
        Some(rustls::Error::PeerIncompatible(why)) => {
            format!(
                "TLS handshake with {peer} failed: no TLS version or cipher in common ({why:?})"
            )
        }
        Some(other) => format!("TLS handshake with {peer} failed: {other}"),
        None => format!("TLS handshake with {peer} failed: {}", net::io_problem(e)),
    }
}

/// Connects to `check.host:check.port`, shakes hands with SNI `server_name` (or `host`) and
/// reports the certificate; with `verify`, an untrusted, expired or misnamed certificate fails
/// with reason `tls`.
pub async fn probe(check: &TlsCheck, ctx: &ProbeContext) -> Result<Observation, Failure> {
    let mut trace = Trace::start(ctx.now());
    let name = check.server_name.as_deref().unwrap_or(&check.host);
    let target = TlsTarget::new(name, check.ca_cert.as_deref(), check.verify, ctx)
        .map_err(|message| trace.fail(FailureReason::Config, message))?;
    let addrs = net::resolve(&check.host, ctx, &mut trace).await?;
    let tcp = net::connect(&addrs, check.port, &mut trace).await?;
    handshake(tcp, &target, Alpn::None, ctx, &mut trace).await?;
    Ok(trace.finish())
}
