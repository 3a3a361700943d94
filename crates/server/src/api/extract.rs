//! Request extractors that answer with problem+json instead of axum's plain-text rejections:
//! a JSON body (415 when not JSON, 413 over the limit, 400 when malformed), query parameters,
//! and the `If-Match` / `If-None-Match` preconditions (never refused: a tag that is not a
//! version matches none).

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use futures::StreamExt;
use serde_json::Value;

use super::problem::{ApiResult, Problem};

/// Largest request body accepted (1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most bytes of an oversized body read and dropped before answering 413, so that a client
/// still sending gets the answer rather than a reset connection.
pub const MAX_DRAIN_BYTES: usize = 16 * 1024 * 1024;

/// A JSON request body, parsed but not yet typed (typing happens with field paths).
#[derive(Debug, Clone)]
pub struct JsonBody(pub Value);

/// Whether a `Content-Type` is JSON: `application/json` or any `+json` type (such as
/// `application/merge-patch+json`), parameters aside.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads a body of at most [`MAX_BODY_BYTES`]; a larger one is drained (up to
/// [`MAX_DRAIN_BYTES`]) and answered with 413.
async fn read_limited(body: Body) -> ApiResult<Vec<u8>> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut seen = 0_usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| Problem::bad_request("the request body could not be read"))?;
        seen = seen.saturating_add(chunk.len());
        if seen > MAX_DRAIN_BYTES {
            break;
        }
        if seen <= MAX_BODY_BYTES {
            bytes.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(Problem::payload_too_large(MAX_BODY_BYTES));
    }
    Ok(bytes)
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Problem;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Problem> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_DRAIN_BYTES) {
            return Err(Problem::payload_too_large(MAX_BODY_BYTES));
        }
        if !is_json(content_type) {
            return Err(Problem::unsupported_media_type(
                "request bodies must be JSON: send Content-Type: application/json \
                 (or application/merge-patch+json for PATCH)",
            ));
        }
        let bytes = read_limited(req.into_body()).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| Problem::bad_request(format!("malformed JSON: {e}")))
    }
}

/// The one `{name}` segment of a path (a resource id, a token), percent-decoded. A segment that
/// does not decode to UTF-8 is kept as sent: it names no resource (404) and is no valid id
/// (422 on a create), so it needs no answer of its own.
#[derive(Debug, Clone)]
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        if let Ok(Path(id)) = Path::<String>::from_request_parts(parts, state).await {
            return Ok(PathId(id));
        }
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|params| params.iter().next().map(|(_, value)| value.to_owned()))
            .unwrap_or_default();
        Ok(PathId(raw))
    }
}

/// The query string as name/value pairs.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|Query(pairs)| Params(pairs))
            .map_err(|_| Problem::bad_request("the query string is malformed"))
    }
}

impl Params {
    /// The value of `name` (the last one when repeated); an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// `?limit=` between 1 and `max`, `default` when absent.
    pub fn limit(&self, default: usize, max: usize) -> ApiResult<usize> {
        match self.get("limit") {
            None => Ok(default),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(Problem::bad_param(
                    "limit",
                    format!("expected an integer from 1 to {max}"),
                )),
            },
        }
    }

    /// A comma-separated list (`ids=a,b`), empty items dropped.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Entity tags in a precondition header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tags {
    /// `*`.
    Any,
    /// One or more versions.
    Versions(Vec<i64>),
}

impl Tags {
    /// The tags of header `name`. A tag that is not a quoted version (or the header is not
    /// text, or lists none) cannot match any version: RFC 9110 makes `If-Match` fail (412)
    /// and `If-None-Match` hold, rather than refusing the request.
    fn parse(name: &str, headers: &HeaderMap) -> Option<Tags> {
        let value = headers.get(name)?;
        let Ok(text) = value.to_str() else {
            return Some(Tags::Versions(Vec::new()));
        };
        let text = text.trim();
        if text == "*" {
            return Some(Tags::Any);
        }
        let versions = text
            .split(',')
            .filter_map(|tag| {
                let tag = tag.trim();
                let tag = tag.strip_prefix("W/").unwrap_or(tag);
                tag.strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .unwrap_or(tag)
                    .parse::<i64>()
                    .ok()
            })
            .collect();
        Some(Tags::Versions(versions))
    }

    fn matches(&self, version: Option<i64>) -> bool {
        match (self, version) {
            (_, None) => false,
            (Tags::Any, Some(_)) => true,
            (Tags::Versions(vs), Some(v)) => vs.contains(&v),
        }
    }
}

/// `If-Match` and `If-None-Match` of a request.
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    /// `If-Match`.
    pub if_match: Option<Tags>,
    /// `If-None-Match`.
    pub if_none_match: Option<Tags>,
    /// `Vedette-Manager`: the manager (`managed-by` label value) the writer acts as.
    pub manager: Option<String>,
    /// `?force=true`: take over a resource another manager owns, deliberately.
    pub force: bool,
}

/// The header naming the manager a writer acts as, checked against a resource's
/// `managed-by` label.
pub const MANAGER_HEADER: &str = "vedette-manager";

impl<S: Send + Sync> FromRequestParts<S> for Preconditions {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Preconditions {
            if_match: Tags::parse("if-match", &parts.headers),
            if_none_match: Tags::parse("if-none-match", &parts.headers),
            manager: parts
                .headers
                .get(MANAGER_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
            force: parts
                .uri
                .query()
                .unwrap_or_default()
                .split('&')
                .any(|pair| pair == "force=true"),
        })
    }
}

impl Preconditions {
    /// Whether the request names any precondition.
    pub fn any(&self) -> bool {
        self.if_match.is_some() || self.if_none_match.is_some()
    }

    /// Checks a write against the current version of `what` (`None` when it does not exist).
    pub fn check_write(&self, what: &str, current: Option<i64>) -> ApiResult<()> {
        if let Some(tags) = &self.if_match
            && !tags.matches(current)
        {
            return Err(Problem::precondition_failed(match current {
                None => format!("{what} does not exist (If-Match)"),
                Some(v) => format!("{what} is at version {v} (If-Match)"),
            }));
        }
        if let Some(tags) = &self.if_none_match
            && tags.matches(current)
        {
            return Err(Problem::precondition_failed(format!(
                "{what} already exists at version {} (If-None-Match)",
                current.unwrap_or_default()
            )));
        }
        Ok(())
    }

    /// For a read: whether `If-None-Match` names the current version (answer 304).
    pub fn not_modified(&self, version: i64) -> bool {
        self.if_none_match
            .as_ref()
            .is_some_and(|t| t.matches(Some(version)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }

    #[test]
    fn tags_parse_and_match() {
        let mut headers = HeaderMap::new();
        headers.insert("if-match", "W/\"3\", \"4\"".parse().expect("header"));
        let tags = Tags::parse("if-match", &headers).expect("present");
        assert_eq!(tags, Tags::Versions(vec![3, 4]));
        assert!(tags.matches(Some(4)));
        assert!(!tags.matches(Some(5)));
        assert!(!Tags::Any.matches(None));
        // Tags that are not versions match nothing (412 on If-Match), and are not refused.
        for odd in ["\"x\"", "", "\"3\", \"abc\""] {
            headers.insert("if-match", odd.parse().expect("header"));
            let tags = Tags::parse("if-match", &headers).expect("present");
            assert!(!tags.matches(Some(7)), "{odd:?}");
        }
        assert!(Tags::parse("if-none-match", &headers).is_none());
    }
}
