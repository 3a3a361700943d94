//! A realistic sample of every event type, for previews, test deliveries, `GET
//! /api/v1/event-types` examples and the catalog's golden tests. Fixed ids and times, so
//! rendered samples are stable.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use vedette_model::event::EVENT_VERSION;
use vedette_model::{Event, EventType};

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, h, m, s)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// The sample event of `event_type`.
pub fn sample_event(event_type: EventType) -> Event {
    let (id, occurred_at, data) = match event_type {
        EventType::MonitorDown => (
            "evt_01JPAB7Q0M8Z6V4K2S9D3F5H7J",
            at(9, 26, 53),
            json!({
                "monitor_id": "payments-api",
                "monitor_name": "Payments API",
                "from": "up",
                "to": "down",
                "reason": "connect",
                "message": "connect to 10.0.4.12:443: connection refused",
                "in_maintenance": false,
            }),
        ),
        EventType::MonitorUp => (
            "evt_01JPABC1V3X9N7R5T2W8Y4Q6E0",
            at(9, 41, 5),
            json!({
                "monitor_id": "payments-api",
                "monitor_name": "Payments API",
                "from": "down",
                "to": "up",
                "message": "200 OK in 84 ms",
                "in_maintenance": false,
            }),
        ),
        EventType::MonitorDegraded => (
            "evt_01JPAB9K4D2F6H8J0L3N5P7R9T",
            at(9, 30, 12),
            json!({
                "monitor_id": "payments-api",
                "monitor_name": "Payments API",
                "from": "up",
                "to": "degraded",
                "message": "response_time 1840 ms above degraded_after 500 ms",
                "in_maintenance": false,
            }),
        ),
        EventType::IncidentOpened => (
            "evt_01JPAB7Q0N1A3C5E7G9I2K4M6O",
            at(9, 26, 53),
            json!({
                "incident_id": "inc_01JPAB7Q0N0B2D4F6H8J1L3N5P",
                "monitor_id": "payments-api",
                "monitor_name": "Payments API",
                "cause": "connect",
                "message": "connect to 10.0.4.12:443: connection refused",
                "opened_at": "2025-03-14T09:26:53Z",
                "in_maintenance": false,
            }),
        ),
        EventType::IncidentResolved => (
            "evt_01JPABC1V4Z0P8S6U3X9A5R7F1",
            at(9, 41, 5),
            json!({
                "incident_id": "inc_01JPAB7Q0N0B2D4F6H8J1L3N5P",
                "monitor_id": "payments-api",
                "monitor_name": "Payments API",
                "cause": "connect",
                "message": "connect to 10.0.4.12:443: connection refused",
                "opened_at": "2025-03-14T09:26:53Z",
                "resolved_at": "2025-03-14T09:41:05Z",
                "in_maintenance": false,
            }),
        ),
        EventType::CertificateExpiring => (
            "evt_01JPA0000C3RT5X8Z1B4D6F9H2",
            at(6, 0, 0),
            json!({
                "monitor_id": "payments-api",
                "subject": "CN=payments.example.com",
                "not_after": "2025-03-28T23:59:59Z",
                "days_left": 14,
            }),
        ),
        EventType::WebhookEndpointDisabled => (
            "evt_01JPAC4W2E6R8T0Y2U4I6O8P0A",
            at(10, 2, 17),
            json!({
                "endpoint_id": "ops-slack",
                "reason": "the receiver answered 410 Gone",
                "disabled_at": "2025-03-14T10:02:17Z",
            }),
        ),
        EventType::DeploymentStarted => (
            "evt_01JPAB2D3E4F5G6H7J8K9M0N1P",
            at(9, 20, 0),
            json!({
                "deployment_id": "payments-v1-4-2-prod",
                "service": "payments",
                "version": "v1.4.2",
                "environment": "prod",
                "status": "started",
                "source": "github",
                "url": "https://ci.example.com/payments/runs/4711",
                "commit": "9fceb02d0ae598e95dc970b74767f19372d61af8",
                "started_at": "2025-03-14T09:20:00Z",
            }),
        ),
        EventType::DeploymentFinished => (
            "evt_01JPAB5R6S7T8V9W0X1Y2Z3A4B",
            at(9, 24, 30),
            json!({
                "deployment_id": "payments-v1-4-2-prod",
                "service": "payments",
                "version": "v1.4.2",
                "environment": "prod",
                "status": "failed",
                "source": "github",
                "url": "https://ci.example.com/payments/runs/4711",
                "commit": "9fceb02d0ae598e95dc970b74767f19372d61af8",
                "started_at": "2025-03-14T09:20:00Z",
                "finished_at": "2025-03-14T09:24:30Z",
            }),
        ),
        EventType::VerificationPassed => (
            "evt_01JPAB6C7D8E9F0G1H2J3K4M5N",
            at(9, 23, 10),
            json!({
                "verification_id": "ver-7h2k9d4x",
                "deployment_id": "payments-v1-4-2-prod",
                "commit": "9fceb02d0ae598e95dc970b74767f19372d61af8",
                "outcome": "passed",
                "monitors": 3,
                "passed": 3,
            }),
        ),
        EventType::VerificationFailed => (
            "evt_01JPAB6P7Q8R9S0T1V2W3X4Y5Z",
            at(9, 24, 20),
            json!({
                "verification_id": "ver-7h2k9d4x",
                "deployment_id": "payments-v1-4-2-prod",
                "commit": "9fceb02d0ae598e95dc970b74767f19372d61af8",
                "outcome": "failed",
                "reason": "payments-api is down: status (503) == 200",
                "monitors": 3,
                "passed": 2,
            }),
        ),
        EventType::DiscoveryCompleted => (
            "evt_01JPAB7A8B9C0D1E2F3G4H5J6K",
            at(9, 25, 0),
            json!({
                "source_id": "edge-envoy",
                "gateway": "envoy",
                "routes_seen": 42,
                "monitors_owned": 41,
                "created": 2,
                "updated": 1,
                "deleted": 1,
                "dry_run": false,
            }),
        ),
        EventType::DiscoveryFailed => (
            "evt_01JPAB7M8N9P0Q1R2S3T4V5W6X",
            at(9, 26, 0),
            json!({
                "source_id": "edge-envoy",
                "gateway": "envoy",
                "routes_seen": 0,
                "monitors_owned": 41,
                "created": 0,
                "updated": 0,
                "deleted": 0,
                "dry_run": false,
                "error": "the gateway answered 503 Service Unavailable",
            }),
        ),
    };
    let monitor_id = match event_type {
        EventType::WebhookEndpointDisabled
        | EventType::DeploymentStarted
        | EventType::DeploymentFinished
        | EventType::VerificationPassed
        | EventType::VerificationFailed
        | EventType::DiscoveryCompleted
        | EventType::DiscoveryFailed => None,
        _ => Some("payments-api".to_owned()),
    };
    Event {
        id: id.to_owned(),
        event_type,
        version: EVENT_VERSION,
        occurred_at,
        monitor_id,
        data,
    }
}

