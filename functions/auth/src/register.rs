//! `POST /api/v1/{organization}/auth/register`: a new account and a token.
//!
//! Served only when `VITE_DISPATCH_AUTH_REGISTRATION_ENABLED` is on (otherwise 404, as if the
//! route were not mounted). A password is required (Q-U8) and follows the policy; the new user
//! joins the auto-join organizations as Member, not necessarily the one in the URL.

use axum::extract::{Path, State};
use dispatch_domain::auth::{Password, token};
use dispatch_domain::model::EmailAddress;
use dispatch_domain::users;
use dispatch_shared::AppState;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::permissions::ORGANIZATION_NOT_FOUND;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::login::organization_slug;

/// Dispatch's `UserRegister`; `role`, `organizations`, `projects` and other keys are ignored,
/// so a registration can never choose its own role or memberships.
#[derive(Debug, Deserialize)]
pub struct RegisterBody {
    pub email: EmailAddress,
    pub password: String,
}

pub async fn register(
    State(state): State<AppState>,
    Path(organization): Path<String>,
    Json(body): Json<RegisterBody>,
) -> Result<Json<Value>, ApiError> {
    if !state.config().registration_enabled {
        return Err(ApiError::RouteNotFound);
    }
    let slug = organization_slug(&organization)?;
    let password = Password::parse(&body.password)
        .map_err(|invalid| invalid.at(dispatch_domain::body!["password"]))?;
    if users::organization(state.store(), &slug).await?.is_none() {
        return Err(ApiError::NotFound(ORGANIZATION_NOT_FOUND.into()));
    }
    let memberships =
        users::auto_join_organizations(state.store(), &state.config().auto_join, &slug).await?;
    let hash = state.passwords().hash(&password).await?;
    let user = users::create(state.store(), &body.email, hash, &memberships).await?;
    let token = token::issue(&state.secrets().jwt, &user, state.config())?;
    Ok(Json(json!({ "token": token })))
}
