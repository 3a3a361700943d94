//! The one trait every gateway implements ([`GatewaySource`]), and what they share to talk to
//! their gateway: [`Gateway`], an HTTP client bound to the source's URL, credentials, TLS,
//! deadline and byte budget. A listing either comes back whole or fails with a
//! [`ListError`] whose text never holds a credential; a failed listing deletes nothing.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vedette_model::discovery::{Credentials, DiscoverySourceSpec, Route, SecretRef};

use crate::discovery::file_root::FileRoot;

/// Why a listing failed. Its text names the request by path only (never a query or a
/// credential).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ListError {
    /// A credential could not be read.
    #[error("credential {0} could not be read")]
    Credential(String),
    /// The connection or the request failed.
    #[error("request {path} failed: {reason}")]
    Request {
        /// The path asked for.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The gateway answered with an error status.
    #[error("the gateway answered {status} to {path}")]
    Status {
        /// The path asked for.
        path: String,
        /// The status.
        status: u16,
    },
    /// The listing took longer than `connection.timeout`.
    #[error("the listing took longer than {0:?}")]
    Timeout(Duration),
    /// The answers were larger than `connection.max_bytes` in all.
    #[error("the listing is larger than {0} bytes (connection.max_bytes)")]
    TooLarge(u64),
    /// A file source names a file the server may not read (outside its discovery file
    /// root, or none is configured); the text names the field and what is allowed.
    #[error("{0}")]
    File(String),
    /// More routes than `max_routes`.
    #[error("the gateway listed more than {0} routes (max_routes)")]
    TooManyRoutes(u32),
    /// An answer was not what the gateway's API documents (garbage, a truncated body).
    #[error("unexpected answer to {path}: {reason}")]
    Malformed {
        /// The path asked for.
        path: String,
        /// What was wrong.
        reason: String,
    },
}