/// The `deployment` object a `monitor.down` or `incident.opened` carries when the monitor went
/// down shortly after a deployment that selects it.
pub fn sample_deployment() -> serde_json::Value {
    json!({
        "id": "payments-v1-4-2-prod",
        "service": "payments",
        "version": "v1.4.2",
        "environment": "prod",
        "commit": "9fceb02d0ae598e95dc970b74767f19372d61af8",
        "started_at": "2025-03-14T09:24:40Z",
    })
}

/// The sample event of `event_type` as it is after a deployment: `monitor.down` and
/// `incident.opened` name it (see [`sample_deployment`]); other types are unchanged.
pub fn sample_event_after_deployment(event_type: EventType) -> Event {
    let mut event = sample_event(event_type);
    if matches!(
        event_type,
        EventType::MonitorDown | EventType::IncidentOpened
    ) && let Some(data) = event.data.as_object_mut()
    {
        data.insert("deployment".to_owned(), sample_deployment());
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_match_their_schemas_shape() {
        for t in EventType::ALL {
            let e = sample_event(t);
            assert_eq!(e.event_type, t);
            let schema = t.data_schema();
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            for field in required {
                let name = field.as_str().unwrap_or_default();
                assert!(e.data.get(name).is_some(), "{t}: sample lacks {name}");
            }
        }
    }
}
