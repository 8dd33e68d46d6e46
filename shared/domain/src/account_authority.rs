//! Who may change a user's account-wide state: their password (and so their tokens) and
//! their experimental features.
//!
//! A password belongs to the person, not to one organization: it opens every organization
//! they belong to. So an organization role only reaches it when the caller is **Owner of
//! every organization the target belongs to**; otherwise an Owner of one organization could
//! reset the password of an Owner of another and log in there. The user themself and the
//! operator (`dispatch user reset`, which runs with the table's credentials) always may.
//!
//! The decision is kept in the write: the transaction that changes the account also checks
//! that each of the caller's Owner memberships it relied on is still an Owner membership, so a
//! concurrent demotion of the caller makes the change fail with the same 403. A membership the
//! target gains in the milliseconds between the decision and the write (the user index is
//! eventually consistent) is not seen; gaining one takes an Owner of that organization.

use crate::error::DomainError;
use crate::messages::FORBIDDEN;
use crate::model::{Membership, Role, User};
use dispatch_store::keys;
use dispatch_store::{Store, StoreError, Transaction, from_attributes};

/// The label of the checks that keep the decision in the write.
pub const AUTHORITY_LABEL: &str = "authority";

/// On what grounds an account-wide change is made.
#[derive(Debug, Clone)]
pub enum Authority {
    /// The operator's CLI: no organization role involved.
    Operator,
    /// The user changes their own account.
    Themself,
    /// An Owner of each of `organizations` (every organization of the target).
    OwnerEverywhere {
        caller_id: i32,
        organizations: Vec<String>,
    },
}

/// Decides whether `caller` may change the account of user `target_id`: 403 with Dispatch's
/// permission message unless it is themself or they are Owner of all the target's
/// organizations.
///
/// `path_organization` is where the request found the target: it is always among the
/// organizations checked, even before the user index (eventually consistent) shows it.
pub async fn authority_over(
    store: &Store,
    caller: &User,
    target_id: i32,
    path_organization: &str,
) -> Result<Authority, DomainError> {
    if caller.id == target_id {
        return Ok(Authority::Themself);
    }
    let mut organizations: Vec<String> = super::memberships::memberships_of(store, target_id)
        .await?
        .into_iter()
        .map(|(org, _)| org.slug.into_string())
        .collect();
    if !organizations.iter().any(|slug| slug == path_organization) {
        organizations.push(path_organization.to_owned());
    }
    let wanted: Vec<_> = organizations
        .iter()
        .map(|slug| keys::membership(slug, caller.id))
        .collect();
    for found in store.batch_get(&wanted).await? {
        let role = found
            .map(from_attributes::<Membership>)
            .transpose()?
            .map(|m| m.role);
        if role != Some(Role::Owner) {
            return Err(forbidden());
        }
    }
    Ok(Authority::OwnerEverywhere {
        caller_id: caller.id,
        organizations,
    })
}

impl Authority {
    /// Adds to `tx` the checks that the grounds still hold when the change is written.
    pub fn add_checks(&self, tx: &mut Transaction) -> Result<(), StoreError> {
        if let Authority::OwnerEverywhere {
            caller_id,
            organizations,
        } = self
        {
            for slug in organizations {
                let key = keys::membership(slug, *caller_id);
                // A demotion in the same change may already check that this membership is an
                // Owner's (the "another Owner remains" check): the same condition, kept once.
                if !tx.holds(&key) {
                    tx.check(key, super::roles::is_owner(), AUTHORITY_LABEL)?;
                }
            }
        }
        Ok(())
    }
}

/// Dispatch's permission message, for a change the caller's roles do not reach.
pub fn forbidden() -> DomainError {
    DomainError::Forbidden(FORBIDDEN.into())
}
