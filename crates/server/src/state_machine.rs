//! Decides a monitor's next state from its current status and one check result: thresholds
//! against flapping, degraded, maintenance suppression, incidents and the events they cause.

use chrono::{DateTime, Utc};
use vedette_model::deployment::DeploymentRef;
use vedette_model::event::{
    CertificateExpiring, EVENT_VERSION, IncidentEvent, MonitorStateChanged,
};
use vedette_model::spec::TlsCheck;
use vedette_model::{CheckResult, Event, EventType, MonitorSpec, MonitorState, Outcome};
use vedette_store::{Incident, IncidentChange, MonitorStatus};

/// What one result changes: the new status, an incident to open or resolve, and events.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The status after the result.
    pub status: MonitorStatus,
    /// Incident opened or resolved by this result.
    pub incident: Option<IncidentChange>,
    /// Events to write to the outbox with the status, in the same transaction.
    pub events: Vec<Event>,
    /// The monitor is down, or its failures reached `failure_threshold` while a maintenance
    /// window hides that state (what a fail-fast verification stops on).
    pub failing: bool,
}

/// Facts about the monitor the state machine needs besides its spec.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Monitor id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// The monitor's spec (thresholds, degraded_after, TLS expiry warning).
    pub spec: &'a MonitorSpec,
    /// An active maintenance window covers the monitor: results are kept, state shows
    /// `maintenance`, and no incident or state event is raised.
    pub in_maintenance: bool,
    /// The monitor's deployment that started shortly before (within the deployment window),
    /// named by an incident this result opens and by its `monitor.down`.
    pub deployment: Option<&'a DeploymentRef>,
}

/// A fresh status for a monitor never checked.
pub fn initial_status(id: &str, now: DateTime<Utc>, paused: bool) -> MonitorStatus {
    let mut status = MonitorStatus::pending(id, now);
    if paused {
        status.state = MonitorState::Paused;
    }
    status
}

/// A new time-ordered id with a readable prefix (`evt_…`, `inc_…`).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

fn event(
    event_type: EventType,
    at: DateTime<Utc>,
    monitor: &str,
    data: impl serde::Serialize,
) -> Event {
    Event {
        id: new_id("evt"),
        event_type,
        version: EVENT_VERSION,
        occurred_at: at,
        monitor_id: Some(monitor.to_owned()),
        data: serde_json::to_value(data).unwrap_or_default(),
    }
}

