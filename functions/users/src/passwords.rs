//! `POST …/users/{user_id}/change-password` (the user themself with their current password, or
//! an Owner) and `POST …/users/{user_id}/reset-password` (an Owner). Both apply Dispatch's
//! complexity rules plus the length policy, and revoke the user's older tokens.
//!
//! Another user's password is changed only by an Owner of every organization that user belongs
//! to ([`dispatch_shared::domain::account_authority`]); the user's own current password is
//! checked under the login throttle.

use axum::extract::{Path, State};
use dispatch_shared::auth::Password;
use dispatch_shared::auth::throttle::{self, Throttle};
use dispatch_shared::domain::account_authority::{Authority, authority_over};
use dispatch_shared::domain::users;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, SourceIp};
use dispatch_shared::model::{Credentials, Organization};
use dispatch_shared::store::keys;
use dispatch_shared::time::Timestamp;
use dispatch_shared::{AppState, Caller, loc};
use serde::Deserialize;
use serde_json::Value;

use crate::target::{member, user_id, user_read};

/// Dispatch's `UserPasswordUpdate`.
#[derive(Debug, Deserialize)]
pub struct ChangeBody {
    pub current_password: String,
    pub new_password: String,
}

/// Dispatch's `AdminPasswordReset`.
#[derive(Debug, Deserialize)]
pub struct ResetBody {
    pub new_password: String,
}

fn new_password(raw: &str) -> Result<Password, ApiError> {
    Password::parse_new(raw).map_err(|invalid| invalid.at(loc!["body", "new_password"]))
}

pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    SourceIp(ip): SourceIp,
    Path((_, raw_id)): Path<(String, String)>,
    Json(body): Json<ChangeBody>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    if body.current_password.trim().is_empty() {
        return Err(ApiError::validation(
            "Value error, Current password is required",
            loc!["body", "current_password"],
            "value_error",
        ));
    }
    let new = new_password(&body.new_password)?;
    let (user, _) = member(state.store(), org, user_id(&raw_id)?).await?;
    let authority = authority_over(state.store(), &caller.user, user.id).await?;
    if matches!(authority, Authority::Themself) {
        check_current_password(&state, &user.email, ip.as_deref(), &body.current_password).await?;
    }
    set_password(&state, org, user.id, &new, &authority).await
}

/// The user's current password, checked under the login throttle (a wrong one counts as a
/// failed login, so `change-password` cannot be used to guess a password faster than login).
async fn check_current_password(
    state: &AppState,
    email: &str,
    ip: Option<&str>,
    raw: &str,
) -> Result<(), ApiError> {
    let store = state.store();
    let guard = Throttle::new(email, ip, Timestamp::now().unix_seconds());
    let matches = throttle::guarded(store, guard, async {
        let Ok(current) = Password::parse(raw) else {
            return false;
        };
        let credentials: Option<Credentials> = match store.get(&keys::email_guard(email)).await {
            Ok(found) => found,
            Err(_) => return false,
        };
        state
            .passwords()
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
        Err(ApiError::BadRequest("Invalid current password".into()))
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw_id)): Path<(String, String)>,
    Json(body): Json<ResetBody>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let new = new_password(&body.new_password)?;
    let (user, _) = member(state.store(), org, user_id(&raw_id)?).await?;
    let authority = authority_over(state.store(), &caller.user, user.id).await?;
    set_password(&state, org, user.id, &new, &authority).await
}

/// Hashes and stores the new password (revoking older tokens) and answers the `UserRead`.
async fn set_password(
    state: &AppState,
    org: &Organization,
    user_id: i32,
    new: &Password,
    authority: &Authority,
) -> Result<Json<Value>, ApiError> {
    let hash = state.passwords().hash(new).await?;
    users::set_password(state.store(), user_id, &hash, authority).await?;
    let (user, membership) = member(state.store(), org, user_id).await?;
    Ok(Json(
        user_read(state.store(), org, &user, &membership).await?,
    ))
}
