//! RFC 9457 problem details: every error the API answers is `application/problem+json` with a
//! `type`, `title`, `status`, `detail` and, for field-level problems, `errors: [{field, message}]`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;
use vedette_model::FieldError;
use vedette_store::StoreError;

use crate::ServerError;

/// Media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// Prefix of every problem `type` URI.
pub const PROBLEM_BASE: &str = "https://vedette.dev/problems/";

/// An API error as sent to the client: RFC 9457 problem details.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema, thiserror::Error)]
#[error("{status} {title}: {detail}")]
pub struct Problem {
    /// `https://vedette.dev/problems/<kind>`.
    #[serde(rename = "type")]
    #[schemars(url)]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status code.
    #[serde(serialize_with = "status_code")]
    #[schemars(with = "u16")]
    pub status: StatusCode,
    /// What went wrong in this case.
    pub detail: String,
    /// Field-level problems, with dotted field paths (`spec.http.url`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

fn status_code<S: serde::Serializer>(status: &StatusCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u16(status.as_u16())
}

impl Problem {
    /// A problem of `kind` (the last segment of its `type`).
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("{PROBLEM_BASE}{kind}"),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// Adds field-level problems.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// 400: malformed JSON, query or cursor.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    /// 400 about one query parameter.
    pub fn bad_param(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::bad_request(format!("query parameter {field}: {message}"))
            .with_errors(vec![FieldError::new(field, message)])
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "this resource does not support the request method",
        )
    }

    /// 409: the request conflicts with the resource's state (e.g. it is file-managed).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    /// 412: an `If-Match` / `If-None-Match` precondition does not hold.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "Precondition failed",
            detail,
        )
    }

    /// 413: the body is over the limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            format!("request bodies are limited to {limit} bytes"),
        )
    }

    /// 415: the body is not JSON.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    /// 422 with every field problem found.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Validation failed",
            detail,
        )
        .with_errors(errors)
    }

    /// 422 about one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    /// 408: the request took too long.
    pub fn timeout(limit: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "Request timeout",
            format!("the request did not finish within {} s", limit.as_secs()),
        )
    }

    /// 500; the cause is logged, not sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "API request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
            "the server could not complete the request; see its log",
        )
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::VersionConflict {
                id,
                expected,
                found,
            } => Self::precondition_failed(match found {
                Some(v) if *expected == 0 => format!("{id:?} already exists (version {v})"),
                Some(v) => format!("{id:?} is at version {v}, not {expected}"),
                None => format!("{id:?} does not exist"),
            }),
            StoreError::Contention(_) => Self::conflict(e.to_string()),
            _ => Self::internal(&e),
        }
    }
}

impl From<ServerError> for Problem {
    fn from(e: ServerError) -> Self {
        match e {
            ServerError::Store(e) => e.into(),
            ServerError::Invalid(message) => Self::invalid("spec", message),
            other => Self::internal(&other),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, Problem>;
