//! AWS Signature Version 4 for the GET requests of a listing (API Gateway's management API):
//! the canonical request, the string to sign and the derived signing key, as AWS documents
//! them. The keys are held only while a listing runs and never shown.

use chrono::{DateTime, Utc};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The keys of one listing.
#[derive(Clone)]
pub struct Keys {
    /// Region (`eu-west-1`).
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
}

/// The service API Gateway's management API signs for.
const SERVICE: &str = "apigateway";

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3986 encoding of a query key or value (unreserved characters kept).
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The headers to add to a request of `method` to `url` with `body` at `now`:
/// `x-amz-date`, `x-amz-security-token` (temporary credentials) and `authorization`.
pub fn sign(
    keys: &Keys,
    method: &str,
    url: &str,
    now: DateTime<Utc>,
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => return Err("the URL has no host".to_owned()),
    };
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let mut query: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (encode(&k), encode(&v)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let payload = hex(&Sha256::digest(body));
    let mut headers = vec![("host", host), ("x-amz-date", amz_date.clone())];
    if let Some(token) = &keys.session_token {
        headers.push(("x-amz-security-token", token.clone()));
    }
    let signed = headers
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let canonical = format!(
        "{method}\n{}\n{query}\n{canonical_headers}\n{signed}\n{payload}",
        parsed.path()
    );
    let scope = format!("{date}/{}/{SERVICE}/aws4_request", keys.region);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{}", keys.secret_access_key).as_bytes(), &date);
    for part in [keys.region.as_str(), SERVICE, "aws4_request"] {
        key = hmac(&key, part);
    }
    let signature = hex(&hmac(&key, &to_sign));
    let mut out = vec![
        ("x-amz-date", amz_date),
        (
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
                keys.access_key_id
            ),
        ),
    ];
    if let Some(token) = &keys.session_token {
        out.push(("x-amz-security-token", token.clone()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signing key derivation of AWS's documentation ("Examples of how to derive a
    /// signing key for Signature Version 4"): secret `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`,
    /// 20120215, us-east-1, iam.
    #[test]
    fn the_signing_key_is_derived_as_documented() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let mut key = hmac(format!("AWS4{secret}").as_bytes(), "20120215");
        for part in ["us-east-1", "iam", "aws4_request"] {
            key = hmac(&key, part);
        }
        assert_eq!(
            hex(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn a_signature_names_its_scope_and_headers() {
        let keys = Keys {
            region: "eu-west-1".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: Some("tok".into()),
        };
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let headers = sign(
            &keys,
            "GET",
            "http://127.0.0.1:5000/restapis?limit=500",
            at,
            b"",
        )
        .unwrap();
        let auth = &headers
            .iter()
            .find(|(k, _)| *k == "authorization")
            .unwrap()
            .1;
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/eu-west-1/apigateway/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-security-token, Signature="
        ), "{auth}");
    }
}
