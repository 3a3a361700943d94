//! Every operation of the HTTP surface, in reference order: the one list the router, the
//! scope check and the OpenAPI document are built from. A resource kind served by the shared
//! handlers adds its six operations with one `crud::routes::<Kind>()` line.

use std::sync::OnceLock;

use axum::routing::{delete, get, post};

use crate::api::crud;
use crate::api::deployments::{self, Deployments};
use crate::api::discovery::{self, DiscoverySources};
use crate::api::ingest;
use crate::api::maintenance::{self, Maintenance};
use crate::api::monitors::{self, Monitors};
use crate::api::openapi::{self, DOCUMENT_PATH};
use crate::api::route::{
    ADMIN, Body, CURSOR, EVENT_TYPES, FORCE, FROM, ID, IF_MATCH, In, LIMIT, MANAGER, Param, READ,
    REASON, Route, SELECTOR, TO, WRITE, path, query,
};
use crate::api::status_pages::StatusPages;
use crate::api::verifications::{self, Verifications};
use crate::api::webhooks::{self, Webhooks};
use crate::api::{
    event_types, events, incidents, integrations, labels, results, series, slo, status, tokens,
};
use crate::status_page::handlers as public;
use crate::{app, metrics};

const PUSH_PARAMS: [Param; 3] = [
    path("token", "The monitor's push token (`status.push_url`)."),
    query(
        "status",
        "`down`, `fail`, `failed` or `error` report a failure; anything else a success.",
    ),
    query("msg", "Message to record (at most 1024 characters)."),
];

/// The query of `/series` and `/series/columns`: which monitors, when, how fine, what.
const SERIES_PARAMS: [Param; 6] = [
    SELECTOR,
    query("ids", "Comma-separated monitor ids."),
    FROM,
    TO,
    query("step", "Bucket width: `1m`, `1h`, `1d`, ..."),
    query(
        "metrics",
        "Comma-separated: uptime, uptime_all, latency_avg, latency_p50, latency_p90, \
         latency_p95, latency_p99, checks, failures.",
    ),
];

