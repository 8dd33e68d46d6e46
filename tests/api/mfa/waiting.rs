//! `wait_for_challenge`: an answer ends the wait; no answer in time marks the challenge
//! expired, and an approval that landed first is never overwritten.

use std::time::{Duration, Instant};

use dispatch_domain::mfa::{self, Status};

use super::{assert_approved, assert_refused, setup};

const POLL: Duration = Duration::from_millis(100);

#[tokio::test]
async fn an_unanswered_challenge_expires_when_the_wait_runs_out() {
    let t = setup().await;
    t.enable_mfa_plugin(&t.admin, "default", "default").await;
    let challenge = t.challenge().await;
    let started = Instant::now();
    let status = mfa::wait_for_challenge(
        &t.app.store,
        &challenge.challenge_id,
        Duration::from_millis(400),
        POLL,
    )
    .await
    .unwrap();
    assert_eq!(status, Status::Expired);
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(t.stored(&challenge.challenge_id).await, Status::Expired);
    // Still within its lifetime, but no longer pending: Dispatch's state refusal.
    assert_refused(
        &t.approve(&challenge).await,
        "Challenge is in invalid state: expired",
    );

    // A challenge past its own expiry ends the wait at once, whatever the timeout.
    let lapsed = t.challenge_for(&t.me, Duration::ZERO).await;
    let started = Instant::now();
    let status = mfa::wait_for_challenge(
        &t.app.store,
        &lapsed.challenge_id,
        Duration::from_secs(60),
        POLL,
    )
    .await
    .unwrap();
    assert_eq!(status, Status::Expired);
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn an_approval_ends_the_wait_and_no_expiry_overwrites_it() {
    let t = setup().await;
    t.enable_mfa_plugin(&t.admin, "default", "default").await;
    let challenge = t.challenge().await;
    let started = Instant::now();
    let waiting = mfa::wait_for_challenge(
        &t.app.store,
        &challenge.challenge_id,
        Duration::from_secs(60),
        POLL,
    );
    let approving = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        t.approve(&challenge).await
    };
    let (status, approved) = tokio::join!(waiting, approving);
    assert_approved(&approved);
    assert_eq!(status.unwrap(), Status::Approved);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "ended by the answer"
    );

    // A wait that runs out after the approval answers it and leaves it approved.
    let status =
        mfa::wait_for_challenge(&t.app.store, &challenge.challenge_id, Duration::ZERO, POLL)
            .await
            .unwrap();
    assert_eq!(status, Status::Approved);
    assert_eq!(t.stored(&challenge.challenge_id).await, Status::Approved);

    // Unknown and malformed ids are not found.
    for id in [uuid::Uuid::new_v4().to_string(), "nope".to_owned()] {
        let missing = mfa::wait_for_challenge(&t.app.store, &id, Duration::ZERO, POLL).await;
        assert!(
            matches!(missing, Err(dispatch_domain::DomainError::NotFound(_))),
            "{missing:?}"
        );
    }
}
