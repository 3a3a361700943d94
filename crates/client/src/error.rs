//! Errors of the client: what the server refused (RFC 9457 problem+json) and what never reached it.

use std::fmt;

use serde::Deserialize;
pub use vedette_model::FieldError;

/// Longest piece of a non-JSON error body kept in [`ApiError::detail`].
const MAX_PLAIN_DETAIL: usize = 512;

/// Anything a client call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The request did not get an answer: connection refused, DNS, TLS, timeout.
    #[error("cannot reach {url}: {message}")]
    Transport {
        /// The URL the request went to.
        url: String,
        /// The underlying cause, innermost first.
        message: String,
    },
    /// The server answered with a success status but a body this client cannot read.
    #[error("unexpected response from {url}: {message}")]
    Decode {
        /// The URL the request went to.
        url: String,
        /// What was wrong with the body.
        message: String,
    },
    /// The base URL given to [`crate::Client::new`] is unusable.
    #[error("invalid server URL {url:?}: {message}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it is refused.
        message: String,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

impl Error {
    /// The HTTP status when the server answered with an error, else `None`.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.status),
            _ => None,
        }
    }

    /// The server answered 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    pub(crate) fn transport(url: &reqwest::Url, error: &reqwest::Error) -> Self {
        Self::Transport {
            url: redact(url),
            message: root_cause(error),
        }
    }

    pub(crate) fn decode(url: &reqwest::Url, message: impl fmt::Display) -> Self {
        Self::Decode {
            url: redact(url),
            message: message.to_string(),
        }
    }
}

/// The URL without user information or query, for messages.
fn redact(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.to_string()
}

/// The error and its causes as one line, skipping reqwest's generic outer wording where a cause
/// says more.
fn root_cause(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    let useful: Vec<&String> = parts
        .iter()
        .filter(|p| !p.starts_with("error sending request") && !p.starts_with("client error"))
        .collect();
    match useful.last() {
        Some(last) => (*last).clone(),
        None => parts.join(": "),
    }
}

/// An error answer of the API: RFC 9457 problem details, or the status and body text when the
/// server (or a proxy in front of it) did not send problem+json.
///
/// Displays for people, e.g. `422 Unprocessable Entity: spec.http.url: expected an absolute
/// http:// or https:// URL`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// Short summary of the problem type (`Unprocessable Entity`, `Not Found`).
    pub title: String,
    /// Explanation specific to this occurrence.
    pub detail: Option<String>,
    /// The problem type URI, e.g. `https://vedette.dev/problems/validation`.
    pub problem_type: Option<String>,
    /// Each invalid field with its dotted path.
    pub errors: Vec<FieldError>,
}

#[derive(Deserialize)]
struct Problem {
    #[serde(default, rename = "type")]
    problem_type: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    errors: Vec<FieldError>,
}

impl ApiError {
    /// Builds the error of a response with status `status`, content type `content_type` and body
    /// `body`.
    pub fn from_response(status: u16, content_type: Option<&str>, body: &[u8]) -> Self {
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error")
            .to_owned();
        let is_json = content_type.is_some_and(|c| c.contains("json"));
        if is_json && let Ok(problem) = serde_json::from_slice::<Problem>(body) {
            return Self {
                status,
                title: problem
                    .title
                    .filter(|t| !t.trim().is_empty())
                    .unwrap_or(reason),
                detail: problem.detail.filter(|d| !d.trim().is_empty()),
                problem_type: problem.problem_type,
                errors: problem.errors,
            };
        }
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let detail = (!text.is_empty()).then(|| {
            let mut cut: String = text.chars().take(MAX_PLAIN_DETAIL).collect();
            if cut.len() < text.len() {
                cut.push('…');
            }
            cut
        });
        Self {
            status,
            title: reason,
            detail,
            problem_type: None,
            errors: Vec::new(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.title)?;
        // Field errors are the specific part; a detail next to them only restates their count.
        match (self.detail.as_deref(), self.errors.as_slice()) {
            (None, []) => Ok(()),
            (Some(d), []) => write!(f, ": {d}"),
            (_, [one]) => write!(f, ": {one}"),
            (_, many) => many.iter().try_for_each(|e| write!(f, "\n  {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_field_error_reads_as_one_line() {
        let body = br#"{"type":"https://vedette.dev/problems/validation","title":"Unprocessable","status":422,
            "detail":"1 invalid field","errors":[{"field":"spec.http.url","message":"expected an absolute http:// or https:// URL"}]}"#;
        let e = ApiError::from_response(422, Some("application/problem+json"), body);
        assert_eq!(e.status, 422);
        assert_eq!(e.errors.len(), 1);
        assert_eq!(
            e.to_string(),
            "422 Unprocessable: spec.http.url: expected an absolute http:// or https:// URL"
        );
    }

    #[test]
    fn several_field_errors_are_listed() {
        let body = br#"{"title":"Unprocessable","status":422,"errors":[
            {"field":"spec.interval","message":"must be at least 1s"},
            {"field":"metadata.id","message":"bad slug"}]}"#;
        let e = ApiError::from_response(422, Some("application/problem+json"), body);
        assert_eq!(
            e.to_string(),
            "422 Unprocessable\n  spec.interval: must be at least 1s\n  metadata.id: bad slug"
        );
    }

    #[test]
    fn plain_bodies_and_empty_bodies_fall_back_to_the_reason_phrase() {
        let e = ApiError::from_response(404, None, b"");
        assert_eq!(e.to_string(), "404 Not Found");
        let e = ApiError::from_response(502, Some("text/html"), b"bad gateway from proxy\n");
        assert_eq!(e.to_string(), "502 Bad Gateway: bad gateway from proxy");
        let e = ApiError::from_response(401, Some("application/json"), b"{not json");
        assert_eq!(e.title, "Unauthorized");
        assert_eq!(e.detail.as_deref(), Some("{not json"));
    }

    #[test]
    fn problem_without_title_uses_the_reason_phrase() {
        let e = ApiError::from_response(
            409,
            Some("application/problem+json"),
            br#"{"status":409,"detail":"monitor x is managed by config files"}"#,
        );
        assert_eq!(
            e.to_string(),
            "409 Conflict: monitor x is managed by config files"
        );
    }
}
