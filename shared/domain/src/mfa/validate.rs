//! `POST /{organization}/auth/mfa`: the caller approves their own challenge, through the
//! project's enabled MFA plugin, with Dispatch's checks in Dispatch's order.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;

use super::{Challenge, PENDING_LABEL, Status, load, now_seconds, parse_id, settle};
use crate::error::DomainError;
use crate::model::{Organization, ShortText, User};
use crate::plugins::instances::get_active_instance;
use crate::project_reads;
use dispatch_store::{Expression, Store, StoreError};

/// The plugin type of MFA plugins.
pub const MFA_PLUGIN_TYPE: &str = "auth-mfa";
/// The MFA plugin whose challenges live in this table.
pub const BUILT_IN_PLUGIN: &str = "dispatch-auth-mfa";

/// Dispatch's refusal when the project has no enabled MFA plugin (there a 500, here a 400).
pub const NOT_ENABLED: &str = "MFA plugin is not enabled for the project.";
/// No challenge with this id in this organization (or not a UUID at all).
pub const INVALID_CHALLENGE: &str = "Invalid challenge ID";
/// The challenge asks to confirm another action.
pub const ACTION_MISMATCH: &str = "Action mismatch";
/// The challenge is past its expiry.
pub const NO_LONGER_VALID: &str = "Challenge is no longer valid";

/// How often an approval that lost a race re-reads the challenge. The status only leaves
/// `pending` once, so the second read always sees a final state.
const APPROVE_ATTEMPTS: usize = 2;

/// Dispatch's `MfaPayload`. Unknown fields are ignored, as pydantic does. `action` is bounded
/// like every one-line text (D-IN1): a longer one could not name a stored challenge anyway.
/// `challenge_id` is any string: one that is not a UUID is just an invalid challenge.
#[derive(Debug, Clone, Deserialize)]
pub struct MfaPayload {
    pub action: ShortText,
    pub project_id: i64,
    pub challenge_id: String,
}

fn bad(msg: impl Into<std::borrow::Cow<'static, str>>) -> DomainError {
    DomainError::BadRequest(msg.into())
}

