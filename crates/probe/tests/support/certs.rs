//! Certificates made in the test with rcgen: a CA, leaves it signs (valid, expired, for the wrong
//! name) and a self-signed one.

use chrono::{Datelike, TimeDelta, Utc};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, date_time_ymd};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A test certificate authority.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM (what a check's `ca_cert` holds).
    pub pem: String,
}

/// A server certificate and its key.
pub struct ServerCert {
    /// Leaf certificate.
    pub cert: CertificateDer<'static>,
    /// Its private key.
    pub key: PrivateKeyDer<'static>,
}

impl TestCa {
    /// A fresh CA named "Vedette Test CA".
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Vedette Test CA");
        let key = KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("CA cert");
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `names` valid from 30 days ago for a year.
    pub fn leaf(&self, names: &[&str]) -> ServerCert {
        self.leaf_valid(names, -30, 365)
    }

    /// A leaf for `names` that expired `days_ago` days ago.
    pub fn expired_leaf(&self, names: &[&str], days_ago: i64) -> ServerCert {
        self.leaf_valid(names, -60, -days_ago)
    }

    fn leaf_valid(&self, names: &[&str], from_days: i64, to_days: i64) -> ServerCert {
        let mut params = leaf_params(names, from_days, to_days);
        params.is_ca = IsCa::NoCa;
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf");
        ServerCert {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

/// A self-signed leaf for `names`.
pub fn self_signed(names: &[&str]) -> ServerCert {
    let params = leaf_params(names, -1, 30);
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("self-signed");
    ServerCert {
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

fn leaf_params(names: &[&str], from_days: i64, to_days: i64) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "vedette test server");
    params.not_before = day(from_days);
    params.not_after = day(to_days);
    params
}

fn day(offset: i64) -> time::OffsetDateTime {
    let d = (Utc::now() + TimeDelta::days(offset)).date_naive();
    date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
}
