//! Standard Webhooks signing, checked against independent implementations: the
//! `standardwebhooks` crate (the reference Rust library of the specification) for `v1`, and
//! `ring`'s Ed25519 for `v1a`.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http::{HeaderMap, HeaderValue};
use vedette_webhooks::signing::{
    self, HEADER_SIGNATURE, KeyError, Signer, Verifier, VerifyError, generate_keypair,
    generate_secret,
};

fn header_map(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.insert(*k, HeaderValue::from_str(v).expect("header value"));
    }
    map
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn reference_library_verifies_our_signatures() {
    let secret = generate_secret();
    let body = br#"{"type":"monitor.down","data":{"monitor_id":"payments-api"}}"#;
    let signer = Signer::from_secrets([secret.as_str()]).expect("secret");
    let headers = header_map(&signer.headers("msg_2b7Qk", now(), body));
    let reference = standardwebhooks::Webhook::new(&secret).expect("reference parses whsec_");
    reference
        .verify(body, &headers)
        .expect("the reference implementation accepts our signature");
    // A modified body does not verify.
    assert!(reference.verify(b"{}", &headers).is_err());
}

#[test]
fn we_verify_the_reference_librarys_signatures() {
    let secret = generate_secret();
    let reference = standardwebhooks::Webhook::new(&secret).expect("reference");
    let ts = now();
    let body = b"hello";
    let sig = reference.sign("msg_1", ts, body).expect("sign");
    let headers = header_map(&[
        ("webhook-id", "msg_1".to_owned()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", sig),
    ]);
    Verifier::new([secret.as_str()])
        .expect("secret")
        .verify(&headers, body)
        .expect("verifies");
}

#[test]
fn rotation_signs_with_both_secrets_and_each_verifies() {
    let old = generate_secret();
    let new = generate_secret();
    let signer = Signer::from_secrets([new.as_str(), old.as_str()]).expect("secrets");
    let body = b"{}";
    let headers = header_map(&signer.headers("msg_rot", now(), body));
    let value = headers[HEADER_SIGNATURE].to_str().expect("text");
    assert_eq!(value.split(' ').count(), 2, "{value}");
    for secret in [&old, &new] {
        standardwebhooks::Webhook::new(secret)
            .expect("reference")
            .verify(body, &headers)
            .expect("each receiver verifies with the secret it knows");
    }
}

#[test]
fn ed25519_signatures_verify_with_ring() {
    let (sk, pk) = generate_keypair();
    assert!(sk.starts_with("whsk_") && pk.starts_with("whpk_"));
    assert_eq!(signing::public_key_of(&sk).expect("public key"), pk);
    let body = b"payload";
    let ts = now();
    let signer = Signer::from_secrets([sk.as_str()]).expect("whsk_");
    let sig = signer.sign("msg_ed", ts, body);
    let raw = B64
        .decode(sig.strip_prefix("v1a,").expect("v1a signature"))
        .expect("base64");
    let public = B64
        .decode(pk.strip_prefix("whpk_").expect("prefix"))
        .expect("b64");
    let content = format!("msg_ed.{ts}.payload");
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public)
        .verify(content.as_bytes(), &raw)
        .expect("ring verifies our Ed25519 signature");
    // And our verifier accepts it with the public key alone.
    let headers = header_map(&signer.headers("msg_ed", ts, body));
    Verifier::new([pk.as_str()])
        .expect("whpk_")
        .verify(&headers, body)
        .expect("verifies");
}

#[test]
fn mixed_hmac_and_ed25519_header() {
    let secret = generate_secret();
    let (sk, pk) = generate_keypair();
    let signer = Signer::from_secrets([secret.as_str(), sk.as_str()]).expect("keys");
    let headers = header_map(&signer.headers("msg_mix", now(), b"x"));
    standardwebhooks::Webhook::new(&secret)
        .expect("reference")
        .verify(b"x", &headers)
        .expect("the reference library skips the v1a entry and checks v1");
    Verifier::new([pk.as_str()])
        .expect("pk")
        .verify(&headers, b"x")
        .expect("v1a");
}

#[test]
fn verifier_enforces_timestamp_tolerance() {
    let secret = generate_secret();
    let signer = Signer::from_secrets([secret.as_str()]).expect("secret");
    let verifier = Verifier::new([secret.as_str()]).expect("secret");
    let ts = 1_700_000_000;
    let headers = header_map(&signer.headers("msg_t", ts, b"b"));
    verifier
        .verify_at(&headers, b"b", ts + 299)
        .expect("inside 5 minutes");
    assert_eq!(
        verifier.verify_at(&headers, b"b", ts + 301),
        Err(VerifyError::OutsideTolerance {
            skew_secs: 301,
            tolerance_secs: 300
        })
    );
    assert!(
        verifier.verify_at(&headers, b"b", ts - 301).is_err(),
        "future"
    );
    let lax = verifier.clone().with_tolerance(Duration::from_secs(3600));
    lax.verify_at(&headers, b"b", ts + 3000)
        .expect("wider tolerance");
}

#[test]
fn verifier_rejects_wrong_secret_missing_headers_and_garbage() {
    let signer = Signer::from_secrets([generate_secret().as_str()]).expect("secret");
    let other = Verifier::new([generate_secret().as_str()]).expect("secret");
    let ts = now();
    let headers = header_map(&signer.headers("msg_w", ts, b"b"));
    assert_eq!(other.verify(&headers, b"b"), Err(VerifyError::NoMatch));
    let mut missing = headers.clone();
    missing.remove("webhook-id");
    assert_eq!(
        other.verify(&missing, b"b"),
        Err(VerifyError::MissingHeader("webhook-id"))
    );
    let mut garbage = headers.clone();
    garbage.insert(
        "webhook-signature",
        HeaderValue::from_static("v1,%%% nonsense v2,abc"),
    );
    assert_eq!(other.verify(&garbage, b"b"), Err(VerifyError::NoMatch));
    let mut bad_ts = headers;
    bad_ts.insert("webhook-timestamp", HeaderValue::from_static("soon"));
    assert_eq!(other.verify(&bad_ts, b"b"), Err(VerifyError::BadTimestamp));
}

#[test]
fn bad_keys_are_refused_without_echoing_them() {
    let err = Signer::from_secrets(["nope_c2VjcmV0"]).expect_err("prefix");
    assert!(matches!(err, KeyError::Prefix { .. }));
    let err = Signer::from_secrets(["whsec_!!!notbase64"]).expect_err("base64");
    assert!(!err.to_string().contains("notbase64"));
    let err = Signer::from_secrets(["whsec_c2hvcnQ="]).expect_err("too short");
    assert!(matches!(err, KeyError::Length { found: 5, .. }), "{err}");
}