/// Monitor operations beside the shared ones, results, series and incidents.
const BEFORE_MAINTENANCE: &[Route] = &[
    Route {
        method: "POST",
        path: "/api/v1/monitors/{id}/pause",
        operation_id: "pauseMonitor",
        summary: "Pause a monitor at runtime (any source; spec and version unchanged); returns it",
        tag: "monitors",
        scope: WRITE,
        params: &[ID, REASON, IF_MATCH],
        request: Body::OptionalJson("PauseRequest"),
        status: 200,
        response: Body::Json("Monitor"),
        errors: &[400, 404, 412, 413, 415, 422],
        created: None,
        handler: || post(monitors::pause),
    },
    Route {
        method: "POST",
        path: "/api/v1/monitors/{id}/resume",
        operation_id: "resumeMonitor",
        summary: "End a monitor's runtime pause (`spec.paused` still holds); returns it",
        tag: "monitors",
        scope: WRITE,
        params: &[ID, IF_MATCH],
        request: Body::Empty,
        status: 200,
        response: Body::Json("Monitor"),
        errors: &[404, 412],
        created: None,
        handler: || post(monitors::resume),
    },
    Route {
        method: "POST",
        path: "/api/v1/monitors/{id}/run",
        operation_id: "runMonitor",
        summary: "Run the check now, record it and return the result with its assertions",
        tag: "monitors",
        scope: WRITE,
        params: &[ID],
        request: Body::Empty,
        status: 200,
        response: Body::Json("CheckResult"),
        errors: &[404, 409],
        created: None,
        handler: || post(monitors::run),
    },
    Route {
        method: "POST",
        path: "/api/v1/monitors/{id}/rotate-push-token",
        operation_id: "rotatePushToken",
        summary: "Give a heartbeat monitor a new push token (the old one stops working); returns it",
        tag: "monitors",
        scope: WRITE,
        params: &[ID, IF_MATCH, MANAGER, FORCE],
        request: Body::Empty,
        status: 200,
        response: Body::Json("Monitor"),
        errors: &[404, 409, 412],
        created: None,
        handler: || post(monitors::rotate_push_token),
    },
    Route {
        method: "GET",
        path: "/api/v1/monitors/{id}/results",
        operation_id: "listResults",
        summary: "A monitor's check results, newest first",
        tag: "monitors",
        scope: READ,
        params: &[ID, FROM, TO, LIMIT, CURSOR],
        request: Body::Empty,
        status: 200,
        response: Body::Json("StoredResultList"),
        errors: &[400, 404],
        created: None,
        handler: || get(results::list),
    },
    Route {
        method: "GET",
        path: "/api/v1/results",
        operation_id: "listResultsOfMonitors",
        summary: "The check results of several monitors in one table, newest first",
        tag: "monitors",
        scope: READ,
        params: &[
            query(
                "ids",
                "Monitor ids, comma-separated (1–1000); an id naming no monitor adds nothing.",
            ),
            FROM,
            TO,
            LIMIT,
            CURSOR,
        ],
        request: Body::Empty,
        status: 200,
        response: Body::Json("StoredResultList"),
        errors: &[400],
        created: None,
        handler: || get(results::list_many),
    },
    Route {
        method: "GET",
        path: "/api/v1/series",
        operation_id: "getSeries",
        summary: "Uptime and latency in aligned buckets, from rollups",
        tag: "series",
        scope: READ,
        params: &SERIES_PARAMS,
        request: Body::Empty,
        status: 200,
        response: Body::Json("SeriesResponse"),
        errors: &[400, 422],
        created: None,
        handler: || get(series::get),
    },
    Route {
        method: "GET",
        path: "/api/v1/series/columns",
        operation_id: "getSeriesColumns",
        summary: "The figures of /series as one array per metric and monitor, for many monitors \
                  over long ranges (up to 50,000 points)",
        tag: "series",
        scope: READ,
        params: &SERIES_PARAMS,
        request: Body::Empty,
        status: 200,
        response: Body::Json("SeriesColumns"),
        errors: &[400, 422],
        created: None,
        handler: || get(series::columns),
    },
    Route {
        method: "GET",
        path: "/api/v1/slo",
        operation_id: "getSlo",
        summary: "Error budget and burn rate per monitor for an availability target",
        tag: "slo",
        scope: READ,
        params: &[
            SELECTOR,
            query("ids", "Comma-separated monitor ids."),
            query(
                "target",
                "Availability target in percent, above 0 and below 100; 99.9 by default.",
            ),
            query(
                "window",
                "Length of the window ending at `to`: `30d` by default.",
            ),
            TO,
            query("step", "Bucket width of `budget_spent`: `1d` by default."),
            query(
                "burn_window",
                "Span ending at `to` the burn rate is measured over: `1h` by default.",
            ),
        ],
        request: Body::Empty,
        status: 200,
        response: Body::Json("SloResponse"),
        errors: &[400, 422],
        created: None,
        handler: || get(slo::get),
    },
    Route {
        method: "GET",
        path: "/api/v1/labels",
        operation_id: "listLabelKeys",
        summary: "Label keys of the monitors a selector picks",
        tag: "labels",
        scope: READ,
        params: &[SELECTOR],
        request: Body::Empty,
        status: 200,
        response: Body::Json("LabelKeys"),
        errors: &[400],
        created: None,
        handler: || get(labels::keys),
    },
    Route {
        method: "GET",
        path: "/api/v1/labels/{key}/values",
        operation_id: "listLabelValues",
        summary: "Values of one label key among the monitors a selector picks; 404 when no monitor has the key",
        tag: "labels",
        scope: READ,
        params: &[path("key", "Label key."), SELECTOR],
        request: Body::Empty,
        status: 200,
        response: Body::Json("LabelValues"),
        errors: &[400, 404],
        created: None,
        handler: || get(labels::values),
    },
    Route {
        method: "GET",
        path: "/api/v1/incidents",
        operation_id: "listIncidents",
        summary: "Incidents, newest first",
        tag: "incidents",
        scope: READ,
        params: &[
            query("monitor", "Only this monitor's."),
            query("state", "`open` or `resolved`."),
            query(
                "from",
                "Only those opened at or after this: RFC 3339, or relative such as `-30d`.",
            ),
            query(
                "to",
                "Only those opened before this: RFC 3339, or relative.",
            ),
            query(
                "overlaps_from",
                "Only those in progress at or after this (still open, or resolved after it), \
                 including ones opened earlier: RFC 3339, or relative. With `overlaps_to`, the \
                 incidents overlapping a range, as a graph's annotations need.",
            ),
            query(
                "overlaps_to",
                "Only those opened before this (the end of the `overlaps_from` range): RFC 3339, \
                 or relative.",
            ),
            LIMIT,
            CURSOR,
        ],
        request: Body::Empty,
        status: 200,
        response: Body::Json("IncidentSummaryList"),
        errors: &[400],
        created: None,
        handler: || get(incidents::list),
    },
    Route {
        method: "GET",
        path: "/api/v1/incidents/{id}",
        operation_id: "getIncident",
        summary: "One incident with its timeline",
        tag: "incidents",
        scope: READ,
        params: &[path("id", "Incident id.")],
        request: Body::Empty,
        status: 200,
        response: Body::Json("Incident"),
        errors: &[404],
        created: None,
        handler: || get(incidents::get),
    },
];

