//! Standard Webhooks 1.0 signatures.
//!
//! Every delivery carries three headers: `webhook-id` (the message id, the same on every retry),
//! `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature`, a space-separated
//! list of `v1,<base64 HMAC-SHA256>` and/or `v1a,<base64 Ed25519>` signatures over
//! `{id}.{timestamp}.{body}`. Symmetric secrets are `whsec_<base64 key>`; asymmetric keys are
//! `whsk_<base64 32-byte seed>` (secret) and `whpk_<base64 32-byte key>` (public).
//!
//! During a secret rotation an endpoint holds its new secret and the previous ones until their
//! overlap ends; [`Signer`] signs with all of them, so receivers that still know only the old
//! secret keep verifying until they switch.
//!
//! Secrets never appear in `Debug` output or error messages.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, Verifier as _};
use hmac::{Mac, digest::KeyInit};
use rand::Rng;
use sha2::Sha256;

/// Header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the attempt's unix timestamp in seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// Prefix of a symmetric (HMAC-SHA256) secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Prefix of an Ed25519 secret key.
pub const SECRET_KEY_PREFIX: &str = "whsk_";
/// Prefix of an Ed25519 public key.
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";
/// Default tolerance between a signature's timestamp and the verifier's clock.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// Bytes of a generated HMAC secret (Standard Webhooks asks for 24 to 64).
const GENERATED_SECRET_BYTES: usize = 32;
/// Shortest HMAC key accepted, in bytes.
const MIN_SECRET_BYTES: usize = 16;
/// Longest HMAC key accepted, in bytes.
const MAX_SECRET_BYTES: usize = 128;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Why a secret or key was refused. Never contains the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The value does not start with `whsec_`, `whsk_` or `whpk_` as required here.
    #[error("expected a key starting with {expected}")]
    Prefix {
        /// The accepted prefixes.
        expected: &'static str,
    },
    /// The part after the prefix is not standard base64.
    #[error("the key after its prefix is not valid base64")]
    Base64,
    /// The decoded key has the wrong size.
    #[error("the key decodes to {found} bytes; expected {expected}")]
    Length {
        /// Size found.
        found: usize,
        /// Size(s) accepted.
        expected: &'static str,
    },
}

/// Why a delivery did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header is absent or not text.
    #[error("missing or unreadable header {0}")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not an integer.
    #[error("webhook-timestamp is not an integer number of seconds")]
    BadTimestamp,
    /// The timestamp is further from now than the tolerance allows.
    #[error("webhook-timestamp is {skew_secs} s away from now (tolerance {tolerance_secs} s)")]
    OutsideTolerance {
        /// Absolute difference to the verifier's clock.
        skew_secs: u64,
        /// Tolerance in force.
        tolerance_secs: u64,
    },
    /// No signature in `webhook-signature` matched any known key.
    #[error("no signature matched")]
    NoMatch,
}

/// One key that signs deliveries.
#[derive(Clone)]
pub enum SigningKey {
    /// A `whsec_` secret: `v1` HMAC-SHA256 signatures.
    Hmac(Vec<u8>),
    /// A `whsk_` secret key: `v1a` Ed25519 signatures.
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hmac(_) => f.write_str("SigningKey::Hmac(<redacted>)"),
            Self::Ed25519(_) => f.write_str("SigningKey::Ed25519(<redacted>)"),
        }
    }
}

fn decode_b64(body: &str) -> Result<Vec<u8>, KeyError> {
    B64.decode(body.trim()).map_err(|_| KeyError::Base64)
}

fn seed_from(bytes: &[u8]) -> Result<[u8; 32], KeyError> {
    // A 64-byte value is seed followed by public key (the libsodium/dalek keypair layout).
    let seed = match bytes.len() {
        32 | 64 => &bytes[..32],
        found => {
            return Err(KeyError::Length {
                found,
                expected: "32 (seed) or 64 (keypair)",
            });
        }
    };
    let mut out = [0u8; 32];
    out.copy_from_slice(seed);
    Ok(out)
}

