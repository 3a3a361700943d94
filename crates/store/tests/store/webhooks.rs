//! Webhook endpoints as versioned resources with their health beside them, and the webhook
//! queue's claims: each carries its owner, an owner releases only its own, and an attempt, a
//! replay or a disablement ends the claim.

use chrono::Duration;
use vedette_model::webhook::EndpointSpec;
use vedette_model::{EventType, Record};
use vedette_store::{
    MessageAfterAttempt, MessageFilter, MessageStatus, NewWebhookMessage, Store, WebhookAttempt,
    WebhookMessage,
};

use crate::common::{TestDb, event, now_ms};

backend_tests!(
    an_endpoint_is_versioned_with_its_health_beside_it,
    claims_carry_their_owner,
    an_owner_releases_only_its_own_claims,
    an_attempt_replay_or_disablement_ends_the_claim
);

fn endpoint(id: &str, enabled: bool) -> Record<EndpointSpec> {
    Record::new(
        id,
        EndpointSpec {
            url: Some("https://example.com/hook".to_owned()),
            enabled,
            ..EndpointSpec::default()
        },
    )
}

/// An endpoint `id` with `n` messages due now.
async fn endpoint_with_messages(store: &Store, id: &str, n: usize) {
    store
        .put(&endpoint(id, true), None)
        .await
        .expect("endpoint");
    for i in 0..n {
        let queued = store
            .enqueue_webhook_message(&NewWebhookMessage {
                id: format!("msg_{id}_{i}"),
                endpoint_id: id.to_owned(),
                event: event(
                    &format!("ev_{id}_{i}"),
                    EventType::MonitorDown,
                    "m",
                    now_ms(),
                    "down",
                ),
                first_attempt_at: now_ms() - Duration::seconds(1),
            })
            .await
            .expect("enqueue");
        assert!(queued);
    }
}

async fn messages(store: &Store, endpoint: &str) -> Vec<WebhookMessage> {
    store
        .list_webhook_messages(&MessageFilter {
            endpoint_id: Some(endpoint.to_owned()),
            limit: 100,
            ..MessageFilter::default()
        })
        .await
        .expect("messages")
}

async fn an_endpoint_is_versioned_with_its_health_beside_it(db: &TestDb) {
    let store = db.open().await;
    endpoint_with_messages(&store, "e", 2).await;
    let now = now_ms();
    let since = store
        .record_webhook_endpoint_health("e", false, now)
        .await
        .expect("health");
    assert_eq!(since, Some(now));
    // A disablement is a new version, on the change feed, with its reason beside it.
    let seq = store.last_change_seq().await.expect("seq");
    let disabled = store
        .disable_webhook_endpoint("e", "gone", now, None)
        .await
        .expect("disable")
        .expect("disabled");
    assert_eq!((disabled.version, disabled.spec.enabled), (2, false));
    assert!(store.last_change_seq().await.expect("seq") > seq);
    let health = store
        .webhook_endpoint_health("e")
        .await
        .expect("health")
        .expect("exists");
    assert_eq!(health.disabled_at, Some(now));
    assert_eq!(health.disabled_reason.as_deref(), Some("gone"));
    assert!(
        store
            .disable_webhook_endpoint("e", "again", now, None)
            .await
            .expect("disable")
            .is_none(),
        "already disabled"
    );
    // Writing it enabled again clears the failure run and the disablement.
    let enabled = store.put(&endpoint("e", true), None).await.expect("put");
    assert_eq!(enabled.version, 3);
    let health = store.webhook_endpoint_health("e").await.expect("health");
    assert_eq!(health, Some(Default::default()));
    // Deleting it takes its messages along.
    assert!(store.delete::<EndpointSpec>("e").await.expect("delete"));
    assert!(messages(&store, "e").await.is_empty());
    assert_eq!(
        store.webhook_endpoint_health("e").await.expect("health"),
        None
    );
}