/// Maintenance occurrences, events and status.
const AFTER_MAINTENANCE: &[Route] = &[
    Route {
        method: "GET",
        path: "/api/v1/maintenance/occurrences",
        operation_id: "listMaintenanceOccurrences",
        summary: "The occurrences of every maintenance window (one-off, cron or rrule) \
                  overlapping a time range, by start time",
        tag: "maintenance",
        scope: READ,
        params: &[
            query(
                "from",
                "Start of the range: RFC 3339, or relative such as `-30d`; 24 hours ago by \
                 default. An occurrence that started earlier and ends after it is included.",
            ),
            TO,
            Param {
                name: "limit",
                location: In::Query,
                description: "Most occurrences answered, 1–10000 (default 1000); `truncated` \
                              says when more were left out.",
                kind: "integer",
            },
        ],
        request: Body::Empty,
        status: 200,
        response: Body::Json("MaintenanceOccurrences"),
        errors: &[400],
        created: None,
        handler: || get(maintenance::occurrences),
    },
    Route {
        method: "GET",
        path: "/api/v1/events",
        operation_id: "listEvents",
        summary: "Outbox events in ascending seq",
        tag: "events",
        scope: READ,
        params: &[
            Param {
                name: "after",
                location: In::Query,
                description: "The last `seq` seen; events after it.",
                kind: "integer",
            },
            LIMIT,
            Param {
                name: "cursor",
                location: In::Query,
                description: "`next_cursor` of the previous page (the same as `after`).",
                kind: "integer",
            },
            EVENT_TYPES,
        ],
        request: Body::Empty,
        status: 200,
        response: Body::Json("SequencedEventList"),
        errors: &[400],
        created: None,
        handler: || get(events::list),
    },
    Route {
        method: "GET",
        path: "/api/v1/events/stream",
        operation_id: "streamEvents",
        summary: "Server-Sent Events (`id: <seq>`, `event: <type>`, `data: <Event>`), \
                  resuming after Last-Event-ID; heartbeat comment every 15 s. With \
                  `resources` (or `type=resource.changed`/`resource.deleted`/\
                  `resource.status`), also live resource writes and deletes (`data: {kind, \
                  id, version, change_seq}`) and monitor state changes (`resource.status`, \
                  `data: {kind, id, state, since}`), with no `id:`, not replayed, never \
                  delivered to webhooks",
        tag: "events",
        scope: READ,
        params: &[
            Param {
                name: "after",
                location: In::Query,
                description: "Resume after this `seq` (when Last-Event-ID is absent).",
                kind: "integer",
            },
            Param {
                name: "Last-Event-ID",
                location: In::Header,
                description: "Resume after this `seq`.",
                kind: "string",
            },
            EVENT_TYPES,
            Param {
                name: "resources",
                location: In::Query,
                description: "Comma-separated resource kinds (`monitors`, `maintenance_windows`, \
                              `webhook_endpoints`, `status_pages`, `discovery_sources`, \
                              `verifications`, `deployments`) or `*`: also stream their \
                              `resource.changed` and `resource.deleted` events, and for \
                              `monitors` their `resource.status` events.",
                kind: "string",
            },
        ],
        request: Body::Empty,
        status: 200,
        response: Body::Text("text/event-stream"),
        errors: &[400, 429],
        created: None,
        handler: || get(events::stream),
    },
    Route {
        method: "GET",
        path: "/api/v1/status",
        operation_id: "getStatus",
        summary: "Monitor counts per state and the open incidents",
        tag: "status",
        scope: READ,
        params: &[],
        request: Body::Empty,
        status: 200,
        response: Body::Json("StatusSummary"),
        errors: &[],
        created: None,
        handler: || get(status::get),
    },
];

