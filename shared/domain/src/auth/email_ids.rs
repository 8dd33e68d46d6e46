//! Which user an email identity (the PKCE, ALB and header providers vouch for an email, not a
//! user id) belongs to, remembered by the process so that a warm function reads nothing before
//! the permission layer's one batch.
//!
//! A remembered id is only a guess: the permission layer reads that user in its batch anyway
//! and keeps the answer only when the user still has this email; otherwise (an account removed
//! and its email taken by someone else) it [`forget`]s it and reads the email's owner afresh.
//! Unknown emails are never remembered, so a first sign-in always reads.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use dispatch_store::Store;
use dispatch_store::keys;

use crate::error::DomainError;
use crate::model::Credentials;

/// Most emails remembered; the memory starts over when full (one read each to refill).
const CAPACITY: usize = 10_000;

/// `(table, email)` → user id.
static KNOWN: LazyLock<Mutex<HashMap<(String, String), i32>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn key(store: &Store, email: &str) -> (String, String) {
    (store.table().to_owned(), email.to_owned())
}

/// The id of the user with `email` (normalised as identities are), remembered or read from the
/// email's guard item; `None` when nobody has it.
pub async fn user_id(store: &Store, email: &str) -> Result<Option<i32>, DomainError> {
    if let Some(id) = KNOWN
        .lock()
        .ok()
        .and_then(|k| k.get(&key(store, email)).copied())
    {
        return Ok(Some(id));
    }
    let Some(credentials) = store.get::<Credentials>(&keys::email_guard(email)).await? else {
        return Ok(None);
    };
    if let Ok(mut known) = KNOWN.lock() {
        if known.len() >= CAPACITY {
            known.clear();
        }
        known.insert(key(store, email), credentials.user_id);
    }
    Ok(Some(credentials.user_id))
}

/// Forgets what was remembered for `email` (the user read for it no longer has it).
pub fn forget(store: &Store, email: &str) {
    if let Ok(mut known) = KNOWN.lock() {
        known.remove(&key(store, email));
    }
}

/// Whether `email` is remembered (for tests).
pub fn remembered(store: &Store, email: &str) -> bool {
    KNOWN
        .lock()
        .is_ok_and(|known| known.contains_key(&key(store, email)))
}
