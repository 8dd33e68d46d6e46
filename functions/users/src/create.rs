//! `POST /api/v1/{organization}/users`: an Owner adds a user to the organization.
//!
//! Dispatch's contract with its bugs fixed: a password is required (Q-U7), a taken email is a
//! 422 (Q-G1), the role must be one of the four, and the answer is a proper UserRead (Q-U1).

use axum::extract::State;
use dispatch_domain::auth::Password;
use dispatch_domain::model::{EmailAddress, Role};
use dispatch_domain::project_refs::{ProjectRef, distinct_ids, resolve};
use dispatch_domain::users;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::UserRead;
use dispatch_shared::{AppState, Caller, loc};
use serde::Deserialize;

use crate::target::user_read;

/// Dispatch's `UserCreate` (`organizations` and other keys are ignored).
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    pub email: EmailAddress,
    pub password: Option<String>,
    #[serde(default)]
    pub projects: Option<Vec<ProjectRef>>,
    #[serde(default)]
    pub role: Option<String>,
}

/// Parses a role: one of Dispatch's four, case-sensitive.
pub fn parse_role(raw: &str) -> Result<Role, ApiError> {
    Role::parse(raw).ok_or_else(|| {
        ApiError::validation(
            "Input should be 'Owner', 'Manager', 'Admin' or 'Member'",
            loc!["body", "role"],
            "enum",
        )
    })
}

pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateBody>,
) -> Result<Json<UserRead>, ApiError> {
    let org = caller.organization()?;
    let password = body.password.as_deref().ok_or_else(|| {
        ApiError::validation("Field required", loc!["body", "password"], "missing")
    })?;
    let password = Password::parse(password)
        .map_err(|invalid| invalid.at(dispatch_domain::body!["password"]))?;
    // Absent or null is the default role; any string, the empty one too, must be a role.
    let role = match body.role.as_deref() {
        Some(raw) => parse_role(raw)?,
        None => Role::Member,
    };
    let project_ids = distinct_ids(
        &resolve(
            state.store(),
            org,
            body.projects.as_deref().unwrap_or_default(),
        )
        .await?,
    );
    let hash = state.passwords().hash(&password).await?;
    let user = users::create_with_projects(
        state.store(),
        &body.email,
        hash,
        &[(org, role, &project_ids)],
    )
    .await?;
    Ok(Json(user_read(&state, org, user.id).await?))
}