/// Webhook operations beside the shared ones, catalogs, tokens, the document, health and
/// heartbeats.
const AFTER_WEBHOOKS: &[Route] = &[
    Route {
        method: "POST",
        path: "/api/v1/webhooks/preview",
        operation_id: "previewWebhook",
        summary: "Render a template or integration for the sample of an event type",
        tag: "webhooks",
        scope: WRITE,
        params: &[],
        request: Body::Json("PreviewRequest"),
        status: 200,
        response: Body::Json("PreviewResponse"),
        errors: &[400, 413, 415, 422, 503],
        created: None,
        handler: || post(webhooks::preview),
    },
    Route {
        method: "POST",
        path: "/api/v1/webhooks/{id}/rotate-secret",
        operation_id: "rotateWebhookSecret",
        summary: "New signing secret, shown only in this answer; the current ones keep \
                  signing for the overlap",
        tag: "webhooks",
        scope: WRITE,
        params: &[
            ID,
            IF_MATCH,
            query(
                "overlap",
                "How long the current secrets keep signing: `24h` by default, at most `30d`.",
            ),
        ],
        request: Body::Empty,
        status: 200,
        response: Body::Json("CreatedWebhook"),
        errors: &[400, 404, 409, 412],
        created: None,
        handler: || post(webhooks::rotate_secret),
    },
    Route {
        method: "POST",
        path: "/api/v1/webhooks/{id}/test",
        operation_id: "testWebhook",
        summary: "Queue the sample of an event type as a real delivery; 202 with its message id",
        tag: "webhooks",
        scope: WRITE,
        params: &[
            ID,
            query("event_type", "Event type to send (default `monitor.down`)."),
        ],
        request: Body::Empty,
        status: 202,
        response: Body::Json("TestEventSent"),
        errors: &[400, 404, 409],
        created: None,
        handler: || post(webhooks::send_test),
    },
    Route {
        method: "GET",
        path: "/api/v1/webhooks/{id}/deliveries",
        operation_id: "listWebhookDeliveries",
        summary: "The delivery log: messages, newest first, each with its attempts",
        tag: "webhooks",
        scope: READ,
        params: &[
            ID,
            query("status", "`pending`, `succeeded` or `failed`."),
            query("event_type", "Only messages of this event type."),
            query(
                "since",
                "Only messages queued since: RFC 3339, or relative such as `-1h`.",
            ),
            LIMIT,
            CURSOR,
        ],
        request: Body::Empty,
        status: 200,
        response: Body::Json("DeliveryList"),
        errors: &[400, 404],
        created: None,
        handler: || get(webhooks::deliveries),
    },
    Route {
        method: "POST",
        path: "/api/v1/webhooks/{id}/recover",
        operation_id: "recoverWebhook",
        summary: "Queue again every failed message of the endpoint since a time",
        tag: "webhooks",
        scope: WRITE,
        params: &[
            ID,
            query("since", "Required: RFC 3339, or relative such as `-24h`."),
        ],
        request: Body::Empty,
        status: 202,
        response: Body::Json("Recovered"),
        errors: &[400, 404, 409],
        created: None,
        handler: || post(webhooks::recover),
    },
    Route {
        method: "GET",
        path: "/api/v1/messages/{id}",
        operation_id: "getWebhookMessage",
        summary: "One webhook message with its attempts",
        tag: "webhooks",
        scope: READ,
        params: &[path(
            "id",
            "Message id (`msg_...`), the `webhook-id` of its attempts.",
        )],
        request: Body::Empty,
        status: 200,
        response: Body::Json("Delivery"),
        errors: &[404],
        created: None,
        handler: || get(webhooks::get_message),
    },
    Route {
        method: "POST",
        path: "/api/v1/messages/{id}/replay",
        operation_id: "replayWebhookMessage",
        summary: "Deliver a message again now (same webhook-id, fresh retry schedule)",
        tag: "webhooks",
        scope: WRITE,
        params: &[path("id", "Message id (`msg_...`).")],
        request: Body::Empty,
        status: 202,
        response: Body::Json("Delivery"),
        errors: &[404, 409],
        created: None,
        handler: || post(webhooks::replay),
    },
    Route {
        method: "GET",
        path: "/api/v1/event-types",
        operation_id: "listEventTypes",
        summary: "Every event type with its description, version, data schema and an example",
        tag: "events",
        scope: READ,
        params: &[],
        request: Body::Empty,
        status: 200,
        response: Body::Json("EventTypeInfoList"),
        errors: &[],
        created: None,
        handler: || get(event_types::list),
    },
    Route {
        method: "GET",
        path: "/api/v1/event-types/{name}",
        operation_id: "getEventType",
        summary: "One event type",
        tag: "events",
        scope: READ,
        params: &[path("name", "Event type, e.g. `monitor.down`.")],
        request: Body::Empty,
        status: 200,
        response: Body::Json("EventTypeInfo"),
        errors: &[404],
        created: None,
        handler: || get(event_types::get_one),
    },
    Route {
        method: "GET",
        path: "/api/v1/integrations",
        operation_id: "listIntegrations",
        summary: "The integration catalog, by name (templates left out)",
        tag: "integrations",
        scope: READ,
        params: &[query(
            "category",
            "Only this category: chat, paging, push, automation, generic.",
        )],
        request: Body::Empty,
        status: 200,
        response: Body::Json("IntegrationList"),
        errors: &[],
        created: None,
        handler: || get(integrations::list),
    },
    Route {
        method: "GET",
        path: "/api/v1/integrations/{name}",
        operation_id: "getIntegration",
        summary: "One integration: parameters schema, example and docs",
        tag: "integrations",
        scope: READ,
        params: &[path("name", "Integration name, e.g. `slack`.")],
        request: Body::Empty,
        status: 200,
        response: Body::Json("Integration"),
        errors: &[404],
        created: None,
        handler: || get(integrations::get_one),
    },
    Route {
        method: "POST",
        path: "/api/v1/tokens",
        operation_id: "createToken",
        summary: "Create an API token; its secret is shown only in this answer",
        tag: "tokens",
        scope: ADMIN,
        params: &[],
        request: Body::Json("CreateToken"),
        status: 201,
        response: Body::Json("CreatedToken"),
        errors: &[400, 413, 415, 422],
        created: None,
        handler: || post(tokens::create),
    },
    Route {
        method: "GET",
        path: "/api/v1/tokens",
        operation_id: "listTokens",
        summary: "API tokens not revoked, without secrets",
        tag: "tokens",
        scope: ADMIN,
        params: &[],
        request: Body::Empty,
        status: 200,
        response: Body::Json("TokenList"),
        errors: &[],
        created: None,
        handler: || get(tokens::list),
    },
    Route {
        method: "DELETE",
        path: "/api/v1/tokens/{id}",
        operation_id: "revokeToken",
        summary: "Revoke an API token (409 for the last active admin token)",
        tag: "tokens",
        scope: ADMIN,
        params: &[path("id", "Token id (`tok_...`).")],
        request: Body::Empty,
        status: 204,
        response: Body::Empty,
        errors: &[404, 409],
        created: None,
        handler: || delete(tokens::revoke),
    },
    Route {
        method: "GET",
        path: DOCUMENT_PATH,
        operation_id: "getOpenApi",
        summary: "This document (no token needed)",
        tag: "meta",
        scope: None,
        params: &[],
        request: Body::Empty,
        status: 200,
        response: Body::Json("OpenApiDocument"),
        errors: &[],
        created: None,
        handler: || get(openapi::serve_document),
    },
    Route {
        method: "GET",
        path: "/healthz",
        operation_id: "health",
        summary: "Liveness: `ok` while the process serves",
        tag: "meta",
        scope: None,
        params: &[],
        request: Body::Empty,
        status: 200,
        response: Body::Text("text/plain"),
        errors: &[],
        created: None,
        handler: || get(app::health),
    },
    Route {
        method: "GET",
        path: "/readyz",
        operation_id: "ready",
        summary: "Readiness: 200 once configuration is loaded, every background task runs and the database answers, else 503 (text/plain, naming the reason)",
        tag: "meta",
        scope: None,
        params: &[],
        request: Body::Empty,
        status: 200,
        response: Body::Text("text/plain"),
        errors: &[503],
        created: None,
        handler: || get(app::readyz),
    },
    Route {
        method: "GET",
        path: "/metrics",
        operation_id: "metrics",
        summary: "Prometheus metrics (text format 0.0.4)",
        tag: "meta",
        scope: None,
        params: &[],
        request: Body::Empty,
        status: 200,
        response: Body::Text("text/plain; version=0.0.4"),
        errors: &[],
        created: None,
        handler: || get(metrics::scrape),
    },
    Route {
        method: "GET",
        path: "/push/{token}",
        operation_id: "pushGet",
        summary: "Heartbeat ping (`?status=down&msg=...` reports a failure)",
        tag: "heartbeat",
        scope: None,
        params: &PUSH_PARAMS,
        request: Body::Empty,
        status: 200,
        response: Body::Text("text/plain"),
        errors: &[404, 503],
        created: None,
        handler: || get(app::push),
    },
    Route {
        method: "POST",
        path: "/push/{token}",
        operation_id: "pushPost",
        summary: "Heartbeat ping (`?status=down&msg=...` reports a failure)",
        tag: "heartbeat",
        scope: None,
        params: &PUSH_PARAMS,
        request: Body::Empty,
        status: 200,
        response: Body::Text("text/plain"),
        errors: &[404, 503],
        created: None,
        handler: || post(app::push),
    },
];

