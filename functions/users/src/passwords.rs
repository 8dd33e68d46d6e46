//! `POST …/users/{user_id}/change-password` (the user themself with their current password, or
//! an Owner) and `POST …/users/{user_id}/reset-password` (an Owner). Both apply Dispatch's
//! complexity rules plus the length policy, and revoke the user's older tokens.
//!
//! Another user's password is changed only by an Owner of every organization that user belongs
//! to ([`dispatch_domain::account_authority`]); the user's own current password is
//! checked under the login throttle.

use axum::extract::State;
use dispatch_domain::account_authority::{Authority, authority_over};
use dispatch_domain::auth::Password;
use dispatch_domain::auth::current_password;
use dispatch_domain::memberships::member;
use dispatch_domain::model::Organization;
use dispatch_domain::users;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId, SourceIp};
use dispatch_shared::views::UserRead;
use dispatch_shared::{AppState, Caller, loc};
use serde::Deserialize;

use crate::target::user_read;

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
    Ok(Password::parse_new(raw)
        .map_err(|invalid| invalid.at(dispatch_domain::body!["new_password"]))?)
}

pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    SourceIp(ip): SourceIp,
    PathId(id): PathId,
    Json(body): Json<ChangeBody>,
) -> Result<Json<UserRead>, ApiError> {
    let org = caller.organization()?;
    if body.current_password.trim().is_empty() {
        return Err(ApiError::validation(
            "Value error, Current password is required",
            loc!["body", "current_password"],
            "value_error",
        ));
    }
    let new = new_password(&body.new_password)?;
    let (user, _) = member(state.store(), &org.slug, id).await?;
    let authority = authority_over(state.store(), &caller.user, user.id, &org.slug).await?;
    if matches!(authority, Authority::Themself) {
        current_password::check(
            state.store(),
            state.passwords(),
            &user.email,
            ip.as_deref(),
            &body.current_password,
        )
        .await?;
    }
    set_password(&state, org, user.id, &new, &authority).await
}

pub async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    Json(body): Json<ResetBody>,
) -> Result<Json<UserRead>, ApiError> {
    let org = caller.organization()?;
    let new = new_password(&body.new_password)?;
    let (user, _) = member(state.store(), &org.slug, id).await?;
    let authority = authority_over(state.store(), &caller.user, user.id, &org.slug).await?;
    set_password(&state, org, user.id, &new, &authority).await
}

/// Hashes and stores the new password (revoking older tokens) and answers the `UserRead`.
async fn set_password(
    state: &AppState,
    org: &Organization,
    user_id: i32,
    new: &Password,
    authority: &Authority,
) -> Result<Json<UserRead>, ApiError> {
    let hash = state.passwords().hash(new).await?;
    users::set_password(state.store(), user_id, &hash, authority).await?;
    Ok(Json(user_read(state, org, user_id).await?))
}