/// Applies one result to `prev` and returns what changes.
pub fn apply(prev: &MonitorStatus, result: &CheckResult, ctx: Context<'_>) -> Transition {
    let at = result.started_at;
    let mut status = prev.clone();
    status.last_result_at = Some(at);
    status.last_outcome = Some(result.outcome);
    status.last_message = Some(result.message.clone());
    status.last_latency_ms = Some(result.latency_ms());

    let failed = result.outcome == Outcome::Down;
    if failed {
        status.consecutive_failures = status.consecutive_failures.saturating_add(1);
        status.consecutive_successes = 0;
    } else {
        status.consecutive_successes = status.consecutive_successes.saturating_add(1);
        status.consecutive_failures = 0;
    }

    let healthy_state = if result.outcome == Outcome::Degraded {
        MonitorState::Degraded
    } else {
        MonitorState::Up
    };
    let mut events = Vec::new();
    let mut incident = None;

    if ctx.in_maintenance {
        set_state(&mut status, MonitorState::Maintenance, at);
        return Transition {
            failing: status.consecutive_failures >= ctx.spec.failure_threshold,
            status,
            incident,
            events,
        };
    }

    let next = if failed {
        if status.consecutive_failures >= ctx.spec.failure_threshold {
            MonitorState::Down
        } else if matches!(prev.state, MonitorState::Maintenance | MonitorState::Paused) {
            MonitorState::Pending
        } else {
            prev.state
        }
    } else if prev.state == MonitorState::Down || prev.open_incident.is_some() {
        if status.consecutive_successes >= ctx.spec.success_threshold {
            healthy_state
        } else {
            prev.state
        }
    } else {
        healthy_state
    };

    if next != prev.state || (next == MonitorState::Down && prev.open_incident.is_none()) {
        let changed = MonitorStateChanged {
            monitor_id: ctx.id.to_owned(),
            monitor_name: ctx.name.to_owned(),
            from: prev.state,
            to: next,
            reason: result.reason,
            message: result.message.clone(),
            in_maintenance: false,
            deployment: ctx
                .deployment
                .filter(|_| next == MonitorState::Down)
                .cloned(),
        };
        let quiet_start = matches!(
            prev.state,
            MonitorState::Pending | MonitorState::Maintenance | MonitorState::Paused
        ) && next == MonitorState::Up
            && prev.open_incident.is_none();
        match next {
            MonitorState::Down if prev.state != MonitorState::Down => {
                events.push(event(EventType::MonitorDown, at, ctx.id, &changed));
            }
            MonitorState::Up if !quiet_start => {
                events.push(event(EventType::MonitorUp, at, ctx.id, &changed));
            }
            MonitorState::Degraded => {
                events.push(event(EventType::MonitorDegraded, at, ctx.id, &changed));
            }
            _ => {}
        }
        if next != prev.state {
            set_state(&mut status, next, at);
        }
        if next == MonitorState::Down && prev.open_incident.is_none() {
            let id = new_id("inc");
            events.push(event(
                EventType::IncidentOpened,
                at,
                ctx.id,
                IncidentEvent {
                    incident_id: id.clone(),
                    monitor_id: ctx.id.to_owned(),
                    monitor_name: ctx.name.to_owned(),
                    cause: result.reason,
                    message: result.message.clone(),
                    opened_at: at,
                    resolved_at: None,
                    in_maintenance: false,
                    reason: None,
                    deployment: ctx.deployment.cloned(),
                },
            ));
            status.open_incident = Some(id.clone());
            incident = Some(IncidentChange::Open {
                id,
                monitor_id: ctx.id.to_owned(),
                opened_at: at,
                cause: result.reason,
                message: result.message.clone(),
                first_failure: result.clone(),
                deployment: ctx.deployment.cloned(),
            });
        }
    }
    if matches!(status.state, MonitorState::Up | MonitorState::Degraded)
        && let Some(id) = status.open_incident.take()
    {
        events.push(event(
            EventType::IncidentResolved,
            at,
            ctx.id,
            IncidentEvent {
                incident_id: id.clone(),
                monitor_id: ctx.id.to_owned(),
                monitor_name: ctx.name.to_owned(),
                cause: None,
                message: result.message.clone(),
                opened_at: prev.since,
                resolved_at: Some(at),
                in_maintenance: false,
                reason: None,
                deployment: None,
            },
        ));
        incident = Some(IncidentChange::Resolve {
            id,
            resolved_at: at,
        });
    }
    Transition {
        failing: status.state == MonitorState::Down,
        status,
        incident,
        events,
    }
}

/// Why an incident resolved when its monitor was deleted: the `reason` of its
/// `incident.resolved` event.
pub const MONITOR_DELETED: &str = "monitor deleted";

/// The `incident.resolved` event of `incident` (already marked resolved), closed because its
/// monitor `monitor_name` was deleted, so pagers resolve instead of waiting forever.
pub fn resolved_by_deletion(incident: &Incident, monitor_name: &str) -> Event {
    let at = incident.resolved_at.unwrap_or_else(Utc::now);
    event(
        EventType::IncidentResolved,
        at,
        &incident.monitor_id,
        IncidentEvent {
            incident_id: incident.id.clone(),
            monitor_id: incident.monitor_id.clone(),
            monitor_name: monitor_name.to_owned(),
            cause: incident.cause,
            message: MONITOR_DELETED.to_owned(),
            opened_at: incident.opened_at,
            resolved_at: Some(at),
            in_maintenance: false,
            reason: Some(MONITOR_DELETED.to_owned()),
            deployment: None,
        },
    )
}

fn set_state(status: &mut MonitorStatus, state: MonitorState, at: DateTime<Utc>) {
    if status.state != state {
        status.state = state;
        status.since = at;
    }
}