/// The deployment operation beside the shared ones.
const FINISH_DEPLOYMENT: Route = Route {
    method: "POST",
    path: "/api/v1/deployments/{id}/finish",
    operation_id: "finishDeployment",
    summary: "Finish a deployment (status succeeded, failed or rolled_back; sets finished_at); returns it",
    tag: "deployments",
    scope: WRITE,
    params: &[ID, IF_MATCH, MANAGER, FORCE],
    request: Body::Json("FinishRequest"),
    status: 200,
    response: Body::Json("Deployment"),
    errors: &[400, 404, 409, 412, 413, 415, 422],
    created: None,
    handler: || post(deployments::finish),
};

/// A verification's report, beside its shared operations.
const VERIFICATION_REPORT: &[Route] = &[Route {
    method: "GET",
    path: "/api/v1/verifications/{id}/report",
    operation_id: "getVerificationReport",
    summary: "A verification's report: JUnit XML (one testcase per monitor), Markdown or the \
              JSON view (`?format=junit|markdown|json`, json by default)",
    tag: "verifications",
    scope: READ,
    params: &[
        ID,
        query(
            "format",
            "`junit` (application/xml), `markdown` (text/markdown) or `json`.",
        ),
    ],
    request: Body::Empty,
    status: 200,
    response: Body::Formats("Verification", &["application/xml", "text/markdown"]),
    errors: &[400, 404],
    created: None,
    handler: || get(verifications::report),
}];