async fn claims_carry_their_owner(db: &TestDb) {
    let store = db.open().await;
    endpoint_with_messages(&store, "e", 3).await;
    let now = now_ms();
    let lease = now + Duration::minutes(10);
    let a = store
        .claim_webhook_messages("e", "dsp_a", now, lease, 2)
        .await
        .expect("claim");
    assert_eq!(a.len(), 2);
    assert!(a.iter().all(|m| m.claimed_by.as_deref() == Some("dsp_a")));
    assert!(a.iter().all(|m| m.next_attempt_at == Some(lease)));
    let b = store
        .claim_webhook_messages("e", "dsp_b", now, lease, 10)
        .await
        .expect("claim");
    assert_eq!(b.len(), 1, "claimed messages are skipped");
    assert_eq!(b[0].claimed_by.as_deref(), Some("dsp_b"));
    // Once a lease has run out, the message can be claimed again, by its new owner.
    let after_lease = lease + Duration::seconds(1);
    let c = store
        .claim_webhook_messages(
            "e",
            "dsp_c",
            after_lease,
            after_lease + Duration::minutes(10),
            10,
        )
        .await
        .expect("claim");
    assert_eq!(c.len(), 3);
    assert!(c.iter().all(|m| m.claimed_by.as_deref() == Some("dsp_c")));
    // Reopening the store (a restart) keeps the claims.
    store.close().await;
    let store = db.open().await;
    assert!(
        messages(&store, "e")
            .await
            .iter()
            .all(|m| m.claimed_by.as_deref() == Some("dsp_c"))
    );
}

async fn an_owner_releases_only_its_own_claims(db: &TestDb) {
    let store = db.open().await;
    endpoint_with_messages(&store, "e", 4).await;
    let now = now_ms();
    let lease = now + Duration::minutes(10);
    store
        .claim_webhook_messages("e", "dsp_a", now, lease, 3)
        .await
        .expect("claim");
    store
        .claim_webhook_messages("e", "dsp_b", now, lease, 3)
        .await
        .expect("claim");
    let released_at = now + Duration::seconds(2);
    assert_eq!(
        store
            .release_webhook_claims("dsp_a", released_at)
            .await
            .expect("release"),
        3
    );
    assert_eq!(
        store
            .release_webhook_claims("dsp_a", released_at)
            .await
            .expect("release"),
        0,
        "nothing left to release"
    );
    let all = messages(&store, "e").await;
    let released: Vec<_> = all.iter().filter(|m| m.claimed_by.is_none()).collect();
    assert_eq!(released.len(), 3);
    assert!(
        released
            .iter()
            .all(|m| m.next_attempt_at == Some(released_at)
                && m.status == MessageStatus::Pending
                && m.attempts == 0)
    );
    let kept: Vec<_> = all
        .iter()
        .filter(|m| m.claimed_by.as_deref() == Some("dsp_b"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].next_attempt_at,
        Some(lease),
        "b's lease is untouched"
    );
    // The released messages are due again for anyone; b's is not.
    assert_eq!(
        store.webhook_endpoints_due(released_at).await.expect("due"),
        vec!["e".to_owned()]
    );
    let again = store
        .claim_webhook_messages("e", "dsp_c", released_at, lease, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 3);
}

async fn an_attempt_replay_or_disablement_ends_the_claim(db: &TestDb) {
    let store = db.open().await;
    endpoint_with_messages(&store, "e", 3).await;
    let now = now_ms();
    let lease = now + Duration::minutes(10);
    let claimed = store
        .claim_webhook_messages("e", "dsp_a", now, lease, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    // An attempt scheduling a retry ends the claim: a release does not pull the retry forward.
    let retry_at = now + Duration::minutes(5);
    store
        .complete_webhook_attempt(
            &WebhookAttempt {
                id: 0,
                message_id: claimed[0].id.clone(),
                endpoint_id: "e".to_owned(),
                attempt: 1,
                started_at: now,
                duration_ms: 3,
                outcome: "failure".to_owned(),
                request: serde_json::json!({}),
                response_status: Some(500),
                response: None,
                error: Some("receiver answered 500".to_owned()),
            },
            MessageAfterAttempt::RetryAt(retry_at),
        )
        .await
        .expect("complete");
    // A replay ends it too.
    assert!(
        store
            .replay_webhook_message(&claimed[1].id, now)
            .await
            .expect("replay")
    );
    assert_eq!(
        store
            .release_webhook_claims("dsp_a", now)
            .await
            .expect("release"),
        1,
        "only the message still under its claim"
    );
    let retried = store
        .get_webhook_message(&claimed[0].id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(retried.claimed_by, None);
    assert_eq!(retried.next_attempt_at, Some(retry_at));
    // A disablement fails pending messages and ends their claims.
    store
        .claim_webhook_messages("e", "dsp_b", now, lease, 10)
        .await
        .expect("claim");
    store
        .disable_webhook_endpoint("e", "gone", now, None)
        .await
        .expect("disable")
        .expect("disabled");
    let all = messages(&store, "e").await;
    assert!(all.iter().all(|m| m.claimed_by.is_none()), "{all:?}");
    assert!(all.iter().all(|m| m.status == MessageStatus::Failed));
    assert_eq!(
        store
            .release_webhook_claims("dsp_b", now)
            .await
            .expect("release"),
        0
    );
}
