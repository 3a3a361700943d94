//! Facts about a peer certificate (x509-parser) and its verification against trusted roots,
//! done after the handshake so the facts are known even when verification is switched off.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustls::RootCertStore;
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, Error as TlsError};
use vedette_model::result::CertInfo;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// A certificate's facts and, when it does not verify, the first problem in words.
pub(crate) struct Inspection {
    pub(crate) info: CertInfo,
    pub(crate) problem: Option<String>,
}

/// Adds the PEM certificates in `pem` to a copy of `roots`.
pub(crate) fn roots_with(roots: &RootCertStore, pem: &str) -> Result<RootCertStore, String> {
    let mut roots = roots.clone();
    let mut added = 0;
    for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
        let cert = cert.map_err(|e| format!("ca_cert: invalid PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("ca_cert: unusable certificate: {e}"))?;
        added += 1;
    }
    if added == 0 {
        return Err("ca_cert: no certificate found in PEM".to_owned());
    }
    Ok(roots)
}

/// Inspects the chain a server sent (`chain[0]` is the leaf): validity, chain to `roots` at
/// `now`, and whether it is valid for `name`.
pub(crate) fn inspect(
    chain: &[CertificateDer<'_>],
    name: &ServerName<'_>,
    roots: &RootCertStore,
    provider: &Arc<CryptoProvider>,
    now: DateTime<Utc>,
) -> Result<Inspection, String> {
    let leaf = chain
        .first()
        .ok_or_else(|| "server sent no certificate".to_owned())?;
    let (_, x509) = X509Certificate::from_der(leaf.as_ref())
        .map_err(|e| format!("cannot parse the server certificate: {e}"))?;
    let not_before = timestamp(x509.validity().not_before.timestamp());
    let not_after = timestamp(x509.validity().not_after.timestamp());
    let sans = sans(&x509);

    let unix_now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        u64::try_from(now.timestamp()).unwrap_or(0),
    ));
    let (chain_valid, hostname_match, chain_error) = match ParsedCertificate::try_from(leaf) {
        Ok(parsed) => {
            let chain_result = verify_server_cert_signed_by_trust_anchor(
                &parsed,
                roots,
                &chain[1..],
                unix_now,
                provider.signature_verification_algorithms.all,
            );
            let hostname_match = verify_server_name(&parsed, name).is_ok();
            (chain_result.is_ok(), hostname_match, chain_result.err())
        }
        Err(e) => (false, false, Some(e)),
    };

    let problem = if now > not_after {
        Some(format!(
            "certificate expired {} ago",
            human_span(now - not_after)
        ))
    } else if now < not_before {
        Some(format!(
            "certificate is not valid before {}",
            not_before.format("%Y-%m-%d %H:%M:%S UTC")
        ))
    } else if let Some(e) = chain_error {
        Some(format!("certificate is not trusted: {}", chain_problem(&e)))
    } else if !hostname_match {
        Some(format!(
            "certificate is not valid for name {} (it names {})",
            name.to_str(),
            if sans.is_empty() {
                "nothing".to_owned()
            } else {
                sans.join(", ")
            }
        ))
    } else {
        None
    };

    Ok(Inspection {
        info: CertInfo {
            not_after,
            not_before,
            issuer: x509.issuer().to_string(),
            subject: x509.subject().to_string(),
            sans,
            chain_valid,
            hostname_match,
        },
        problem,
    })
}

fn timestamp(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some((*dns).to_owned()),
            GeneralName::IPAddress(bytes) => ip_from_bytes(bytes).map(|ip| ip.to_string()),
            _ => None,
        })
        .collect()
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::from(v4));
    }
    <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from)
}

fn chain_problem(e: &TlsError) -> String {
    match e {
        TlsError::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "unknown issuer (self-signed, or its CA is not trusted)".to_owned()
        }
        TlsError::InvalidCertificate(CertificateError::BadSignature) => "bad signature".to_owned(),
        TlsError::InvalidCertificate(CertificateError::Revoked) => "revoked".to_owned(),
        other => other.to_string(),
    }
}

/// `3 days`, `1 day`, `5 hours`, `12 minutes`.
pub(crate) fn human_span(span: chrono::TimeDelta) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if span.num_days() >= 1 {
        plural(span.num_days(), "day")
    } else if span.num_hours() >= 1 {
        plural(span.num_hours(), "hour")
    } else {
        plural(span.num_minutes(), "minute")
    }
}
