//! `POST …/users/{user_id}/change-password` (the user themself with their current password, or
//! an Owner) and `POST …/users/{user_id}/reset-password` (an Owner). Both apply Dispatch's
//! complexity rules plus the length policy, and revoke the user's older tokens.

use axum::extract::{Path, State};
use dispatch_shared::auth::Password;
use dispatch_shared::domain::users;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::model::Credentials;
use dispatch_shared::store::keys;
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
    if user.id == caller.user.id {
        let credentials: Option<Credentials> =
            state.store().get(&keys::email_guard(&user.email)).await?;
        let current = Password::parse(&body.current_password).ok();
        let matches = match current {
            Some(current) => {
                state
                    .passwords()
                    .verify(
                        &current,
                        credentials.as_ref().map(|c| c.password_hash.as_str()),
                    )
                    .await
            }
            None => false,
        };
        if !matches {
            return Err(ApiError::BadRequest("Invalid current password".into()));
        }
    }
    let hash = state.passwords().hash(&new).await?;
    users::set_password(state.store(), user.id, &hash).await?;
    let (user, membership) = member(state.store(), org, user.id).await?;
    Ok(Json(
        user_read(state.store(), org, &user, &membership).await?,
    ))
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
    let hash = state.passwords().hash(&new).await?;
    users::set_password(state.store(), user.id, &hash).await?;
    let (user, membership) = member(state.store(), org, user.id).await?;
    Ok(Json(
        user_read(state.store(), org, &user, &membership).await?,
    ))
}
