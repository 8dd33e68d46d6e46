//! `GET /api/v1/{organization}/auth/me` and `GET …/auth/myrole`: the caller.

use axum::Json;
use axum::extract::State;
use dispatch_domain::member_projects;
use dispatch_shared::error::ApiError;
use dispatch_shared::views::UserRead;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

/// Dispatch's UserRead-shaped body: projects of this organization, every organization with the
/// caller's role there, `role` always null (the UI calls `/myrole`).
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<UserRead>, ApiError> {
    let slug = &caller.organization()?.slug;
    let me = member_projects::me(
        state.store(),
        &caller.user,
        slug,
        caller.membership.as_ref(),
    )
    .await?;
    Ok(Json(UserRead::me(
        &caller.user,
        &me.organizations,
        &me.projects,
    )))
}

/// The caller's role in the organization as a bare JSON string, or `null`.
pub async fn my_role(caller: Caller) -> Json<Value> {
    Json(
        caller
            .role()
            .map_or(Value::Null, |role| Value::from(role.as_str())),
    )
}
