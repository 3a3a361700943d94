//! Verification statuses: started once, progress saved while open, ended once with its event,
//! deleted with the verification.

use chrono::Utc;
use vedette_model::verification::{VerificationSpec, VerificationState, VerificationStatus};
use vedette_model::{EventType, Record};

use crate::common::{TestDb, event};

backend_tests!(a_verification_starts_and_ends_once);

fn status(state: VerificationState) -> VerificationStatus {
    VerificationStatus {
        state,
        started_at: Some(Utc::now()),
        ..VerificationStatus::default()
    }
}

async fn a_verification_starts_and_ends_once(db: &TestDb) {
    let store = db.open().await;
    let spec = VerificationSpec {
        selector: Some("team=a".into()),
        ids: None,
        consecutive: 3,
        timeout: vedette_model::Duration::from_secs(60),
        run_now: true,
        fail_fast: true,
        deployment: None,
    };
    store
        .put(&Record::new("gate", spec), Some(0))
        .await
        .unwrap();
    assert_eq!(store.verification_status("gate").await.unwrap(), None);

    let running = status(VerificationState::Running);
    let (first, stored) = store
        .start_verification("gate", &running, None)
        .await
        .unwrap();
    assert!(first);
    assert_eq!(stored, running);
    // A second start adopts what the first stored.
    let other = status(VerificationState::Running);
    let (again, adopted) = store
        .start_verification("gate", &other, None)
        .await
        .unwrap();
    assert!(!again);
    assert_eq!(adopted, running);

    let mut progress = running.clone();
    progress.reason = Some("progress".into());
    store
        .save_verification_progress("gate", &progress)
        .await
        .unwrap();
    assert_eq!(
        store.verification_status("gate").await.unwrap(),
        Some(progress)
    );

    let mut passed = running.clone();
    passed.state = VerificationState::Passed;
    let at = Utc::now();
    let passed_event = event("ev-pass", EventType::VerificationPassed, "m", at, "passed");
    assert!(
        store
            .finish_verification("gate", &passed, &passed_event)
            .await
            .unwrap()
    );
    let mut failed = running.clone();
    failed.state = VerificationState::Failed;
    let failed_event = event("ev-fail", EventType::VerificationFailed, "m", at, "failed");
    assert!(
        !store
            .finish_verification("gate", &failed, &failed_event)
            .await
            .unwrap()
    );
    store
        .save_verification_progress("gate", &running)
        .await
        .unwrap();
    assert_eq!(
        store.verification_status("gate").await.unwrap(),
        Some(passed)
    );
    let events: Vec<String> = store
        .list_events(None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.id)
        .collect();
    assert_eq!(events, ["ev-pass"]);

    assert!(store.delete_verification("gate").await.unwrap());
    assert_eq!(store.verification_status("gate").await.unwrap(), None);
    assert!(
        store
            .get::<VerificationSpec>("gate")
            .await
            .unwrap()
            .is_none()
    );
    assert!(!store.delete_verification("gate").await.unwrap());
}
