//! Route declarations: what each operation of the HTTP surface is (method, path, scope,
//! parameters, bodies, answers) together with its handler. `crate::routes` lists them all;
//! the router, the scope check and the OpenAPI document are built from that one list.

use axum::Router;
use axum::http::Method;
use axum::routing::MethodRouter;
use vedette_store::Scope;

use crate::app::AppState;

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    /// A `{name}` segment of the path.
    Path,
    /// `?name=`.
    Query,
    /// A request header.
    Header,
}

impl In {
    /// The OpenAPI `in` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Name.
    pub name: &'static str,
    /// Where it goes.
    pub location: In,
    /// What it means.
    pub description: &'static str,
    /// JSON Schema `type`: `string` or `integer`.
    pub kind: &'static str,
}

/// The body of a request or of a successful answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `application/json` of the component schema of this name.
    Json(&'static str),
    /// JSON Merge Patch (`application/merge-patch+json` or JSON) of this schema.
    MergePatch(&'static str),
    /// `application/json` of the component schema of this name, or no body at all.
    OptionalJson(&'static str),
    /// Another media type, as a string (`text/plain`, `text/event-stream`).
    Text(&'static str),
    /// `application/json` of the component schema of this name, or one of these other media
    /// types as a string, as the request asks (reports).
    Formats(&'static str, &'static [&'static str]),
    /// No body.
    Empty,
}

/// Builds the handler of an operation (a function, so routes can be constants).
pub type Handler = fn() -> MethodRouter<AppState>;

/// One operation of the HTTP surface, declared once: the router, the scope each request
/// needs and the OpenAPI document are all built from these declarations.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template, with `{name}` segments.
    pub path: &'static str,
    /// Unique `operationId`.
    pub operation_id: &'static str,
    /// One line for people.
    pub summary: &'static str,
    /// Group in the reference.
    pub tag: &'static str,
    /// Scope the token needs; `None`: no token.
    pub scope: Option<Scope>,
    /// Parameters.
    pub params: &'static [Param],
    /// Request body.
    pub request: Body,
    /// Status of success.
    pub status: u16,
    /// Body of success.
    pub response: Body,
    /// The body of a `201 Created` a create-or-replace may answer besides `status`.
    pub created: Option<Body>,
    /// Other answers (a 304, errors) beyond those every operation that needs a token may give:
    /// 401, 403 (when it needs more than `read`), 408, 429 and 503.
    pub errors: &'static [u16],
    /// The handler, for the router.
    pub handler: Handler,
}

impl Route {
    /// Whether a request for `method` and `path` is this operation (`HEAD` runs `GET`).
    pub fn matches(&self, method: &Method, path: &str) -> bool {
        let method_matches =
            self.method == method.as_str() || (*method == Method::HEAD && self.method == "GET");
        method_matches && template_matches(self.path, path)
    }

    /// How many literal segments the template has: the more specific of two matching routes
    /// (`/webhooks/preview` over `/webhooks/{id}`) wins.
    fn literal_segments(&self) -> usize {
        self.path.split('/').filter(|s| !s.starts_with('{')).count()
    }
}

/// Whether `path` fits `template` segment by segment (`{name}` takes any one segment).
fn template_matches(template: &str, path: &str) -> bool {
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') && !ps.is_empty() => {}
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return false,
        }
    }
}

/// The declared operation a request is for, if any.
pub fn find<'r>(routes: &'r [Route], method: &Method, path: &str) -> Option<&'r Route> {
    routes
        .iter()
        .filter(|r| r.matches(method, path))
        .max_by_key(|r| r.literal_segments())
}

/// Whether `path` is `prefix` or below it.
pub fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A router serving `routes`, each at its path with `prefix` taken off (to nest under it).
pub fn router<'r>(routes: impl IntoIterator<Item = &'r Route>, prefix: &str) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, route| {
        let path = route.path.strip_prefix(prefix).unwrap_or(route.path);
        router.route(path, (route.handler)())
    })
}

/// A `{name}` path parameter.
pub const fn path(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: In::Path,
        description,
        kind: "string",
    }
}

/// A `?name=` query parameter.
pub const fn query(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: In::Query,
        description,
        kind: "string",
    }
}

/// The `{id}` of a resource.
pub const ID: Param = path("id", "Resource id: a slug `[a-z0-9][a-z0-9._-]{0,127}`.");
/// Page size.
pub const LIMIT: Param = Param {
    name: "limit",
    location: In::Query,
    description: "Page size, 1–1000 (default 100).",
    kind: "integer",
};
/// The cursor of the next page.
pub const CURSOR: Param = query("cursor", "`next_cursor` of the previous page.");
/// A label selector.
pub const SELECTOR: Param = query(
    "selector",
    "Label selector, Kubernetes syntax: `team=payments,env!=dev,tier in (a,b),!legacy`.",
);
/// Why a monitor is paused.
pub const REASON: Param = query(
    "reason",
    "Why the monitor is paused (at most 500 characters, one line); wins over the body's.",
);
/// Start of a time range.
pub const FROM: Param = query("from", "Start: RFC 3339, or relative such as `-30d`.");
/// End of a time range.
pub const TO: Param = query("to", "End: RFC 3339, or relative; `now` by default.");
/// Write only at a version.
pub const IF_MATCH: Param = Param {
    name: "If-Match",
    location: In::Header,
    description: "`\"<version>\"`: write only at this version (412 otherwise; a tag that is not \
                  a version matches none); `*`: must exist.",
    kind: "string",
};
/// The manager a writer acts as.
pub const MANAGER: Param = Param {
    name: "Vedette-Manager",
    location: In::Header,
    description: "The manager the writer acts as: a resource labelled `managed-by: <manager>` \
                  is written or deleted only by a request naming that manager here (or, \
                  in a replace, keeping the label); 409 otherwise.",
    kind: "string",
};
/// Take over a resource another manager owns.
pub const FORCE: Param = query(
    "force",
    "`true`: write even though the resource's `managed-by` label names another manager (a \
     deliberate take-over).",
);
/// Create only.
pub const IF_NONE_MATCH: Param = Param {
    name: "If-None-Match",
    location: In::Header,
    description: "`*`: create only (412 when it exists).",
    kind: "string",
};

/// `If-None-Match` on a read.
pub const IF_NONE_MATCH_READ: Param = Param {
    name: "If-None-Match",
    location: In::Header,
    description: "`\"<version>\"`: 304 without a body while that is the current version.",
    kind: "string",
};
/// Filters events by type.
pub const EVENT_TYPES: Param = query(
    "type",
    "Only events of these types, comma-separated, e.g. `monitor.down,monitor.up`.",
);
/// Needs a read token.
pub const READ: Option<Scope> = Some(Scope::Read);
/// Needs a write token.
pub const WRITE: Option<Scope> = Some(Scope::Write);
/// Needs an admin token.
pub const ADMIN: Option<Scope> = Some(Scope::Admin);
/// What a create or replace may answer besides success.
pub const WRITE_ERRORS: &[u16] = &[400, 409, 412, 413, 415, 422];
/// A create (`POST`) takes no precondition, so never answers 412.
pub const CREATE_ERRORS: &[u16] = &[400, 409, 413, 415, 422];