const SLUG: Param = path("slug", "The status page's slug.");
const SLUG_OR_JSON: Param = path(
    "slug",
    "The status page's slug for the HTML page; `<slug>.json` for the JSON.",
);
const MONITOR: Param = path("monitor", "The id of a monitor the page lists.");

/// The public pages and badges of status pages: no token; a miss of any kind is one 404.
const PUBLIC_STATUS: &[Route] = &[
    Route {
        method: "GET",
        path: "/status/{slug}",
        operation_id: "getPublicStatusPage",
        summary: "A public status page: HTML at `/status/<slug>`, JSON at `/status/<slug>.json`",
        tag: "status-pages",
        scope: None,
        params: &[SLUG_OR_JSON],
        request: Body::Empty,
        status: 200,
        response: Body::Formats("PublicStatusPage", &["text/html"]),
        errors: &[404],
        created: None,
        handler: || get(public::page),
    },
    Route {
        method: "GET",
        path: "/status/{slug}/feed.atom",
        operation_id: "getPublicStatusFeed",
        summary: "A status page's incidents as an Atom feed",
        tag: "status-pages",
        scope: None,
        params: &[SLUG],
        request: Body::Empty,
        status: 200,
        response: Body::Text("application/atom+xml"),
        errors: &[404],
        created: None,
        handler: || get(public::feed),
    },
    Route {
        method: "GET",
        path: "/badge/{slug}/status.svg",
        operation_id: "getStatusPageBadge",
        summary: "SVG badge of a status page's overall state",
        tag: "status-pages",
        scope: None,
        params: &[SLUG],
        request: Body::Empty,
        status: 200,
        response: Body::Text("image/svg+xml"),
        errors: &[404],
        created: None,
        handler: || get(public::page_badge),
    },
    Route {
        method: "GET",
        path: "/badge/{slug}/{monitor}/status.svg",
        operation_id: "getMonitorStatusBadge",
        summary: "SVG badge of the state of a monitor a status page lists",
        tag: "status-pages",
        scope: None,
        params: &[SLUG, MONITOR],
        request: Body::Empty,
        status: 200,
        response: Body::Text("image/svg+xml"),
        errors: &[404],
        created: None,
        handler: || get(public::monitor_status),
    },
    Route {
        method: "GET",
        path: "/badge/{slug}/{monitor}/uptime.svg",
        operation_id: "getMonitorUptimeBadge",
        summary: "SVG badge of the uptime of a monitor a status page lists (when it shows uptime)",
        tag: "status-pages",
        scope: None,
        params: &[
            SLUG,
            MONITOR,
            query("window", "`24h`, `7d`, `30d` (default) or `90d`."),
        ],
        request: Body::Empty,
        status: 200,
        response: Body::Text("image/svg+xml"),
        errors: &[400, 404],
        created: None,
        handler: || get(public::monitor_uptime),
    },
    Route {
        method: "GET",
        path: "/badge/{slug}/{monitor}/response.svg",
        operation_id: "getMonitorResponseBadge",
        summary: "SVG badge of the mean response time over 24 h of a monitor a status page \
                  lists (when it shows latency)",
        tag: "status-pages",
        scope: None,
        params: &[SLUG, MONITOR],
        request: Body::Empty,
        status: 200,
        response: Body::Text("image/svg+xml"),
        errors: &[404],
        created: None,
        handler: || get(public::monitor_response),
    },
];

