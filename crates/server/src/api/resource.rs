//! Conventions shared by the versioned resources (monitors, maintenance windows): ownership
//! checks, `ETag` responses, generated ids.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use vedette_model::FieldError;
use vedette_model::document::slugify;
use vedette_model::validate::check_id;
use vedette_store::Scope;

use std::collections::BTreeMap;
use vedette_model::record::labels::MANAGED_BY;

use super::auth::Principal;
use super::extract::Preconditions;
use super::problem::{ApiResult, Problem};
use vedette_model::Source;
use vedette_model::{Audience, REDACTED};

/// How often a write re-reads and retries when another writer got in between.
pub const WRITE_ATTEMPTS: usize = 5;

/// 422 unless the id in the URL is a valid id and the body's id, if any, is the same.
pub fn check_ids(path_id: &str, body_id: Option<&str>) -> ApiResult<()> {
    check_id(path_id).map_err(|message| Problem::invalid("id", message))?;
    match body_id {
        Some(body_id) if body_id != path_id => Err(Problem::invalid(
            "id",
            format!("must match the id in the URL ({path_id:?})"),
        )),
        _ => Ok(()),
    }
}

/// 409 when the resource is owned by config files or the demo rather than the API.
pub fn ensure_api_managed(kind: &str, id: &str, source: Source) -> ApiResult<()> {
    match source {
        Source::File => Err(Problem::conflict(format!(
            "{kind} {id:?} is managed by config files (managed_by: file): change it in the \
             files given to --config and reload the server"
        ))),
        Source::Demo => Err(Problem::conflict(format!(
            "{kind} {id:?} is managed by the demo (managed_by: demo) and cannot be changed \
             through the API"
        ))),
        Source::Api => Ok(()),
    }
}

/// 409 when the stored resource's `managed-by` label names a manager and the write does not
/// act as it: neither `written` labels keeping that value (a replace), nor the
/// `Vedette-Manager` header naming it, nor `?force=true` (a deliberate take-over).
pub fn ensure_manager(
    kind: &str,
    id: &str,
    stored: &BTreeMap<String, String>,
    written: Option<&BTreeMap<String, String>>,
    pre: &Preconditions,
) -> ApiResult<()> {
    let Some(manager) = stored.get(MANAGED_BY) else {
        return Ok(());
    };
    let keeps = written.and_then(|w| w.get(MANAGED_BY)) == Some(manager);
    if pre.force || keeps || pre.manager.as_ref() == Some(manager) {
        return Ok(());
    }
    Err(Problem::conflict(format!(
        "{kind} {id:?} is managed by {manager:?} (label managed-by): change it through \
         {manager}; a writer acting as that manager sends the header `Vedette-Manager: \
         {manager}` (or keeps the label in a replace), and `?force=true` takes it over \
         deliberately"
    )))
}

/// `ETag: "<version>"` for a resource version.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// A JSON response carrying the resource's `ETag`.
pub fn with_etag(status: StatusCode, version: i64, body: impl Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::ETAG, etag(version));
    response
}

/// 201 with `Location` and `ETag`.
pub fn created(location: String, version: i64, body: impl Serialize) -> Response {
    let mut response = with_etag(StatusCode::CREATED, version, body);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// 304 for a conditional read of an unchanged resource.
pub fn not_modified(version: i64) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    response.headers_mut().insert(header::ETAG, etag(version));
    response
}

/// Candidate ids for a new resource: from its name (then with a random suffix), or
/// `<prefix>-<random>` when the name gives none.
pub fn id_candidates(name: Option<&str>, prefix: &str) -> Vec<String> {
    let random = || {
        use rand::RngExt;
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::rng();
        (0..8)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect::<String>()
    };
    let base = name.map(slugify).filter(|s| check_id(s).is_ok());
    match base {
        Some(base) => {
            let mut ids = vec![base.clone()];
            let stem: String = base.chars().take(119).collect();
            ids.extend((0..WRITE_ATTEMPTS).map(|_| format!("{stem}-{}", random())));
            ids
        }
        None => (0..WRITE_ATTEMPTS)
            .map(|_| format!("{prefix}-{}", random()))
            .collect(),
    }
}

/// The audience of a request authenticated as `principal` (none: the narrowest).
pub fn audience_of(principal: Option<&Extension<Principal>>) -> Audience {
    match principal {
        Some(Extension(p)) if p.scope.grants(Scope::Write) => Audience::Writer,
        _ => Audience::Reader,
    }
}

/// Where a request carrying a secret goes: scheme, host and port. A stored secret sent back
/// as `********` is kept only while this stays the same, so a write token cannot redirect a
/// credential it cannot read to a host of its choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Destination {
    /// The destination of an absolute URL (default ports filled in); `None` when it does not
    /// parse or has no host.
    pub fn of_url(url: &str) -> Option<Self> {
        let url = url::Url::parse(url.trim()).ok()?;
        Some(Self {
            scheme: url.scheme().to_owned(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default(),
        })
    }

    /// An SMTP server.
    pub fn smtp(host: &str, port: u16) -> Self {
        Self {
            scheme: "smtp".to_owned(),
            host: host.trim().trim_end_matches('.').to_ascii_lowercase(),
            port: Some(port),
        }
    }
}

/// 422 naming every field in `kept` (secrets restored from the stored value because the write
/// sent `********`) when the destination changed from `before` to `after`; an unknown
/// destination on either side counts as changed.
pub fn ensure_kept_secrets_stay(
    kept: &[String],
    before: Option<&Destination>,
    after: Option<&Destination>,
) -> ApiResult<()> {
    if kept.is_empty() || (before.is_some() && before == after) {
        return Ok(());
    }
    Err(Problem::validation(
        kept.iter()
            .map(|field| {
                FieldError::new(
                    field,
                    format!(
                        "{REDACTED:?} keeps the stored secret only while the destination (scheme, \
                         host and port) stays the same; it changed, so send the value again"
                    ),
                )
            })
            .collect(),
    ))
}
