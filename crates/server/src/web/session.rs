//! Dashboard sessions: signing in with an API token gives a random session id in an
//! `HttpOnly`, `SameSite=Strict` cookie (`Secure` when the server is reached over https). The
//! server keeps, per session, only the token's id, its scope and a CSRF token — never the
//! secret. The table is bounded ([`MAX_SESSIONS`]; the least recently used goes first) and a
//! session ends after [`IDLE_TIMEOUT`] without use, after [`MAX_AGE`], when its token expires,
//! or when the token is revoked (looked up on every request).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use sha2::{Digest, Sha256};
use vedette_store::{Scope, Store};

/// Name of the session cookie.
pub const COOKIE: &str = "vedette_session";
/// Name of the cookie holding the sign-in form's CSRF token (before a session exists).
pub const LOGIN_COOKIE: &str = "vedette_login";
/// Most sessions kept at once.
pub const MAX_SESSIONS: usize = 10_000;
/// A session unused this long ends.
pub const IDLE_TIMEOUT: Duration = Duration::hours(12);
/// A session ends this long after sign-in, used or not.
pub const MAX_AGE: Duration = Duration::days(7);

/// Who a dashboard request comes from: the signed-in token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The token's id.
    pub token_id: String,
    /// The token's name.
    pub name: String,
    /// The token's widest scope.
    pub scope: Scope,
    /// The session's CSRF token, put in every form and checked on every POST.
    pub csrf: String,
    /// When the token expires, if it does (the live stream ends then).
    pub expires_at: Option<DateTime<Utc>>,
}

impl Viewer {
    /// Whether this viewer may pause, resume and run monitors and replay deliveries.
    pub fn can_write(&self) -> bool {
        self.scope.grants(Scope::Write)
    }

    /// Whether this viewer may see the tokens page.
    pub fn is_admin(&self) -> bool {
        self.scope.grants(Scope::Admin)
    }
}

/// One signed-in browser.
#[derive(Debug, Clone)]
struct Session {
    viewer: Viewer,
    created: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    expires: DateTime<Utc>,
}

/// The server-side session table (keyed by the SHA-256 of the cookie value).
#[derive(Debug, Default)]
pub struct Sessions {
    table: Mutex<HashMap<String, Session>>,
}

/// A random URL-safe string of 43 characters (256 bits).
pub fn random_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..43)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn key(cookie_value: &str) -> String {
    let digest = Sha256::digest(cookie_value.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two strings in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Sessions {
    /// Starts a session for `viewer` (ending when its token expires, at the latest); returns the cookie value. The least recently used session makes room when full.
    pub fn start(&self, viewer: Viewer) -> String {
        let now = Utc::now();
        let id = random_token();
        let expires = viewer
            .expires_at
            .map_or(now + MAX_AGE, |at| at.min(now + MAX_AGE));
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if table.len() >= MAX_SESSIONS {
            table.retain(|_, s| s.live(now));
        }
        if table.len() >= MAX_SESSIONS
            && let Some(oldest) = table
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
        {
            table.remove(&oldest);
        }
        table.insert(
            key(&id),
            Session {
                viewer,
                created: now,
                last_seen: now,
                expires,
            },
        );
        id
    }

    /// The viewer of a live session, marking it used; `None` for an unknown or ended one.
    fn touch(&self, cookie_value: &str) -> Option<Viewer> {
        let now = Utc::now();
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let k = key(cookie_value);
        let session = table.get_mut(&k)?;
        if !session.live(now) {
            table.remove(&k);
            return None;
        }
        session.last_seen = now;
        Some(session.viewer.clone())
    }

    /// Ends the session of `cookie_value`, if any.
    pub fn end(&self, cookie_value: &str) {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key(cookie_value));
    }

    /// Sessions held now (ended ones included until a full table sweeps them).
    pub fn len(&self) -> usize {
        self.table.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The viewer of the request's session cookie, if it names a live session whose token
    /// the store still holds as active (a revoked token ends its sessions at once).
    pub async fn viewer(&self, store: &Store, headers: &HeaderMap) -> Option<Viewer> {
        let value = cookie(headers, COOKIE)?;
        let viewer = self.touch(&value)?;
        match store.get_token(&viewer.token_id).await {
            Ok(Some(token)) if token.revoked_at.is_none() && token.is_active(Utc::now()) => {
                Some(viewer)
            }
            Ok(_) => {
                self.end(&value);
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "dashboard: looking up a session's token failed");
                None
            }
        }
    }
}

impl Session {
    fn live(&self, now: DateTime<Utc>) -> bool {
        now < self.expires && now - self.last_seen < IDLE_TIMEOUT && self.created <= now
    }
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` when `secure`;
/// `max_age` 0 deletes the cookie, `None` makes it last the browser session.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer() -> Viewer {
        Viewer {
            token_id: "tok_1".into(),
            name: "t".into(),
            scope: Scope::Read,
            csrf: random_token(),
            expires_at: None,
        }
    }

    #[test]
    fn a_started_session_is_found_and_ends_on_sign_out() {
        let sessions = Sessions::default();
        let id = sessions.start(viewer());
        assert_eq!(
            sessions.touch(&id).map(|v| v.token_id),
            Some("tok_1".into())
        );
        assert!(sessions.touch("other").is_none());
        sessions.end(&id);
        assert!(sessions.touch(&id).is_none());
    }

    #[test]
    fn the_table_is_bounded() {
        let sessions = Sessions::default();
        let first = sessions.start(viewer());
        for _ in 0..MAX_SESSIONS {
            sessions.start(viewer());
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
        assert!(sessions.touch(&first).is_none());
    }

    #[test]
    fn a_session_ends_with_its_token() {
        let sessions = Sessions::default();
        let id = sessions.start(Viewer {
            expires_at: Some(Utc::now() - Duration::seconds(1)),
            ..viewer()
        });
        assert!(sessions.touch(&id).is_none());
    }

    #[test]
    fn cookies_are_parsed_and_flagged() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; vedette_session=xyz"),
        );
        assert_eq!(cookie(&headers, COOKIE).as_deref(), Some("xyz"));
        let set = set_cookie(COOKIE, "v", true, None);
        let text = set.to_str().unwrap();
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Strict"));
        assert!(text.contains("Secure"));
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd"));
    }
}