/// Approves the caller's challenge `payload.challenge_id` in `org` and answers its status
/// (`approved`). Every refusal is a `BadRequest` with Dispatch's message:
///
/// 1. the project (a live project of `org`; another organization's is not looked at) has no
///    enabled `auth-mfa` instance: [`NOT_ENABLED`];
/// 2. then the built-in plugin's checks, in Dispatch's order ([`check`]);
/// 3. a pending challenge becomes `approved` by an update conditional on it still being
///    pending and valid. When that condition fails (a concurrent approval, or expiry), the
///    challenge is read and checked again: two approvals at once both answer `approved`, and a
///    challenge that expired meanwhile stays expired.
pub async fn validate(
    store: &Store,
    caller: &User,
    org: &Organization,
    payload: &MfaPayload,
) -> Result<Status, DomainError> {
    let slug = org.slug.as_str();
    let instance = match i32::try_from(payload.project_id) {
        Ok(project_id) if project_id > 0 => match project_reads::get(store, slug, project_id).await
        {
            Ok(_) => get_active_instance(store, slug, project_id, MFA_PLUGIN_TYPE).await?,
            Err(DomainError::NotFound(_)) => None,
            Err(other) => return Err(other),
        },
        _ => None,
    };
    let instance = instance.ok_or_else(|| bad(NOT_ENABLED))?;
    if instance.plugin_slug != BUILT_IN_PLUGIN {
        // Other MFA plugins (Duo) are integrations, outside this project's scope.
        return Err(bad(format!(
            "MFA plugin {} cannot validate challenges here: enable {BUILT_IN_PLUGIN}.",
            instance.plugin_slug
        )));
    }
    let id = parse_id(&payload.challenge_id).ok_or_else(|| bad(INVALID_CHALLENGE))?;
    for _ in 0..APPROVE_ATTEMPTS {
        let challenge = load(store, &id)
            .await?
            // A challenge is found only under its own organization and project: approving it
            // through another project (with MFA enabled) is not approving it.
            .filter(|c| {
                c.organization == slug
                    && c.organization_id == org.id
                    && i64::from(c.project_id) == payload.project_id
            })
            .ok_or_else(|| bad(INVALID_CHALLENGE))?;
        let now = now_seconds();
        if check(&challenge, caller, payload.action.as_str(), now)? == Status::Approved {
            return Ok(Status::Approved);
        }
        // Valid still at the write's own time: a second that ends between the read and the
        // write cannot approve a challenge past its expiry.
        let still_valid = Expression::new("#expires > :written_at")
            .name("#expires", "expires_at")
            .value(":written_at", AttributeValue::N(now_seconds().to_string()));
        match settle(store, &id, Status::Approved, Some(still_valid)).await {
            Ok(()) => return Ok(Status::Approved),
            Err(StoreError::ConditionFailed { label }) if label == PENDING_LABEL => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(DomainError::VersionConflict)
}

/// The built-in plugin's checks of a challenge found by id, in Dispatch's order: it belongs
/// to the caller, its action is `action`, it is valid at `now`; then an approved challenge is
/// answered as it is (idempotent), and any other state than `pending` is refused. `Ok` is the
/// status to answer (`Approved`) or to move from (`Pending`).
pub fn check(
    challenge: &Challenge,
    caller: &User,
    action: &str,
    now: i64,
) -> Result<Status, DomainError> {
    if challenge.user_id != caller.id {
        return Err(bad(format!(
            "Challenge does not belong to the current user: {}",
            caller.email.as_str()
        )));
    }
    if challenge.action != action {
        return Err(bad(ACTION_MISMATCH));
    }
    if !challenge.is_valid(now) {
        return Err(bad(NO_LONGER_VALID));
    }
    match challenge.status {
        Status::Approved | Status::Pending => Ok(challenge.status),
        other => Err(bad(format!("Challenge is in invalid state: {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EmailAddress;
    use crate::time::Timestamp;

    fn user(id: i32) -> User {
        User {
            id,
            email: EmailAddress::parse("me@example.com").unwrap(),
            token_version: 0,
            experimental_features: false,
            settings: Default::default(),
            provisioning_subject: None,
            organization_slugs: Vec::new(),
            organizations_indexed: false,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
            version: 1,
        }
    }

    fn challenge(status: Status) -> Challenge {
        Challenge {
            challenge_id: "00000000-0000-4000-8000-000000000000".into(),
            organization: "default".into(),
            organization_id: 1,
            project_id: 1,
            user_id: 7,
            email: "me@example.com".into(),
            action: "delete".into(),
            status,
            created_at: 100,
            expires_at: 200,
        }
    }

    fn refusal(result: Result<Status, DomainError>) -> String {
        match result {
            Err(DomainError::BadRequest(msg)) => msg.into_owned(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_checks_run_in_dispatch_s_order() {
        // Every check fails at once: the owner check speaks first, and so on down the list.
        let denied_elsewhere = challenge(Status::Denied);
        assert_eq!(
            refusal(check(&denied_elsewhere, &user(8), "other", 300)),
            "Challenge does not belong to the current user: me@example.com"
        );
        assert_eq!(
            refusal(check(&denied_elsewhere, &user(7), "other", 300)),
            ACTION_MISMATCH
        );
        assert_eq!(
            refusal(check(&denied_elsewhere, &user(7), "delete", 300)),
            NO_LONGER_VALID
        );
        assert_eq!(
            refusal(check(&denied_elsewhere, &user(7), "delete", 150)),
            "Challenge is in invalid state: denied"
        );
        // Expired by time beats "already approved": Dispatch checks `valid` first.
        assert_eq!(
            refusal(check(&challenge(Status::Approved), &user(7), "delete", 200)),
            NO_LONGER_VALID
        );
        let ok = |status| check(&challenge(status), &user(7), "delete", 199).unwrap();
        assert_eq!(ok(Status::Approved), Status::Approved);
        assert_eq!(ok(Status::Pending), Status::Pending);
    }

    #[test]
    fn challenge_ids_are_uuids_in_any_spelling() {
        let id = "6f1c1c8e-2b1a-4c7e-9d55-0a1b2c3d4e5f";
        assert_eq!(parse_id(id).as_deref(), Some(id));
        assert_eq!(
            parse_id("6F1C1C8E2B1A4C7E9D550A1B2C3D4E5F").as_deref(),
            Some(id)
        );
        for bad in ["", "abc", "6f1c1c8e-2b1a-4c7e-9d55", "' OR 1=1 --"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
