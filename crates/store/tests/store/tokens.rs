//! API tokens: creation, lookup by secret, listing, revocation, expiry, throttled last use and
//! the one-time bootstrap.

use chrono::Duration;
use vedette_store::{NewToken, Revocation, Scope, Store, StoreError, token_sha256};

use crate::common::{TestDb, now_ms};

backend_tests!(
    tokens_round_trip,
    bootstrap_happens_once,
    racing_revocations_keep_an_admin
);

fn new_token(id: &str, scopes: &[Scope]) -> NewToken {
    NewToken {
        id: id.to_owned(),
        name: format!("{id} token"),
        scopes: scopes.to_vec(),
        expires_at: None,
    }
}

async fn tokens_round_trip(db: &TestDb) {
    let store = db.open().await;
    let now = now_ms();
    assert!(!store.has_tokens().await.expect("has"));

    let ci = store
        .create_token(
            &new_token("tok_ci", &[Scope::Read, Scope::Write]),
            "vdt_ci-secret",
            now,
        )
        .await
        .expect("create");
    assert_eq!(ci.scope(), Some(Scope::Write));
    assert!(ci.is_active(now));
    let mut expiring = new_token("tok_old", &[Scope::Read]);
    expiring.expires_at = Some(now + Duration::minutes(5));
    store
        .create_token(&expiring, "vdt_old-secret", now)
        .await
        .expect("create");

    // Lookup goes by hash; the record read back is the one written.
    let found = store
        .token_by_secret("vdt_ci-secret")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found, ci);
    assert_eq!(
        store
            .token_by_secret("vdt_ci-secreT")
            .await
            .expect("lookup"),
        None
    );
    let old = store
        .token_by_secret("vdt_old-secret")
        .await
        .expect("lookup")
        .expect("found");
    assert!(old.is_active(now));
    assert!(!old.is_active(now + Duration::minutes(5)));

    // Duplicate ids and secrets are refused.
    let dup_id = store
        .create_token(&new_token("tok_ci", &[Scope::Read]), "vdt_other", now)
        .await;
    assert!(matches!(dup_id, Err(StoreError::Database(_))), "{dup_id:?}");
    let dup_secret = store
        .create_token(&new_token("tok_x", &[Scope::Read]), "vdt_ci-secret", now)
        .await;
    assert!(
        matches!(dup_secret, Err(StoreError::Database(_))),
        "{dup_secret:?}"
    );

    assert_eq!(listed_ids(&store).await, ["tok_ci", "tok_old"]);

    // Last use is written at most once per throttle period.
    let minute = Duration::minutes(1);
    for (at, written) in [
        (now, true),
        (now + Duration::seconds(30), false),
        (now + Duration::seconds(61), true),
    ] {
        let touched = store
            .touch_token("tok_ci", at, minute)
            .await
            .expect("touch");
        assert_eq!(touched, written, "a use at {at}");
    }
    assert_eq!(
        store
            .get_token("tok_ci")
            .await
            .expect("get")
            .expect("exists")
            .last_used_at,
        Some(now + Duration::seconds(61))
    );

    // Revoked tokens stay findable (so they answer 401, not "unknown"), leave the list, and
    // cannot be revoked twice.
    assert!(store.revoke_token("tok_ci", now).await.expect("revoke"));
    assert!(!store.revoke_token("tok_ci", now).await.expect("revoke"));
    assert!(
        !store
            .revoke_token("tok_missing", now)
            .await
            .expect("revoke")
    );
    let revoked = store
        .token_by_secret("vdt_ci-secret")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(revoked.revoked_at, Some(now));
    assert!(!revoked.is_active(now));
    assert_eq!(listed_ids(&store).await, ["tok_old"]);

    // The secret itself is stored nowhere.
    let pool = sqlx::AnyPool::connect(&db.raw_url())
        .await
        .expect("connect");
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_sha256 FROM api_tokens ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("hashes");
    assert_eq!(
        stored,
        [
            token_sha256("vdt_ci-secret"),
            token_sha256("vdt_old-secret")
        ]
    );
    pool.close().await;
    store.close().await;
}

async fn bootstrap_happens_once(db: &TestDb) {
    let store = db.open().await;
    let now = now_ms();
    let admin = new_token("tok_boot", &[Scope::Admin]);
    assert!(
        store
            .bootstrap_token(&admin, "vdt_boot", now)
            .await
            .expect("bootstrap")
    );
    let again = new_token("tok_boot2", &[Scope::Admin]);
    assert!(
        !store
            .bootstrap_token(&again, "vdt_boot2", now)
            .await
            .expect("bootstrap")
    );
    assert!(store.revoke_token("tok_boot", now).await.expect("revoke"));
    // A database whose tokens were all revoked is not bootstrapped again.
    assert!(
        !store
            .bootstrap_token(&again, "vdt_boot2", now)
            .await
            .expect("bootstrap")
    );
    assert!(store.has_tokens().await.expect("has"));
    let found = store
        .token_by_secret("vdt_boot")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.scope(), Some(Scope::Admin));
    store.close().await;
}

/// "X revokes Y" and "Y revokes X" at once: exactly one wins, an admin token always remains.
async fn racing_revocations_keep_an_admin(db: &TestDb) {
    let store = db.open().await;
    let now = now_ms();
    for trial in 0..8 {
        let (x, y) = (format!("tok_x{trial}"), format!("tok_y{trial}"));
        for id in [&x, &y] {
            store
                .create_token(&new_token(id, &[Scope::Admin]), &format!("vdt_{id}"), now)
                .await
                .expect("create");
        }
        if trial > 0 {
            for id in [format!("tok_x{}", trial - 1), format!("tok_y{}", trial - 1)] {
                store.revoke_token(&id, now).await.expect("clean up");
            }
        }
        let (a, b) = tokio::join!(
            tokio::spawn({
                let store = store.clone();
                let x = x.clone();
                async move { store.revoke_token_keeping_admin(&x, now).await }
            }),
            tokio::spawn({
                let store = store.clone();
                let y = y.clone();
                async move { store.revoke_token_keeping_admin(&y, now).await }
            }),
        );
        let mut outcomes = [
            a.expect("join").expect("revoke"),
            b.expect("join").expect("revoke"),
        ];
        outcomes.sort_by_key(|o| *o == Revocation::LastAdmin);
        assert_eq!(
            outcomes,
            [Revocation::Revoked, Revocation::LastAdmin],
            "trial {trial}"
        );
        let admins = store
            .list_tokens()
            .await
            .expect("list")
            .into_iter()
            .filter(|t| t.is_active(now) && t.scope() == Some(Scope::Admin))
            .count();
        assert_eq!(admins, 1, "trial {trial}");
    }
    assert_eq!(
        store
            .revoke_token_keeping_admin("tok_missing", now)
            .await
            .expect("revoke"),
        Revocation::NotFound
    );
}

/// The ids of the tokens `list_tokens` returns, in its order.
async fn listed_ids(store: &Store) -> Vec<String> {
    store
        .list_tokens()
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.id)
        .collect()
}
