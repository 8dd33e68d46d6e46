//! `GET`/`PUT /api/v1/{organization}/auth/me/settings`: the caller's settings (global to the
//! user, embedded in the user item).

use axum::extract::State;
use dispatch_domain::account_authority::Authority;
use dispatch_domain::users;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::UserSettingsRead;
use dispatch_shared::{AppState, Caller};
use serde::Deserialize;

/// Dispatch's `UserSettingsUpdate`: only the fields sent are applied (`{}` changes nothing).
#[derive(Debug, Deserialize)]
pub struct SettingsBody {
    pub auto_add_to_incident_bridges: Option<bool>,
}

pub async fn get_settings(caller: Caller) -> axum::Json<UserSettingsRead> {
    axum::Json(UserSettingsRead::from(&caller.user))
}

pub async fn update_settings(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SettingsBody>,
) -> Result<axum::Json<UserSettingsRead>, ApiError> {
    let Some(auto_add) = body.auto_add_to_incident_bridges else {
        return Ok(axum::Json(UserSettingsRead::from(&caller.user)));
    };
    let user = users::update_user_from(
        state.store(),
        caller.user.id,
        Some(caller.user.clone()),
        &Authority::Themself,
        |user| {
            let changed = user.settings.auto_add_to_incident_bridges != auto_add;
            user.settings.auto_add_to_incident_bridges = auto_add;
            changed
        },
    )
    .await?;
    Ok(axum::Json(UserSettingsRead::from(&user)))
}
