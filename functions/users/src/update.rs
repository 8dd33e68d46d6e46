//! `PUT /api/v1/{organization}/users/{user_id}`: an Owner edits a member, or a member edits
//! themself (not their role).
//!
//! Dispatch's contract with its bugs fixed: an absent `role` leaves the role alone (Q-U2), the
//! organization is the path's (Q-U3), `organizations` may be absent (Q-U4); a body `id` that
//! differs from the path and a changed `email` are 422s; `password` is never applied.

use axum::extract::State;
use dispatch_domain::account_authority::authority_over;
use dispatch_domain::member_update::{MemberUpdate, update_member};
use dispatch_domain::memberships::member;
use dispatch_domain::model::{EmailAddress, Role};
use dispatch_domain::project_refs::{ProjectRef, resolve};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId, ensure_body_id};
use dispatch_shared::views::UserRead;
use dispatch_shared::{AppState, Caller, loc};
use serde::Deserialize;
use serde_json::Value;

use crate::create::parse_role;
use crate::target::user_read;

/// Dispatch's `UserUpdate`; `organizations`, `password`, `loading` and other keys are ignored.
#[derive(Debug, Deserialize)]
pub struct UpdateBody {
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub projects: Option<Vec<ProjectRef>>,
    #[serde(default)]
    pub experimental_features: Option<bool>,
}

/// Dispatch's 403 when a non-Owner changes a role (their own included).
pub const ROLE_CHANGE_DENIED: &str = "You don't have permissions to update the user's role. Please, contact the organization's owner.";

pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    PathId(target_id): PathId,
    Json(body): Json<UpdateBody>,
) -> Result<Json<UserRead>, ApiError> {
    let org = caller.organization()?;
    let store = state.store();
    ensure_body_id(body.id.map(Value::from).as_ref(), target_id)?;
    let (user, membership) = member(store, &org.slug, target_id).await?;
    if let Some(email) = body.email.as_deref() {
        let same = EmailAddress::parse(email).is_ok_and(|e| e == user.email);
        if !same {
            return Err(ApiError::validation(
                "A user's email cannot be changed.",
                loc!["body", "email"],
                "value_error",
            ));
        }
    }
    // Only an absent or null role keeps the role; `""` is not one of the four.
    let role = body.role.as_deref().map(parse_role).transpose()?;
    if role.is_some_and(|r| r != membership.role) && caller.role() != Some(Role::Owner) {
        return Err(ApiError::Forbidden(ROLE_CHANGE_DENIED.into()));
    }
    let projects = match body.projects.as_deref() {
        Some(refs) if !refs.is_empty() => Some(MemberUpdate::project_flags(
            &resolve(store, org, refs).await?,
        )),
        _ => None,
    };
    // A user's features are theirs in every organization: another user's are changed only by
    // an Owner of all of them.
    let experimental_features = match body
        .experimental_features
        .filter(|e| *e != user.experimental_features)
    {
        Some(enabled) => Some((
            enabled,
            authority_over(store, &caller.user, user.id, &org.slug).await?,
        )),
        None => None,
    };
    // Everything is validated: one transaction writes it all, or nothing.
    let update = MemberUpdate {
        role,
        projects,
        experimental_features,
    };
    update_member(store, &org.slug, user.id, &update).await?;
    Ok(Json(user_read(&state, org, target_id).await?))
}