impl SigningKey {
    /// Parses a `whsec_...` or `whsk_...` value.
    pub fn parse(value: &str) -> Result<Self, KeyError> {
        if let Some(body) = value.strip_prefix(SECRET_PREFIX) {
            let key = decode_b64(body)?;
            if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
                return Err(KeyError::Length {
                    found: key.len(),
                    expected: "16 to 128",
                });
            }
            Ok(Self::Hmac(key))
        } else if let Some(body) = value.strip_prefix(SECRET_KEY_PREFIX) {
            let seed = seed_from(&decode_b64(body)?)?;
            Ok(Self::Ed25519(Box::new(
                ed25519_dalek::SigningKey::from_bytes(&seed),
            )))
        } else {
            Err(KeyError::Prefix {
                expected: "whsec_ or whsk_",
            })
        }
    }

    /// One signature (`v1,...` or `v1a,...`) over `content`.
    fn sign(&self, content: &[u8]) -> String {
        match self {
            Self::Hmac(key) => {
                // HMAC accepts keys of any length, so this cannot fail.
                let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
                    .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
                mac.update(content);
                format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
            }
            Self::Ed25519(key) => format!("v1a,{}", B64.encode(key.sign(content).to_bytes())),
        }
    }
}

/// A new random `whsec_` secret.
pub fn generate_secret() -> String {
    let mut key = [0u8; GENERATED_SECRET_BYTES];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", B64.encode(key))
}

/// A new random Ed25519 key pair: (`whsk_` secret key, `whpk_` public key).
pub fn generate_keypair() -> (String, String) {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    (
        format!("{SECRET_KEY_PREFIX}{}", B64.encode(seed)),
        format!(
            "{PUBLIC_KEY_PREFIX}{}",
            B64.encode(key.verifying_key().to_bytes())
        ),
    )
}

/// The `whpk_` public key of a `whsk_` secret key.
pub fn public_key_of(secret_key: &str) -> Result<String, KeyError> {
    match SigningKey::parse(secret_key)? {
        SigningKey::Ed25519(key) => Ok(format!(
            "{PUBLIC_KEY_PREFIX}{}",
            B64.encode(key.verifying_key().to_bytes())
        )),
        SigningKey::Hmac(_) => Err(KeyError::Prefix {
            expected: SECRET_KEY_PREFIX,
        }),
    }
}

/// The bytes every signature covers: `{id}.{timestamp}.{body}`.
fn signed_content(msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg_id.len() + body.len() + 24);
    out.extend_from_slice(msg_id.as_bytes());
    out.push(b'.');
    out.extend_from_slice(timestamp.to_string().as_bytes());
    out.push(b'.');
    out.extend_from_slice(body);
    out
}

/// Signs deliveries with one or more keys (several during a rotation overlap).
#[derive(Debug, Clone, Default)]
pub struct Signer {
    keys: Vec<SigningKey>,
}

impl Signer {
    /// A signer over these keys; the signature header lists one signature per key, in order.
    pub fn new(keys: Vec<SigningKey>) -> Self {
        Self { keys }
    }

    /// A signer from `whsec_`/`whsk_` strings.
    pub fn from_secrets<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Result<Self, KeyError> {
        Ok(Self::new(
            secrets
                .into_iter()
                .map(SigningKey::parse)
                .collect::<Result<_, _>>()?,
        ))
    }