impl ListError {
    /// A malformed answer to `path`.
    pub fn malformed(path: &str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A gateway's listing of routes, behind one signature so that the reconciler never knows
/// which gateway it talks to.
pub trait GatewaySource {
    /// Every route the gateway serves, each with the upstream health it reports; an error
    /// when any part of the listing failed (a partial listing is never returned).
    fn list(&self, gateway: &Gateway)
    -> impl Future<Output = Result<Vec<Route>, ListError>> + Send;
}

/// A credential's value, read at the start of a listing.
#[derive(Clone)]
enum Auth {
    None,
    Header(reqwest::header::HeaderName, reqwest::header::HeaderValue),
    Sigv4(crate::discovery::sigv4::Keys),
}

/// The gateway's API as one listing sees it: base URL, credentials, a deadline for all its
/// requests together and a byte budget for all their bodies.
pub struct Gateway {
    client: reqwest::Client,
    base: String,
    auth: Auth,
    deadline: Instant,
    timeout: Duration,
    budget: std::sync::Mutex<u64>,
    max_bytes: u64,
    file_root: FileRoot,
}

/// Reads a secret's value (a trailing newline of a file dropped).
pub fn read_secret(secret: &SecretRef) -> Result<String, ListError> {
    match secret {
        SecretRef::Env(name) => {
            std::env::var(name).map_err(|_| ListError::Credential(format!("env {name}")))
        }
        SecretRef::File(path) => std::fs::read_to_string(path)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
            .map_err(|_| ListError::Credential(format!("file {path}"))),
    }
}

fn header(name: &str, value: &str) -> Result<Auth, ListError> {
    let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| ListError::Credential("header name".into()))?;
    let mut value = reqwest::header::HeaderValue::from_str(value)
        .map_err(|_| ListError::Credential("value (not a valid header value)".into()))?;
    value.set_sensitive(true);
    Ok(Auth::Header(name, value))
}

fn build_client(spec: &DiscoverySourceSpec) -> Result<reqwest::Client, ListError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(pem) = &spec.connection.tls.ca_cert {
        for cert in rustls_pki_types_pem(pem) {
            roots
                .add(cert)
                .map_err(|e| ListError::Credential(format!("connection.tls.ca_cert ({e})")))?;
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ListError::Credential(format!("TLS ({e})")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("vedette-discovery/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(spec.connection.timeout.std())
        .build()
        .map_err(|e| ListError::Request {
            path: "/".into(),
            reason: format!("client setup: {}", e.without_url()),
        })
}

fn rustls_pki_types_pem(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .filter_map(Result::ok)
        .collect()
}

impl Gateway {
    /// The gateway of `spec`, its credentials read now; a listing starts with this.
    pub fn connect(spec: &DiscoverySourceSpec) -> Result<Self, ListError> {
        let auth = match &spec.connection.credentials {
            None => Auth::None,
            Some(Credentials::Bearer { token }) => {
                header("authorization", &format!("Bearer {}", read_secret(token)?))?
            }
            Some(Credentials::Basic { username, password }) => {
                use base64_lite::encode;
                let pair = format!("{username}:{}", read_secret(password)?);
                header(
                    "authorization",
                    &format!("Basic {}", encode(pair.as_bytes())),
                )?
            }
            Some(Credentials::Header { name, value }) => header(name, &read_secret(value)?)?,
            Some(Credentials::AwsSigv4 {
                region,
                access_key_id,
                secret_access_key,
                session_token,
            }) => Auth::Sigv4(crate::discovery::sigv4::Keys {
                region: region.clone(),
                access_key_id: read_secret(access_key_id)?,
                secret_access_key: read_secret(secret_access_key)?,
                session_token: session_token.as_ref().map(read_secret).transpose()?,
            }),
        };
        let timeout = spec.connection.timeout.std();
        Ok(Self {
            client: build_client(spec)?,
            base: spec.connection.url.trim_end_matches('/').to_owned(),
            auth,
            deadline: Instant::now() + timeout,
            timeout,
            budget: std::sync::Mutex::new(spec.connection.max_bytes),
            max_bytes: spec.connection.max_bytes,
            file_root: FileRoot::default(),
        })
    }

    /// This gateway with its files read only under `root` (a gateway reads no file until
    /// it is given one).
    pub fn confined_to(mut self, root: &FileRoot) -> Self {
        self.file_root = root.clone();
        self
    }

    /// The base URL (`http://127.0.0.1:9901`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The AWS region of SigV4 credentials, if the source has them.
    pub fn aws_region(&self) -> Option<&str> {
        match &self.auth {
            Auth::Sigv4(keys) => Some(&keys.region),
            _ => None,
        }
    }

    /// The body of `GET <base><path>` (a path with its query), within the deadline and the
    /// byte budget; an error status fails.
    pub async fn get(&self, path: &str) -> Result<Vec<u8>, ListError> {
        Ok(self.get_with_headers(path).await?.0)
    }

    /// [`Gateway::get`] with the answer's headers (paging headers such as Traefik's
    /// `X-Next-Page`).
    pub async fn get_with_headers(
        &self,
        path: &str,
    ) -> Result<(Vec<u8>, reqwest::header::HeaderMap), ListError> {
        let shown = path.split('?').next().unwrap_or(path).to_owned();
        let url = format!("{}{path}", self.base);
        let mut request = self.client.get(&url);
        match &self.auth {
            Auth::None => {}
            Auth::Header(name, value) => request = request.header(name, value.clone()),
            Auth::Sigv4(keys) => {
                for (name, value) in
                    crate::discovery::sigv4::sign(keys, "GET", &url, chrono::Utc::now(), b"")
                        .map_err(|reason| ListError::Request {
                            path: shown.clone(),
                            reason,
                        })?
                {
                    request = request.header(name, value);
                }
            }
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ListError::Timeout(self.timeout));
        }
        let work = async {
            let mut response = request.send().await.map_err(|e| ListError::Request {
                path: shown.clone(),
                reason: describe(e),
            })?;
            let status = response.status().as_u16();
            if !(200..300).contains(&status) {
                return Err(ListError::Status {
                    path: shown.clone(),
                    status,
                });
            }
            let headers = response.headers().clone();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| ListError::Request {
                path: shown.clone(),
                reason: describe(e),
            })? {
                let mut budget = self
                    .budget
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let n = chunk.len() as u64;
                if n > *budget {
                    return Err(ListError::TooLarge(self.max_bytes));
                }
                *budget -= n;
                body.extend_from_slice(&chunk);
            }
            Ok((body, headers))
        };
        tokio::time::timeout(left, work)
            .await
            .map_err(|_| ListError::Timeout(self.timeout))?
    }

    /// The text of the local file the base URL names (`file:///...`), which must be under
    /// the file root ([`Gateway::confined_to`]), within the deadline and the byte budget.
    pub async fn read_file(&self) -> Result<String, ListError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let work = async {
            use tokio::io::AsyncReadExt;
            let file = self.file_root.open(&self.base).await?;
            let shown = self.base.trim_start_matches("file://");
            let budget = *self
                .budget
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut body = Vec::new();
            file.take(budget.saturating_add(1))
                .read_to_end(&mut body)
                .await
                .map_err(|e| ListError::Request {
                    path: shown.to_owned(),
                    reason: e.kind().to_string(),
                })?;
            if body.len() as u64 > budget {
                return Err(ListError::TooLarge(self.max_bytes));
            }
            *self
                .budget
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) -= body.len() as u64;
            String::from_utf8(body).map_err(|_| ListError::malformed(shown, "not UTF-8 text"))
        };
        tokio::time::timeout(left, work)
            .await
            .map_err(|_| ListError::Timeout(self.timeout))?
    }

    /// `GET <base><path>` read as JSON.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, ListError> {
        let body = self.get(path).await?;
        let shown = path.split('?').next().unwrap_or(path);
        serde_json::from_slice(&body)
            .map_err(|e| ListError::malformed(shown, format!("not JSON: {e}")))
    }
}

/// An HTTP error without its URL, with its causes.
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let e = e.without_url();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Base64 (standard alphabet, padded) for HTTP Basic credentials.
mod base64_lite {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// `bytes` in base64.
    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[cfg(test)]
    #[test]
    fn encodes_like_rfc_4648() {
        assert_eq!(encode(b"foob"), "Zm9vYg==");
        assert_eq!(encode(b"fooba"), "Zm9vYmE=");
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
    }
}