/// A `certificate.expiring` event when the result's certificate expires within the TLS
/// check's warning span and `already_warned` (the expiry last warned about) differs.
pub fn certificate_warning(
    result: &CheckResult,
    tls: &TlsCheck,
    already_warned: Option<DateTime<Utc>>,
) -> Option<Event> {
    let not_after = result.cert_not_after?;
    let warning = tls.expiry_warning;
    let subject = tls.server_name.as_deref().unwrap_or(&tls.host);
    let left = not_after - result.started_at;
    let warn_span = chrono::Duration::from_std(warning.std()).ok()?;
    if left > warn_span || already_warned == Some(not_after) {
        return None;
    }
    Some(event(
        EventType::CertificateExpiring,
        result.started_at,
        &result.monitor_id,
        CertificateExpiring {
            monitor_id: result.monitor_id.clone(),
            subject: subject.to_owned(),
            not_after,
            days_left: left.num_days(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_model::{FailureReason, Outcome, Phases};

    fn result(outcome: Outcome, secs: i64) -> CheckResult {
        CheckResult {
            monitor_id: "m".into(),
            started_at: DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
            outcome,
            reason: (outcome == Outcome::Down).then_some(FailureReason::Status),
            message: format!("{outcome:?}"),
            phases: Phases {
                total_ms: 10.0,
                ..Phases::default()
            },
            status_code: None,
            cert_not_after: None,
            assertions: Vec::new(),
            attempts: 1,
            in_maintenance: false,
            gateway: None,
        }
    }

    struct Run {
        spec: MonitorSpec,
        status: MonitorStatus,
        maintenance: bool,
        failing: bool,
        t: i64,
    }

    impl Run {
        fn new(failure_threshold: u32, success_threshold: u32) -> Self {
            let mut spec = MonitorSpec::http("http://127.0.0.1/");
            spec.failure_threshold = failure_threshold;
            spec.success_threshold = success_threshold;
            Self {
                spec,
                status: initial_status(
                    "m",
                    DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
                    false,
                ),
                maintenance: false,
                failing: false,
                t: 0,
            }
        }

        fn step(
            &mut self,
            outcome: Outcome,
        ) -> (MonitorState, Vec<&'static str>, Option<IncidentChange>) {
            self.t += 30;
            let tr = apply(
                &self.status,
                &result(outcome, self.t),
                Context {
                    id: "m",
                    name: "M",
                    spec: &self.spec,
                    in_maintenance: self.maintenance,
                    deployment: None,
                },
            );
            self.status = tr.status;
            self.failing = tr.failing;
            (
                self.status.state,
                tr.events.iter().map(|e| e.event_type.as_str()).collect(),
                tr.incident,
            )
        }
    }

    #[test]
    fn failing_past_the_threshold_shows_through_maintenance() {
        let mut run = Run::new(2, 1);
        run.maintenance = true;
        assert_eq!(run.step(Outcome::Down).0, MonitorState::Maintenance);
        assert!(!run.failing);
        assert_eq!(run.step(Outcome::Down).0, MonitorState::Maintenance);
        assert!(run.failing);
        run.maintenance = false;
        assert_eq!(run.step(Outcome::Down).0, MonitorState::Down);
        assert!(run.failing);
    }

    #[test]
    fn only_a_repeated_success_changes_just_the_last_check() {
        let mut run = Run::new(1, 2);
        fn last_check_only(run: &mut Run, outcome: Outcome) -> bool {
            let prev = run.status.clone();
            run.step(outcome);
            run.status.only_last_check_differs(&prev)
        }
        // The first result sets the outcome; a repeat changes only the last check.
        assert!(!last_check_only(&mut run, Outcome::Up));
        assert!(last_check_only(&mut run, Outcome::Up));
        assert!(last_check_only(&mut run, Outcome::Up));
        assert!(!last_check_only(&mut run, Outcome::Degraded));
        assert!(last_check_only(&mut run, Outcome::Degraded));
        // Failures change the streak, the state and the incident: always written.
        assert!(!last_check_only(&mut run, Outcome::Down));
        assert!(!last_check_only(&mut run, Outcome::Down));
        // Recovering: the first success ends the failure streak, the second the incident.
        assert!(!last_check_only(&mut run, Outcome::Up));
        assert!(!last_check_only(&mut run, Outcome::Up));
        assert!(last_check_only(&mut run, Outcome::Up));
        run.maintenance = true;
        assert!(!last_check_only(&mut run, Outcome::Up));
        assert!(last_check_only(&mut run, Outcome::Up));
    }

    #[test]
    fn first_success_is_quiet() {
        let mut run = Run::new(1, 1);
        assert_eq!(run.step(Outcome::Up), (MonitorState::Up, vec![], None));
    }

    #[test]
    fn failure_threshold_opens_one_incident() {
        let mut run = Run::new(3, 1);
        run.step(Outcome::Up);
        assert_eq!(run.step(Outcome::Down).0, MonitorState::Up);
        assert_eq!(run.step(Outcome::Down).0, MonitorState::Up);
        let (state, events, incident) = run.step(Outcome::Down);
        assert_eq!(state, MonitorState::Down);
        assert_eq!(events, vec!["monitor.down", "incident.opened"]);
        let Some(IncidentChange::Open {
            id, first_failure, ..
        }) = incident
        else {
            panic!("no incident")
        };
        assert_eq!(run.status.open_incident.as_deref(), Some(id.as_str()));
        assert_eq!(first_failure.outcome, Outcome::Down);
        assert_eq!(run.step(Outcome::Down), (MonitorState::Down, vec![], None));
    }

    #[test]
    fn success_threshold_resolves() {
        let mut run = Run::new(1, 2);
        run.step(Outcome::Down);
        assert_eq!(run.step(Outcome::Up), (MonitorState::Down, vec![], None));
        assert_eq!(run.status.consecutive_successes, 1);
        let (state, events, incident) = run.step(Outcome::Up);
        assert_eq!(state, MonitorState::Up);
        assert_eq!(events, vec!["monitor.up", "incident.resolved"]);
        assert!(matches!(incident, Some(IncidentChange::Resolve { .. })));
        assert!(run.status.open_incident.is_none());
    }

    #[test]
    fn flapping_below_threshold_never_opens() {
        let mut run = Run::new(2, 1);
        run.step(Outcome::Up);
        for _ in 0..10 {
            assert_eq!(run.step(Outcome::Down), (MonitorState::Up, vec![], None));
            assert_eq!(run.step(Outcome::Up), (MonitorState::Up, vec![], None));
        }
    }

    #[test]
    fn degraded_and_back() {
        let mut run = Run::new(1, 1);
        run.step(Outcome::Up);
        assert_eq!(
            run.step(Outcome::Degraded),
            (MonitorState::Degraded, vec!["monitor.degraded"], None)
        );
        assert_eq!(
            run.step(Outcome::Degraded),
            (MonitorState::Degraded, vec![], None)
        );
        assert_eq!(
            run.step(Outcome::Up),
            (MonitorState::Up, vec!["monitor.up"], None)
        );
    }

    #[test]
    fn maintenance_suppresses_then_resumes() {
        let mut run = Run::new(2, 1);
        run.step(Outcome::Up);
        run.maintenance = true;
        for _ in 0..3 {
            assert_eq!(
                run.step(Outcome::Down),
                (MonitorState::Maintenance, vec![], None)
            );
        }
        assert_eq!(run.status.consecutive_failures, 3);
        run.maintenance = false;
        let (state, events, incident) = run.step(Outcome::Down);
        assert_eq!(state, MonitorState::Down);
        assert_eq!(events, vec!["monitor.down", "incident.opened"]);
        assert!(incident.is_some());
    }

    #[test]
    fn incident_open_before_maintenance_resolves_after() {
        let mut run = Run::new(1, 1);
        run.step(Outcome::Down);
        run.maintenance = true;
        assert_eq!(run.step(Outcome::Up).0, MonitorState::Maintenance);
        assert!(run.status.open_incident.is_some());
        run.maintenance = false;
        let (state, events, incident) = run.step(Outcome::Up);
        assert_eq!(state, MonitorState::Up);
        assert_eq!(events, vec!["monitor.up", "incident.resolved"]);
        assert!(matches!(incident, Some(IncidentChange::Resolve { .. })));
    }

    #[test]
    fn certificate_warning_once_per_certificate() {
        let tls: TlsCheck =
            serde_json::from_str(r#"{"host":"example.test","expiry_warning":"14d"}"#).unwrap();
        let mut r = result(Outcome::Up, 0);
        r.cert_not_after = Some(r.started_at + chrono::Duration::days(3));
        let event = certificate_warning(&r, &tls, None).expect("warning");
        assert_eq!(event.event_type, EventType::CertificateExpiring);
        assert_eq!(event.data["days_left"], 3);
        assert_eq!(event.data["subject"], "example.test");
        assert!(certificate_warning(&r, &tls, r.cert_not_after).is_none());
        r.cert_not_after = Some(r.started_at + chrono::Duration::days(30));
        assert!(certificate_warning(&r, &tls, None).is_none());
    }
}