/// A discovery source's preview and the Prometheus export of discovered monitors, beside the
/// sources' shared operations.
const DISCOVERY: &[Route] = &[
    Route {
        method: "GET",
        path: "/api/v1/discovery-sources/{id}/preview",
        operation_id: "previewDiscoverySource",
        summary: "List the source's gateway now and show the monitors a run would create, \
                  update and delete (nothing is written; a failed listing shows its error)",
        tag: "discovery-sources",
        scope: WRITE,
        params: &[ID],
        request: Body::Empty,
        status: 200,
        response: Body::Json("DiscoveryPreview"),
        errors: &[404],
        created: None,
        handler: || get(discovery::preview),
    },
    Route {
        method: "POST",
        path: "/api/v1/discovery-sources/{id}/run",
        operation_id: "runDiscoverySource",
        summary: "Run the source now: list its gateway and create, update and delete the \
                  monitors it owns (plan only in dry run); returns it with its new status",
        tag: "discovery-sources",
        scope: WRITE,
        params: &[ID],
        request: Body::Empty,
        status: 200,
        response: Body::Json("DiscoverySource"),
        errors: &[404],
        created: None,
        handler: || post(discovery::run),
    },
    Route {
        method: "GET",
        path: "/api/v1/discovery/http_sd",
        operation_id: "discoveryHttpSd",
        summary: "Discovered monitors in Prometheus HTTP service discovery format (one target \
                  group per monitor, its URL as the target)",
        tag: "discovery-sources",
        scope: READ,
        params: &[],
        request: Body::Empty,
        status: 200,
        response: Body::Json("HttpSdTargets"),
        errors: &[],
        created: None,
        handler: || get(discovery::http_sd),
    },
];

