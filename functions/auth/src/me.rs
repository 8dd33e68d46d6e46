//! `GET /api/v1/{organization}/auth/me` and `GET …/auth/myrole`: the caller.

use axum::Json;
use axum::extract::State;
use dispatch_shared::domain::memberships;
use dispatch_shared::error::ApiError;
use dispatch_shared::views::{OrganizationRead, UserSettingsRead};
use dispatch_shared::{AppState, Caller};
use serde_json::{Value, json};

/// Dispatch's UserRead-shaped body: projects of this organization, every organization with the
/// caller's role there, `role` always null (the UI calls `/myrole`).
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let slug = &caller.organization()?.slug;
    let projects = memberships::projects_in(state.store(), caller.user.id, slug).await?;
    let organizations: Vec<Value> = memberships::memberships_of(state.store(), caller.user.id)
        .await?
        .iter()
        .map(|(org, membership)| {
            json!({
                "organization": OrganizationRead::from(org),
                "default": false,
                "role": membership.role,
            })
        })
        .collect();
    Ok(Json(json!({
        "id": caller.user.id,
        "email": caller.user.email,
        "projects": projects,
        "organizations": organizations,
        "role": null,
        "experimental_features": caller.user.experimental_features,
        "settings": UserSettingsRead::from(&caller.user),
    })))
}

/// The caller's role in the organization as a bare JSON string, or `null`.
pub async fn my_role(caller: Caller) -> Json<Value> {
    Json(
        caller
            .role()
            .map_or(Value::Null, |role| Value::from(role.as_str())),
    )
}
