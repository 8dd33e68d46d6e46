//! Changes to a user's own account (settings, experimental features, password), each a
//! read-modify-write of the user under its version, written with the checks of the grounds on
//! which the caller may change that account ([`super::account_authority`]).

use super::account_authority::{AUTHORITY_LABEL, Authority, forbidden};
use super::users::{credentials_item, user_item};
use crate::error::{DomainError, OnCondition};
use crate::model::{Credentials, User};
use crate::time::Timestamp;
use dispatch_store::keys;
use dispatch_store::{Store, Transaction};

/// Applies `change` to the stored user and writes it back under a version check, re-reading
/// and re-applying on a concurrent change. `change` returns `false` when there is nothing to
/// write.
///
/// `authority` is why the caller may change this account ([`super::account_authority`]); its
/// checks are written in the same transaction.
pub async fn update_user(
    store: &Store,
    user_id: i32,
    authority: &Authority,
    change: impl Fn(&mut User) -> bool,
) -> Result<User, DomainError> {
    update_user_from(store, user_id, None, authority, change).await
}

/// Like [`update_user`], starting from `read`, the user as this request already read them
/// (consistently, e.g. the permission layer's caller): the change costs no read of its own
/// unless it loses a race, which reads again.
pub async fn update_user_from(
    store: &Store,
    user_id: i32,
    read: Option<User>,
    authority: &Authority,
    change: impl Fn(&mut User) -> bool,
) -> Result<User, DomainError> {
    let first = std::sync::Mutex::new(read.filter(|user| user.id == user_id));
    dispatch_store::retry_on_version_conflict(|| async {
        let already_read = first.lock().map(|mut first| first.take()).unwrap_or(None);
        let mut user: User = match already_read {
            Some(user) => user,
            None => store.get(&keys::user(user_id)).await?.ok_or_else(|| {
                DomainError::NotFound("A user with this id does not exist.".into())
            })?,
        };
        if !change(&mut user) {
            return Ok(user);
        }
        let expected = user.version;
        user.version += 1;
        user.updated_at = Timestamp::now();
        let mut tx = Transaction::new();
        tx.put_versioned(user_item(&user)?, expected)?;
        write_account_change(store, tx, authority).await?;
        Ok::<_, DomainError>(user)
    })
    .await
}

/// Replaces the user's password hash and bumps their token version, which revokes every token
/// issued before: both items change in one transaction, under their version checks and the
/// checks of `authority` ([`super::account_authority`]).
pub async fn set_password(
    store: &Store,
    user_id: i32,
    password_hash: &str,
    authority: &Authority,
) -> Result<User, DomainError> {
    dispatch_store::retry_on_version_conflict(|| async {
        let mut user: User = store
            .get(&keys::user(user_id))
            .await?
            .ok_or_else(|| DomainError::NotFound("A user with this id does not exist.".into()))?;
        let mut credentials: Credentials = store
            .get(&keys::email_guard(&user.email))
            .await?
            .ok_or_else(|| {
                DomainError::Internal(anyhow::anyhow!("user {user_id} has no credentials item"))
            })?;
        let (user_version, credentials_version) = (user.version, credentials.version);
        credentials.password_hash = password_hash.to_owned();
        credentials.version += 1;
        user.token_version += 1;
        user.version += 1;
        user.updated_at = Timestamp::now();
        let mut tx = Transaction::new();
        tx.put_versioned(
            credentials_item(&user.email, &credentials)?,
            credentials_version,
        )?;
        tx.put_versioned(user_item(&user)?, user_version)?;
        write_account_change(store, tx, authority).await?;
        Ok::<_, DomainError>(user)
    })
    .await
}

/// Writes a change to a user's account with the checks that keep `authority`'s grounds in the
/// same transaction; grounds gone meanwhile are the 403 the decision would have been.
async fn write_account_change(
    store: &Store,
    mut tx: Transaction,
    authority: &Authority,
) -> Result<(), DomainError> {
    authority.add_checks(&mut tx)?;
    store
        .transact(tx)
        .await
        .on_condition(AUTHORITY_LABEL, forbidden)
}