/// Passive health from Kong (the Vedette plugin's batches, the `http-log` plugin's payload).
const INGEST: &[Route] = &[
    Route {
        method: "POST",
        path: "/api/v1/ingest/kong",
        operation_id: "ingestKongPlugin",
        summary: "Take a batch of the Vedette Kong plugin: per-route request counts, 5xx and \
                  latency histograms, added to the passive health of the monitors labelled \
                  with each route's id (`kong-route-id`); unknown routes are counted, never \
                  create monitors",
        tag: "discovery-sources",
        scope: WRITE,
        params: &[],
        request: Body::Json("KongPluginBatch"),
        status: 200,
        response: Body::Json("IngestReport"),
        errors: &[400, 413, 415, 422, 429],
        created: None,
        handler: || post(ingest::kong_plugin),
    },
    Route {
        method: "POST",
        path: "/api/v1/ingest/kong-http-log",
        operation_id: "ingestKongHttpLog",
        summary: "Take the payload of Kong's bundled http-log plugin (one request's log \
                  object or an array of them): each request is added to the passive health \
                  of the monitors labelled with its route's id (`kong-route-id`)",
        tag: "discovery-sources",
        scope: WRITE,
        params: &[],
        request: Body::Json("KongHttpLogPayload"),
        status: 200,
        response: Body::Json("IngestReport"),
        errors: &[400, 413, 415, 422, 429],
        created: None,
        handler: || post(ingest::kong_http_log),
    },
    Route {
        method: "GET",
        path: "/api/v1/ingest/kong",
        operation_id: "getKongIngestTotals",
        summary: "What the ingest endpoints took since the server started: reports, \
                  entries, matched and unknown routes (with up to 100 unknown route ids)",
        tag: "discovery-sources",
        scope: READ,
        params: &[],
        request: Body::Empty,
        status: 200,
        response: Body::Json("IngestTotals"),
        errors: &[],
        created: None,
        handler: || get(ingest::totals),
    },
];

/// Every operation, in reference order.
pub fn all() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let mut routes = Vec::new();
        routes.extend(crud::routes::<Monitors>());
        routes.extend_from_slice(BEFORE_MAINTENANCE);
        routes.extend(crud::routes::<Maintenance>());
        routes.extend_from_slice(AFTER_MAINTENANCE);
        routes.extend(crud::routes::<Webhooks>());
        routes.extend_from_slice(AFTER_WEBHOOKS);
        routes.extend(crud::routes::<Deployments>());
        routes.push(FINISH_DEPLOYMENT);
        routes.extend(crud::routes::<Verifications>());
        routes.extend_from_slice(VERIFICATION_REPORT);
        routes.extend(crud::routes::<StatusPages>());
        routes.extend_from_slice(PUBLIC_STATUS);
        routes.extend(crud::routes::<DiscoverySources>());
        routes.extend_from_slice(DISCOVERY);
        routes.extend_from_slice(INGEST);
        routes
    })
}

/// The dashboard's pages (HTML for people, signed in with a session cookie): outside the API
/// and its document, see [`crate::web`].
pub fn pages(state: app::AppState) -> axum::Router {
    crate::web::router(state)
}