    /// Whether the signer has no key (then deliveries go out unsigned).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `webhook-signature` value: space-separated signatures, one per key.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let content = signed_content(msg_id, timestamp, body);
        self.keys
            .iter()
            .map(|k| k.sign(&content))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The three Standard Webhooks headers for one attempt, as (name, value) pairs.
    pub fn headers(
        &self,
        msg_id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> [(&'static str, String); 3] {
        [
            (HEADER_ID, msg_id.to_owned()),
            (HEADER_TIMESTAMP, timestamp.to_string()),
            (HEADER_SIGNATURE, self.sign(msg_id, timestamp, body)),
        ]
    }
}

/// A key that verifies signatures.
#[derive(Clone)]
enum VerifyKey {
    Hmac(Vec<u8>),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// Verifies Standard Webhooks deliveries against one or more secrets or public keys.
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<VerifyKey>,
    tolerance: Duration,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl Verifier {
    /// A verifier for `whsec_` secrets and `whpk_` public keys (a `whsk_` secret key is
    /// accepted too and verifies through its public half), with the default tolerance.
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<Self, KeyError> {
        let keys = keys
            .into_iter()
            .map(|k| {
                if let Some(body) = k.strip_prefix(PUBLIC_KEY_PREFIX) {
                    let bytes: [u8; 32] =
                        decode_b64(body)?
                            .try_into()
                            .map_err(|v: Vec<u8>| KeyError::Length {
                                found: v.len(),
                                expected: "32",
                            })?;
                    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| {
                        KeyError::Length {
                            found: 32,
                            expected: "32 bytes of a valid Ed25519 point",
                        }
                    })?;
                    return Ok(VerifyKey::Ed25519(key));
                }
                match SigningKey::parse(k).map_err(|e| match e {
                    KeyError::Prefix { .. } => KeyError::Prefix {
                        expected: "whsec_, whpk_ or whsk_",
                    },
                    other => other,
                })? {
                    SigningKey::Hmac(key) => Ok(VerifyKey::Hmac(key)),
                    SigningKey::Ed25519(key) => Ok(VerifyKey::Ed25519(key.verifying_key())),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            keys,
            tolerance: DEFAULT_TOLERANCE,
        })
    }

    /// The same verifier with another timestamp tolerance.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies a delivery against the current clock.
    pub fn verify(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        self.verify_at(headers, body, chrono::Utc::now().timestamp())
    }

    /// Verifies a delivery as if the clock read `now` (unix seconds).
    pub fn verify_at(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<(), VerifyError> {
        let get = |name: &'static str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .ok_or(VerifyError::MissingHeader(name))
        };
        let msg_id = get(HEADER_ID)?;
        let timestamp: i64 = get(HEADER_TIMESTAMP)?
            .trim()
            .parse()
            .map_err(|_| VerifyError::BadTimestamp)?;
        let signatures = get(HEADER_SIGNATURE)?;
        let skew = now.abs_diff(timestamp);
        if skew > self.tolerance.as_secs() {
            return Err(VerifyError::OutsideTolerance {
                skew_secs: skew,
                tolerance_secs: self.tolerance.as_secs(),
            });
        }
        let content = signed_content(msg_id, timestamp, body);
        for sig in signatures.split_whitespace() {
            let Some((version, value)) = sig.split_once(',') else {
                continue;
            };
            let Ok(raw) = B64.decode(value) else {
                continue;
            };
            for key in &self.keys {
                let ok = match (version, key) {
                    ("v1", VerifyKey::Hmac(secret)) => {
                        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
                            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
                        mac.update(&content);
                        // Constant-time comparison.
                        mac.verify_slice(&raw).is_ok()
                    }
                    ("v1a", VerifyKey::Ed25519(public)) => {
                        ed25519_dalek::Signature::from_slice(&raw)
                            .is_ok_and(|s| public.verify(&content, &s).is_ok())
                    }
                    _ => false,
                };
                if ok {
                    return Ok(());
                }
            }
        }
        Err(VerifyError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example from the Standard Webhooks specification.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1614265330;
    const SPEC_BODY: &str = r#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn matches_the_specification_example() {
        let signer = Signer::from_secrets([SPEC_SECRET]).expect("secret");
        assert_eq!(
            signer.sign(SPEC_ID, SPEC_TS, SPEC_BODY.as_bytes()),
            SPEC_SIG
        );
    }

    #[test]
    fn debug_output_hides_keys() {
        let key = SigningKey::parse(SPEC_SECRET).expect("secret");
        let text = format!("{key:?} {:?}", Signer::new(vec![key.clone()]));
        assert!(!text.contains("MfKQ9r8"), "{text}");
        let verifier = Verifier::new([SPEC_SECRET]).expect("secret");
        assert!(!format!("{verifier:?}").contains("MfKQ9r8"));
    }
}
