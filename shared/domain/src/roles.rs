//! Organization roles: giving a user a role, and the rule that an organization never loses its
//! last Owner.
//!
//! Demoting an Owner writes, in one transaction, the new role and a check that *another*
//! membership of the organization is still an Owner. DynamoDB serialises transactions on
//! common items, so two Owners demoting each other at once cannot both succeed: the second
//! finds its check failed, reads again, and is refused when nobody else is left. Finding the
//! other Owner reads the organization's memberships (consistently), at most its member count.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::DomainError;
use crate::model::{Membership, Organization, Role, User};
use crate::time::Timestamp;
use dispatch_store::keys;
use dispatch_store::{Expression, Source, Store, StoreError, Transaction, from_attributes};

use super::users::{add_membership, membership_item};

/// The 409 for a change that would leave an organization without an Owner.
pub const LAST_OWNER: &str =
    "An organization must keep at least one Owner: make another member Owner first.";

/// The label of the check that another Owner remains.
const OTHER_OWNER: &str = "other_owner";

/// Gives `user` the role `role` in `org`, creating the membership (with a link to the default
/// project) when there is none (Q-U6). Versioned; retried on a concurrent change. Demoting the
/// organization's last Owner is a 409 ([`LAST_OWNER`]) and changes nothing.
pub async fn set_role(
    store: &Store,
    org: &Organization,
    user: &User,
    role: Role,
) -> Result<(), DomainError> {
    dispatch_store::retry_on_version_conflict(|| async {
        let key = keys::membership(&org.slug, user.id);
        let now = Timestamp::now();
        let mut tx = Transaction::new();
        match store.get::<Membership>(&key).await? {
            Some(membership) => {
                if membership.role == role {
                    return Ok(());
                }
                add_role_change(store, &mut tx, membership, role, now).await?;
            }
            None => add_membership(&mut tx, org, user, role, now)?,
        }
        store
            .transact(tx)
            .await
            // A concurrent request added the membership first, or the other Owner was demoted
            // meanwhile: read again.
            .map_err(|e| match e {
                StoreError::ConditionFailed { label } if label == "membership" => {
                    StoreError::VersionConflict
                }
                other => reread_when_other_owner_changed(other),
            })?;
        Ok::<_, DomainError>(())
    })
    .await
}

/// Adds to `tx` the change of `membership` to `role` (a different role). Demoting an Owner
/// also checks that another Owner remains; with none, a 409 ([`LAST_OWNER`]).
pub(crate) async fn add_role_change(
    store: &Store,
    tx: &mut Transaction,
    mut membership: Membership,
    role: Role,
    now: Timestamp,
) -> Result<(), DomainError> {
    let slug = membership.organization_slug.clone();
    if membership.role == Role::Owner && role != Role::Owner {
        let other = another_owner(store, &slug, membership.user_id)
            .await?
            .ok_or_else(|| DomainError::Conflict(LAST_OWNER.into()))?;
        let key = keys::membership(&slug, other);
        // The change may already check that same membership for the same condition.
        if !tx.holds(&key) {
            tx.check(key, is_owner(), OTHER_OWNER)?;
        }
    }
    let expected = membership.version;
    membership.role = role;
    membership.version += 1;
    membership.updated_at = now;
    tx.put_versioned(membership_item(&membership)?, expected)?;
    Ok(())
}

/// The other Owner a demotion relied on was demoted meanwhile: a version conflict, so that the
/// change is read and decided again.
pub(crate) fn reread_when_other_owner_changed(error: StoreError) -> StoreError {
    match error {
        StoreError::ConditionFailed { label } if label == OTHER_OWNER => {
            StoreError::VersionConflict
        }
        other => other,
    }
}

/// An Owner of organization `slug` other than `user_id`, if any.
async fn another_owner(
    store: &Store,
    slug: &str,
    user_id: i32,
) -> Result<Option<i32>, DomainError> {
    let members = store
        .query_prefix(Source::Table, &keys::org_partition(slug), "MEMBER#")
        .await?;
    for item in members {
        let membership: Membership = from_attributes(item)?;
        if membership.role == Role::Owner && membership.user_id != user_id {
            return Ok(Some(membership.user_id));
        }
    }
    Ok(None)
}

/// The condition that a membership is an Owner's.
pub(crate) fn is_owner() -> Expression {
    Expression::new("#role = :owner")
        .name("#role", "role")
        .value(":owner", AttributeValue::S(Role::Owner.as_str().into()))
}
