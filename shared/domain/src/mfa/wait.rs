//! Waiting for a challenge's answer (Dispatch's `wait_for_challenge`): poll until it is no
//! longer pending, and mark it `expired` when the wait runs out.

use std::time::Duration;

use tokio::time::Instant;

use super::{PENDING_LABEL, Status, load, now_seconds, parse_id, settle};
use crate::error::DomainError;
use dispatch_store::{Store, StoreError};

/// Dispatch's default wait.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Dispatch's polling period.
pub const DEFAULT_POLL: Duration = Duration::from_secs(1);

/// The refusal when the challenge does not exist (or TTL removed it).
const NOT_FOUND: &str = "Challenge not found.";

/// Polls challenge `challenge_id` every `poll` until it is approved, denied or expired, and
/// answers that status. When `timeout` runs out first, or the challenge's own expiry passes
/// (nobody can approve it any more), it is marked `expired`, conditionally on still being
/// pending: an approval that landed meanwhile wins and `approved` is answered.
///
/// Dispatch raises on a denied challenge; here `Denied` is an answer like the others, and the
/// CLI turns it into a failure.
pub async fn wait_for_challenge(
    store: &Store,
    challenge_id: &str,
    timeout: Duration,
    poll: Duration,
) -> Result<Status, DomainError> {
    let not_found = || DomainError::NotFound(NOT_FOUND.into());
    let id = parse_id(challenge_id).ok_or_else(not_found)?;
    let deadline = Instant::now() + timeout;
    loop {
        let challenge = load(store, &id).await?.ok_or_else(not_found)?;
        if challenge.status != Status::Pending {
            return Ok(challenge.status);
        }
        let now = Instant::now();
        if now >= deadline || !challenge.is_valid(now_seconds()) {
            break;
        }
        // A poll of zero would spin: DynamoDB is asked at most ten times a second.
        let pause = poll.max(Duration::from_millis(100));
        tokio::time::sleep(pause.min(deadline - now)).await;
    }
    tracing::info!(challenge_id = %id, "MFA challenge not answered in time: expired");
    match settle(store, &id, Status::Expired, None).await {
        Ok(()) => Ok(Status::Expired),
        Err(StoreError::ConditionFailed { label }) if label == PENDING_LABEL => {
            // Answered meanwhile (or removed): the stored status is the answer.
            Ok(load(store, &id).await?.ok_or_else(not_found)?.status)
        }
        Err(other) => Err(other.into()),
    }
}
