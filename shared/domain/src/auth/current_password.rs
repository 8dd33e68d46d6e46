//! Checking a user's current password (`change-password` of one's own account): through the
//! same throttle as a login, so the endpoint is no way around it (D-AUTH3).

use dispatch_store::{Store, keys};

use super::throttle::{self, Throttle};
use super::{Password, Passwords};
use crate::error::DomainError;
use crate::model::Credentials;
use crate::time::Timestamp;

/// Whether `raw` is the current password of the account with `email`, as seen from `ip`. A
/// wrong one is Dispatch's 400 "Invalid current password" and counts as a failed login, so
/// `change-password` cannot be used to guess a password faster than login.
pub async fn check(
    store: &Store,
    passwords: &Passwords,
    email: &str,
    ip: Option<&str>,
    raw: &str,
) -> Result<(), DomainError> {
    let guard = Throttle::new(email, ip, Timestamp::now().unix_seconds());
    let matches = throttle::guarded(store, guard, async {
        let Ok(current) = Password::parse(raw) else {
            return false;
        };
        let credentials: Option<Credentials> = match store.get(&keys::email_guard(email)).await {
            Ok(found) => found,
            Err(_) => return false,
        };
        passwords
            .verify(
                &current,
                credentials.as_ref().map(|c| c.password_hash.as_str()),
            )
            .await
    })
    .await?;
    if matches {
        Ok(())
    } else {
        Err(DomainError::BadRequest("Invalid current password".into()))
    }
}
